"""Supervision orders closed on time (督办按期办结率).

An order counts in the period whose deadline (its clock's `due_at`, in working days, holidays
already in it) falls in the period. It was closed on time when the office verified the organ's
answer (办结, `closed_at`) at or before the deadline; every other counted order is late — closed
late, or still open (督办中 or 已反馈 but not yet verified) at the end of the period (逾期未办结).
Rate = on time ÷ counted × 100. One aggregate query for the class.
"""
from __future__ import annotations

from django.db.models import F, Q

from xiaoneng.supervision.models import OrderStatus, SupervisionOrder

from . import Raw, bounds, deadline_rates, deadline_words, window
from . import gettext_cached as _


def _base(t0, t1):
    return SupervisionOrder.objects.filter(clock__due_at__gte=t0, clock__due_at__lt=t1)


def _on_time_q():
    return Q(status=OrderStatus.CLOSED, closed_at__lte=F("clock__due_at"))


def _open_at_end_q(t1):
    return ~Q(status=OrderStatus.CLOSED) | Q(closed_at__gte=t1)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    return deadline_rates(_base(t0, t1), organ_ids, first, last, _on_time_q(), _open_at_end_q(t1), lambda rate, ok, n, still: deadline_words(_("督办按期办结率"), rate, ok, n, still))


def records(query: dict, part: str = ""):
    """The orders counted (`part` "late": the late ones only)."""
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"]).select_related("clock")
    if part == "late":
        qs = qs.exclude(_on_time_q())
    return qs.order_by("clock__due_at", "pk")
