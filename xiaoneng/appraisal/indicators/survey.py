"""Public appraisal survey (群众评议): weighted satisfaction % of the organ in the closed surveys of the
period (`xiaoneng.surveys`).

The surveys counted are the closed ones made for this appraisal period; when none is, the closed
surveys of the period's year made without a period. Only closed surveys count, so a recomputation
gives the same figure. Respondents are counted set-wise: one GROUP BY (organ, rater group, response)
for the whole class (`surveys.stats`); the value is the rater-group weighted mean, with its 95 %
interval in the words. An organ nobody rated has no data.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from xiaoneng.surveys.models import Answer, RaterGroup, Survey, SurveyStatus
from xiaoneng.surveys.stats import organ_stats

from . import Raw, num


def surveys_for(period, year: int) -> list[int]:
    closed = Survey.objects.filter(status=SurveyStatus.CLOSED)
    ids = list(closed.filter(period=period).values_list("pk", flat=True)) if period is not None else []
    return ids or list(closed.filter(period__isnull=True, year=year).order_by("pk").values_list("pk", flat=True))


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    ids = surveys_for(period, first.year)
    groups = list(RaterGroup.objects.filter(survey_id__in=ids))
    stats = organ_stats(Answer.objects.filter(response__survey_id__in=ids), groups, organ_ids)
    out = {}
    for oid in organ_ids:
        s = stats[oid]
        q = {"organ": oid, "surveys": ids}
        if s.value is None:
            out[oid] = Raw(None, _("群众评议：无人评议"), q, 0, None)
            continue
        parts = "；".join(_("%(g)s 权重 %(w)s，%(n)s 人，平均 %(m)s") % {
            "g": g.name, "w": format(g.weight.normalize(), "f"), "n": num(g.n), "m": g.mean} for g in s.groups if g.n)
        ci = (_("95%% 置信区间 %(low)s–%(high)s") % {"low": s.low, "high": s.high} if s.has_interval
              else _("样本不足，未计算置信区间"))
        words = _("群众评议满意度 %(v)s%%（%(n)s 人评议：%(parts)s；%(ci)s）") % {
            "v": s.value, "n": num(s.n), "parts": parts, "ci": ci}
        out[oid] = Raw(s.value, words, q, s.n, None)
    return out


def records(query: dict, part: str = ""):
    """Exactly the answers counted: the organ's rated answers in the surveys of the line (comments and
    "不了解" carry no points, so they are not part of the figure)."""
    return (Answer.objects.filter(response__survey_id__in=query["surveys"], organ_id=query["organ"],
                                  points__isnull=False)
            .select_related("question", "response__group").order_by("response__submitted_on", "response_id",
                                                                      "question__order", "pk"))
