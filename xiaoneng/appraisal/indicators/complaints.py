"""Substantiated complaints (投诉查实): complaints against the organ received in the period whose
verification found them founded or partly founded (属实、部分属实). One aggregate query."""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count

from xiaoneng.complaints.models import Complaint, Result

from . import Raw, bounds, num, window
from . import gettext_cached as _

SUBSTANTIATED = (Result.FOUNDED, Result.PARTLY)


def _base(t0, t1):
    return Complaint.objects.filter(result__in=SUBSTANTIATED, received_at__gte=t0, received_at__lt=t1)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    counts = dict(_base(t0, t1).filter(organ_id__in=organ_ids).values_list("organ_id").annotate(n=Count("pk"))
                  .order_by())
    out = {}
    for oid in organ_ids:
        n = counts.get(oid, 0)
        q = {"organ": oid, "from": first.isoformat(), "to": last.isoformat()}
        out[oid] = Raw(Decimal(n), _("投诉查实 %(n)s 件（属实或部分属实）") % {"n": num(n)}, q, n, None)
    return out


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    return _base(t0, t1).filter(organ_id=query["organ"]).order_by("received_at", "pk")
