"""Networked roll-ups (issue 4, item 4): on-time rate, handling time against the limit,
alerts and cards per 100 cases, open orders and early completions, for a supervisor's
region and period, per child region (province → cities → counties → townships) and
per organ.

Two sources, by how the figure behaves:

* Figures of a period come from the pre-aggregated rows (`stats_models`), refreshed by
  `refresh()` (the `xiaoneng stats refresh` command). Their definitions — which day
  each case counts on — are in the `stats_models` docstring. The on-time rate is
  ``on_time / (on_time + late)``, and `late` includes the cases still open past their
  promised deadline, not only those decided late.
* What is true now — open cases already past their promised deadline, open
  supervision orders, open red and yellow cards — is read live from indexed columns
  (a partial index on open clocks serves the first, see migration 0002).

Every query goes through `access.scoped(…, "supervise")`, so a county supervisor's
roll-up holds his county and nothing else, whatever region he asks for.
`direct()` computes the same figures straight from cases, clocks and alerts: it is the
tests' oracle and the benchmark's baseline.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.approvals.models import Case
from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks.models import Clock
from xiaoneng.lib.workdays import FIRST_DAY, index_day
from xiaoneng.orgs import access
from xiaoneng.orgs.models import PREFIX_LENGTH, Organ, Region

from .models import Alert, AlertStatus, EarlyCompletion, Level, OrderStatus, SupervisionOrder
from .stats_models import FIGURES, OrganDayStat, OrganMonthStat, RollupRun

PERM = "supervise"
PROMISE_KINDS = ("case.promise", "case.subcase")  # the clock a case's on-time rate is measured on
OPEN_ALERT = (AlertStatus.RAISED, AlertStatus.EXPLAINED, AlertStatus.APPEALED)
OPEN_ORDER = (OrderStatus.OPEN, OrderStatus.REPORTED)


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz())


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


# --- periods -------------------------------------------------------------------------------
PRESETS = {
    "this_month": _("本月"),
    "last_month": _("上月"),
    "this_quarter": _("本季度"),
    "this_year": _("本年"),
    "last_12": _("近12个月"),
}
DEFAULT_PRESET = "this_year"
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """Whole months, `first` to `last` inclusive (both the first day of their month).

    The dashboard reports by month (月报/季报/年报); the roll-up rows are monthly.
    """

    first: date
    last: date
    key: str = "custom"

    @property
    def end(self) -> date:
        """The first day after the period."""
        return add_months(self.last, 1)

    def months(self) -> list[date]:
        out, m = [], self.first
        while m <= self.last:
            out.append(m)
            m = add_months(m, 1)
        return out

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y-%m}"
        return f"{self.first:%Y-%m} — {self.last:%Y-%m}"

    def query(self) -> str:
        """The period as URL parameters (for links that keep it)."""
        if self.key != "custom":
            return f"period={self.key}"
        return f"from={self.first:%Y-%m}&to={self.last:%Y-%m}"


def preset(key: str, today: date) -> Period:
    this = month_start(today)
    if key == "this_month":
        return Period(this, this, key)
    if key == "last_month":
        last = add_months(this, -1)
        return Period(last, last, key)
    if key == "this_quarter":
        return Period(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), this, key)
    if key == "last_12":
        return Period(add_months(this, -11), this, key)
    return Period(date(today.year, 1, 1), this, "this_year")


def _month(text: str | None) -> date | None:
    m = MONTH_RE.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
        return None
    return date(int(m.group(1)), int(m.group(2)), 1)


def period_from(params, today: date | None = None) -> Period:
    """`?period=<preset>` or `?from=YYYY-MM&to=YYYY-MM` (at most five years); else this year."""
    today = today or timezone.localdate()
    first, last = _month(params.get("from")), _month(params.get("to"))
    if first or last:
        first, last = first or last, last or first
        if first > last:
            first, last = last, first
        if add_months(first, 60) > last:
            return Period(first, last)
    return preset(params.get("period") or DEFAULT_PRESET, today)


# --- figures -------------------------------------------------------------------------------
@dataclass
class Figures:
    """Summed roll-up figures of some rows, plus the live ones where they were read."""

    received: int = 0
    decided: int = 0
    on_time: int = 0
    late: int = 0
    timed: int = 0
    used_days: int = 0
    limit_days: int = 0
    warnings: int = 0
    yellows: int = 0
    reds: int = 0
    early: int = 0
    early_days: int = 0
    open_overdue: int = 0  # live
    open_orders: int = 0  # live
    key: object = None
    label: str = ""
    url: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, row: dict, **kw) -> Figures:
        return cls(**{f: int(row.get(f) or 0) for f in FIGURES}, **kw)

    def add(self, other: Figures) -> Figures:
        for f in (*FIGURES, "open_overdue", "open_orders"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        return self

    @property
    def assessed(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        """Per cent of assessed cases that met the promise (open overdue ones count as late)."""
        return 100.0 * self.on_time / self.assessed if self.assessed else None

    @property
    def avg_used(self) -> float | None:
        return self.used_days / self.timed if self.timed else None

    @property
    def avg_limit(self) -> float | None:
        return self.limit_days / self.timed if self.timed else None

    @property
    def use_ratio(self) -> float | None:
        """Per cent of the allowed working days used, over the decided cases."""
        return 100.0 * self.used_days / self.limit_days if self.limit_days else None

    @property
    def cards(self) -> int:
        return self.yellows + self.reds

    @property
    def alerts(self) -> int:
        return self.warnings + self.yellows + self.reds

    def per_100(self, n: int) -> float | None:
        return 100.0 * n / self.received if self.received else None

    @property
    def warnings_per_100(self):
        return self.per_100(self.warnings)

    @property
    def yellows_per_100(self):
        return self.per_100(self.yellows)

    @property
    def reds_per_100(self):
        return self.per_100(self.reds)

    @property
    def cards_per_100(self):
        return self.per_100(self.cards)

    @property
    def alerts_per_100(self):
        return self.per_100(self.alerts)

    def numbers(self) -> dict:
        """The stored figures only (for comparisons in tests and benchmarks)."""
        return {f: getattr(self, f) for f in FIGURES}


SUMS = {f: Sum(f) for f in FIGURES}


def month_rows(user, period: Period, prefix: str | None = None, organ: Organ | int | None = None):
    """The monthly roll-up rows the user may see, in the period, under a region or of an organ."""
    qs = OrganMonthStat.objects.filter(month__gte=period.first, month__lte=period.last)
    qs = access.scoped(qs, user, PERM)
    if prefix:
        qs = qs.filter(region_code__under=prefix)
    if organ is not None:
        qs = qs.filter(organ=organ)
    return qs


def trend(user, period: Period, prefix: str | None = None, organ=None) -> list[Figures]:
    """One Figures per month of the period (months without rows are zeros)."""
    rows = {r["month"]: r for r in month_rows(user, period, prefix, organ).values("month").annotate(**SUMS).order_by()}
    return [Figures.of(rows.get(m, {}), key=m, label=f"{m:%Y-%m}") for m in period.months()]


def total(months: Iterable[Figures]) -> Figures:
    out = Figures()
    for m in months:
        out.add(m)
    return out


def child_length(prefix: str) -> int | None:
    """Prefix length of the next level down (2 → 4 → 6 → 9 → 12), None below villages."""
    longer = sorted(n for n in PREFIX_LENGTH.values() if n > len(prefix))
    return longer[0] if longer else None


def by_child(user, period: Period, region: Region, now: datetime | None = None,
             counts: OpenCounts | None = None) -> tuple[list[Figures], Figures | None]:
    """Per child region of `region` (with its name), and the region's own-level organs.

    Child rows are sums over their subtrees, so a city's row equals the sum of its
    counties plus the city's own organs. Children without any figures are listed too.
    """
    length = child_length(region.prefix)
    if length is None:
        return [], None
    rows = (month_rows(user, period, region.prefix).annotate(child=Substr("region_code", 1, length))
            .values("child").annotate(**SUMS).order_by())
    figures = {r["child"]: Figures.of(r, key=r["child"]) for r in rows}
    counts = counts or open_counts(user, region.prefix, now)
    live_overdue, live_orders = counts.by_prefix(length)
    children = []
    for child in Region.objects.filter(parent=region).order_by("code"):
        f = figures.pop(child.prefix, None) or Figures(key=child.prefix)
        f.label, f.extra["region"] = child.name, child
        f.open_overdue, f.open_orders = live_overdue.get(child.prefix, 0), live_orders.get(child.prefix, 0)
        children.append(f)
    own = figures.pop(region.prefix, None) or Figures(key=region.prefix)
    own.open_overdue, own.open_orders = live_overdue.get(region.prefix, 0), live_orders.get(region.prefix, 0)
    own.label = str(_("本级机关"))
    # Rows under a child prefix with no Region row (should not happen) are not dropped silently.
    for key, f in sorted(figures.items()):
        f.label = key
        children.append(f)
    return children, own


RANKINGS = {
    "on_time": ("on_time_rate", _("按时办结率")),
    "late": ("late", _("超期件数")),
    "received": ("received", _("收件量")),
    "cards": ("cards_per_100", _("每百件红黄牌")),
    "use": ("use_ratio", _("用时占时限比")),
}


def by_organ(user, period: Period, prefix: str | None = None, now: datetime | None = None,
             organ_ids: Iterable[int] | None = None, counts: OpenCounts | None = None) -> list[Figures]:
    """Per organ under `prefix` with any figures in the period (name and region attached)."""
    qs = month_rows(user, period, prefix)
    if organ_ids is not None:
        qs = qs.filter(organ_id__in=list(organ_ids))
    rows = qs.values("organ_id").annotate(**SUMS).order_by()
    figures = {r["organ_id"]: Figures.of(r, key=r["organ_id"]) for r in rows}
    counts = counts or open_counts(user, prefix, now)
    for attr, per_organ in (("open_overdue", counts.overdue), ("open_orders", counts.orders)):
        for (organ_id, _region), n in per_organ.items():
            if organ_id is not None and (organ_ids is None or organ_id in figures):
                setattr(figures.setdefault(organ_id, Figures(key=organ_id)), attr, n)
    organs = Organ.objects.in_bulk(list(figures))
    for organ_id, f in figures.items():
        organ = organs.get(organ_id)
        f.label, f.extra["organ"] = (organ.name if organ else str(organ_id)), organ
    return list(figures.values())


def rank(figures: list[Figures], key: str = "on_time", descending: bool | None = None) -> list[Figures]:
    """Sorted for a ranking: best first (rates high, counts and per-100s low); no data last."""
    attr = RANKINGS.get(key, RANKINGS["on_time"])[0]
    if descending is None:
        descending = attr in ("on_time_rate", "received")
    known = [f for f in figures if getattr(f, attr) is not None]
    unknown = [f for f in figures if getattr(f, attr) is None]
    # Ties: the organ with more at stake first (more late cases when ranking the worst).
    if descending:
        known.sort(key=lambda f: (-getattr(f, attr), f.late, -f.received, f.label))
    else:
        known.sort(key=lambda f: (getattr(f, attr), -f.late, -f.received, f.label))
    return known + sorted(unknown, key=lambda f: f.label)


# --- live figures --------------------------------------------------------------------------
def open_overdue_clocks(user, prefix: str | None, now: datetime | None = None):
    """Promise clocks still running (or paused) past their deadline: open cases already late.

    `kind IN (…) AND NOT state = 'stopped' AND due_at < now AND region_code in range` is
    served by the partial index `clock_open_due` (migration 0002), which holds only open
    clocks — a few per cent of all clocks at the province scale.
    """
    qs = Clock.objects.filter(kind__in=PROMISE_KINDS, due_at__lt=now or timezone.now()).exclude(state=Clock.State.STOPPED)
    qs = access.scoped(qs, user, PERM)
    return qs.filter(region_code__under=prefix) if prefix else qs


def open_orders(user, prefix: str | None):
    qs = access.scoped(SupervisionOrder.objects.filter(status__in=OPEN_ORDER), user, PERM)
    return qs.filter(region_code__under=prefix) if prefix else qs


@dataclass
class OpenCounts:
    """Open overdue cases and open orders per (organ, region prefix): one read for the
    region's total, its child regions and its organs."""

    overdue: dict[tuple[int | None, str], int]
    orders: dict[tuple[int | None, str], int]

    @property
    def total_overdue(self) -> int:
        return sum(self.overdue.values())

    @property
    def total_orders(self) -> int:
        return sum(self.orders.values())

    def by_prefix(self, length: int) -> tuple[dict[str, int], dict[str, int]]:
        out = ({}, {})
        for per_organ, sums in zip((self.overdue, self.orders), out, strict=True):
            for (_organ, region), n in per_organ.items():
                sums[region[:length]] = sums.get(region[:length], 0) + n
        return out


