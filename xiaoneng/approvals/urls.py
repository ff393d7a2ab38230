"""Handling pages, included by the project at /cases/."""
from django.urls import path

from . import registration, views

app_name = "approvals"

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("register/", registration.register, name="register"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/materials/<int:material>/", registration.material_download, name="material"),
    path("<int:pk>/act/<str:action>/", views.case_act, name="act"),
    path("matters/", views.matter_list, name="matters"),
    path("matters/<int:pk>/", views.matter_detail, name="matter"),
]
