from django.urls import path

from . import views

app_name = "calendar"
urlpatterns = [
    path("", views.year_view, name="year"),
    path("day/", views.set_day, name="set-day"),
    path("import/", views.import_notice, name="import"),
]