def open_counts(user, prefix: str | None, now: datetime | None = None) -> OpenCounts:
    # COUNT(*), not COUNT(id): organ_id and region_code are in the partial index
    # `clock_open_due`, so PostgreSQL counts from the index alone, without heap fetches.
    def grouped(qs):
        return {(o, r): n for o, r, n in qs.values_list("organ_id", "region_code").annotate(n=Count("*")).order_by()}

    return OpenCounts(grouped(open_overdue_clocks(user, prefix, now)), grouped(open_orders(user, prefix)))


def open_cards(user, prefix: str | None, organ=None):
    qs = Alert.objects.filter(level__in=[Level.RED, Level.YELLOW], status__in=OPEN_ALERT)
    qs = access.scoped(qs, user, PERM)
    if prefix:
        qs = qs.filter(region_code__under=prefix)
    if organ is not None:
        qs = qs.filter(organ=organ)
    return qs


def board(user, prefix: str | None, organ=None, limit: int = 12) -> list[Alert]:
    """The red/yellow board: the latest raised open red and yellow cards, reds first.

    "Latest" is by id (the order they were raised in), which the primary key serves
    backwards in O(limit) however many cards are open; `raised_at` can be a past
    moment for findings about late-reported events.
    """
    qs = open_cards(user, prefix, organ).select_related("organ")
    reds = list(qs.filter(level=Level.RED).order_by("-id")[:limit])
    yellows = list(qs.filter(level=Level.YELLOW).order_by("-id")[: max(limit - len(reds), 0)])
    return reds + yellows


