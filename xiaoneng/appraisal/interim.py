"""阶段性结果 (quarterly interim results): the year's scheme computed over the year to date at the end
of a quarter — Q1 to the end of March, … Q4 the whole year — without closing the period.

Stored apart from the annual result (`InterimResult`): never published, never objected to, shown
to the appraisal office only and marked 阶段性. Computing one changes nothing of the period (its
status, results, lines, objections): the annual process goes on as if it had never been computed.
A quarter can be computed once it has ended, and recomputed (its rows are replaced) any time.
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record

from .actions import AppraisalError, _at
from .compute import compute_interim, quarter_end
from .models import InterimResult, Period

QUARTERS = (1, 2, 3, 4)


@transaction.atomic
def do_compute_interim(period: Period, *, quarter, at: datetime | None = None) -> list[InterimResult]:
    at = _at(at)
    try:
        quarter = int(quarter)
    except (TypeError, ValueError):
        quarter = 0
    if quarter not in QUARTERS:
        raise AppraisalError(_("季度应为 1 至 4"), "quarter")
    # No row lock on the period: the annual process must not wait for (or be blocked by) an interim run.
    period = Period.objects.select_related("scheme__organ_class").get(pk=period.pk)
    last = quarter_end(period, quarter)
    if last < period.starts_on:
        raise AppraisalError(_("第 %(q)s 季度不在考评期内") % {"q": quarter}, "quarter")
    if timezone.localdate(at) <= last:
        raise AppraisalError(_("第 %(q)s 季度到 %(d)s 才结束，尚不能计算阶段性结果") % {
            "q": quarter, "d": last.isoformat()}, "quarter")
    with translation.override("zh-hans"):  # formulas are stored in Chinese, as the annual ones
        rows = compute_interim(period, quarter, at=at)
    record("appraisal.interim", period, changes={"quarter": quarter, "to": last.isoformat(), "organs": len(rows)})
    return rows
