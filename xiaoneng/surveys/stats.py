"""Results of surveys per organ: weighted mean satisfaction, respondents per rater group, and a 95 %
confidence interval.

One respondent is one observation: his satisfaction with an organ is the mean of the points of the
levels he gave it (`survey_level_points`; questions he left at "不了解" do not count). One GROUP BY
(organ, group, response) gives every respondent's sum and count for every organ at once; the rest
is arithmetic here.

Per organ and group g with n_g respondents: mean m_g and sample standard deviation s_g. The weighted
satisfaction is Σ w_g·m_g / Σ w_g over the groups that rated the organ (a group none of whose members
rated that organ drops out and the others' weights are scaled up to 100). The interval is the normal
approximation of a stratified mean: value ± 1.96·√(Σ (w_g/Σw)²·s_g²/n_g), clipped to 0–100; it is
left out ("样本不足") when a group that counts has fewer than two respondents, whose spread is unknown.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from .models import Answer, RaterGroup

Z95 = 1.959963984540054
TWO = Decimal("0.01")


def q2(x: float | Decimal) -> Decimal:
    return Decimal(str(x)).quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass
class GroupStat:
    group_id: int
    name: str
    weight: Decimal
    n: int = 0
    mean: Decimal | None = None
    sd: Decimal | None = None
    raw_mean: float | None = field(default=None, repr=False)  # unrounded, for the weighted figures
    raw_var: float | None = field(default=None, repr=False)


@dataclass
class OrganStat:
    organ_id: int
    groups: list[GroupStat] = field(default_factory=list)
    n: int = 0
    value: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None


def respondent_rows(answers):
    """(organ, group, response, sum of points, answers) for every respondent and organ — one GROUP BY."""
    return (answers.filter(points__isnull=False)
            .values_list("organ_id", "response__group_id", "response_id")
            .annotate(total=Sum("points"), k=Count("pk")).order_by())


def organ_stats(answers, groups: list[RaterGroup], organ_ids) -> dict[int, OrganStat]:
    """Statistics of every organ in `organ_ids` over the scale answers of `answers` (a queryset)."""
    per: dict[tuple[int, int], list[float]] = {}
    for organ_id, group_id, _response, total, k in respondent_rows(answers.filter(organ_id__in=list(organ_ids))):
        per.setdefault((organ_id, group_id), []).append(float(total) / k)
    out = {}
    for oid in organ_ids:
        stat = OrganStat(oid)
        for g in groups:
            values = per.get((oid, g.pk), [])
            gs = GroupStat(g.pk, g.name, g.weight, n=len(values))
            if values:
                gs.raw_mean = sum(values) / len(values)
                gs.mean = q2(gs.raw_mean)
                if len(values) > 1:
                    gs.raw_var = sum((v - gs.raw_mean) ** 2 for v in values) / (len(values) - 1)
                    gs.sd = q2(math.sqrt(gs.raw_var))
            stat.groups.append(gs)
        counted = [gs for gs in stat.groups if gs.n]
        stat.n = sum(gs.n for gs in counted)
        if counted:
            total_w = float(sum(gs.weight for gs in counted))
            value = sum(float(gs.weight) * gs.raw_mean for gs in counted) / total_w
            stat.value = q2(value)
            if all(gs.raw_var is not None for gs in counted):
                var = sum((float(gs.weight) / total_w) ** 2 * gs.raw_var / gs.n for gs in counted)
                half = Z95 * math.sqrt(var)
                stat.low, stat.high = q2(max(0.0, value - half)), q2(min(100.0, value + half))
        out[oid] = stat
    return out


def survey_stats(survey) -> dict[int, OrganStat]:
    groups = list(survey.groups.all())
    organ_ids = sorted(survey.organs.values_list("pk", flat=True))
    return organ_stats(Answer.objects.filter(response__survey=survey), groups, organ_ids)