def live(user, prefix: str | None, organ=None, now: datetime | None = None, counts: OpenCounts | None = None) -> dict:
    """The numbers the dashboard polls: open overdue cases, open orders, open cards by level."""
    if counts is not None and organ is None:
        overdue, orders = counts.total_overdue, counts.total_orders
    else:
        overdue_qs, orders_qs = open_overdue_clocks(user, prefix, now), open_orders(user, prefix)
        if organ is not None:
            overdue_qs, orders_qs = overdue_qs.filter(organ=organ), orders_qs.filter(organ=organ)
        overdue, orders = overdue_qs.count(), orders_qs.count()
    cards = dict(open_cards(user, prefix, organ).values_list("level").annotate(n=Count("*")).order_by())
    return {
        "open_overdue": overdue,
        "open_orders": orders,
        "open_reds": cards.get(Level.RED, 0),
        "open_yellows": cards.get(Level.YELLOW, 0),
    }


def last_run() -> RollupRun | None:
    return RollupRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()


# --- the refresh ---------------------------------------------------------------------------
WD_TABLE = "xn_stats_workdays"
LOCK_KEY = 0x786E5354  # "xnST": one refresh at a time on PostgreSQL


class Dialect:
    """The few SQL spellings that differ between PostgreSQL and SQLite."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        zone = settings.TIME_ZONE
        if not re.fullmatch(r"[A-Za-z0-9_/+\-]+", zone):
            raise ValueError(f"unexpected TIME_ZONE {zone!r}")
        self.zone = zone

    def local_date(self, column: str) -> str:
        if self.postgres:
            return f"(({column}) AT TIME ZONE '{self.zone}')::date"
        return f"django_datetime_cast_date({column}, '{self.zone}', '{connection.timezone_name}')"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.postgres else f"MAX({a}, {b})"

    def moment(self, value: datetime):
        return connection.ops.adapt_datetimefield_value(value)

    def day(self, value: date):
        return connection.ops.adapt_datefield_value(value)


def _workday_table(cur, d: Dialect) -> None:
    """A temporary (day, cum, cum_prev) table from the working-day calendar, for SQL joins.

    `cum` counts working days from the calendar's first day to the day inclusive, so
    working days in (a, b] are `cum(b) - cum(a)` — the engine's own arithmetic.
    """
    cal = calendar_engine.current()
    cum = cal.cum.tolist()
    days = [index_day(i) for i in range(len(cum))]
    prev = [0, *cum[:-1]]
    cur.execute(f"DROP TABLE IF EXISTS {WD_TABLE}")
    if d.postgres:
        cur.execute(f"CREATE TEMP TABLE {WD_TABLE} (day date PRIMARY KEY, cum integer, cum_prev integer)")
        cur.execute(f"INSERT INTO {WD_TABLE} SELECT * FROM unnest(%s::date[], %s::int[], %s::int[])", [days, cum, prev])
        cur.execute(f"ANALYZE {WD_TABLE}")
    else:
        cur.execute(f"CREATE TEMP TABLE {WD_TABLE} (day text PRIMARY KEY, cum integer, cum_prev integer)")
        cur.executemany(f"INSERT INTO {WD_TABLE} VALUES (%s, %s, %s)",
                        [(x.isoformat(), c, p) for x, c, p in zip(days, cum, prev, strict=True)])


COLUMNS = ("organ_id", "region_code", "day", *FIGURES)


def _parts_sql(d: Dialect) -> str:
    """One SELECT per source, each yielding (organ, region, day, figures…), unioned.

    Placeholders, in order: received [t0, t1); decided [t0, t1); late [t0, t1) and ≤ now;
    alerts [t0, t1); early completions [t0, t1).
    """
    case, clock = Case._meta.db_table, Clock._meta.db_table
    alert, early = Alert._meta.db_table, EarlyCompletion._meta.db_table
    ld = d.local_date

    def row(**values) -> str:
        return ", ".join(str(values.get(f, 0)) + f" AS {f}" for f in FIGURES)

    timed = ("(c.id IS NOT NULL AND c.unit <> 'hours' AND ws.cum IS NOT NULL AND we.cum IS NOT NULL "
             "AND wdue.cum_prev IS NOT NULL)")
    # Working days the clock allowed, counted like its deadline: (start day, last day].
    allowed = "(wdue.cum_prev - ws.cum)"
    granted = 'c."limit" + c.extension_days'
    limit = f"(CASE WHEN c.unit = 'working' THEN {granted} ELSE {allowed} END)"
    # A working-day clock's deadline moved by exactly the working days it stood still.
    stood = d.greatest(f"{allowed} - ({granted})", "0")
    paused = f"(CASE WHEN c.unit = 'working' THEN {stood} ELSE 0 END)"
    used = d.greatest(f"we.cum - ws.cum - {paused}", "0")
    promise = ", ".join(f"'{k}'" for k in PROMISE_KINDS)
    return f"""
      SELECT organ_id, region_code, {ld('received_at')} AS day, {row(received='COUNT(*)')}
        FROM {case} WHERE received_at >= %s AND received_at < %s
        GROUP BY organ_id, region_code, {ld('received_at')}
      UNION ALL
      SELECT k.organ_id, k.region_code, {ld('k.decided_at')} AS day, {row(
          decided='COUNT(*)',
          on_time='SUM(CASE WHEN c.due_at IS NOT NULL AND k.decided_at <= c.due_at THEN 1 ELSE 0 END)',
          timed=f'SUM(CASE WHEN {timed} THEN 1 ELSE 0 END)',
          used_days=f'SUM(CASE WHEN {timed} THEN {used} ELSE 0 END)',
          limit_days=f'SUM(CASE WHEN {timed} THEN {limit} ELSE 0 END)')}
        FROM {case} k
        LEFT JOIN {clock} c ON c.id = k.promise_clock_id
        LEFT JOIN {WD_TABLE} ws ON ws.day = {ld('c.start_at')}
        LEFT JOIN {WD_TABLE} we ON we.day = {ld('k.decided_at')}
        LEFT JOIN {WD_TABLE} wdue ON wdue.day = {ld('c.due_at')}
        WHERE k.decided_at >= %s AND k.decided_at < %s
        GROUP BY k.organ_id, k.region_code, {ld('k.decided_at')}
      UNION ALL
      SELECT organ_id, region_code, {ld('due_at')} AS day, {row(late='COUNT(*)')}
        FROM {clock}
        WHERE kind IN ({promise}) AND organ_id IS NOT NULL AND due_at >= %s AND due_at < %s AND due_at <= %s
          AND NOT (state = 'stopped' AND stopped_at IS NOT NULL AND stopped_at <= due_at)
        GROUP BY organ_id, region_code, {ld('due_at')}
      UNION ALL
      SELECT organ_id, region_code, {ld('raised_at')} AS day, {row(
          warnings="SUM(CASE WHEN level = 'warning' THEN 1 ELSE 0 END)",
          yellows="SUM(CASE WHEN level = 'yellow' THEN 1 ELSE 0 END)",
          reds="SUM(CASE WHEN level = 'red' THEN 1 ELSE 0 END)")}
        FROM {alert} WHERE raised_at >= %s AND raised_at < %s
        GROUP BY organ_id, region_code, {ld('raised_at')}
      UNION ALL
      SELECT organ_id, region_code, {ld('at')} AS day, {row(early='COUNT(*)', early_days='SUM(working_days_saved)')}
        FROM {early} WHERE at >= %s AND at < %s
        GROUP BY organ_id, region_code, {ld('at')}
    """


def _refresh_days(cur, d: Dialect, first: date, end: date, now: datetime) -> int:
    """Recompute the day rows of [first, end); returns how many rows were written."""
    day_table = OrganDayStat._meta.db_table
    t0, t1 = d.moment(local_midnight(first)), d.moment(local_midnight(end))
    cur.execute(f"DELETE FROM {day_table} WHERE day >= %s AND day < %s", [d.day(first), d.day(end)])
    cols = ", ".join(COLUMNS)
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    cur.execute(
        f"INSERT INTO {day_table} ({cols}) SELECT organ_id, MAX(region_code), day, {sums} "
        f"FROM ({_parts_sql(d)}) parts GROUP BY organ_id, day",
        [t0, t1, t0, t1, t0, t1, d.moment(now), t0, t1, t0, t1],
    )
    return max(cur.rowcount, 0)


def _refresh_month(cur, d: Dialect, month: date) -> None:
    """The month's rows are the sums of its day rows."""
    day_table, month_table = OrganDayStat._meta.db_table, OrganMonthStat._meta.db_table
    cur.execute(f"DELETE FROM {month_table} WHERE month = %s", [d.day(month)])
    cols = ", ".join(f for f in COLUMNS if f != "day")
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    cur.execute(
        f"INSERT INTO {month_table} ({cols}, month) SELECT organ_id, MAX(region_code), {sums}, %s "
        f"FROM {day_table} WHERE day >= %s AND day < %s GROUP BY organ_id",
        [d.day(month), d.day(month), d.day(add_months(month, 1))],
    )


