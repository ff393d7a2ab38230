"""Open311 GeoReport v2, included by the project at /open311/v2/ (namespace "open311").

Every path ends in `.<format>` (json or xml); anything else under /open311/v2/ is a
404 in the spec's error format.
"""
from django.urls import re_path

from . import views

app_name = "open311"

FMT = r"\.(?P<fmt>[A-Za-z0-9]{1,10})$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery_view, name="discovery"),
    re_path(r"^services" + FMT, views.services_view, name="services"),
    re_path(r"^services/(?P<code>[^/]{1,80})" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.requests_view, name="requests"),
    re_path(r"^requests/(?P<number>[^/]{1,80})" + FMT, views.request_view, name="request"),
    re_path(r"^tokens/(?P<token>[^/]{1,80})" + FMT, views.token_view, name="token"),
    re_path(r"^(?P<path>.*)$", views.not_found, name="not_found"),
]
