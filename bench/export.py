"""Benchmark: a 1,000,000-row list export through the background job vs a raw COPY TO of the same rows.

    DATABASE_URL=postgres://… python -m bench.export [--rows 1000000] [--in-place]

In one run, on a throwaway database (created from DATABASE_URL's server, migrated, dropped at
the end; `--in-place` uses the configured database as it is, for the tests):

1. seeds `--rows` clocks of a few organs with COPY FROM (seconds, not the ORM);
2. a province supervisor asks for the clock list's export (`do_request_export`, sorted by due
   date as the page is) and a real worker process (`xiaoneng exports run`) writes the .xlsx:
   the export's rows/s is rows / (finished_at − started_at) of the job, its peak memory the
   worker process's maxrss (getrusage of the child: Python, Django and the export together);
3. the baseline, in the same run: `COPY (the same scoped, sorted query's columns) TO STDOUT`,
   read to the end by this process (psycopg), its rows/s;
4. checks the file: its row count, and the first and last rows against the database.

Prints `ratio: N% of COPY TO; peak M MB`. Goal (issue 14): at least 25% of COPY and under 300 MB.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def build_world(organs: int = 8):
    from xiaoneng.lib.codes import make_credit_code
    from xiaoneng.orgs.models import Grant, Organ, OrganKind, Region, Role, User

    province, _ = Region.objects.get_or_create(code="460000000000", defaults={"name": "海南省（基准）", "level": 1})
    city, _ = Region.objects.get_or_create(code="460100000000", defaults={"name": "基准市", "level": 2,
                                                                        "parent": province})
    bureaus = []
    for i in range(organs):
        code = make_credit_code("1", "1", "460100", f"{8800 + i:08d}")
        organ, _ = Organ.objects.get_or_create(credit_code=code, defaults={
            "name": f"基准市第{i + 1}行政审批局", "kind": OrganKind.GOVERNMENT, "region": city})
        bureaus.append(organ)
    user, created = User.objects.get_or_create(username=f"bench-export-{os.getpid()}")
    if created:
        Grant.objects.create(user=user, role=Role.SUPERVISOR, region=province)
    return user, bureaus


def seed(bureaus, rows: int) -> float:
    """`rows` clocks through COPY FROM: a mix of running, paused and stopped, some overdue."""
    from django.db import connection

    t0 = time.perf_counter()
    base = datetime(2026, 1, 5, 9, tzinfo=SH)
    states = ("running", "running", "paused", "stopped")
    columns = ("kind", "label", "organ_id", "region_code", "start_at", "limit", "unit", "legal_basis", "start_reason",
               "state", "stopped_at", "warn_at", "due_at", "extension_days", "provisional", "created_at")
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cur, cur.cursor.copy(f"COPY clocks_clock ({names}) FROM STDIN") as copy:
        for i in range(rows):
            organ = bureaus[i % len(bureaus)]
            start = base + timedelta(minutes=i % 400_000)
            due = start + timedelta(days=20 + i % 11)
            state = states[i % 4]
            stopped = start + timedelta(days=15 + i % 20) if state == "stopped" else None
            copy.write_row((
                "case.legal" if i % 3 else "step", f"基准事项{i % 997}审批 第{i}号", organ.pk, organ.region_code,
                start, 20, "working" if i % 5 else "calendar", "《行政许可法》第四十二条", "", state, stopped,
                due - timedelta(days=3), due, i % 3 * 5, i % 50 == 0, start,
            ))
    with connection.cursor() as cur:
        cur.execute("ANALYZE clocks_clock")
    return time.perf_counter() - t0


def copy_side(job) -> tuple[int, float]:
    """COPY TO of the export's own rows (same scope, filters, sort; the same columns)."""
    from django.db import connection

    from xiaoneng.exports.actions import list_view, scoped_rows

    _form, queryset = scoped_rows(list_view(job.list_name, job.query, job.user))
    fields = ("label", "kind", "organ__name", "start_at", "limit", "unit", "extension_days", "warn_at", "due_at",
              "state", "stopped_at", "provisional")
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    statement = f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT"
    n = 0
    t0 = time.perf_counter()
    with connection.cursor() as cur, cur.cursor.copy(statement) as copy:
        for data in copy:
            n += bytes(data).count(b"\n")
    return n, time.perf_counter() - t0


