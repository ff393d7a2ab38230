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

from django.db.models import Count, Q, Sum
from django.utils.translation import get_language

from xiaoneng.conf import rule

from . import indicators, scoring, store
from .indicators import gettext_cached as _
from .models import (
    Adjustment,
    AdjustmentStatus,
    Grade,
    Indicator,
    InterimResult,
    Period,
    Result,
    ResultLine,
    Source,
)

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
    first: dict = {}
    for i, v in enumerate(sorted(totals.values(), reverse=True)):
        first.setdefault(v, i + 1)
    return {k: first[v] for k, v in totals.items()}


def evaluate(period: Period, first, last) -> tuple[list[int], dict, dict, dict]:
    """Score every leaf for every organ of the class over [first, last]: (organ ids, lines keyed by
    (organ, leaf), weighted totals, adjustments). Writes nothing: the annual computation and the
    interim (quarterly) one store the same figures in different places."""
    scheme = period.scheme
    organ_ids = sorted(scheme.organ_class.organs.filter(is_active=True).values_list("pk", flat=True))
    items = list(scheme.indicators.all())
    parents = {i.parent_id for i in items if i.parent_id}
    leaves = [i for i in items if i.pk not in parents]
    eff = effective_weights(items)

    lines: dict[tuple[int, int], dict] = {}
    totals = dict.fromkeys(organ_ids, Decimal(0))
    language, memo = indicators.LANGUAGE.set(get_language()), indicators.MEMO.set({})
    try:
        _score_leaves(period, first, last, organ_ids, leaves, eff, lines, totals)
    finally:
        indicators.LANGUAGE.reset(language)
        indicators.MEMO.reset(memo)
    totals = {k: scoring.q2(v) for k, v in totals.items()}
    return organ_ids, lines, totals, adjustments(period, organ_ids, last)


def _score_leaves(period, first, last, organ_ids, leaves, eff, lines, totals) -> None:
    for leaf in sorted(leaves, key=lambda x: x.code):
        raws = indicators.module(leaf.source).compute(organ_ids, first, last, leaf, period)
        # A manual value nobody entered earns nothing (the organ must bring evidence); an organ without
        # platform records for a figure has nothing held against it (scoring.py), unless the scheme says.
        params = {"no_data": 0, **leaf.params} if leaf.source == Source.MANUAL else leaf.params
        scores = scoring.score_all(leaf.method, params, {oid: raws[oid].value for oid in organ_ids})
        how = scoring.describe(leaf.method, params)
        template = _("%(words)s；%(how)s；得分 %(score)s × 权重 %(weight)s%%")
        weight = scoring.q2(eff[leaf.pk] * 100)
        for oid in organ_ids:
            raw, score = raws[oid], scores[oid]
            totals[oid] += score * eff[leaf.pk]
            lines[(oid, leaf.pk)] = dict(
                value=raw.value, numerator=raw.numerator, denominator=raw.denominator, score=score,
                weighted=scoring.q2(score * eff[leaf.pk]),
                formula=template % {"words": raw.words, "how": how, "score": score, "weight": weight},
                query={"source": leaf.source, **raw.query})


def adjustments(period: Period, organ_ids: list[int], last) -> dict[int, tuple[Decimal, str]]:
    """{organ: (points, words)} of the approved 加减分 that occurred by `last`, each side capped
    (`appraisal_adjustment_caps`). One GROUP BY query for the class."""
    caps = rule("appraisal_adjustment_caps")
    bonus_cap, deduction_cap = Decimal(str(caps["bonus"])), Decimal(str(caps["deduction"]))
    rows = (Adjustment.objects.filter(period=period, organ_id__in=organ_ids, status=AdjustmentStatus.APPROVED,
                                      occurred_on__lte=last)
            .values("organ_id").annotate(plus=Sum("points", filter=Q(points__gt=0)),
                                         n_plus=Count("pk", filter=Q(points__gt=0)),
                                         minus=Sum("points", filter=Q(points__lt=0)),
                                         n_minus=Count("pk", filter=Q(points__lt=0)))
            .order_by())
    out = {}
    for r in rows:
        plus, minus = r["plus"] or Decimal(0), -(r["minus"] or Decimal(0))
        parts = []
        if r["n_plus"]:
            parts.append(_("加分 %(p)s 分（%(n)s 项）") % {"p": scoring.q2(plus), "n": r["n_plus"]})
            if plus > bonus_cap:
                parts.append(_("超过加分上限 %(c)s 分，按 %(c)s 分计") % {"c": scoring.q2(bonus_cap)})
                plus = bonus_cap
        if r["n_minus"]:
            parts.append(_("减分 %(p)s 分（%(n)s 项）") % {"p": scoring.q2(minus), "n": r["n_minus"]})
            if minus > deduction_cap:
                parts.append(_("超过减分上限 %(c)s 分，按 %(c)s 分计") % {"c": scoring.q2(deduction_cap)})
                minus = deduction_cap
        points = scoring.q2(plus - minus)
        out[r["organ_id"]] = (points, _("%(parts)s；合计 %(sum)s 分") % {"parts": "，".join(parts), "sum": f"{points:+}"})
    return out


