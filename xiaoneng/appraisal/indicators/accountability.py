"""Accountability measures (效能问责): persons (or the organ) held accountable in a case against the
organ decided in the period, each decided measure one event. From the accountability models
(already decided states only, as `accountability.queries` does)."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count

from xiaoneng.accountability.models import Party
from xiaoneng.accountability.queries import DECIDED_STATES

from . import Raw, bounds, num, window
from . import gettext_cached as _


def _base(t0, t1):
    return (Party.objects.filter(case__status__in=DECIDED_STATES, case__decided_at__gte=t0, case__decided_at__lt=t1)
            .exclude(measure=""))


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    counts = dict(_base(t0, t1).filter(case__organ_id__in=organ_ids).values_list("case__organ_id")
                  .annotate(n=Count("pk")).order_by())
    out = {}
    for oid in organ_ids:
        n = counts.get(oid, 0)
        q = {"organ": oid, "from": first.isoformat(), "to": last.isoformat()}
        out[oid] = Raw(Decimal(n), _("效能问责 %(n)s 人次") % {"n": num(n)}, q, n, None)
    return out


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    return _base(t0, t1).filter(case__organ_id=query["organ"]).select_related("case").order_by("case__decided_at", "pk")
