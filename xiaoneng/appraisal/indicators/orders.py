"""Supervision orders closed on time (督办按期办结率).

An order counts in the period whose deadline (its clock's `due_at`, in working days, holidays
already in it) falls in the period. It was closed on time when the office verified the organ's
answer (办结, `closed_at`) at or before the deadline; every other counted order is late — closed
late, or still open (督办中 or 已反馈 but not yet verified) at the end of the period (逾期未办结).
Rate = on time ÷ counted × 100. One aggregate query for the class.
"""
from __future__ import annotations

from django.db.models import Count, F, Q

from xiaoneng.supervision.models import OrderStatus, SupervisionOrder

from . import Raw, bounds, deadline_words, pct, query_of, window
from . import gettext_cached as _


def _base(t0, t1):
    return SupervisionOrder.objects.filter(clock__due_at__gte=t0, clock__due_at__lt=t1)


def _on_time_q():
    return Q(status=OrderStatus.CLOSED, closed_at__lte=F("clock__due_at"))


def _open_at_end_q(t1):
    return ~Q(status=OrderStatus.CLOSED) | Q(closed_at__gte=t1)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    rows = (_base(t0, t1).filter(organ_id__in=organ_ids).values("organ_id")
            .annotate(n=Count("pk"), ok=Count("pk", filter=_on_time_q()), still=Count("pk", filter=_open_at_end_q(t1)))
            .order_by())
    by = {r["organ_id"]: r for r in rows}
    out = {}
    for oid in organ_ids:
        r = by.get(oid, {"n": 0, "ok": 0, "still": 0})
        rate = pct(r["ok"], r["n"])
        out[oid] = Raw(rate, deadline_words(_("督办按期办结率"), rate, r["ok"], r["n"], r["still"]),
                       query_of(oid, first, last), r["ok"], r["n"])
    return out


def records(query: dict, part: str = ""):
    """The orders counted (`part` "late": the late ones only)."""
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"]).select_related("clock")
    if part == "late":
        qs = qs.exclude(_on_time_q())
    return qs.order_by("clock__due_at", "pk")
