"""Handling time against the limit (办件用时占时限比): the average share of its limit a case used.

The limit is the case's promise clock (承诺时限; the legal clock where a case has none), in working
days as the deadline counts them: a working-day clock allows its limit plus approved extensions, a
calendar-day clock the working days between its start and its deadline; hour clocks are left out.
Used = the working days from the clock's start day to the decision day (the start day not
counted, like the deadline), less the working days the clock stood still (pauses for
suspension, correction …), never below 0. Share = used ÷ limit; value = the average share × 100 —
over 100 means the case took longer than allowed. Lower is better.

Counted: every case decided in the period; and every case still undecided at the end of the period
whose deadline had already passed (逾期未办结), with the working days used up to the period's
last day — an open overdue case is never left out for not being finished. Open cases still
within their limit are not counted yet (they count in the period they are decided in).

One aggregate SQL query for the whole class, joining the working-day calendar (a temporary table of
cumulative working-day numbers, as the supervision roll-ups do) — no per-case loop.
"""
from __future__ import annotations

from decimal import Decimal

from django.db import connection

from xiaoneng.approvals.models import Case
from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks.models import Clock
from xiaoneng.lib.workdays import day_index
from xiaoneng.supervision.stats import WD_TABLE, Dialect, _workday_table

from . import Raw, bounds, num, query_of, window
from . import gettext_cached as _


def _sql(d: Dialect, organs: str) -> str:
    case, clock, ld = Case._meta.db_table, Clock._meta.db_table, d.local_date
    allowed = "(wdue.cum_prev - ws.cum)"
    granted = 'c."limit" + c.extension_days'
    limit = f"(CASE WHEN c.unit = 'working' THEN {granted} ELSE {allowed} END)"
    paused = f"(CASE WHEN c.unit = 'working' THEN {d.greatest(f'{allowed} - ({granted})', '0')} ELSE 0 END)"
    finished = "(k.decided_at >= %(t0)s AND k.decided_at < %(t1)s)"
    end_cum = f"(CASE WHEN {finished} THEN we.cum ELSE %(end_cum)s END)"
    used = d.greatest(f"{end_cum} - ws.cum - {paused}", "0")
    return f"""
      SELECT k.organ_id, k.id, {finished} AS finished, {used} AS used, {limit} AS lim
        FROM {case} k
        JOIN {clock} c ON c.id = COALESCE(k.promise_clock_id, k.legal_clock_id)
        JOIN {WD_TABLE} ws ON ws.day = {ld('c.start_at')}
        JOIN {WD_TABLE} wdue ON wdue.day = {ld('c.due_at')}
        LEFT JOIN {WD_TABLE} we ON we.day = {ld('k.decided_at')}
       WHERE {organs} AND c.unit <> 'hours' AND c.due_at IS NOT NULL
         AND ({finished}
              OR ((k.decided_at IS NULL OR k.decided_at >= %(t1)s) AND c.due_at < %(t1)s
                  AND NOT (c.state = 'stopped' AND c.stopped_at < %(t1)s)))
    """


def _run(organs_sql: str, params: dict, first, last, select: str, group: str = ""):
    d = Dialect()
    cal = calendar_engine.current()
    t0, t1 = bounds(first, last)
    params = {**params, "t0": d.moment(t0), "t1": d.moment(t1), "end_cum": int(cal.cum[day_index(last)])}
    with connection.cursor() as cur:
        _workday_table(cur, d)
        sql = f"SELECT {select} FROM ({_sql(d, organs_sql)}) x WHERE x.lim > 0 {group}"
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.execute(f"DROP TABLE IF EXISTS {WD_TABLE}")
    return rows


def compute(organ_ids, first, last, indicator=None, period=None) -> dict[int, Raw]:
    by = {}
    if organ_ids:
        if connection.vendor == "postgresql":  # one array parameter, not thousands of placeholders
            organs_sql, params = "k.organ_id = ANY(%(organs)s)", {"organs": list(organ_ids)}
        else:
            marks = ", ".join(f"%(o{i})s" for i in range(len(organ_ids)))
            organs_sql, params = f"k.organ_id IN ({marks})", {f"o{i}": oid for i, oid in enumerate(organ_ids)}
        rows = _run(organs_sql, params, first, last,
                    "x.organ_id, COUNT(*), SUM(CASE WHEN x.finished THEN 1 ELSE 0 END), "
                    "SUM(x.used * 1.0 / x.lim), SUM(x.used), SUM(x.lim)", "GROUP BY x.organ_id")
        by = {r[0]: r[1:] for r in rows}
    out = {}
    for oid in organ_ids:
        n, done, shares, used, lim = by.get(oid, (0, 0, 0, 0, 0))
        if not n:
            value, words = None, _("用时占时限比：本期无办结或逾期未办结的办件")
        else:
            value = (Decimal(repr(float(shares))) * 100 / n).quantize(Decimal("0.0001"))
            words = _("平均用时占时限 %(v)s%%：%(n)s 件（本期办结 %(done)s 件，逾期未办结 %(open)s 件），"
                      "平均用时 %(used)s 个工作日，平均时限 %(lim)s 个工作日") % {
                "v": f"{value:.1f}", "n": num(n), "done": num(int(done)), "open": num(n - int(done)),
                "used": f"{Decimal(int(used)) / n:.1f}", "lim": f"{Decimal(int(lim)) / n:.1f}"}
        out[oid] = Raw(value, words, query_of(oid, first, last), None, n)
    return out


def records(query: dict, part: str = ""):
    """The cases counted (`part` "open": the open overdue ones only)."""
    from datetime import date

    first, last = date.fromisoformat(query["from"]), date.fromisoformat(query["to"])
    window(query)  # checks the dates
    rows = _run("k.organ_id = %(organ)s", {"organ": int(query["organ"])}, first, last, "x.id, x.finished")
    ids = [pk for pk, done in rows if not (part == "open" and done)]
    return Case.objects.filter(pk__in=ids).order_by("decided_at", "pk")
