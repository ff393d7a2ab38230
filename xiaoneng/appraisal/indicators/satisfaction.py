"""好差评 satisfaction (好评率): the share of good ratings (非常满意、满意) among the organ's ratings
given in the period, as the 好差评 statistics count them (xiaoneng/complaints/rating_stats.py).
A rating annulled on appeal (已核销) before the period's end is not counted. One aggregate query.
"""
from __future__ import annotations

from django.db.models import Count, Q

from xiaoneng.complaints.models import BAD_LEVELS, Rating, RatingStatus
from xiaoneng.complaints.rating_stats import GOOD_LEVELS

from . import Raw, bounds, num, pct, query_of, window
from . import gettext_cached as _


def _base(t0, t1):
    return Rating.objects.filter(rated_at__gte=t0, rated_at__lt=t1).exclude(status=RatingStatus.ANNULLED,
                                                                           decided_at__lt=t1)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    rows = (_base(t0, t1).filter(organ_id__in=organ_ids).values("organ_id")
            .annotate(n=Count("pk"), good=Count("pk", filter=Q(level__in=GOOD_LEVELS)),
                      bad=Count("pk", filter=Q(level__in=BAD_LEVELS)))
            .order_by())
    by = {r["organ_id"]: r for r in rows}
    out = {}
    for oid in organ_ids:
        r = by.get(oid, {"n": 0, "good": 0, "bad": 0})
        rate = pct(r["good"], r["n"])
        if rate is None:
            words = _("好评率：本期无评价")
        else:
            words = _("好评率 %(rate)s%% = 好评 %(good)s / 评价 %(n)s 条（差评 %(bad)s 条）") % {
                "rate": f"{rate:.1f}", "good": num(r["good"]), "n": num(r["n"]), "bad": num(r["bad"])}
        out[oid] = Raw(rate, words, query_of(oid, first, last), r["good"], r["n"])
    return out


def records(query: dict, part: str = ""):
    """The ratings counted (`part` "bad": the bad reviews only)."""
    t0, t1 = window(query)
    qs = _base(t0, t1).filter(organ_id=query["organ"])
    if part == "bad":
        qs = qs.filter(level__in=BAD_LEVELS)
    return qs.order_by("rated_at", "pk")
