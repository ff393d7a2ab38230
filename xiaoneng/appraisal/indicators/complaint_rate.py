"""Complaints per 10,000 cases (万件投诉量): complaints against the organ received in the period ÷
cases the organ received in the period × 10,000.

A complaint counts against the organ it was routed to (承办机关, as the `complaints` indicator);
merged duplicates (已合并) and complaints not accepted (不予受理) are left out — they are not
complaints about the organ's work. Two aggregate queries for the whole class. An organ with no
cases in the period has no value ("no data").
"""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count

from xiaoneng.complaints.models import Complaint, Status

from . import Raw, bounds, cases_received, num, query_of, window
from . import gettext_cached as _

LEFT_OUT = (Status.MERGED, Status.NOT_ACCEPTED)
PER = 10_000


def _base(t0, t1):
    return Complaint.objects.filter(received_at__gte=t0, received_at__lt=t1).exclude(status__in=LEFT_OUT)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    complaints = dict(_base(t0, t1).filter(organ_id__in=organ_ids).values_list("organ_id").annotate(n=Count("pk"))
                      .order_by())
    cases = cases_received(organ_ids, t0, t1)
    out = {}
    for oid in organ_ids:
        n, n_cases = complaints.get(oid, 0), cases.get(oid, 0)
        if n_cases:
            value = (Decimal(n) * PER / n_cases).quantize(Decimal("0.0001"))
            words = _("万件投诉量 %(v)s = 投诉 %(n)s 件 ÷ 收件 %(cases)s 件 × 10000") % {
                "v": f"{value:.2f}", "n": num(n), "cases": num(n_cases)}
        else:
            value = None
            words = _("本期无收件，投诉 %(n)s 件") % {"n": num(n)}
        out[oid] = Raw(value, words, query_of(oid, first, last), n, n_cases)
    return out


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    return _base(t0, t1).filter(organ_id=query["organ"]).order_by("received_at", "pk")
