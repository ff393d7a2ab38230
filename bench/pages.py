"""Benchmark: staff pages under 20 concurrent logged-in users vs a static file, on the production server setup.

    python -m bench.pages [--clients 20] [--requests 20] [--seconds 60] [--workers N] [--database NAME]

In one run, everything on 127.0.0.1 and stopping by itself:

1. a throw-away PostgreSQL database (next to the one `DATABASE_URL` names) is migrated and
   seeded with the demo data (`xiaoneng seed --scale demo`); `--database NAME` reuses an already
   seeded database instead (nothing is created or dropped);
2. static files are collected into a throw-away directory and gunicorn starts with the
   production configuration (`python:xiaoneng.gunicorn_conf`, `XIAONENG_DEBUG=0`, whitenoise)
   on a free loopback port, behind a pretend proxy (`X-Forwarded-Proto: https`);
3. `--clients` clients of several demo roles log in through the login form (CSRF token from the
   form, password `Demo@2026xn`) and each requests its role's staff pages in turn — home, list
   pages with filters, a detail page found on a list, the dashboard — `--requests` times (or until
   `--seconds` have passed): per-page p50/p95, and the mix's requests per second (the database is
   ANALYZEd first, as autovacuum would have done in production);
4. the same clients, logged in, fetch the stylesheet the pages link to (hashed name, whitenoise)
   through the same server for as long as the staff mix took: requests per second;
5. the line `ratio: N% of static` — the staff mix's requests/s as a share of the static file's.

Goal (issue 14, item 9): every list page under 150 ms for one request, the mix at least 15% of static.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import http.cookies
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HOST = "xiaoneng.example.gov.cn"
PASSWORD = "Demo@2026xn"
PRODUCTION = {
    "XIAONENG_DEBUG": "0",
    "XIAONENG_SECRET_KEY": "bench-pages-" + "k" * 40,
    "XIAONENG_ALLOWED_HOSTS": HOST,
    "XIAONENG_IDENTITY_KEYS": "q2Hq0N2f0Xq3b0fYk0mU8a3bKx5mQnqv0g6g0b1y2cE=",
    "XIAONENG_AUDIT_KEY": "bench-pages-audit-key-" + "a" * 40,
    "XIAONENG_LOG_LEVEL": "ERROR",
}

# Each role's pages: (label, path). "{detail:<list label>}" is the first record link found on that list.
ROLES: dict[str, list[tuple[str, str]]] = {
    "gz_supervisor": [
        ("home", "/"),
        ("cases", "/cases/"),
        ("cases ?risk=overdue", "/cases/?risk=overdue"),
        ("case detail", "{detail:/cases/}"),
        ("alerts", "/supervision/alerts/"),
        ("alerts ?open=on", "/supervision/alerts/?open=on"),
        ("orders", "/supervision/orders/"),
        ("complaints", "/complaints/"),
        ("clocks", "/clocks/"),
        ("dashboard", "/dashboard/"),
    ],
    "tianhe_supervisor": [
        ("home", "/"),
        ("cases ?status=accepted", "/cases/?status=accepted"),
        ("alerts", "/supervision/alerts/"),
        ("alert detail", "{detail:/supervision/alerts/}"),
        ("orders ?overdue=yes", "/supervision/orders/?overdue=yes"),
        ("dashboard", "/dashboard/"),
    ],
    "tianhe_handler": [
        ("home", "/"),
        ("cases", "/cases/"),
        ("cases ?risk=at_risk", "/cases/?risk=at_risk"),
        ("case detail", "{detail:/cases/}"),
        ("matters", "/cases/matters/"),
        ("clocks", "/clocks/"),
    ],
    "gz_complaint": [
        ("home", "/"),
        ("complaints", "/complaints/"),
        ("complaints ?deadline=near", "/complaints/?deadline=near"),
        ("complaint detail", "{detail:/complaints/}"),
        ("ratings", "/ratings/"),
    ],
    "tianhe_leader": [
        ("home", "/"),
        ("cases", "/cases/"),
        ("alerts", "/supervision/alerts/"),
        ("dashboard", "/dashboard/"),
    ],
    "gd_auditor": [
        ("home", "/"),
        ("audit", "/audit/"),
        ("organs", "/orgs/"),
        ("cases", "/cases/"),
    ],
}
DETAIL_LINK = {
    "/cases/": re.compile(r'href="(/cases/\d+/)"'),
    "/supervision/alerts/": re.compile(r'href="(/supervision/alerts/\d+/)"'),
    "/complaints/": re.compile(r'href="(/complaints/\d+/)"'),
}


class Client:
    """One browser: a cookie jar (secure cookies too: the proxy in front speaks HTTPS) over fresh connections."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, referer: str | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if referer:
            headers["Referer"] = f"https://{HOST}{referer}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = http.cookies.SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
            return response.status, response.headers, data
        finally:
            connection.close()

    def login(self, username: str) -> None:
        status, _, body = self.request("GET", "/login/")
        assert status == 200, f"login page: {status}"
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
        status, headers, body = self.request("POST", "/login/", form, referer="/login/")
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{username} could not log in: {status} {body[:300]!r}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def wait_for(port: int, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn stopped: " + server.stdout.read())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def xiaoneng(args: list[str], env: dict, timeout: float = 1800) -> None:
    done = subprocess.run([sys.executable, "-m", "xiaoneng", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"xiaoneng {' '.join(args)}: {done.stdout[-2000:]}{done.stderr[-2000:]}")


def psql_database(url: str, sql: str, maintenance: bool = True) -> None:
    """Run `sql` on the database of `url`, or (CREATE/DROP DATABASE) on its server's maintenance database."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres")) if maintenance else url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20, help="staff page requests per client (and static)")
    parser.add_argument("--seconds", type=float, default=60, help="stop each phase after this long at most")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: the production config's)")
    parser.add_argument("--database", default="", help="an already seeded database on the same server to reuse")
    parser.add_argument("--single", type=int, default=3, help="one-at-a-time requests per page first (p50 shown)")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench.pages measures PostgreSQL: set DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    parts = urllib.parse.urlsplit(url)
    name = args.database or f"bench_pages_{os.getpid()}"
    db_url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    var_dir = tempfile.mkdtemp(prefix="bench-pages-")
    port = free_port()
    env = {**os.environ, **PRODUCTION, "DATABASE_URL": db_url, "XIAONENG_VAR_DIR": var_dir,
           "XIAONENG_BIND": f"127.0.0.1:{port}", "XIAONENG_DB_CONN_MAX_AGE": "60"}
    if args.workers:
        env["XIAONENG_WEB_WORKERS"] = str(args.workers)
    env.pop("XIAONENG_CACHE_URL", None) if "XIAONENG_CACHE_URL" not in os.environ else None
    server = None
    created = False
    try:
        if not args.database:
            psql_database(url, f'CREATE DATABASE "{name}"')
            created = True
            t0 = time.perf_counter()
            xiaoneng(["migrate", "--no-input", "-v", "0"], env)
            xiaoneng(["seed", "--scale", "demo"], env)
            print(f"seeded the demo into {name} in {time.perf_counter() - t0:.0f}s")
        else:
            xiaoneng(["migrate", "--no-input", "-v", "0"], env)  # e.g. the cache table
        # Fresh statistics for the planner, as autovacuum keeps them in production: a freshly seeded database
        # (or a server with autovacuum off, as on the development machines) otherwise plans with empty-table
        # estimates, and a menu's EXISTS over 20,000 ratings took 430 ms instead of a few.
        psql_database(db_url, "ANALYZE", maintenance=False)
        xiaoneng(["collectstatic", "--no-input", "-v", "0"], env)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:xiaoneng.gunicorn_conf", "--access-logfile", "/dev/null",
             "xiaoneng.wsgi:application"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        wait_for(port, server)
        return run(args, port)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
        if created:
            psql_database(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import shutil

        shutil.rmtree(var_dir, ignore_errors=True)


def run(args, port: int) -> int:
    load = os.getloadavg()
    print(f"server: gunicorn on 127.0.0.1:{port}, {os.environ.get('XIAONENG_WEB_WORKERS') or args.workers or 'default'}"
          f" workers, {os.cpu_count()} cores; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    roles = list(ROLES)
    clients = [(roles[i % len(roles)], Client(port)) for i in range(args.clients)]
    with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(lambda rc: rc[1].login(rc[0]), clients))
    print(f"logged in {args.clients} clients: " + ", ".join(f"{r} ×{sum(1 for c in clients if c[0] == r)}"
                                                            for r in roles))

    # Resolve each role's pages (detail links are taken from the lists they appear on).
    pages: dict[str, list[tuple[str, str]]] = {}
    probe = {role: client for role, client in reversed(clients)}
    css = None
    for role, wanted in ROLES.items():
        resolved = []
        for label, path in wanted:
            if path.startswith("{detail:"):
                source = path[len("{detail:"):-1]
                status, _, body = probe[role].request("GET", source)
                found = DETAIL_LINK[source].search(body.decode())
                if not found:
                    print(f"  ({role}: no record on {source}, {label} skipped)")
                    continue
                path = found.group(1)
            status, _, body = probe[role].request("GET", path)
            if status != 200:  # e.g. a page this role does not have (yet): said, and left out of the mix
                print(f"  ({role}: {path} answers {status}, {label} skipped)")
                continue
            css = css or re.search(r'href="(/static/web/css/[^"]+\.css)"', body.decode())
            resolved.append((label, path))
        pages[role] = resolved
    if css is None:
        raise RuntimeError("no stylesheet link found on the pages")
    static_path = css.group(1)

    # One request at a time: what a single user sees (the 150 ms goal).
    single: dict[str, list[float]] = {}
    for role, resolved in pages.items():
        for label, path in resolved:
            for _ in range(args.single):
                t0 = time.perf_counter()
                status, _, _ = probe[role].request("GET", path)
                single.setdefault(label, []).append(time.perf_counter() - t0)
                assert status == 200, (role, path, status)
    if single:
        print(f"one request at a time (median of {args.single} per role and page):")
        for label in sorted(single, key=lambda k: -statistics.median(single[k])):
            print(f"  {label:<28} {statistics.median(single[label]) * 1e3:7.1f} ms")

    stop_at = [0.0]
    lock = threading.Lock()
    timings: dict[str, list[float]] = {}
    errors: list[str] = []

    def staff(index: int) -> int:
        role, client = clients[index]
        mine = pages[role]
        done = 0
        for i in range(args.requests):
            if time.monotonic() > stop_at[0]:
                break
            label, path = mine[(i + index) % len(mine)]
            t0 = time.perf_counter()
            status, _, _ = client.request("GET", path)
            elapsed = time.perf_counter() - t0
            with lock:
                timings.setdefault(label, []).append(elapsed)
                if status != 200:
                    errors.append(f"{role} {path}: {status}")
            done += 1
        return done

    def static(index: int) -> int:
        # As long as the staff mix took (at least 3 s, at most 50× as many requests): a burst of a few hundred
        # requests that ends in 0.3 s measures the start-up of the threads more than the server.
        _, client = clients[index]
        done = 0
        for _ in range(args.requests * 50):
            if time.monotonic() > stop_at[0]:
                break
            status, _, body = client.request("GET", static_path)
            if status != 200 or not body:
                with lock:
                    errors.append(f"{static_path}: {status}")
            done += 1
        return done

    def phase(work, seconds: float) -> tuple[int, float]:
        stop_at[0] = time.monotonic() + seconds
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            total = sum(pool.map(work, range(args.clients)))
        return total, time.perf_counter() - t0

    staff_n, staff_s = phase(staff, args.seconds)
    static_n, static_s = phase(static, min(args.seconds, max(3.0, staff_s)))
    print(f"{args.clients} clients at once, per page (p50 / p95 / requests):")
    for label in sorted(timings, key=lambda k: -percentile(timings[k], 0.95)):
        values = timings[label]
        print(f"  {label:<28} {percentile(values, 0.5) * 1e3:7.1f} ms {percentile(values, 0.95) * 1e3:8.1f} ms"
              f" {len(values):5d}")
    everything = [v for values in timings.values() for v in values]
    staff_rps, static_rps = staff_n / staff_s, static_n / static_s
    print(f"staff mix: {staff_n} requests in {staff_s:.1f}s = {staff_rps:.1f} requests/s "
          f"(p50 {percentile(everything, 0.5) * 1e3:.0f} ms, p95 {percentile(everything, 0.95) * 1e3:.0f} ms)")
    print(f"static:    {static_n} requests of {static_path} in {static_s:.1f}s = {static_rps:.1f} requests/s")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if errors:
        print(f"errors: {len(errors)}, e.g. {errors[:3]}")
    print(f"ratio: {100 * staff_rps / static_rps:.0f}% of static")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
