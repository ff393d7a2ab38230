"""Killed with SIGKILL at any moment, the background loops lose nothing and do nothing twice.

Each test starts the real command (`python -m xiaoneng runclocks …`, `python -m xiaoneng notify send …`) in a
subprocess against a database of its own that the subprocess can see (a file SQLite database; on PostgreSQL a
real database next to the test database), kills it with SIGKILL at random moments while it works, starts it
again, lets a last run finish, and then reads what was recorded. Whatever moment the kills hit, the outcome
checked is the same.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

KILLS = 4
RETRY = 1
ROOT = Path(__file__).resolve().parent.parent


class Db:
    """The subprocesses' database, read by the test with the database's own driver."""

    def __init__(self, url: str, drop=None):
        self.url, self._drop = url, drop

    def rows(self, sql: str) -> list[tuple]:
        if self.url.startswith("sqlite"):
            with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=20) as con:
                return con.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            return con.execute(sql).fetchall()

    def value(self, sql: str):
        return self.rows(sql)[0][0]


@pytest.fixture
def crash_db(transactional_db, tmp_path):
    """A migrated database of the tests' engine that a subprocess can open.

    A copy of the (empty, migrated) test database where that is quick — SQLite's `VACUUM INTO`, PostgreSQL's
    `CREATE DATABASE … TEMPLATE` while nobody else is connected to it — else migrated from scratch."""
    vendor, settings_dict = connection.vendor, dict(connection.settings_dict)
    assert "test" in settings_dict["NAME"] or "memory" in settings_dict["NAME"], "copies the test database only"
    if vendor == "postgresql":
        import psycopg

        name = f"{settings_dict['NAME'].removeprefix('test_')}_killed{os.environ.get('PYTEST_XDIST_WORKER', '')}"
        server = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT'] or 5432}"
        url = f"{server}/{name}"
        connection.close()  # a template database must have no other session
        with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            try:
                con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings_dict["NAME"]}"')
                copied = True
            except psycopg.errors.ObjectInUse:
                con.execute(f'CREATE DATABASE "{name}"')
                copied = False

        def drop():
            with psycopg.connect(f"{server}/postgres", autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "killed.sqlite3"
        url, drop = f"sqlite:///{path}", None
        with connection.cursor() as cur:
            cur.execute("VACUUM INTO %s", [str(path)])
        copied = True
    db = Db(url, drop)
    db.tmp = tmp_path
    # A batch whose clocks were claimed (the claim path) when the worker was killed is taken again after
    # monitor_retry_seconds: one second here, so that the last pass finds them.
    (tmp_path / "rules.json").write_text(json.dumps({"monitor_retry_seconds": RETRY}), encoding="utf-8")
    db.env = {**os.environ, "DATABASE_URL": url, "XIAONENG_VAR_DIR": str(tmp_path), "PYTHONPATH": str(ROOT),
              "XIAONENG_CONFIG_FILE": str(tmp_path / "rules.json"),
              "XIAONENG_NOTIFY_BACKEND": "xiaoneng.notify.backends.FileBackend"}
    if not copied:
        migrated = xiaoneng(db.env, "migrate", "-v", "0")
        assert migrated.returncode == 0, migrated.stderr
    yield db
    if drop:
        drop()


def xiaoneng(env, *args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xiaoneng", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


def python(env, code: str) -> subprocess.CompletedProcess:
    done = xiaoneng(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr
    return done


def kill_while_working(env, args: list[str], progress, rng: random.Random, kills: int = KILLS) -> int:
    """Start the command, let it make a random little progress (commits seen from outside: `progress()` grows
    by 1 to 25), kill it with SIGKILL a random moment later; `kills` times, each time started again. The
    progress asked of each run, not a time, bounds what the kills leave undone on a fast or a slow machine.
    Returns how many kills hit the command while it worked."""
    hit = 0
    for _ in range(kills):
        target = progress() + rng.randint(1, 25)
        proc = subprocess.Popen([sys.executable, "-m", "xiaoneng", *args], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while progress() < target and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, 0.02))
            if proc.poll() is None and progress() >= target:
                hit += 1
        finally:
            proc.send_signal(signal.SIGKILL)
            _out, err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL, err.decode()  # killed, not dead of an error of its own
    return hit


# --- 13. a monitoring pass killed part-way ------------------------------------------------------------------
SEED_CLOCKS = """
from datetime import timedelta
from django.utils import timezone
from xiaoneng.clocks.models import Clock
from xiaoneng.lib.codes import make_credit_code
from xiaoneng.orgs.models import Grant, Organ, OrganKind, Region, Role, User

