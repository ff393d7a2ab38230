"""Benchmark: a province-wide appraisal scheme computed over a year of seeded data vs the raw SQL
aggregates the scheme needs.

    DATABASE_URL=postgres://… python -m bench.appraisal [--cases 10000000] [--organs 2000] [--in-place]

In one run, on a throwaway database (created from DATABASE_URL's server, migrated, dropped at the
end; `--in-place` uses the configured database as it is, for the tests):

1. seeds a province of `--organs` organs and a year (2025) of their records, `--cases` cases in
   all: cases with their promise clocks (most decided, some late, some still open past the
   deadline), and in proportion yellow/red cards (1 per 50 cases), supervision orders with their
   clocks (1 per 200), 好差评 ratings (1 per 10; bad named ones with rectification clocks),
   complaints with handling clocks (1 per 500) — PostgreSQL COPY (plain inserts on SQLite, for
   the smoke test). Accountability cases and manual values are not seeded: their indicators run
   their queries over empty tables;
2. one class of every organ and a scheme using every source (all eleven indicators), its period
   closed; then `do_compute_period` is timed: every indicator's GROUP BY queries, scoring, the
   weighted tree, 加减分, ranks, and writing one result per organ and one line per organ and leaf
   with its formula and lineage — the whole action, in its transaction;
3. the baseline, in the same run: the raw SQL aggregates the scheme needs, hand-written, one
   GROUP BY organ query per figure over the same tables and window (cases received, on-time
   promise clocks, handling time on the working-day calendar, cards, orders, ratings,
   rectification, complaints, complaints on time, accountability), fetched to the end by this
   process — what any implementation must at least ask the database.

Prints the absolute times and `ratio: N× the raw aggregates (…)`. Goal: at most 3× and under 60 s
at province scale (10,000,000 cases) on PostgreSQL.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2025
STAMP = datetime(YEAR + 1, 1, 2, tzinfo=SH)  # created_at of the seeded rows


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


TREE = [
    {"code": "1", "parent": "", "name": "办件效能", "weight": 50, "source": "", "method": "", "params": {}},
    {"code": "1.1", "parent": "1", "name": "准时办结率", "weight": 30, "source": "on_time", "method": "linear",
     "params": {"worst": 80, "best": 100}},
    {"code": "1.2", "parent": "1", "name": "办件用时占时限比", "weight": 20, "source": "handling_time",
     "method": "linear", "params": {"worst": 100, "best": 40}},
    {"code": "1.3", "parent": "1", "name": "每百件红黄牌", "weight": 20, "source": "cards", "method": "linear",
     "params": {"worst": 10, "best": 0}},
    {"code": "1.4", "parent": "1", "name": "督办按期办结率", "weight": 30, "source": "orders", "method": "ranking",
     "params": {}},
    {"code": "2", "parent": "", "name": "服务评价", "weight": 30, "source": "", "method": "", "params": {}},
    {"code": "2.1", "parent": "2", "name": "好评率", "weight": 40, "source": "satisfaction", "method": "attainment",
     "params": {"target": 95}},
    {"code": "2.2", "parent": "2", "name": "差评按期整改率", "weight": 20, "source": "rectification",
     "method": "linear", "params": {"worst": 60, "best": 100}},
    {"code": "2.3", "parent": "2", "name": "万件投诉量", "weight": 20, "source": "complaint_rate", "method": "ranking",
     "params": {"lower_is_better": True}},
    {"code": "2.4", "parent": "2", "name": "投诉按期办结率", "weight": 20, "source": "complaint_on_time",
     "method": "linear", "params": {"worst": 80, "best": 100}},
    {"code": "3", "parent": "", "name": "作风建设", "weight": 20, "source": "", "method": "", "params": {}},
    {"code": "3.1", "parent": "3", "name": "投诉查实", "weight": 40, "source": "complaints", "method": "deduction",
     "params": {"per_event": 5, "floor": 60}},
    {"code": "3.2", "parent": "3", "name": "效能问责", "weight": 30, "source": "accountability",
     "method": "deduction", "params": {"per_event": 10}},
    {"code": "3.3", "parent": "3", "name": "年度目标", "weight": 30, "source": "manual", "method": "attainment",
     "params": {"target": 100}},
]


# --- the world and its records ---------------------------------------------------------------
def build_world(n_organs: int):
    """A province of `n_organs` county bureaus (20 a county) and one matter for their cases."""
    from xiaoneng.approvals.catalogue import Rules, do_create_matter
    from xiaoneng.lib.codes import make_credit_code
    from xiaoneng.orgs.models import Organ, OrganKind, Region

    province, _ = Region.objects.get_or_create(code="530000000000", defaults={"name": "云南省（基准）", "level": 1})
    city, _ = Region.objects.get_or_create(code="530100000000", defaults={"name": "基准市", "level": 2,
                                                                        "parent": province})
    organs = []
    per_county = -(-n_organs // 90)  # at most 90 counties under the city
    for i in range(n_organs):
        county_code = f"5301{i // per_county + 1:02d}000000"
        county, _ = Region.objects.get_or_create(code=county_code, defaults={
            "name": f"基准县{county_code[4:6]}", "level": 3, "parent": city})
        code = make_credit_code("1", "1", county.code[:6], f"{7700000 + i:08d}")
        organ, _ = Organ.objects.get_or_create(credit_code=code, defaults={
            "name": f"基准第{i + 1}局", "kind": OrganKind.GOVERNMENT, "region": county})
        organs.append(organ)
    matter = do_create_matter(code=f"BENCH-APPRAISAL-{os.getpid()}", name="基准审批事项", kind="licence",
                              organ=organs[0], rules=Rules(legal_basis="《行政许可法》", legal_limit=20, promised_limit=10,
                                                           effective_from=datetime(YEAR - 1, 1, 1, tzinfo=SH)))
    return province, organs, matter.versions.get()


class Writer:
    """Rows into a table: COPY on PostgreSQL, executemany elsewhere. Columns not given take their
    NULL, their default, or the empty value of their type."""

    def __init__(self, model, fields: list[str]):
        from django.db import connection

        self.connection, self.model = connection, model
        self.fields = fields
        given = set(fields)
        self.extra, self.fill = [], []
        for f in model._meta.concrete_fields:
            if f.primary_key and f.attname not in given or f.attname in given:
                continue
            self.extra.append(f.attname)
            kind = f.get_internal_type()
            if f.null:
                self.fill.append(lambda: None)
            elif kind == "JSONField":
                self.fill.append(lambda: "{}")  # COPY's text format and SQLite both take the JSON text
            elif f.has_default():
                value = f.get_default()
                self.fill.append(f.get_default if callable(f.default) else (lambda v=value: v))
            elif kind == "DateTimeField":
                self.fill.append(lambda: STAMP)
            else:
                empty = {"BooleanField": False, "IntegerField": 0, "PositiveIntegerField": 0,
                         "PositiveSmallIntegerField": 0, "BigIntegerField": 0, "SmallIntegerField": 0}.get(kind, "")
                self.fill.append(lambda v=empty: v)
        self.columns = [*fields, *self.extra]

    def write(self, rows) -> int:
        conn, table = self.connection, self.model._meta.db_table
        names = ", ".join(conn.ops.quote_name(c) for c in self.columns)
        n = 0
        if conn.vendor == "postgresql":
            with conn.cursor() as cur, cur.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, *(f() for f in self.fill)))
                    n += 1
            return n
        marks = ", ".join(["%s"] * len(self.columns))
        batch = []
        with conn.cursor() as cur:
            for row in rows:
                batch.append((*row, *(conn.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v
                                      for v in (f() for f in self.fill))))
                n += 1
                if len(batch) >= 5000:
                    cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", _adapt(conn, batch))
                    batch = []
            if batch:
                cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", _adapt(conn, batch))
        return n


def _adapt(conn, batch):
    return [tuple(conn.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else
                  (str(v) if isinstance(v, uuid.UUID) else v) for v in row) for row in batch]


def _next_ids(model, n: int) -> int:
    """Reserve `n` ids of `model` (explicit ids, then the sequence moved past them)."""
    from django.db import connection
    from django.db.models import Max

    first = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            table = model._meta.db_table
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + n])
    return first


def seed(organs, version, n_cases: int, rng_seed: int = 2025) -> dict[str, int]:
    """A year of records; returns how many rows of each kind."""
    from xiaoneng.approvals.models import Case
    from xiaoneng.calendar import engine as calendar_engine
    from xiaoneng.clocks.models import Clock
    from xiaoneng.complaints.models import Category, Complaint, Rating
    from xiaoneng.lib.workdays import day_index, index_day
    from xiaoneng.supervision.models import Alert, SupervisionOrder

    rng = random.Random(rng_seed)
    cal = calendar_engine.current()
    first_idx = day_index(date(YEAR, 1, 1))

    def midnight(idx: int) -> datetime:
        d = index_day(idx)
        return datetime(d.year, d.month, d.day, tzinfo=SH)

    def due(start_idx: int, limit: int, unit: str = "working") -> datetime:
        if unit == "working":
            end = cal.add_working_days(index_day(start_idx), limit)
        else:
            end = index_day(start_idx) + timedelta(days=limit)
        return datetime(end.year, end.month, end.day, tzinfo=SH) + timedelta(days=1)

    n_orders, n_alerts = max(n_cases // 200, 1), max(n_cases // 50, 1)
    n_ratings, n_complaints = max(n_cases // 10, 1), max(n_cases // 500, 1)
    n_bad = n_ratings // 10
    clock_ids = _next_ids(Clock, n_cases + n_orders + n_bad + n_complaints)
    clocks_w = Writer(Clock, ["id", "kind", "label", "organ_id", "region_code", "start_at", "limit", "unit", "state",
                              "stopped_at", "due_at"])
    due_cache: dict[tuple, datetime] = {}

    def cached_due(start_idx, limit, unit="working"):
        key = (start_idx, limit, unit)
        if key not in due_cache:
            due_cache[key] = due(start_idx, limit, unit)
        return due_cache[key]

    plan = {"cases": [], "orders": [], "ratings": [], "complaints": []}

    def clock_rows():
        cid = clock_ids
        # Cases: accepted on a day of the year, most decided within the promise, some late, some open.
        for i in range(n_cases):
            organ = organs[i % len(organs)]
            day = first_idx + rng.randrange(0, 365)
            start = midnight(day) + timedelta(hours=9, minutes=rng.randrange(0, 480))
            deadline = cached_due(day, 10)
            r = rng.random()
            if r < 0.03 and day > first_idx + 320:
                stopped = None  # still open at the year's end (most of them already overdue)
            else:
                stopped = start + timedelta(days=rng.randrange(0, 14) if r < 0.9 else rng.randrange(14, 40),
                                            minutes=rng.randrange(0, 300))
            plan["cases"].append((cid, organ, start, stopped))
            yield (cid, "case.promise", "", organ.pk, organ.region_code, start, 10, "working",
                   "stopped" if stopped else "running", stopped, deadline)
            cid += 1
        for _i in range(n_orders):
            organ = organs[rng.randrange(len(organs))]
            day = first_idx + rng.randrange(0, 360)
            start = midnight(day) + timedelta(hours=10)
            closed = start + timedelta(days=rng.randrange(1, 12)) if rng.random() < 0.9 else None
            plan["orders"].append((cid, organ, start, closed))
            yield (cid, "supervision.order", "", organ.pk, organ.region_code, start, 5, "working",
                   "stopped" if closed else "running", closed, cached_due(day, 5))
            cid += 1
        for _i in range(n_bad):
            organ = organs[rng.randrange(len(organs))]
            day = first_idx + rng.randrange(0, 360)
            start = midnight(day) + timedelta(hours=11)
            rectified = start + timedelta(days=rng.randrange(1, 30)) if rng.random() < 0.85 else None
            plan["ratings"].append((cid, organ, start, rectified))
            yield (cid, "rating.rectification", "", organ.pk, organ.region_code, start, 15, "working",
                   "stopped" if rectified else "running", rectified, cached_due(day, 15))
            cid += 1
        for _i in range(n_complaints):
            organ = organs[rng.randrange(len(organs))]
            day = first_idx + rng.randrange(0, 355)
            start = midnight(day) + timedelta(hours=14)
            handled = start + timedelta(days=rng.randrange(1, 40)) if rng.random() < 0.9 else None
            plan["complaints"].append((cid, organ, start, handled))
            yield (cid, "complaint.handling", "", organ.pk, organ.region_code, start, 30, "calendar",
                   "stopped" if handled else "running", handled, cached_due(day, 30, "calendar"))
            cid += 1

    counts = {"clocks": clocks_w.write(clock_rows())}
    tag = f"{os.getpid()}"
    cases_w = Writer(Case, ["case_no", "matter_version_id", "organ_id", "region_code", "status", "received_at",
                            "accepted_at", "decided_at", "outcome", "promise_clock_id", "applicant_name",
                            "verify_hash"])
    counts["cases"] = cases_w.write(
        (f"BA{tag}-{n}", version.pk, organ.pk, organ.region_code, "decided" if stopped else "accepted", start, start,
         stopped, "granted" if stopped else "", cid, "基准申请人", "")
        for n, (cid, organ, start, stopped) in enumerate(plan["cases"]))
    orders_w = Writer(SupervisionOrder, ["number", "source", "organ_id", "region_code", "issuer_region_code", "title",
                                         "demand", "status", "clock_id", "opened_at", "closed_at"])
    counts["orders"] = orders_w.write(
        (f"DB{tag}-{n}", "inspection", organ.pk, organ.region_code, organ.region_code, "基准督办", "限期整改",
         "closed" if closed else "open", cid, start, closed)
        for n, (cid, organ, start, closed) in enumerate(plan["orders"]))
    alerts_w = Writer(Alert, ["rule", "level", "organ_id", "region_code", "message", "raised_at", "dedup_key"])

    def alert_rows():
        for n in range(n_alerts):
            organ = organs[rng.randrange(len(organs))]
            yield ("bench", ("yellow", "yellow", "red", "warning")[n % 4], organ.pk, organ.region_code, "基准预警",
                   midnight(first_idx + rng.randrange(0, 365)) + timedelta(hours=8), f"bench-{tag}-{n}")

    counts["alerts"] = alerts_w.write(alert_rows())
    ratings_w = Writer(Rating, ["kind", "organ_id", "region_code", "window", "level", "rated_at", "named", "status",
                                "rectification_clock_id", "rectified_at"])

    def rating_rows():
        for cid, organ, start, rectified in plan["ratings"]:
            yield ("offline", organ.pk, organ.region_code, "1号窗口", rng.choice((1, 2)), start, True,
                   "rectified" if rectified else "rectifying", cid, rectified)
        for _n in range(n_ratings - n_bad):
            organ = organs[rng.randrange(len(organs))]
            yield ("offline", organ.pk, organ.region_code, "1号窗口", rng.choice((5, 5, 5, 4, 4, 3, 1)),
                   midnight(first_idx + rng.randrange(0, 365)) + timedelta(hours=10), False, "done", None, None)

    counts["ratings"] = ratings_w.write(rating_rows())
    category, _ = Category.objects.get_or_create(code="bench", defaults={"name": "基准类别"})
    complaints_w = Writer(Complaint, ["number", "token", "channel", "category_id", "title", "content", "region_id",
                                      "region_code", "organ_id", "status", "received_at", "accepted_at", "routed_at",
                                      "handled_at", "result", "handling_clock_id", "secret_hash"])
    regions = {}

    def complaint_rows():
        for n, (cid, organ, start, handled) in enumerate(plan["complaints"]):
            region_id = regions.setdefault(organ.pk, organ.region_id)
            yield (f"TS{tag}-{n}", uuid.uuid4(), "web", category.pk, "基准投诉", "基准投诉内容", region_id,
                   organ.region_code, organ.pk, "handled" if handled else "routed", start, start, start, handled,
                   rng.choice(("founded", "partly", "unfounded", "unfounded")) if handled else "", cid, "")

    counts["complaints"] = complaints_w.write(complaint_rows())
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for model in (Clock, Case, SupervisionOrder, Alert, Rating, Complaint):
                cur.execute(f"ANALYZE {model._meta.db_table}")
    return counts


# --- the baseline: hand-written aggregates ------------------------------------------------------
def raw_aggregates(first: date, last: date) -> tuple[float, int]:
    """Every figure the scheme needs, one GROUP BY organ query each; (seconds, rows fetched)."""
    from django.db import connection

    from xiaoneng.appraisal.indicators import bounds
    from xiaoneng.calendar import engine as calendar_engine
    from xiaoneng.lib.workdays import day_index
    from xiaoneng.supervision.stats import WD_TABLE, Dialect, _workday_table

    d = Dialect()
    t0, t1 = (d.moment(x) for x in bounds(first, last))
    ld = d.local_date
    end_cum = int(calendar_engine.current().cum[day_index(last)])
    queries = [
        ("SELECT organ_id, COUNT(*) FROM approvals_case WHERE received_at >= %s AND received_at < %s GROUP BY organ_id",
         [t0, t1]),
        ("SELECT organ_id, COUNT(*), SUM(CASE WHEN state = 'stopped' AND stopped_at <= due_at THEN 1 ELSE 0 END) "
         "FROM clocks_clock WHERE kind IN ('case.promise', 'case.subcase') AND organ_id IS NOT NULL "
         "AND due_at >= %s AND due_at < %s GROUP BY organ_id", [t0, t1]),
        # Handling time needs the working-day calendar: used days from the start day to the decision (or the
        # period's end), less the days a working-day clock stood still, over the limit.
        (f"""SELECT k.organ_id, COUNT(*), SUM(GREATEST_(CASE WHEN k.decided_at >= %s AND k.decided_at < %s
                     THEN we.cum ELSE {end_cum} END - ws.cum
                     - GREATEST_(wdue.cum_prev - ws.cum - c."limit" - c.extension_days, 0), 0) * 1.0
                     / (c."limit" + c.extension_days))
               FROM approvals_case k JOIN clocks_clock c ON c.id = k.promise_clock_id
               JOIN {WD_TABLE} ws ON ws.day = {ld('c.start_at')}
               JOIN {WD_TABLE} wdue ON wdue.day = {ld('c.due_at')}
               LEFT JOIN {WD_TABLE} we ON we.day = {ld('k.decided_at')}
              WHERE (k.decided_at >= %s AND k.decided_at < %s)
                 OR (k.decided_at IS NULL AND c.due_at < %s AND c.state <> 'stopped')
              GROUP BY k.organ_id""", [t0, t1, t0, t1, t1]),
        ("SELECT organ_id, COUNT(*) FROM supervision_alert WHERE level IN ('yellow', 'red') AND raised_at >= %s "
         "AND raised_at < %s GROUP BY organ_id", [t0, t1]),
        ("SELECT o.organ_id, COUNT(*), SUM(CASE WHEN o.status = 'closed' AND o.closed_at <= c.due_at THEN 1 ELSE 0 END) "
         "FROM supervision_supervisionorder o JOIN clocks_clock c ON c.id = o.clock_id "
         "WHERE c.due_at >= %s AND c.due_at < %s GROUP BY o.organ_id", [t0, t1]),
        ("SELECT organ_id, COUNT(*), SUM(CASE WHEN level >= 4 THEN 1 ELSE 0 END) FROM complaints_rating "
         "WHERE rated_at >= %s AND rated_at < %s AND status <> 'annulled' GROUP BY organ_id", [t0, t1]),
        ("SELECT r.organ_id, COUNT(*), SUM(CASE WHEN r.status = 'rectified' AND r.rectified_at <= c.due_at THEN 1 "
         "ELSE 0 END) FROM complaints_rating r JOIN clocks_clock c ON c.id = r.rectification_clock_id "
         "WHERE c.due_at >= %s AND c.due_at < %s AND r.status <> 'annulled' GROUP BY r.organ_id", [t0, t1]),
        ("SELECT organ_id, COUNT(*), SUM(CASE WHEN result IN ('founded', 'partly') THEN 1 ELSE 0 END) "
         "FROM complaints_complaint WHERE received_at >= %s AND received_at < %s "
         "AND status NOT IN ('merged', 'not_accepted') GROUP BY organ_id", [t0, t1]),
        ("SELECT p.organ_id, COUNT(*), SUM(CASE WHEN p.handled_at >= c.start_at AND p.handled_at <= c.due_at THEN 1 "
         "ELSE 0 END) FROM complaints_complaint p JOIN clocks_clock c ON c.id = p.handling_clock_id "
         "WHERE c.due_at >= %s AND c.due_at < %s AND p.status <> 'merged' GROUP BY p.organ_id", [t0, t1]),
        ("SELECT k.organ_id, COUNT(*) FROM accountability_party p JOIN accountability_case k ON k.id = p.case_id "
         "WHERE k.decided_at >= %s AND k.decided_at < %s AND p.measure <> '' GROUP BY k.organ_id", [t0, t1]),
    ]
    greatest = "GREATEST" if d.postgres else "MAX"
    rows = 0
    started = time.perf_counter()
    with connection.cursor() as cur:
        _workday_table(cur, d)
        for sql, params in queries:
            cur.execute(sql.replace("GREATEST_", greatest), params)
            rows += len(cur.fetchall())
        cur.execute(f"DROP TABLE IF EXISTS {WD_TABLE}")
    return time.perf_counter() - started, rows


# --- the run -------------------------------------------------------------------------------------
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--organs", type=int, default=2000)
    parser.add_argument("--in-place", action="store_true", help="use the configured database as it is (tests)")
    parser.add_argument("--profile", action="store_true", help="print where the computation spends its time")
    args = parser.parse_args(argv)
    _django()
    from django.db import connection

    if args.in_place or connection.vendor != "postgresql":
        return run(args)
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"xiaoneng_bench_{os.getpid()}"
    creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return run(args)
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


def run(args) -> int:
    from django.db import connection, transaction

    from xiaoneng.appraisal import actions
    from xiaoneng.appraisal.models import Result, ResultLine
    from xiaoneng.audit.log import acting_as

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    t = time.perf_counter()
    with acting_as(None, channel="command", label="bench.appraisal"):
        with transaction.atomic():
            province, organs, version = build_world(args.organs)
            counts = seed(organs, version, args.cases)
            cls = actions.do_create_class(name=f"全省基准类别{os.getpid()}", region=province, organs=organs)
            scheme = actions.do_create_scheme(organ_class=cls, year=YEAR, title="全省绩效考评基准方案",
                                              rows=[dict(r) for r in TREE])
            period = actions.do_activate_scheme(scheme)
            actions.do_close_period(period, at=datetime(YEAR + 1, 1, 5, 9, tzinfo=SH))
    print(f"seeded:   {len(organs):,} organs; " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
          + f" in {time.perf_counter() - t:.1f} s")
    with acting_as(None, channel="command", label="bench.appraisal"):
        profile = None
        if args.profile:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        t = time.perf_counter()
        actions.do_compute_period(period, at=datetime(YEAR + 1, 1, 6, 9, tzinfo=SH))
        compute_s = time.perf_counter() - t
        if profile is not None:
            import pstats

            profile.disable()
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(40)
    results = Result.objects.filter(period=period).count()
    lines = ResultLine.objects.filter(result__period=period).count()
    leaves = sum(1 for r in TREE if r["source"])
    print(f"compute:  {results:,} results, {lines:,} lines ({leaves} indicators) in {compute_s:.2f} s")
    raw_s, raw_rows = raw_aggregates(period.starts_on, period.ends_on)
    print(f"raw sql:  {raw_rows:,} aggregate rows (10 GROUP BY queries) in {raw_s:.2f} s")
    ok = results == len(organs) and lines == len(organs) * leaves
    if not ok:
        print("check:    results or lines missing", file=sys.stderr)
    print(f"ratio: {compute_s / raw_s:.2f}× the raw aggregates ({compute_s:.2f} s vs {raw_s:.2f} s, "
          f"{args.cases:,} cases, {len(organs):,} organs)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
