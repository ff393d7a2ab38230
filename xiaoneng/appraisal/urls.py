"""Appraisal pages, included by the project at /appraisal/ (namespace "appraisal")."""
from django.urls import path

from . import views

app_name = "appraisal"

urlpatterns = [
    path("", views.scheme_list, name="schemes"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme"),
    path("schemes/<int:pk>/export/", views.scheme_export, name="scheme-export"),
    path("schemes/import/", views.scheme_import, name="scheme-import"),
    path("periods/<int:pk>/", views.board, name="board"),
    path("results/<int:pk>/", views.result_detail, name="result"),
    path("lines/<int:pk>/records/", views.line_records, name="line-records"),
    path("mine/", views.mine, name="mine"),
]

# 加减分 (views_adjustments.py)
from . import views_adjustments  # noqa: E402

urlpatterns += [
    path("periods/<int:pk>/adjustments/", views_adjustments.adjustment_list, name="adjustments"),
]
