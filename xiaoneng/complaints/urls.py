"""Staff complaint pages, included by the project at /complaints/ (namespace "complaints")."""
from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("intake/", views.intake, name="intake"),
    path("stats/", views.complaint_stats, name="stats"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/reveal/", views.complaint_reveal, name="reveal"),
    path("<int:pk>/attachments/<int:attachment>/", views.complaint_attachment, name="attachment"),
    path("<int:pk>/act/<str:action>/", views.complaint_act, name="act"),
]
