"""Yellow and red cards (黄牌、红牌预警) per 100 cases received in the period.

Cards count on the day they were raised; cases on the day they were received. Two aggregate
queries for the whole class. An organ with no cases and no cards has no value ("no data").
"""
from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q

from xiaoneng.supervision.models import Alert, Level

from . import Raw, bounds, cases_received, num, window
from . import gettext_cached as _

CARD_LEVELS = (Level.YELLOW, Level.RED)


def _alerts(t0, t1):
    return Alert.objects.filter(level__in=CARD_LEVELS, raised_at__gte=t0, raised_at__lt=t1)


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    t0, t1 = bounds(first, last)
    cards = {r["organ_id"]: r for r in _alerts(t0, t1).filter(organ_id__in=organ_ids).values("organ_id").annotate(
        n=Count("pk"), red=Count("pk", filter=Q(level=Level.RED)))
        .order_by()}
    cases = cases_received(organ_ids, t0, t1)
    out = {}
    for oid in organ_ids:
        c = cards.get(oid, {"n": 0, "red": 0})
        n_cases = cases.get(oid, 0)
        q = {"organ": oid, "from": first.isoformat(), "to": last.isoformat()}
        if n_cases:
            value = (Decimal(c["n"]) * 100 / n_cases).quantize(Decimal("0.0001"))
            words = _("每百件红黄牌 %(v)s = %(n)s 张（红牌 %(red)s 张）÷ %(cases)s 件 × 100") % {
                "v": f"{value:.2f}", "n": num(c["n"]), "red": num(c["red"]), "cases": num(n_cases)}
        else:
            value = None
            words = _("本期无收件，红黄牌 %(n)s 张") % {"n": num(c["n"])}
        out[oid] = Raw(value, words, q, c["n"], n_cases)
    return out


def records(query: dict, part: str = ""):
    t0, t1 = window(query)
    return _alerts(t0, t1).filter(organ_id=query["organ"]).order_by("raised_at", "pk")
