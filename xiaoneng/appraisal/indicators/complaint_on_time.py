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

from django.db.models import Count, F, Q

from xiaoneng.complaints.models import Complaint, Status

from . import Raw, bounds, deadline_words, pct, query_of, window
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
    rows = (_base(t0, t1).filter(organ_id__in=organ_ids).values("organ_id")
            .annotate(n=Count("pk"), ok=Count("pk", filter=_on_time_q()), still=Count("pk", filter=_open_at_end_q(t1)))
            .order_by())
    by = {r["organ_id"]: r for r in rows}
    out = {}
    for oid in organ_ids:
        r = by.get(oid, {"n": 0, "ok": 0, "still": 0})
        rate = pct(r["ok"], r["n"])
        out[oid] = Raw(rate, deadline_words(_("投诉按期办结率"), rate, r["ok"], r["n"], r["still"]),
                       query_of(oid, first, last), r["ok"], r["n"])
    return out


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"]).select_related("handling_clock")
    if part == "late":
        qs = qs.exclude(_on_time_q())
    return qs.order_by("handling_clock__due_at", "pk")