def earliest_day() -> date | None:
    """The first local day any source has data for (all three columns are indexed)."""
    firsts = [
        Case.objects.aggregate(x=Min("received_at"))["x"],
        Alert.objects.aggregate(x=Min("raised_at"))["x"],
        EarlyCompletion.objects.aggregate(x=Min("at"))["x"],
    ]
    firsts = [timezone.localtime(x, tz()).date() for x in firsts if x is not None]
    return max(min(firsts), FIRST_DAY) if firsts else None


def default_since(now: datetime) -> date | None:
    """Since the day before the last refresh began (None: never refreshed — rebuild all)."""
    run = last_run()
    if run is None:
        return None
    return timezone.localtime(run.started_at, tz()).date() - timedelta(days=1)


class Busy(RuntimeError):
    """Another refresh holds the lock."""


def refresh(since: date | None = None, *, full: bool = False, now: datetime | None = None,
            progress: Callable[[int, int, str], None] | None = None) -> RollupRun:
    """Recompute the roll-up rows from `since` (a local date) to now, a month at a time.

    1. Take the refresh lock (PostgreSQL advisory lock; SQLite serialises writers).
    2. Load the working-day calendar into a temporary table.
    3. For each month from `since` on, in its own transaction: delete and rebuild the
       day rows of the month from `since`, then rebuild the month's row per organ
       from its day rows. Readers see the old month or the new one, never a mix.
    `full` (or no earlier run and no `since`) wipes everything and starts from the
    earliest data.
    """
    now = now or timezone.now()
    today = timezone.localtime(now, tz()).date()
    started, t_start = timezone.now(), time.monotonic()
    if since is None and not full:
        since = default_since(now)
    full = full or since is None
    if full:
        since = earliest_day() or today
    since = min(since, today)
    d = Dialect()
    chunks, m = [], month_start(since)
    while m <= today:
        chunks.append((max(since, m), add_months(m, 1), m))
        m = add_months(m, 1)
    rows = 0
    with connection.cursor() as cur:
        if d.postgres:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            if not cur.fetchone()[0]:
                raise Busy("another statistics refresh is running")
        try:
            _workday_table(cur, d)
            if full:
                with transaction.atomic():
                    OrganDayStat.objects.filter(day__lt=since).delete()
                    OrganMonthStat.objects.filter(month__lt=month_start(since)).delete()
            for i, (first, end, month) in enumerate(chunks, start=1):
                with transaction.atomic():
                    if d.postgres:
                        cur.execute("SET LOCAL work_mem = '256MB'")
                    rows += _refresh_days(cur, d, first, end, now)
                    _refresh_month(cur, d, month)
                if progress:
                    progress(i, len(chunks), f"{month:%Y-%m}")
            cur.execute(f"DROP TABLE IF EXISTS {WD_TABLE}")
        finally:
            if d.postgres:
                cur.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return RollupRun.objects.create(started_at=started, finished_at=timezone.now(), since=None if full else since,
                                    rows=rows, seconds=time.monotonic() - t_start)


