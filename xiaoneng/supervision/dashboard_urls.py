"""The supervision dashboard, included by the project (suggested at /dashboard/)."""
from django.urls import path

from . import dashboard

app_name = "dashboard"

urlpatterns = [
    path("", dashboard.index, name="index"),
    path("organs/", dashboard.organs_page, name="organs"),
    path("board/", dashboard.board_page, name="board"),
    path("organ/<int:pk>/", dashboard.organ_page, name="organ"),
    path("region/<str:code>/", dashboard.region_page, name="region"),
    path("region/<str:code>/live/", dashboard.live_part, name="live"),
    path("region/<str:code>/trend/", dashboard.trend_page, name="trend"),
]
