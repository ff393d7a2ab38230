"""Scoring methods: plain functions from a raw value to a score of 0–100, never `eval`.

Each method's parameters live in `Indicator.params` and are checked by `check_params` when a
scheme is saved or imported, so a computation never meets a missing threshold:

* linear      {"worst": w, "best": b} — `worst` (or anything beyond it) scores 0, `best` (or
  better) 100, straight line between. `best` below `worst` means "lower is better".
* attainment  {"target": t, "lower_is_better": false, "cap": 100} — value ÷ target × 100 (or
  target ÷ value when lower is better), at most `cap`.
* ranking     {"lower_is_better": false, "last": 60} — within the class: first place 100, last
  place `last`, evenly between; equal values share the better place.
* deduction   {"per_event": p, "floor": 0} — 100 − p × events, never below `floor`.

A missing value (an organ with no cases for a rate) scores `params["no_data"]` (default 100:
nothing to hold against it) and says so in the formula.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

TWO = Decimal("0.01")


def q2(x) -> Decimal:
    return Decimal(str(x)).quantize(TWO, rounding=ROUND_HALF_UP)


def _clamp(x: Decimal, low=Decimal(0), high=Decimal(100)) -> Decimal:
    return max(low, min(high, x))


def linear(value: Decimal, *, worst, best) -> Decimal:
    worst, best = Decimal(str(worst)), Decimal(str(best))
    return q2(_clamp((value - worst) / (best - worst) * 100))


def attainment(value: Decimal, *, target, lower_is_better=False, cap=100) -> Decimal:
    target, cap = Decimal(str(target)), Decimal(str(cap))
    if lower_is_better:
        ratio = Decimal(100) if value <= 0 else target / value * 100
    else:
        ratio = value / target * 100
    return q2(_clamp(ratio, high=cap))


def ranking(values: dict[int, Decimal], *, lower_is_better=False, last=60) -> dict[int, Decimal]:
    """Scores of all organs of the class at once (competition ranking: 1, 2, 2, 4)."""
    known = {k: v for k, v in values.items() if v is not None}
    ordered = sorted(known.values(), reverse=not lower_is_better)
    n, last = len(ordered), Decimal(str(last))
    first = {}
    for i, v in enumerate(ordered):  # 0-based place; ties share the first index (a dict: no quadratic .index())
        first.setdefault(v, i)
    out = {}
    for key, v in known.items():
        place = first[v]
        out[key] = Decimal(100) if n == 1 else q2(Decimal(100) - (Decimal(100) - last) * place / (n - 1))
    return out


def deduction(events: Decimal, *, per_event, floor=0) -> Decimal:
    return q2(max(Decimal(str(floor)), Decimal(100) - Decimal(str(per_event)) * events))


REQUIRED = {
    "linear": ("worst", "best"),
    "attainment": ("target",),
    "ranking": (),
    "deduction": ("per_event",),
}


# No raw value the indicators produce comes near a billion; a larger threshold is a typing slip.
PARAM_LIMIT = 10**9


def check_params(method: str, params: dict) -> str:
    """An error message for bad parameters of `method`, or ""."""
    if method not in REQUIRED:
        return _("计分方法无效：%(m)s") % {"m": method}
    if not isinstance(params, dict):
        return _("计分参数应为键值对")
    for key in REQUIRED[method]:
        if key not in params:
            return _("计分方法“%(m)s”缺少参数 %(k)s") % {"m": method, "k": key}
    for key, v in params.items():
        if key in ("lower_is_better",):
            continue
        try:
            # JSON allows NaN and Infinity, which no threshold can be compared with.
            if not Decimal(str(v)).is_finite():
                raise ArithmeticError
        except ArithmeticError:
            return _("参数 %(k)s 应为数字") % {"k": key}
        if abs(Decimal(str(v))) > PARAM_LIMIT:
            return _("参数 %(k)s 超出范围（绝对值不超过 %(n)s）") % {"k": key, "n": f"{PARAM_LIMIT:,}"}
    if method == "linear" and Decimal(str(params["worst"])) == Decimal(str(params["best"])):
        return _("线性计分的两个阈值不能相等")
    if method == "attainment" and Decimal(str(params["target"])) <= 0:
        return _("目标值应大于 0")
    if method == "deduction" and Decimal(str(params["per_event"])) < 0:
        return _("每次扣分不能为负数")
    return ""


def describe(method: str, params: dict) -> str:
    """The method in words, for the formula of a result line."""
    if method == "linear":
        return _("%(worst)s 及以下得 0 分，%(best)s 及以上得 100 分，其间按线性计分") % params
    if method == "attainment":
        return _("完成率 = 实际值 ÷ 目标值 %(target)s，满分 100") % params
    if method == "ranking":
        return _("类别内排名：第一名 100 分，末名 %(last)s 分，其间等差") % {"last": params.get("last", 60)}
    if method == "deduction":
        return _("每次扣 %(per)s 分，最低 %(floor)s 分") % {"per": params["per_event"], "floor": params.get("floor", 0)}
    return ""


def score_all(method: str, params: dict, values: dict[int, Decimal | None]) -> dict[int, Decimal]:
    """Scores of every organ of the class for one indicator (ranking needs them all at once)."""
    no_data = Decimal(str(params.get("no_data", 100)))
    if method == "ranking":
        ranked = ranking(values, lower_is_better=bool(params.get("lower_is_better")), last=params.get("last", 60))
        return {k: ranked.get(k, q2(no_data)) for k in values}
    out = {}
    for key, v in values.items():
        if v is None:
            out[key] = q2(no_data)
        elif method == "linear":
            out[key] = linear(v, worst=params["worst"], best=params["best"])
        elif method == "attainment":
            out[key] = attainment(v, target=params["target"], lower_is_better=bool(params.get("lower_is_better")),
                                  cap=params.get("cap", 100))
        elif method == "deduction":
            out[key] = deduction(v, per_event=params["per_event"], floor=params.get("floor", 0))
        else:
            raise ValueError(method)
    return out