# --- the oracle / baseline: the same figures straight from the source tables ---------------
def direct(prefix: str | None, first: date, end: date, *, now: datetime | None = None, organ=None,
           timing: bool = True) -> Figures:
    """Figures of [first, end) (local dates) under `prefix`, computed from cases, clocks and
    alerts without the roll-up rows. Handling time is computed in Python on the calendar
    (`timing=False` skips it: the benchmark's baseline counts only)."""
    now = now or timezone.now()
    t0, t1 = local_midnight(first), local_midnight(end)

    def scope(qs):
        qs = qs.filter(region_code__under=prefix) if prefix else qs
        return qs.filter(organ=organ) if organ is not None else qs

    f = Figures()
    f.received = scope(Case.objects.filter(received_at__gte=t0, received_at__lt=t1)).count()
    decided = scope(Case.objects.filter(decided_at__gte=t0, decided_at__lt=t1))
    agg = decided.aggregate(n=Count("pk"), on_time=Count("pk", filter=Q(decided_at__lte=F("promise_clock__due_at"))))
    f.decided, f.on_time = agg["n"], agg["on_time"]
    f.late = scope(Clock.objects.filter(kind__in=PROMISE_KINDS, organ__isnull=False, due_at__gte=t0, due_at__lt=t1,
                                        due_at__lte=now)).exclude(
        state=Clock.State.STOPPED, stopped_at__isnull=False, stopped_at__lte=F("due_at")).count()
    levels = dict(scope(Alert.objects.filter(raised_at__gte=t0, raised_at__lt=t1)).values_list("level")
                  .annotate(n=Count("pk")).order_by())
    f.warnings, f.yellows, f.reds = (levels.get(x, 0) for x in (Level.WARNING, Level.YELLOW, Level.RED))
    early = scope(EarlyCompletion.objects.filter(at__gte=t0, at__lt=t1)).aggregate(n=Count("pk"), d=Sum("working_days_saved"))
    f.early, f.early_days = early["n"], early["d"] or 0
    f.open_overdue = scope(Clock.objects.filter(kind__in=PROMISE_KINDS, due_at__lt=now)).exclude(
        state=Clock.State.STOPPED).count()
    f.open_orders = scope(SupervisionOrder.objects.filter(status__in=OPEN_ORDER)).count()
    if timing:
        cal = calendar_engine.current()

        def ld(x):
            return timezone.localtime(x, tz()).date()

        for decided_at, start, due, unit, lim, ext in decided.filter(promise_clock__isnull=False).values_list(
                "decided_at", "promise_clock__start_at", "promise_clock__due_at", "promise_clock__unit",
                "promise_clock__limit", "promise_clock__extension_days"):
            if due is None or unit == "hours":
                continue
            s = ld(start)
            allowed = cal.working_days_between(s, ld(due) - timedelta(days=1))
            paused = max(allowed - lim - ext, 0) if unit == "working" else 0
            f.timed += 1
            f.used_days += max(cal.working_days_between(s, ld(decided_at)) - paused, 0)
            f.limit_days += lim + ext if unit == "working" else allowed
    return f