now = timezone.now()
province = Region.objects.create(code="450000000000", name="广西壮族自治区", level=1)
city = Region.objects.create(code="450100000000", name="南宁市", level=2, parent=province)
clocks = []
for i in range(3):
    county = Region.objects.create(code=f"4501{i + 2:02d}000000", name=f"测试{i}区", level=3, parent=city)
    organ = Organ.objects.create(credit_code=make_credit_code("1", "1", county.code[:6], f"{9100 + i:08d}"),
                                 name=f"测试{i}区行政审批局", kind=OrganKind.GOVERNMENT, region=county)
    user = User.objects.create(username=f"killed-handler-{i}", email=f"handler{i}@killed.invalid")
    Grant.objects.create(user=user, role=Role.HANDLER, organ=organ)
    for k in range(CLOCKS // 3):
        warn = now - timedelta(minutes=1 + k % 50)
        clocks.append(Clock(kind="test", label=f"测试时限{i}-{k}", organ=organ, region_code=organ.region_code,
                            start_at=now - timedelta(days=10), limit=20, warn_at=warn, due_at=now + timedelta(days=20),
                            next_check_at=warn))
Clock.objects.bulk_create(clocks, batch_size=500)
"""

LEVEL_LABELS = {"预警": "warning", "黄牌": "yellow", "红牌": "red"}


def digested(db: Db) -> dict[tuple[str, str], int]:
    """{(recipient, level): alerts counted} over every digest queued (one recipient per organ here)."""
    counted: dict[tuple[str, str], int] = {}
    for to, text in db.rows("SELECT \"to\", text FROM notify_message WHERE kind = 'supervision.digest'"):
        for label, n in re.findall(r"(预警|黄牌|红牌)(\d+)条", text):
            key = (to, LEVEL_LABELS[label])
            counted[key] = counted.get(key, 0) + int(n)
    return counted


def test_a_monitoring_pass_killed_part_way_reports_every_committed_alert_in_exactly_one_digest(crash_db):
    db = crash_db
    python(db.env, "CLOCKS = 600\n" + SEED_CLOCKS)
    alerts = lambda: db.value("SELECT count(*) FROM supervision_alert")  # noqa: E731
    hit = kill_while_working(db.env, ["runclocks", "--interval", "0.1", "--batch", "5"], alerts, random.Random(13))
    assert hit == KILLS, "each kill should hit a pass at work"
    assert 0 < alerts() < 600, "the kills should have left clocks for the last pass"
    time.sleep(RETRY + 0.1)  # the batches the kills left claimed are due again
    done = xiaoneng(db.env, "runclocks", "--once")
    assert done.returncode == 0, done.stderr
    # Every warning raised, each once, and each counted in exactly one digest to its organ's handler.
    assert alerts() == 600
    raised = {(email, level): n for email, level, n in db.rows(
        "SELECT u.email, a.level, count(*) FROM supervision_alert a JOIN orgs_grant g ON g.organ_id = a.organ_id "
        "JOIN orgs_user u ON u.id = g.user_id GROUP BY u.email, a.level")}
    assert digested(db) == raised


# --- 14. the sender killed while it sends ---------------------------------------------------------------------
SEED_MESSAGES = """
from django.db import transaction
from xiaoneng.notify.models import Message
from xiaoneng.notify.outbox import deferred, queue_all

with deferred(), transaction.atomic():
    queue_all([Message(to=f"1390000{i:04d}", text=f"测试通知{i}", kind="killed", ref=f"killed-{i}")
               for i in range(MESSAGES)])
"""


def test_the_sender_killed_while_it_sends_delivers_no_message_twice_and_leaves_none_behind(crash_db):
    db = crash_db
    python(db.env, "MESSAGES = 300\n" + SEED_MESSAGES)
    sent_file = db.tmp / "sent.jsonl"
    env = {**db.env, "XIAONENG_NOTIFY_FILE": str(sent_file)}

    def delivered() -> list[dict]:
        if not sent_file.exists():
            return []
        return [json.loads(line) for line in sent_file.read_text(encoding="utf-8").splitlines() if line.strip()]

    def lines() -> int:  # whole lines only: the sender may be half-way through writing one
        return sent_file.read_bytes().count(b"\n") if sent_file.exists() else 0

    hit = kill_while_working(env, ["notify", "send", "--every", "0.05", "--limit", "50"], lines, random.Random(14))
    assert hit == KILLS, "each kill should hit the sender at work"
    assert len(delivered()) < 300, "the kills should have left messages for the last round"
    # The last round, as a restarted sender would run it once the killed one's attempts have gone stale.
    done = xiaoneng({**env, "XIAONENG_NOTIFY_STALE_SECONDS": "0"}, "notify", "send", "--limit", "1000")
    assert done.returncode == 0, done.stderr

    times: dict[str, int] = {}
    for line in delivered():
        if line["kind"] == "killed":  # not the digests another test here left pending
            times[line["ref"]] = times.get(line["ref"], 0) + 1
    assert max(times.values()) == 1, f"delivered twice: {sorted(r for r, n in times.items() if n > 1)}"
    states = dict(db.rows("SELECT ref, state FROM notify_message WHERE kind = 'killed'"))
    assert len(states) == 300 and set(states.values()) <= {"sent", "unknown"}
    assert all(times.get(ref) == 1 for ref, state in states.items() if state == "sent")
    # A message whose outcome a kill made unknown (the gateway may have it) is left to a person, never resent:
    # at most the one in flight per kill.
    assert sum(state == "unknown" for state in states.values()) <= hit
    # Each message was attempted once, its attempt on record.
    assert db.rows("SELECT DISTINCT attempts FROM notify_message WHERE kind = 'killed'") == [(1,)]
