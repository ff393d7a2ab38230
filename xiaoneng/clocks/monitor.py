"""The monitoring pass: take clocks whose warning or deadline has come, record it once.

Only `next_check_at <= now` is read (an indexed column), so a pass costs what is due,
not what is open.

* On PostgreSQL one statement per batch (`check_batch`) locks the due clocks with
  `FOR UPDATE SKIP LOCKED` (several workers take disjoint batches without waiting for
  each other), records their events and moves each `next_check_at` to the clock's next
  moment; the listeners run in the same transaction, so the batch commits or rolls back
  as a whole.
* Elsewhere, and for a PostgreSQL batch that failed, claiming is one UPDATE that stamps
  a fresh token on a batch and pushes `next_check_at` into the future (healthchecks'
  `sendalerts` pattern; on SQLite the UPDATE … WHERE id IN (SELECT … LIMIT n) holds the
  write lock, which serialises workers). The claimed batch is handled in one
  transaction; if that fails, its clocks are handled one by one and a bad one keeps the
  pushed-back `next_check_at`, to be retried after `monitor_retry_seconds` — one bad row
  cannot crash-loop the worker.

A clock held by a pause (Art. 45) that began before its deadline is never marked overdue
while the pause lasts: the engine gives it no `due_at` then (xiaoneng.lib.workdays), and
should a stored `due_at` be stale (derived before the pause was recorded), both paths
still record nothing for it and stop looking at it until it resumes (`held`).

Listeners (the supervision rules of later capabilities) subscribe with `on_events`.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.db.models.base import ModelState
from django.utils import timezone

from xiaoneng.conf import rule
from xiaoneng.lib.pg import fetch_binary
from xiaoneng.orgs.models import Organ

from .engine import next_check
from .models import Clock, ClockEvent, ClockPause

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Fired:
    """An event the pass recorded, as listeners see it (a light stand-in for a `ClockEvent` row:
    a pass hands thousands of them over and a model instance costs ten times as much)."""

    clock: Clock
    kind: str
    at: datetime
    worker: str = ""

    @property
    def clock_id(self) -> int:
        return self.clock.pk


Listener = Callable[[list[Fired]], None]
_listeners: list[Listener] = []


def on_events(listener: Listener) -> Listener:
    """Register a function called with each batch of new events, inside its transaction.

    A listener may carry a `pass_scope` attribute: a context-manager factory entered around
    the whole pass (e.g. to send one digest per pass rather than one per batch)."""
    _listeners.append(listener)
    return listener


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassResult:
    claimed: int = 0
    warned: int = 0
    overdue: int = 0
    failed: int = 0


def claim(now: datetime, limit: int) -> list[Clock]:
    """Atomically take up to `limit` due clocks for this worker."""
    token = uuid.uuid4()
    retry_at = now + timedelta(seconds=int(rule("monitor_retry_seconds")))
    table = Clock._meta.db_table
    if connection.vendor == "postgresql":
        # RETURNING gives the claimed rows themselves: `claim` has no index, and reading the batch
        # back by it would scan every clock (the cost would grow with what is open); reading it
        # back by id would be a second round trip.
        return _clocks_from_rows(fetch_binary(
            f"""UPDATE {table} AS c SET claim = %s, next_check_at = %s
                WHERE id IN (SELECT id FROM {table} WHERE next_check_at <= %s
                             ORDER BY next_check_at LIMIT %s FOR UPDATE SKIP LOCKED)
                RETURNING {_returning()}""",
            [token, retry_at, now, limit],
        ))
    due = Clock.objects.filter(next_check_at__lte=now).order_by("next_check_at")
    due_ids = list(due.values_list("pk", flat=True)[:limit])
    Clock.objects.filter(pk__in=due_ids, next_check_at__lte=now).update(claim=token, next_check_at=retry_at)
    claimed = Clock.objects.filter(pk__in=due_ids, claim=token)
    # The rules name the responsible organ of every clock: fetch them with the batch.
    return list(claimed.select_related("organ"))


def _returning() -> str:
    return ", ".join(f'c."{f.column}"' for f in Clock._meta.concrete_fields)


def _clocks_from_rows(rows, organs: dict | None = None) -> list[Clock]:
    """Clock instances from raw rows of every concrete column (in field order), their organs attached.

    Built the way unpickling builds a model instance (attribute dict and state, no __init__):
    `Model.from_db` costs about 9 µs a clock, a tenth of a due clock's whole budget. No Clock
    field converts values read from the database (no `from_db_value`), so the raw values are
    the attributes."""
    names = [f.attname for f in Clock._meta.concrete_fields]
    alias = connection.alias
    clocks = []
    for row in sorted(rows, key=lambda r: r[0]):
        clock = Clock.__new__(Clock)
        clock.__dict__.update(zip(names, row, strict=True))
        clock._state = ModelState()
        clock._state.adding, clock._state.db = False, alias
        clocks.append(clock)
    # The rules name the responsible organ of every clock: those not known yet in this pass, in one query.
    organs = {} if organs is None else organs
    missing = {c.organ_id for c in clocks if c.organ_id is not None} - organs.keys()
    if missing:
        organs.update(Organ.objects.in_bulk(missing))
    for c in clocks:
        c._state.fields_cache["organ"] = organs.get(c.organ_id) if c.organ_id is not None else None
    return clocks


# What `_events_for` and `engine.next_check` do, for a whole batch in one statement (PostgreSQL):
# lock the due clocks (SKIP LOCKED: other workers take other rows), decide each one's event,
# stamp it, move `next_check_at` to the clock's next moment and record the events. One UPDATE a
# clock instead of a claim and a write-back halves the row versions and index entries a pass
# writes. The `ANY(ARRAY(…))` makes the UPDATE find its rows through the primary key: with the join
# alone a table of 100,000 clocks was hashed whole for every batch (a sequential scan looked cheaper
# than 500 index probes). tests/test_clocks.py checks this against the Python rules on a grid of
# clock states.
CHECK_SQL = """
WITH due AS (
    SELECT id, state, warn_at, due_at, warned_at, overdue_at,
           (state = %(paused)s AND due_at <= %(now)s AND EXISTS (
                SELECT 1 FROM {pause} AS p WHERE p.clock_id = {clock}.id AND p.ended_at IS NULL
                                             AND p.started_at < {clock}.due_at)) AS held
    FROM {clock} WHERE next_check_at <= %(now)s
    ORDER BY next_check_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), judged AS (
    SELECT *,
           CASE WHEN state = %(stopped)s OR held THEN NULL
                WHEN due_at <= %(now)s AND overdue_at IS NULL THEN 'overdue'
                WHEN warn_at <= %(now)s AND warned_at IS NULL THEN 'warned' END AS event
    FROM due
), seen AS (
    SELECT id, event, state, held, warn_at, due_at,
           CASE WHEN event IS NOT NULL THEN COALESCE(warned_at, %(now)s) ELSE warned_at END AS warned_at,
           CASE WHEN event = 'overdue' THEN %(now)s ELSE overdue_at END AS overdue_at
    FROM judged
), checked AS (
    UPDATE {clock} AS c
    SET warned_at = s.warned_at, overdue_at = s.overdue_at, claim = NULL,
        next_check_at = CASE
            WHEN s.state = %(stopped)s OR s.held THEN NULL
            WHEN s.warned_at IS NULL AND s.warn_at IS NOT NULL AND (s.due_at IS NULL OR s.warn_at < s.due_at)
                THEN s.warn_at
            WHEN s.overdue_at IS NULL AND s.due_at IS NOT NULL THEN s.due_at
        END
    FROM seen AS s WHERE c.id = s.id AND c.id = ANY(ARRAY(SELECT id FROM due))
    RETURNING {returning}, s.event
), recorded AS (
    INSERT INTO {event} (clock_id, kind, at, worker)
    SELECT id, event, %(now)s, %(worker)s FROM checked WHERE event IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING clock_id
)
SELECT checked.*, checked.id IN (SELECT clock_id FROM recorded) FROM checked
"""


def check_batch(now: datetime, limit: int, worker: str, organs: dict | None = None) -> tuple[list[Clock], list[Fired]]:
    """Take up to `limit` due clocks and record what happened to them (PostgreSQL, one statement).

    Runs inside the caller's transaction: the rows stay locked until it commits, so the
    listeners' work and the clocks' new state commit (or roll back) together. Returns the
    clocks and the events this call recorded (an event another worker recorded first is not
    returned again). `organs` caches the clocks' organs across the batches of a pass."""
    sql = CHECK_SQL.format(clock=Clock._meta.db_table, event=ClockEvent._meta.db_table,
                           pause=ClockPause._meta.db_table, returning=_returning())
    rows = fetch_binary(sql, {"now": now, "limit": limit, "worker": worker, "stopped": Clock.State.STOPPED.value,
                              "paused": Clock.State.PAUSED.value})
    fresh = {r[0]: (r[-2], r[-1]) for r in rows}
    clocks = _clocks_from_rows([r[:-2] for r in rows], organs)
    events = [Fired(c, fresh[c.pk][0], now, worker) for c in clocks if fresh[c.pk][0] is not None and fresh[c.pk][1]]
    return clocks, events


