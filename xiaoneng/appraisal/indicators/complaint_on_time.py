"""Complaints handled on time (投诉按期办结率).

A complaint routed to the organ counts in the period whose handling deadline (its current handling
clock's `due_at`: `complaint_handling_days`, or the hotline's working days, with approved
extensions and holidays in it) falls in the period. It was handled on time when the organ reported
its handling (办理反馈, `handled_at`) on this routing — not before the clock started — at or before
the deadline; every other counted complaint is late, including those still unanswered at the end
of the period (逾期未办结). A complaint sent back to the office has no organ and is not counted;
merged duplicates are left out. One aggregate query.
"""
from __future__ import annotations

from django.db.models import F, Q

from xiaoneng.complaints.models import Complaint, Status

from . import Raw, bounds, deadline_rates, deadline_words, window
from . import gettext_cached as _


def _base(t0, t1):
    return (Complaint.objects.filter(handling_clock__due_at__gte=t0, handling_clock__due_at__lt=t1)
            .exclude(status=Status.MERGED))


def _on_time_q():
    return Q(handled_at__gte=F("handling_clock__start_at"), handled_at__lte=F("handling_clock__due_at"))


def _open_at_end_q(t1):
    return ~Q(handled_at__gte=F("handling_clock__start_at"), handled_at__lt=t1) | Q(handled_at__isnull=True)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    return deadline_rates(_base(t0, t1), organ_ids, first, last, _on_time_q(), _open_at_end_q(t1), lambda rate, ok, n, still: deadline_words(_("投诉按期办结率"), rate, ok, n, still))


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"]).select_related("handling_clock")
    if part == "late":
        qs = qs.exclude(_on_time_q())
    return qs.order_by("handling_clock__due_at", "pk")
