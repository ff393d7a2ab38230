"""Supervision pages, included by the project at /supervision/."""
from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert"),
    path("alerts/<int:pk>/act/<str:action>/", views.alert_act, name="alert-act"),
    path("alerts/<int:pk>/files/<int:step>/", views.alert_file, name="alert-file"),
    path("orders/", views.order_list, name="orders"),
    path("orders/new/", views.order_new, name="order-new"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("orders/<int:pk>/act/<str:action>/", views.order_act, name="order-act"),
    path("orders/<int:pk>/files/<int:step>/", views.order_file, name="order-file"),
]
