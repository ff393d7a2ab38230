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

# The office's working pages (views_manage.py): classes, manual values, objections.
from . import views_manage  # noqa: E402

urlpatterns += [
    path("classes/", views_manage.class_list, name="classes"),
    path("classes/new/", views_manage.class_form, name="class-new"),
    path("classes/<int:pk>/", views_manage.class_form, name="class-edit"),
    path("periods/<int:pk>/manual/", views_manage.manual_values, name="manual"),
    path("objections/<int:pk>/", views_manage.objection_detail, name="objection"),
]
