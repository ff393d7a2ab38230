"""The drill-down of a quarterly interim result (阶段性结果): its lines, and per line exactly the records
it counted — the same lineage as an annual line (`indicators.<source>.records(query)`), with the line's
stored query, whose window is the year to date at the end of the quarter.

Interim results are the appraisal office's only (never published, never shown to the organ): anyone
else gets 404, exactly like an interim result that does not exist.
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from . import indicators, scope
from .models import InterimResult
from .views import list_url

RECORDS_SHOWN = 500  # as the annual lineage page


def _interim_for(user, pk) -> InterimResult:
    row = InterimResult.objects.select_related("organ", "period__scheme__organ_class").filter(pk=pk).first()
    if row is None or not scope.may_appraise(user, row.period):
        raise Http404
    return row


@require_GET
@login_required
def interim_detail(request, pk):
    row = _interim_for(request.user, pk)
    lines = [dict(ln, records_url=reverse("appraisal:interim-records", args=[row.pk, ln["code"]]))
             for ln in row.lines]
    return render(request, "appraisal/interim.html", {"row": row, "lines": lines})


@require_GET
@login_required
def interim_records(request, pk, code):
    row = _interim_for(request.user, pk)
    line = next((ln for ln in row.lines if ln["code"] == code), None)
    if line is None:
        raise Http404
    query = dict(line["query"])
    source = query.pop("source")
    rows = list(indicators.module(source).records(query)[:RECORDS_SHOWN])
    return render(request, "appraisal/interim_records.html", {
        "row": row, "line": line, "rows": rows, "source": source, "list_url": list_url(line["query"])})
