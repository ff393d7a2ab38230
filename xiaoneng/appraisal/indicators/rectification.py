"""Bad reviews rectified on time (差评按期整改率), from 好差评 (xiaoneng/complaints/ratings.py).

A named bad review (不满意、非常不满意) starts a rectification clock
(`bad_review_rectification_working_days` working days; paused while an appeal is decided). A
review counts in the period whose clock's deadline falls in the period. It was rectified on
time when the organ reported the rectification (已整改, `rectified_at`) at or before the
deadline; every other counted review is late — rectified late, or still waiting for the call-back
or the report at the end of the period (逾期未整改). A review annulled on appeal (已核销) before the
period's end is not counted (as in the 好差评 statistics); anonymous bad reviews have no clock and
are not counted here (they count in the satisfaction rate). One aggregate query.
"""
from __future__ import annotations

from django.db.models import F, Q

from xiaoneng.complaints.models import Rating, RatingStatus

from . import Raw, bounds, deadline_rates, window
from . import gettext_cached as _


def _base(t0, t1):
    return (Rating.objects.filter(rectification_clock__due_at__gte=t0, rectification_clock__due_at__lt=t1)
            .exclude(status=RatingStatus.ANNULLED, decided_at__lt=t1))


def _on_time_q():
    return Q(status=RatingStatus.RECTIFIED, rectified_at__lte=F("rectification_clock__due_at"))


def _open_at_end_q(t1):
    return ~Q(status=RatingStatus.RECTIFIED) | Q(rectified_at__gte=t1)


def _words(rate, ok: int, n: int, still: int) -> str:
    if rate is None:
        return _("差评按期整改率：本期无到期整改的差评")
    return _("差评按期整改率 %(rate)s%% = %(ok)s / %(n)s 条，其中 %(still)s 条逾期未整改") % {
        "rate": f"{rate:.1f}", "ok": ok, "n": n, "still": still}


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    return deadline_rates(_base(t0, t1), organ_ids, first, last, _on_time_q(), _open_at_end_q(t1), _words)


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"]).select_related("rectification_clock")
    if part == "late":
        qs = qs.exclude(_on_time_q())
    return qs.order_by("rectification_clock__due_at", "pk")
