"""Benchmark: supervision dashboard requests at the `province` scale vs counting the cases directly.

    DATABASE_URL=postgres://…/<seeded db> python -m bench.dashboard [--repeat 5] [--refresh] [--period last_12]

Runs against a database already seeded at scale (`xiaoneng seed --scale province`: ten
million cases, with `xiaoneng runclocks --once` for alerts); it reads, and writes only
the roll-ups (`--refresh`, or when none exist yet). In one run:

1. the roll-ups: if none exist (or `--refresh`), a full `stats.refresh()` is timed;
2. for each supervisor persona (province, city, county — the demo users `gd_supervisor`,
   `gz_supervisor`, `tianhe_supervisor`), each dashboard page — the region page, the
   polled live part, the organs ranking, the busiest organ's page, the red/yellow
   board — is requested through Django's test client (URL routing, middleware, view,
   template; no network), once to warm up and then `--repeat` times: median and worst;
3. the baseline, in the same run: the same headline figures of the same region and
   period counted straight from cases, clocks and alerts (`stats.direct(timing=False)`
   — what a dashboard without pre-aggregation must do per request, and only its
   headline: the child-region and organ breakdowns would multiply it);
4. the query plan of the live "open and already overdue" count (the partial index).

Goal (issue 4): under 500 ms per dashboard request at 10 million cases.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

urlpatterns: list = []  # filled in `route()` when the project does not route the dashboard yet


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiaoneng.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def route() -> None:
    """Mount the dashboard at /dashboard/ for this process if the project has not yet."""
    from django.conf import settings
    from django.urls import NoReverseMatch, clear_url_caches, include, path, reverse

    try:
        reverse("dashboard:index")
        return
    except NoReverseMatch:
        pass
    import xiaoneng.urls

    urlpatterns[:] = [path("dashboard/", include("xiaoneng.supervision.dashboard_urls")), *xiaoneng.urls.urlpatterns]
    settings.ROOT_URLCONF = __name__
    clear_url_caches()


PERSONAS = (("gd_supervisor", "44"), ("gz_supervisor", "4401"), ("tianhe_supervisor", "440106"))


def persona(username: str, prefix: str):
    """The demo supervisor, or a stand-in with a supervisor grant on that region."""
    from xiaoneng.orgs.models import Grant, Region, Role, User

    user = User.objects.filter(username=username).first()
    if user is None:
        region = Region.objects.get(prefix=prefix)
        user = User.objects.create(username=f"bench-{username}")
        Grant.objects.create(user=user, role=Role.SUPERVISOR, region=region)
    return user


def timed(fn, repeat: int) -> tuple[float, float]:
    fn()  # warm-up (connection, caches, the calendar)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--refresh", action="store_true", help="rebuild the roll-ups first (timed)")
    parser.add_argument("--period", default="last_12", help="a dashboard period preset (default last_12)")
    args = parser.parse_args(argv)
    _django()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client

    from xiaoneng.approvals.models import Case
    from xiaoneng.orgs.models import Region
    from xiaoneng.supervision import stats
    from xiaoneng.supervision.stats_models import OrganMonthStat

    route()
    if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    cases = Case.objects.count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, {cases:,} cases")
    if args.refresh or stats.last_run() is None:
        t0 = time.perf_counter()
        run = stats.refresh(full=True, progress=lambda i, n, m: print(f"  refresh [{i}/{n}] {m}", flush=True))
        print(f"roll-ups rebuilt in {time.perf_counter() - t0:.1f}s: {run.rows:,} organ-day rows, "
              f"{OrganMonthStat.objects.count():,} organ-month rows")
    else:
        print(f"roll-ups: last refresh {stats.last_run().finished_at:%Y-%m-%d %H:%M}, "
              f"{OrganMonthStat.objects.count():,} organ-month rows")
    period = stats.preset(args.period, stats.timezone.localdate())
    print(f"period: {period.label}; each page: median and worst of {args.repeat} requests after a warm-up")

    worst_page = 0.0
    with transaction.atomic():  # stand-in users, if any, are rolled back
        for username, prefix in PERSONAS:
            user = persona(username, prefix)
            region = Region.objects.get(prefix=prefix)
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            q = period.query()
            busiest = (OrganMonthStat.objects.filter(region_code__under=prefix, month__gte=period.first)
                       .values("organ_id").annotate(n=stats.Sum("received")).order_by("-n").first())
            pages = [
                ("region page", f"/dashboard/region/{region.code}/?{q}"),
                ("live part", f"/dashboard/region/{region.code}/live/?{q}"),
                ("organs ranking", f"/dashboard/organs/?region={region.code}&{q}"),
                ("busiest organ", f"/dashboard/organ/{busiest['organ_id']}/?{q}" if busiest else None),
                ("red/yellow board", f"/dashboard/board/?region={region.code}"),
            ]
            print(f"{username} ({region.name}, prefix {prefix}):")

            def get(url, client=client):
                response = client.get(url)
                if response.status_code != 200:
                    raise AssertionError(f"{url}: {response.status_code}")

            page_median = 0.0
            for label, url in pages:
                if url is None:
                    continue
                median, worst = timed(lambda url=url: get(url), args.repeat)
                worst_page = max(worst_page, worst)
                if label == "region page":
                    page_median = median
                print(f"  {label:<17} {median * 1e3:8.1f} ms median, {worst * 1e3:8.1f} ms worst")
            base, base_worst = timed(lambda prefix=prefix: stats.direct(prefix, period.first, period.end, timing=False),
                                     max(1, args.repeat // 2))
            print(f"  baseline (direct headline count) {base * 1e3:8.1f} ms median, {base_worst * 1e3:8.1f} ms worst"
                  f" → the region page is {base / page_median:,.1f}x faster")
        transaction.set_rollback(True)

    from xiaoneng.clocks.models import Clock

    # The live counts' query (stats.open_counts) without the per-user scope: the province.
    qs = (Clock.objects.filter(kind__in=stats.PROMISE_KINDS, due_at__lt=stats.timezone.now())
          .exclude(state=Clock.State.STOPPED).filter(region_code__under="44")
          .values_list("organ_id", "region_code").annotate(n=stats.Count("*")).order_by())
    print("plan of the live open-overdue count by organ (province):")
    for line in qs.explain(analyze=True).splitlines():
        if "Scan" in line or "Execution" in line or "Heap Fetches" in line:
            print(f"  {line.strip()}")
    print(f"worst dashboard request: {worst_page * 1e3:.0f} ms (goal < 500 ms at 10 million cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
