"""The numbers behind the appraisal charts, as the JSON `static/appraisal/js/charts.js` draws.

Each function takes records the caller already scoped (through `scope.py`) and returns plain data; the
same numbers are printed in a table next to each chart. Averages are over every organ of the class (an
aggregate, never another organ's figure).

* `radar(result)` — the organ's score on each top-level indicator (0–100: Σ leaf score × the leaf's
  weight within that indicator) against the class average.
* `ranking(results, more_url)` — totals by rank; a class larger than twice `appraisal_chart_ranking_n`
  shows the first and the last N only, with the link to the full list.
* `trend(periods, organ=None)` — totals across years: the class average, and the organ's own total.
"""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Avg
from django.utils.translation import gettext as _

from xiaoneng.conf import rule

from .compute import HUNDRED, effective_weights
from .models import Indicator, Result, ResultLine
from .scoring import q2


def _top_of(items: list[Indicator]) -> dict[int, Indicator]:
    by_pk = {i.pk: i for i in items}
    out = {}
    for i in items:
        node = i
        while node.parent_id:
            node = by_pk[node.parent_id]
        out[i.pk] = node
    return out


def top_scores(period) -> tuple[list[Indicator], dict[int, dict[int, Decimal]]]:
    """The scheme's top-level indicators and {result_id: {top_id: score 0–100}} for the whole class."""
    items = list(period.scheme.indicators.all())
    tops = sorted([i for i in items if not i.parent_id], key=lambda i: (i.order, i.code))
    top_of, eff = _top_of(items), effective_weights(items)
    scores: dict[int, dict[int, Decimal]] = defaultdict(lambda: dict.fromkeys((t.pk for t in tops), Decimal(0)))
    for result_id, indicator_id, score in (ResultLine.objects.filter(result__period=period)
                                           .values_list("result_id", "indicator_id", "score")):
        top = top_of[indicator_id]
        # The leaf's share within its top-level indicator: its effective weight over the top's own.
        scores[result_id][top.pk] += score * eff[indicator_id] / (top.weight / HUNDRED)
    return tops, {rid: {tid: q2(v) for tid, v in per.items()} for rid, per in scores.items()}


def radar(result: Result) -> dict:
    tops, scores = top_scores(result.period)
    if not tops or result.pk not in scores:
        return {}
    n = len(scores)
    average = [q2(sum(per[t.pk] for per in scores.values()) / n) for t in tops]
    return {"kind": "radar", "title": _("各一级指标得分与类别平均"),
            "indicators": [{"name": t.name, "max": 100} for t in tops],
            "series": [{"name": result.organ.name, "values": [float(scores[result.pk][t.pk]) for t in tops]},
                       {"name": _("类别平均"), "values": [float(v) for v in average]}],
            "rows": [[t.name, str(scores[result.pk][t.pk]), str(a)] for t, a in zip(tops, average, strict=True)]}


def ranking(results: list[Result], more_url: str = "") -> dict:
    """`results` ordered by rank (the whole class)."""
    if not results:
        return {}
    n = int(rule("appraisal_chart_ranking_n"))
    shown, cut = list(results), False
    if len(results) > 2 * n:
        shown, cut = results[:n] + results[-n:], True
    return {"kind": "bar", "title": _("类别内排名（总分）"),
            "labels": [f"{r.rank}. {r.organ.name}" for r in shown], "values": [float(r.total) for r in shown],
            "cut": cut, "total": len(results), "more_url": more_url if cut else ""}


def trend(periods, organ=None) -> dict:
    """Totals by year over `periods` (already limited to what the user may read): the class average and,
    with `organ`, the organ's own total (a year without a result for it is left empty)."""
    periods = sorted(periods, key=lambda p: p.scheme.year)
    if not periods:
        return {}
    ids = [p.pk for p in periods]
    averages = dict(Result.objects.filter(period_id__in=ids).values("period_id").annotate(a=Avg("total"))
                    .values_list("period_id", "a"))
    years = [str(p.scheme.year) for p in periods]
    series = [{"name": _("类别平均"), "values": [
        float(q2(Decimal(str(averages[p.pk])))) if averages.get(p.pk) is not None else None for p in periods]}]
    if organ is not None:
        own = dict(Result.objects.filter(period_id__in=ids, organ=organ).values_list("period_id", "total"))
        series.insert(0, {"name": organ.name, "values": [float(own[p.pk]) if p.pk in own else None for p in periods]})
    rows = [[y, *[("—" if s["values"][i] is None else f"{s['values'][i]:.2f}") for s in series]]
            for i, y in enumerate(years)]
    return {"kind": "line", "title": _("历年总分趋势"), "labels": years, "series": series, "rows": rows}
