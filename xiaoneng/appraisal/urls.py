"""Appraisal pages, included by the project at /appraisal/ (namespace "appraisal")."""
from django.urls import path

from . import (
    views,
    views_adjustments,
    views_interim,
    views_manage,
    views_reports,
    views_schemeedit,
    views_staff,
)

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
    # Staff appraisal (views_staff.py): grade entry, the personnel record, 复核.
    path("grades/", views_staff.grade_organs, name="grade-organs"),
    path("organs/<int:pk>/grades/", views_staff.grade_entry, name="grade-entry"),
    path("grades/<int:pk>/notice.pdf", views_staff.notice_download, name="grade-notice"),
    path("staff/<int:pk>/", views_staff.staff_record, name="staff-record"),
    path("me/", views_staff.my_record, name="my-record"),
    path("reviews/", views_staff.review_list, name="reviews"),
    path("reviews/<int:pk>/", views_staff.review_detail, name="review"),
    path("reviews/<int:pk>/notice.pdf", views_staff.review_notice_download, name="review-notice"),
]

urlpatterns += [  # the office's working pages (views_manage.py): classes, manual values, objections
    path("classes/", views_manage.class_list, name="classes"),
    path("classes/new/", views_manage.class_form, name="class-new"),
    path("classes/<int:pk>/", views_manage.class_form, name="class-edit"),
    path("periods/<int:pk>/manual/", views_manage.manual_values, name="manual"),
    path("objections/<int:pk>/", views_manage.objection_detail, name="objection"),
]

urlpatterns += [  # lists with Excel, the report of every appraisal change, the deputies' page (views_reports.py)
    path("scores/", views_reports.score_list, name="scores"),
    path("changes/", views_reports.change_list, name="changes"),
    path("published/", views_reports.published, name="published"),
]

urlpatterns += [  # 加减分 (views_adjustments.py) and the scheme editor (views_schemeedit.py)
    path("periods/<int:pk>/adjustments/", views_adjustments.adjustment_list, name="adjustments"),
    path("schemes/new/", views_schemeedit.scheme_new, name="scheme-new"),
    path("schemes/<int:pk>/edit/", views_schemeedit.scheme_edit, name="scheme-edit"),
]

urlpatterns += [  # the drill-down of quarterly interim results (views_interim.py), the office's only
    path("interim/<int:pk>/", views_interim.interim_detail, name="interim"),
    path("interim/<int:pk>/lines/<str:code>/records/", views_interim.interim_records, name="interim-records"),
]
