"""The applicant's side of approvals, included by the project at /public/ (no login)."""
from django.urls import path

from . import public

app_name = "public"

urlpatterns = [
    path("cases/", public.case_lookup, name="case-lookup"),
]
