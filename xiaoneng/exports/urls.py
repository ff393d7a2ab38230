from django.urls import path

from . import views

app_name = "exports"
urlpatterns = [
    path("", views.index, name="index"),
    path("start/", views.start, name="start"),
    path("<int:pk>/row/", views.row, name="row"),
    path("<int:pk>/download/", views.download, name="download"),
]
