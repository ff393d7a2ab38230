"""Inbox pages, included by the project at /inbox/."""
from django.urls import path

from . import leader, views

app_name = "inbox"

urlpatterns = [
    path("badge/", views.badge, name="badge"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.mark_read, name="read"),
    path("notifications/read-all/", views.mark_all_read, name="read-all"),
    path("preferences/", views.preferences, name="preferences"),
    path("remind/<str:kind>/<int:pk>/", views.remind, name="remind"),
    path("extensions/<int:pk>/", views.extension, name="extension"),
    path("leader/", leader.dashboard, name="leader"),
]
