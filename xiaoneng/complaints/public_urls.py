"""The complainant's side (no login), included by the project at /public/complaints/ (namespace "complaints-public")."""
from django.urls import path

from . import public_views, sms

app_name = "complaints-public"

urlpatterns = [
    path("new/", public_views.new_complaint, name="new"),
    path("new/done/", public_views.filed, name="filed"),
    path("new/regions/", public_views.region_fields, name="regions"),
    path("altcha/", public_views.altcha_challenge, name="altcha"),
    path("track/", public_views.track, name="track"),
    path("track/rate/", public_views.rate, name="rate"),
    path("track/appeal/", public_views.appeal, name="appeal"),
    path("track/leave/", public_views.leave, name="leave"),
    path("sms/", sms.gateway_callback, name="sms"),
]