def compute_period(period: Period) -> list[Result]:
    organ_ids, lines, weighted, adjusted = evaluate(period, period.starts_on, period.ends_on)
    totals = {oid: weighted[oid] + adjusted.get(oid, (Decimal(0), ""))[0] for oid in organ_ids}
    place = ranks(totals)

    existing = {r.organ_id: r for r in Result.objects.filter(period=period)}
    results = []
    for oid in organ_ids:
        r = existing.get(oid) or Result(period=period, organ_id=oid)
        r.total, r.rank, r.grade = totals[oid], place[oid], grade_of(totals[oid])
        r.weighted_total = weighted[oid]
        r.adjustment, r.adjustment_words = adjusted.get(oid, (Decimal(0), ""))
        results.append(r)
    Result.objects.bulk_create([r for r in results if r.pk is None])
    Result.objects.bulk_update([r for r in results if r.organ_id in existing],
                               ["total", "rank", "grade", "weighted_total", "adjustment", "adjustment_words"])
    # Organs that left the class since an earlier computation lose their result (if nobody objected).
    Result.objects.filter(period=period).exclude(organ_id__in=organ_ids).filter(objections__isnull=True).delete()

    result_of = {r.organ_id: r for r in Result.objects.filter(period=period, organ_id__in=organ_ids)
                 .select_related("organ")}
    old = {(rid, iid): pk for pk, rid, iid in ResultLine.objects.filter(result__period=period).values_list(
        "pk", "result_id", "indicator_id")}
    create, update = [], []
    for (oid, iid), data in lines.items():
        rid = result_of[oid].pk
        values = tuple(data[f] for f in store.FIELDS)
        pk = old.pop((rid, iid), None)
        if pk is None:
            create.append((rid, iid, *values))
        else:
            update.append((pk, *values))
    store.write_lines(create, update)
    if old:
        ResultLine.objects.filter(pk__in=list(old.values())).delete()
    return list(result_of.values())


def compute_interim(period: Period, quarter: int, *, at) -> list[InterimResult]:
    """阶段性结果: the scheme over the year to date at the end of `quarter` (1–4), stored apart from
    the annual result. The whole quarter's rows are replaced; nothing of the period changes."""
    first, last = period.starts_on, quarter_end(period, quarter)
    organ_ids, lines, weighted, adjusted = evaluate(period, first, last)
    totals = {oid: weighted[oid] + adjusted.get(oid, (Decimal(0), ""))[0] for oid in organ_ids}
    place = ranks(totals)
    codes = {i.pk: (i.code, i.name) for i in period.scheme.indicators.all()}
    by_organ: dict[int, list] = {}
    for (oid, iid), data in lines.items():
        by_organ.setdefault(oid, []).append((codes[iid], data))
    rows = []
    for oid in organ_ids:
        mine = sorted(by_organ.get(oid, []), key=lambda x: x[0][0])
        rows.append(InterimResult(
            period=period, quarter=quarter, organ_id=oid, first_day=first, last_day=last, total=totals[oid],
            weighted_total=weighted[oid], adjustment=adjusted.get(oid, (Decimal(0), ""))[0], rank=place[oid],
            grade=grade_of(totals[oid]), computed_at=at,
            lines=[{"code": code, "name": name, "value": None if d["value"] is None else str(d["value"]),
                    "score": str(d["score"]), "weighted": str(d["weighted"]), "formula": d["formula"],
                    "query": d["query"]} for (code, name), d in mine]))
    InterimResult.objects.filter(period=period, quarter=quarter).delete()
    InterimResult.objects.bulk_create(rows)
    return rows


def quarter_end(period: Period, quarter: int):
    """The last day of `quarter` of the period's year, never past the period's own last day."""
    from datetime import date, timedelta

    month = quarter * 3 + 1
    end = (date(period.ends_on.year + 1, 1, 1) if month > 12 else date(period.ends_on.year, month, 1)) - timedelta(days=1)
    return min(end, period.ends_on)
