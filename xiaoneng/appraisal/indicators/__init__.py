"""Indicators, one module per source. Each module offers

* `compute(organ_ids, first, last, indicator, period) -> {organ_id: Raw}` — every organ of the class in
  one or a few aggregate queries (GROUP BY organ), never organ by organ;
* `records(query) -> QuerySet` — exactly the records a line counts, from the `query` stored on it
  (lineage): the same filter as the aggregate, narrowed to one organ.

`first`, `last` are the period's first and last days (local dates; `bounds()` turns them into local
midnight of the first day and of the day after the last). Every figure depends only on records dated before `t1`, so recomputing a closed
period gives the same numbers.
"""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import import_module
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _gettext

SOURCES = ("on_time", "cards", "complaints", "accountability", "manual", "handling_time", "orders", "satisfaction",
           "rectification", "complaint_rate", "complaint_on_time", "survey")


@lru_cache(maxsize=1024)
def _translated(language, message: str) -> str:
    return _gettext(message)


LANGUAGE: ContextVar[str | None] = ContextVar("appraisal_language", default=None)


def gettext_cached(message: str) -> str:
    """gettext, remembered per language: a province-wide class asks for the same words thousands of times
    (the computation sets LANGUAGE once, so that each call need not look up the active language)."""
    return _translated(LANGUAGE.get() or get_language(), message)


_ = gettext_cached


@dataclass
class Raw:
    value: Decimal | None
    words: str
    query: dict = field(default_factory=dict)
    numerator: int | None = None
    denominator: int | None = None


def module(source: str):
    if source not in SOURCES:
        raise LookupError(source)
    return import_module(f"{__name__}.{source}")


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return (datetime.combine(first, time(), tzinfo=tz), datetime.combine(last + timedelta(days=1), time(), tzinfo=tz))


def window(query: dict) -> tuple[datetime, datetime]:
    return bounds(date.fromisoformat(query["from"]), date.fromisoformat(query["to"]))


def pct(n: int, d: int) -> Decimal | None:
    return None if not d else (Decimal(n) * 100 / Decimal(d)).quantize(Decimal("0.0001"))


def num(n) -> str:
    return f"{n:,}"


def deadline_words(label: str, rate, ok: int, n: int, still: int) -> str:
    """The words of a met-the-deadline rate (orders, complaints on time)."""
    if rate is None:
        return _("%(label)s：本期无到期事项") % {"label": label}
    return _("%(label)s %(rate)s%% = %(ok)s / %(n)s 件，其中 %(still)s 件逾期未办结") % {
        "label": label, "rate": f"{rate:.1f}", "ok": num(ok), "n": num(n), "still": num(still)}


def query_of(oid: int, first: date, last: date) -> dict:
    return {"organ": oid, "from": first.isoformat(), "to": last.isoformat()}


def deadline_rates(counted, organ_ids, first, last, on_time, still, words) -> dict[int, Raw]:
    """A met-the-deadline rate for every organ in one GROUP BY: of the `counted` records (those whose
    deadline falls in the period), how many were done by it (`on_time`, a Q) and how many were still
    open at the period's end (`still`, a Q). `words(rate, ok, n, still)` says it in the line."""
    from django.db.models import Count

    rows = (counted.filter(organ_id__in=organ_ids).values("organ_id")
            .annotate(n=Count("pk"), ok=Count("pk", filter=on_time), still=Count("pk", filter=still)).order_by())
    by = {r["organ_id"]: r for r in rows}
    out = {}
    for oid in organ_ids:
        r = by.get(oid, {"n": 0, "ok": 0, "still": 0})
        rate = pct(r["ok"], r["n"])
        out[oid] = Raw(rate, words(rate, r["ok"], r["n"], r["still"]), query_of(oid, first, last), r["ok"], r["n"])
    return out


MEMO: ContextVar[dict | None] = ContextVar("appraisal_memo", default=None)


def cases_received(organ_ids, t0, t1) -> dict[int, int]:
    """Cases received per organ in [t0, t1): the denominator of two indicators (cards, complaints per
    10,000 cases), counted once per computation (the computation sets MEMO)."""
    from django.db.models import Count

    from xiaoneng.approvals.models import Case

    memo = MEMO.get()
    key = ("cases_received", tuple(organ_ids), t0, t1)
    if memo is not None and key in memo:
        return memo[key]
    counts = dict(Case.objects.filter(organ_id__in=organ_ids, received_at__gte=t0, received_at__lt=t1)
                  .values_list("organ_id").annotate(n=Count("pk")).order_by())
    if memo is not None:
        memo[key] = counts
    return counts
