"""On-time rate (准时办结率) of approval cases, measured on the promise clocks.

A case counts in the period whose window holds its promise deadline (`Clock.due_at`; holidays and
pauses are already in it). It was on time when its clock stopped at or before the deadline; every
other counted case is late — decided late, or still open at the end of the period (逾期未办结,
counted as late, like the supervision roll-ups). Rate = on time ÷ counted × 100.
"""
from __future__ import annotations

from django.db.models import Count, F, Q

from xiaoneng.clocks.models import Clock
from xiaoneng.supervision.stats import PROMISE_KINDS

from . import Raw, bounds, num, pct, window
from . import gettext_cached as _


def _base(t0, t1):
    return Clock.objects.filter(kind__in=PROMISE_KINDS, organ__isnull=False, due_at__gte=t0, due_at__lt=t1)


def _on_time_q():
    return Q(state=Clock.State.STOPPED, stopped_at__lte=F("due_at"))


def _open_at_end_q(t1):
    return ~Q(state=Clock.State.STOPPED) | Q(stopped_at__gte=t1)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    rows = (_base(t0, t1).filter(organ_id__in=organ_ids).values("organ_id")
            .annotate(n=Count("pk"), ok=Count("pk", filter=_on_time_q()), still=Count("pk", filter=_open_at_end_q(t1)))
            .order_by())
    by = {r["organ_id"]: r for r in rows}
    out = {}
    for oid in organ_ids:
        r = by.get(oid, {"n": 0, "ok": 0, "still": 0})
        q = {"organ": oid, "from": first.isoformat(), "to": last.isoformat()}
        rate = pct(r["ok"], r["n"])
        if rate is None:
            words = _("准时办结率：本期无到期办件")
        else:
            words = _("准时办结率 %(rate)s%% = %(ok)s / %(n)s 件，其中 %(still)s 件逾期未办结") % {
                "rate": f"{rate:.1f}", "ok": num(r["ok"]), "n": num(r["n"]), "still": num(r["still"])}
        out[oid] = Raw(rate, words, q, r["ok"], r["n"])
    return out


def records(query: dict, part: str = ""):
    """The promise clocks counted (`part`: "late" for the late ones only), with their cases."""
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"])
    if part == "late":
        qs = qs.exclude(_on_time_q())
    return qs.order_by("due_at", "pk")
