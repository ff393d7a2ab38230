"""Compute a period: every leaf indicator for all organs of the class at once, then the weighted tree.

Per leaf: one module call (`indicators.<source>.compute`, a few aggregate queries for the whole
class), one scoring call (`scoring.score_all`). A leaf's effective weight is the product of the
weights on its path (a 40-weight group's 50-weight child counts 20 % of the total). Totals are
the sum of score × effective weight, rounded once at the end; ranks are competition ranks
(1, 2, 2, 4) within the class; grades follow `appraisal_grade_thresholds`.

Results and lines are updated in place (objections point at them), so recomputing a closed period
rewrites the same rows with the same numbers.
"""
from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from xiaoneng.conf import rule

from . import indicators, scoring
from .models import Grade, Indicator, Period, Result, ResultLine, Source

HUNDRED = Decimal(100)


def effective_weights(items: list[Indicator]) -> dict[int, Decimal]:
    by_pk = {i.pk: i for i in items}
    out = {}
    for i in items:
        w, node = i.weight / HUNDRED, i
        while node.parent_id:
            node = by_pk[node.parent_id]
            w *= node.weight / HUNDRED
        out[i.pk] = w
    return out


def grade_of(total: Decimal) -> str:
    t = rule("appraisal_grade_thresholds")
    if total >= Decimal(str(t["excellent"])):
        return Grade.EXCELLENT
    if total >= Decimal(str(t["good"])):
        return Grade.GOOD
    if total >= Decimal(str(t["fair"])):
        return Grade.FAIR
    return Grade.POOR


def ranks(totals: dict[int, Decimal]) -> dict[int, int]:
    ordered = sorted(totals.values(), reverse=True)
    return {k: ordered.index(v) + 1 for k, v in totals.items()}


def compute_period(period: Period) -> list[Result]:
    scheme = period.scheme
    organ_ids = sorted(scheme.organ_class.organs.filter(is_active=True).values_list("pk", flat=True))
    items = list(scheme.indicators.all())
    parents = {i.parent_id for i in items if i.parent_id}
    leaves = [i for i in items if i.pk not in parents]
    eff = effective_weights(items)

    lines: dict[tuple[int, int], dict] = {}
    totals = dict.fromkeys(organ_ids, Decimal(0))
    for leaf in sorted(leaves, key=lambda x: x.code):
        raws = indicators.module(leaf.source).compute(organ_ids, period.starts_on, period.ends_on, leaf, period)
        # A manual value nobody entered earns nothing (the organ must bring evidence); an organ without
        # platform records for a figure has nothing held against it (scoring.py), unless the scheme says.
        params = {"no_data": 0, **leaf.params} if leaf.source == Source.MANUAL else leaf.params
        scores = scoring.score_all(leaf.method, params, {oid: raws[oid].value for oid in organ_ids})
        how = scoring.describe(leaf.method, params)
        for oid in organ_ids:
            raw, score = raws[oid], scores[oid]
            totals[oid] += score * eff[leaf.pk]
            lines[(oid, leaf.pk)] = dict(
                value=raw.value, numerator=raw.numerator, denominator=raw.denominator, score=score,
                weighted=scoring.q2(score * eff[leaf.pk]),
                formula=_("%(words)s；%(how)s；得分 %(score)s × 权重 %(weight)s%%") % {
                    "words": raw.words, "how": how, "score": score, "weight": scoring.q2(eff[leaf.pk] * 100)},
                query={"source": leaf.source, **raw.query})
    totals = {k: scoring.q2(v) for k, v in totals.items()}
    place = ranks(totals)

    existing = {r.organ_id: r for r in Result.objects.filter(period=period)}
    results = []
    for oid in organ_ids:
        r = existing.get(oid) or Result(period=period, organ_id=oid)
        r.total, r.rank, r.grade = totals[oid], place[oid], grade_of(totals[oid])
        results.append(r)
    Result.objects.bulk_create([r for r in results if r.pk is None])
    Result.objects.bulk_update([r for r in results if r.organ_id in existing], ["total", "rank", "grade"])
    # Organs that left the class since an earlier computation lose their result (if nobody objected).
    Result.objects.filter(period=period).exclude(organ_id__in=organ_ids).filter(objections__isnull=True).delete()

    result_of = {r.organ_id: r for r in Result.objects.filter(period=period, organ_id__in=organ_ids).select_related("organ")}
    old = {(ln.result_id, ln.indicator_id): ln for ln in ResultLine.objects.filter(result__period=period)}
    create, update = [], []
    fields = ["value", "numerator", "denominator", "score", "weighted", "formula", "query"]
    for (oid, iid), data in lines.items():
        res = result_of[oid]
        ln = old.pop((res.pk, iid), None)
        if ln is None:
            create.append(ResultLine(result=res, indicator_id=iid, **data))
        else:
            for f in fields:
                setattr(ln, f, data[f])
            update.append(ln)
    ResultLine.objects.bulk_create(create)
    ResultLine.objects.bulk_update(update, fields)
    if old:
        ResultLine.objects.filter(pk__in=[ln.pk for ln in old.values()]).delete()
    return list(result_of.values())
