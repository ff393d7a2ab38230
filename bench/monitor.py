"""Benchmark: one monitoring pass over 100,000 and over 1,000,000 open clocks, the same 10,000 due.

    DATABASE_URL=postgres://… python -m bench.monitor [--small] [--batch N] [--repeat R]

Issue 4: a pass costs what is due, not what is open. Both sizes run in this process,
in one run, on PostgreSQL:

1. a throwaway database is created from DATABASE_URL's server and migrated (dropped at
   the end; `--in-place` uses the configured database, as the tests do);
2. 100,000 open clocks are loaded with COPY — 10,000 of them past their warning moment
   (`next_check_at <= now`, deadline still ahead), the rest not due for days — spread
   over 20 organs, each with a handler who gets the alert digest;
3. one pass (`xiaoneng.clocks.monitor.run_pass`) is timed, with the supervision
   listeners (10,000 near-deadline warnings raised, an audit entry per batch, one digest
   per organ queued for the background sender) and, after resetting the same 10,000
   clocks, without them;
4. 900,000 more open, not-due clocks are loaded (1,000,000 open in all) and the same
   two passes are timed over the same 10,000 due clocks.

Each timing is the best of `--repeat` passes (the due clocks, their events and alerts
are reset before each). Printed: absolute times, per-due-clock cost and the ratio
1,000,000 / 100,000. Goal: ratio ≤ 1.5 and the 1,000,000-clock pass under 1 s.
`--small` (10,000 / 100,000 open, 1,000 due) is what the test suite runs.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta

SIZES = {False: (100_000, 1_000_000, 10_000), True: (10_000, 100_000, 1_000)}
ORGANS = 20


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def build_world():
    """A city with ORGANS county bureaus, each with a handler who receives alert digests."""
    from xiaoneng.lib.codes import make_credit_code
    from xiaoneng.orgs.models import Grant, Organ, OrganKind, Region, Role, User

    province = Region.objects.create(code="460000000000", name="海南省（基准）", level=1)
    city = Region.objects.create(code="460100000000", name="海口市（基准）", level=2, parent=province)
    organs = []
    for i in range(ORGANS):
        county = Region.objects.create(code=f"4601{i + 5:02d}000000", name=f"基准{i}区", level=3, parent=city)
        organ = Organ.objects.create(credit_code=make_credit_code("1", "1", county.code[:6], f"{7000 + i:08d}"),
                                     name=f"基准{i}区行政审批局", kind=OrganKind.GOVERNMENT, region=county)
        user = User.objects.create(username=f"bench-handler-{i}", email=f"handler{i}@bench.invalid")
        Grant.objects.create(user=user, role=Role.HANDLER, organ=organ)
        organs.append(organ)
    return organs


def copy_clocks(organs, count: int, due: int, now: datetime, first_id: int) -> list[int]:
    """COPY `count` running clocks (ids from `first_id`); the first `due` are past their warning.

    Returns the ids of the due ones. The others warn 1–20 days from now.
    """
    from django.db import connection

    from xiaoneng.clocks.models import Clock

    def ts(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S+00")

    now_utc = now.astimezone(UTC)
    cols = ("id", "kind", "label", "organ_id", "region_code", "start_at", "limit", "unit", "legal_basis", "state",
            "warn_at", "due_at", "extension_days", "provisional", "next_check_at", "created_at", "start_reason")
    buf = io.StringIO()
    created = ts(now_utc)
    due_ids = []
    for k in range(count):
        cid = first_id + k
        organ = organs[k % len(organs)]
        if k < due:
            start, warn, deadline = now_utc - timedelta(days=9), now_utc - timedelta(hours=1 + k % 5), now_utc + timedelta(days=2)
            due_ids.append(cid)
        else:
            warn = now_utc + timedelta(days=1 + k % 20, minutes=k % 600)
            start, deadline = warn - timedelta(days=9), warn + timedelta(days=2)
        buf.write(f"{cid}\tcase.promise\t基准办件{cid} 承诺时限\t{organ.pk}\t{organ.region_code}\t{ts(start)}\t10\tworking\t"
                  f"\trunning\t{ts(warn)}\t{ts(deadline)}\t0\tf\t{ts(warn)}\t{created}\t\n")
    table = Clock._meta.db_table
    with connection.cursor() as cur:
        quoted = ", ".join(f'"{c}"' for c in cols)
        with cur.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            copy.write(buf.getvalue().encode())
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first_id + count])
        cur.execute(f'ANALYZE "{table}"')
    return due_ids


def reset(due_ids: list[int]) -> None:
    """Put the due clocks back as they were before any pass; forget what passes recorded."""
    from django.db import connection

    from xiaoneng.clocks.models import Clock, ClockEvent
    from xiaoneng.notify.models import Message
    from xiaoneng.supervision.models import Alert, AlertStep

    ClockEvent.objects.all().delete()
    AlertStep.objects.all().delete()
    Alert.objects.all().delete()
    Message.objects.all().delete()
    with connection.cursor() as cur:
        cur.execute(f'UPDATE "{Clock._meta.db_table}" SET warned_at = NULL, overdue_at = NULL, claim = NULL, '
                    "next_check_at = warn_at WHERE id = ANY(%s)", [due_ids])
        if connection.get_autocommit():  # not inside the tests' transaction: start each pass from clean pages
            cur.execute(f'VACUUM ANALYZE "{Clock._meta.db_table}"')


def timed_pass(now: datetime, batch: int | None, listeners: bool, due_ids: list[int], repeat: int) -> tuple[float, object]:
    from xiaoneng.clocks import monitor

    best, result = float("inf"), None
    saved = list(monitor._listeners)
    try:
        if not listeners:
            monitor._listeners.clear()
        for _ in range(repeat):
            reset(due_ids)
            t0 = time.perf_counter()
            result = monitor.run_pass(now, batch_size=batch, worker="bench")
            best = min(best, time.perf_counter() - t0)
            if result.warned != len(due_ids) or result.claimed != len(due_ids):
                raise AssertionError(f"pass found {result.claimed} due / {result.warned} warned, expected {len(due_ids)}")
    finally:
        monitor._listeners[:] = saved
    return best, result


def run(args) -> int:
    from django.utils import timezone

    from xiaoneng.conf import rule
    from xiaoneng.supervision.models import Alert

    small, large, due = SIZES[args.small]
    batch = args.batch or int(rule("monitor_batch_size"))
    # The digests a pass queues stay pending for the background sender (`notify send`): not timed here.
    now = timezone.now()
    organs = build_world()
    results = {}
    t0 = time.perf_counter()
    due_ids = copy_clocks(organs, small, due, now, first_id=10_000_000)
    load_small = time.perf_counter() - t0
    results[small] = {mode: timed_pass(now, batch, mode, due_ids, args.repeat) for mode in (False, True)}
    t0 = time.perf_counter()
    copy_clocks(organs, large - small, 0, now, first_id=10_000_000 + small)
    load_large = time.perf_counter() - t0
    results[large] = {mode: timed_pass(now, batch, mode, due_ids, args.repeat) for mode in (False, True)}
    alerts = Alert.objects.filter(rule="near_deadline").count()  # from the last pass, with listeners

    print(f"monitoring pass, PostgreSQL, batch {batch}, best of {args.repeat}; {due:,} clocks due (warnings) in each run")
    print(f"load: {small:,} clocks in {load_small:.1f}s, {large - small:,} more in {load_large:.1f}s (COPY)")
    for label, mode in (("with supervision listeners", True), ("clocks only (no listeners)", False)):
        a, b = results[small][mode][0], results[large][mode][0]
        print(f"{label}:")
        print(f"  {small:>9,} open: {a * 1e3:8.1f} ms  ({a / due * 1e6:6.1f} µs per due clock)")
        print(f"  {large:>9,} open: {b * 1e3:8.1f} ms  ({b / due * 1e6:6.1f} µs per due clock)")
        print(f"  ratio {large:,}/{small:,}: {b / a:.2f} (goal <= 1.5); {large:,}-clock pass "
              f"{'under' if b < 1 else 'over'} 1 s")
    print(f"check: {alerts:,} near-deadline warnings raised for {due:,} due clocks")
    return 0 if alerts == due else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="10,000 and 100,000 open clocks, 1,000 due (tests)")
    parser.add_argument("--batch", type=int, default=None, help="clocks claimed per batch (default: monitor_batch_size)")
    parser.add_argument("--repeat", type=int, default=2, help="passes per measurement; the best counts")
    parser.add_argument("--in-place", action="store_true", help="use the configured database as it is (tests)")
    args = parser.parse_args(argv)
    _django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench.monitor needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    if args.in_place:
        return run(args)
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"xiaoneng_bench_monitor_{os.getpid()}"
    creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return run(args)
    finally:
        creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
