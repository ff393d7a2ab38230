from django.urls import path

from . import views

app_name = "orgs"

urlpatterns = [
    path("", views.organ_list, name="index"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("organs/<int:pk>/", views.organ_detail, name="organ"),
    path("staff/", views.staff_list, name="staff"),
]
