"""Accountability pages, included by the project at /accountability/ (namespace "accountability")."""
from django.urls import path

from . import views, views_evidence, views_report, views_trace

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
    # 责任倒查
    path("<int:pk>/trace/", views_trace.case_trace, name="case-trace"),
    path("<int:pk>/trace/add/", views_trace.case_trace_add, name="case-trace-add"),
    path("proposals/<int:pk>/trace/", views_trace.proposal_trace, name="proposal-trace"),
    path("trace/<str:kind>/<int:pk>/", views_trace.incident_trace, name="incident-trace"),
    path("evidence/<int:pk>/", views_evidence.evidence_file, name="evidence-file"),
]