def held(clocks: list[Clock], now: datetime) -> set[int]:
    """The paused clocks past their stored deadline whose open pause began before it (one query, and
    none for a batch without paused clocks past their deadline): `CHECK_SQL`'s `held`."""
    candidates = [c.pk for c in clocks
                  if c.state == Clock.State.PAUSED and c.due_at is not None and c.due_at <= now]
    if not candidates:
        return set()
    return set(ClockPause.objects.filter(clock_id__in=candidates, ended_at__isnull=True,
                                         started_at__lt=F("clock__due_at")).values_list("clock_id", flat=True))


def _events_for(clock: Clock, now: datetime, worker: str, is_held: bool = False) -> list[Fired]:
    """What has happened to the clock by `now` that was not recorded yet (side-effect: stamps).

    `is_held`: a pause begun before the deadline holds the clock (see `held`): nothing happens to
    it, and the pass stops looking at it (resuming it derives its deadline and next check again)."""
    events = []
    if clock.state == Clock.State.STOPPED or is_held:  # stopped since it was scheduled, or held by a pause
        pass
    elif clock.due_at is not None and clock.due_at <= now and clock.overdue_at is None:
        clock.overdue_at = now
        clock.warned_at = clock.warned_at or now  # past the deadline, a warning is moot
        events.append(Fired(clock, ClockEvent.Kind.OVERDUE, now, worker))
    elif clock.warn_at is not None and clock.warn_at <= now and clock.warned_at is None:
        clock.warned_at = now
        events.append(Fired(clock, ClockEvent.Kind.WARNED, now, worker))
    clock.next_check_at = None if is_held else next_check(clock)
    clock.claim = None
    return events


