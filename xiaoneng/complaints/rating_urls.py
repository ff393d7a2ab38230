"""好差评 pages, included by the project at /ratings/ (namespace "ratings").

Staff pages need a login and go through `access`; everything under public/ is for the
public (no login): rating a finished case, and a window visit from the counter's QR code.
"""
from django.urls import path

from . import rating_public, rating_stats, rating_views

app_name = "ratings"

urlpatterns = [
    path("", rating_views.rating_list, name="list"),
    path("stats/", rating_stats.stats_page, name="stats"),
    path("<int:pk>/", rating_views.rating_detail, name="detail"),
    path("<int:pk>/reveal/", rating_views.rating_reveal, name="reveal"),
    path("<int:pk>/act/<slug:action>/", rating_views.rating_act, name="act"),
    path("public/case/", rating_public.rate_case, name="public-case"),
    path("public/window/<int:organ_id>/<str:window>/", rating_public.rate_window, name="public-window"),
    path("public/thanks/", rating_public.thanks, name="public-thanks"),
]
