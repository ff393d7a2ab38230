"""The public 问责通报 pages, included by the project at /public/accountability/ (no login)."""
from django.urls import path

from . import public

app_name = "accountability-public"

urlpatterns = [
    path("", public.bulletin_list, name="list"),
    path("<slug:number>/", public.bulletin_detail, name="detail"),
]