def _save_checked(clocks: list[Clock]) -> None:
    """Write back what the pass changed on each clock, in one statement.

    Django's bulk_update builds one CASE WHEN per row and field, which costs about a
    millisecond a clock; on PostgreSQL one UPDATE … FROM unnest(arrays) does the batch.
    """
    if connection.vendor != "postgresql":
        Clock.objects.bulk_update(clocks, ["warned_at", "overdue_at", "next_check_at", "claim"], batch_size=1000)
        return
    with connection.cursor() as cur:
        cur.execute(
            f"""UPDATE {Clock._meta.db_table} AS c
                SET warned_at = v.warned_at, overdue_at = v.overdue_at, next_check_at = v.next_check_at, claim = NULL
                FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[])
                     AS v(id, warned_at, overdue_at, next_check_at)
                WHERE c.id = v.id""",
            [[c.pk for c in clocks], [c.warned_at for c in clocks], [c.overdue_at for c in clocks],
             [c.next_check_at for c in clocks]],
        )


def _insert_events(events: list[Fired]) -> None:
    """Record the batch's events; one that is already recorded (another worker) is skipped.

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays): bulk_create with
    ignore_conflicts costs about 70 µs an event in Django's row building alone."""
    if connection.vendor != "postgresql":
        ClockEvent.objects.bulk_create([ClockEvent(clock=e.clock, kind=e.kind, at=e.at, worker=e.worker) for e in events],
                                       ignore_conflicts=True)
        return
    if not events:
        return
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO {ClockEvent._meta.db_table} (clock_id, kind, at, worker)
                SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::text[])
                ON CONFLICT DO NOTHING""",
            [[e.clock_id for e in events], [e.kind for e in events], [e.at for e in events],
             [e.worker for e in events]],
        )


def _handle(clocks: list[Clock], now: datetime, worker: str, result: PassResult) -> None:
    with transaction.atomic():
        holding = held(clocks, now)
        events = [e for c in clocks for e in _events_for(c, now, worker, c.pk in holding)]
        _insert_events(events)
        _save_checked(clocks)
        _tell(events)
    _count(events, result)


def _tell(events: list[Fired]) -> None:
    for listener in _listeners:
        listener(events)


def _count(events: list[Fired], result: PassResult) -> None:
    result.warned += sum(e.kind == ClockEvent.Kind.WARNED for e in events)
    result.overdue += sum(e.kind == ClockEvent.Kind.OVERDUE for e in events)


def run_pass(now: datetime | None = None, *, batch_size: int | None = None, worker: str | None = None) -> PassResult:
    """Take and handle batches until nothing due is left for this worker.

    On PostgreSQL a batch is taken, checked and handed to the listeners in one transaction
    (`check_batch`). Elsewhere, or when that fails, the claim-then-handle path: claim a batch
    (committed at once, so other workers skip it), handle it in one transaction, and if that
    fails handle its clocks one by one so that only the bad ones wait for their retry.
    """
    now = now or timezone.now()
    batch_size = batch_size or int(rule("monitor_batch_size"))
    worker = worker or worker_name()
    with ExitStack() as scopes:
        for listener in list(_listeners):
            scope = getattr(listener, "pass_scope", None)
            if scope is not None:
                scopes.enter_context(scope())
        return _run_batches(now, batch_size, worker)


def _run_batches(now: datetime, batch_size: int, worker: str) -> PassResult:
    result = PassResult()
    organs: dict = {}
    while True:
        taken = _take_and_check(now, batch_size, worker, result, organs) if connection.vendor == "postgresql" else None
        if taken is None:
            taken = _claim_and_handle(now, batch_size, worker, result)
        if taken < batch_size:
            return result


def _take_and_check(now: datetime, batch_size: int, worker: str, result: PassResult, organs: dict) -> int | None:
    """One batch the PostgreSQL way; None if it failed (and was rolled back)."""
    try:
        with transaction.atomic():
            clocks, events = check_batch(now, batch_size, worker, organs)
            _tell(events)
    except Exception:
        log.exception("monitoring batch failed; claiming it again to handle its clocks one by one")
        return None
    result.claimed += len(clocks)
    _count(events, result)
    return len(clocks)


def _claim_and_handle(now: datetime, batch_size: int, worker: str, result: PassResult) -> int:
    clocks = claim(now, batch_size)
    result.claimed += len(clocks)
    if not clocks:
        return 0
    try:
        _handle(clocks, now, worker, result)
    except Exception:
        log.exception("monitoring batch failed; retrying its %d clocks one by one", len(clocks))
        for clock in clocks:
            fresh = Clock.objects.get(pk=clock.pk)
            try:
                _handle([fresh], now, worker, result)
            except Exception:
                result.failed += 1
                log.exception("clock %s failed; it will be retried later", clock.pk)
    return len(clocks)
