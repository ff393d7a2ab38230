from django.urls import path

from . import views

app_name = "clocks"
urlpatterns = [
    path("", views.ClockList.as_view(), name="index"),
    path("<int:pk>/", views.clock_detail, name="detail"),
]
