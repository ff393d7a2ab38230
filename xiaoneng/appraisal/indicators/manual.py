"""Manual indicator (人工填报): a value entered with its evidence (e.g. annual-goal attainment until the
duties work exists). One query for the class; an organ without a value has no data."""
from __future__ import annotations

from ..models import ManualValue
from . import Raw
from . import gettext_cached as _


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    values = {m.organ_id: m for m in ManualValue.objects.filter(period=period, indicator=indicator,
                                                                  organ_id__in=organ_ids)}
    out = {}
    for oid in organ_ids:
        m = values.get(oid)
        q = {"organ": oid, "period": period.pk, "indicator": indicator.pk}
        if m is None:
            out[oid] = Raw(None, _("未填报"), q)
        else:
            out[oid] = Raw(m.value, _("填报值 %(v)s（佐证：%(e)s）") % {"v": m.value.normalize(), "e": m.evidence[:100]}, q)
    return out


def records(query: dict, part: str = ""):
    return ManualValue.objects.filter(period_id=query["period"], indicator_id=query["indicator"],
                                      organ_id=query["organ"])