def worker_side(env_url: str) -> tuple[int, float]:
    """Run `xiaoneng exports run` as a real process; (its exit code, its peak RSS in MB)."""
    env = {**os.environ, "DATABASE_URL": env_url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run([sys.executable, "-m", "xiaoneng", "exports", "run", "--limit", "1"], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        print(done.stdout, done.stderr, file=sys.stderr)
    peak_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return done.returncode, peak_kb / 1024


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--in-place", action="store_true", help="use the configured database as it is (tests)")
    args = parser.parse_args(argv)
    _django()
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench.export needs PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    if args.in_place:
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
    from openpyxl import load_workbook

    from xiaoneng.audit.log import acting_as
    from xiaoneng.clocks.models import Clock
    from xiaoneng.exports.actions import do_request_export, export_dir
    from xiaoneng.exports.models import Export

    with acting_as(None, channel="command", label="bench.export"):
        user, bureaus = build_world()
        seeded = seed(bureaus, args.rows)
        job = do_request_export(user, "clocks:index", "sort=due")
    print(f"seeded:   {args.rows:,} clocks by COPY FROM in {seeded:.1f} s")
    code, peak_mb = worker_side(database_url())
    job.refresh_from_db()
    if code or job.state != Export.State.DONE:
        print(f"export failed: exit {code}, state {job.state}, {job.error}", file=sys.stderr)
        return 1
    export_s = (job.finished_at - job.started_at).total_seconds()
    copied, copy_s = copy_side(job)
    export_rate, copy_rate = job.rows_done / export_s, copied / copy_s
    print(f"export:   {job.rows_done:,} rows in {export_s:.1f} s = {export_rate:,.0f} rows/s "
          f"({job.size / 1e6:.0f} MB .xlsx, worker peak RSS {peak_mb:.0f} MB)")
    print(f"copy to:  {copied:,} rows in {copy_s:.2f} s = {copy_rate:,.0f} rows/s")
    # The file is the list: as many rows, the first and last in the page's order. openpyxl reads the head
    # (reading a million rows back through it would take longer than the export); the rows are counted
    # and the last one read in the sheet's XML stream.
    path = export_dir() / job.file
    wb = load_workbook(path, read_only=True)
    head = list(wb.worksheets[0].iter_rows(min_row=1, max_row=2, values_only=True))
    wb.close()
    first = head[1] if len(head) > 1 else (None,)
    count, tail, carry = -1, b"", b""
    with zipfile.ZipFile(path) as z, z.open("xl/worksheets/sheet1.xml") as sheet:
        while block := sheet.read(1 << 20):
            count += (carry + block).count(b"<row>")
            carry, tail = block[-4:], (tail + block)[-8192:]
    last_row = tail[tail.rindex(b"<row>"):].decode()
    last = (html.unescape(re.search(r"<t[^>]*>(.*?)</t>", last_row).group(1)),)
    ordered = Clock.objects.filter(organ__in=bureaus).order_by("due_at", "pk")
    want_first, want_last = ordered.values_list("label", flat=True)[:1][0], ordered.reverse()[:1].values_list(
        "label", flat=True)[0]
    ok = count == job.rows_done == copied and first[0] == want_first and last[0] == want_last
    print(f"check:    {count:,} rows in the file; first and last rows {'match' if ok else 'DO NOT match'} the list")
    print(f"ratio: {export_rate / copy_rate:.0%} of COPY TO; peak {peak_mb:.0f} MB")
    path.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
