"""Accountability pages, included by the project at /accountability/ (namespace "accountability")."""
from django.urls import path

from . import views, views_report

app_name = "accountability"

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("stats/", views.stats_page, name="stats"),
    path("report/", views_report.report_page, name="report"),
    path("report/issue/", views_report.report_issue, name="report-issue"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/act/<str:action>/", views.case_act, name="case-act"),
    path("proposals/", views.proposal_list, name="proposals"),
    path("proposals/new/", views.proposal_new, name="proposal-new"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/act/<str:action>/", views.proposal_act, name="proposal-act"),
]
