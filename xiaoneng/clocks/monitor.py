"""The monitoring pass: claim clocks whose warning or deadline has come, record it once.

Only `next_check_at <= now` is read (an indexed column), so a pass costs what is due,
not what is open. Claiming is one UPDATE that stamps a fresh token on a batch and
pushes `next_check_at` into the future (healthchecks' `sendalerts` pattern):

* on PostgreSQL the batch is chosen with `FOR UPDATE SKIP LOCKED`, so several workers
  take disjoint batches without waiting for each other;
* on SQLite the single UPDATE … WHERE id IN (SELECT … LIMIT n) holds the write lock,
  which serialises workers.

A claimed clock is handled and its `next_check_at` moved to its next moment. If
handling fails, the clock keeps the pushed-back `next_check_at` and is retried after
`monitor_retry_seconds`, so one bad row cannot crash-loop the worker. Listeners (the
supervision rules of later capabilities) subscribe with `on_events`.
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
from django.utils import timezone

from xiaoneng.conf import rule
from xiaoneng.orgs.models import Organ

from .engine import next_check
from .models import Clock, ClockEvent

log = logging.getLogger(__name__)

Listener = Callable[[list[ClockEvent]], None]
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
        fields = Clock._meta.concrete_fields
        returning = ", ".join(f'"{f.column}"' for f in fields)
        with connection.cursor() as cur:
            # RETURNING gives the claimed rows themselves: `claim` has no index, and reading the batch
            # back by it would scan every clock (the cost would grow with what is open); reading it
            # back by id would be a second round trip.
            cur.execute(
                f"""UPDATE {table} SET claim = %s, next_check_at = %s
                    WHERE id IN (SELECT id FROM {table} WHERE next_check_at <= %s
                                 ORDER BY next_check_at LIMIT %s FOR UPDATE SKIP LOCKED)
                    RETURNING {returning}""",
                [token, retry_at, now, limit],
            )
            rows = cur.fetchall()
        names = [f.attname for f in fields]
        converters = [(i, f.from_db_value) for i, f in enumerate(fields) if hasattr(f, "from_db_value")]
        clocks = []
        for row in sorted(rows, key=lambda r: r[0]):
            if converters:
                row = list(row)
                for i, conv in converters:
                    row[i] = conv(row[i], None, connection)
            clocks.append(Clock.from_db(connection.alias, names, row))
        # The rules name the responsible organ of every clock: fetch them with the batch (one query).
        organs = Organ.objects.in_bulk({c.organ_id for c in clocks if c.organ_id is not None})
        for c in clocks:
            c._state.fields_cache["organ"] = organs.get(c.organ_id) if c.organ_id is not None else None
        return clocks
    else:
        due = Clock.objects.filter(next_check_at__lte=now).order_by("next_check_at")
        due_ids = list(due.values_list("pk", flat=True)[:limit])
        Clock.objects.filter(pk__in=due_ids, next_check_at__lte=now).update(claim=token, next_check_at=retry_at)
        claimed = Clock.objects.filter(pk__in=due_ids, claim=token)
        # The rules name the responsible organ of every clock: fetch them with the batch.
        return list(claimed.select_related("organ"))


def _events_for(clock: Clock, now: datetime, worker: str) -> list[ClockEvent]:
    """What has happened to the clock by `now` that was not recorded yet (side-effect: stamps)."""
    events = []
    if clock.state == Clock.State.STOPPED:  # stopped since it was scheduled: nothing can happen to it
        pass
    elif clock.due_at is not None and clock.due_at <= now and clock.overdue_at is None:
        clock.overdue_at = now
        clock.warned_at = clock.warned_at or now  # past the deadline, a warning is moot
        events.append(ClockEvent(clock=clock, kind=ClockEvent.Kind.OVERDUE, at=now, worker=worker))
    elif clock.warn_at is not None and clock.warn_at <= now and clock.warned_at is None:
        clock.warned_at = now
        events.append(ClockEvent(clock=clock, kind=ClockEvent.Kind.WARNED, at=now, worker=worker))
    clock.next_check_at = next_check(clock)
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


def _insert_events(events: list[ClockEvent]) -> None:
    """Record the batch's events; one that is already recorded (another worker) is skipped.

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays): bulk_create with
    ignore_conflicts costs about 70 µs an event in Django's row building alone."""
    if connection.vendor != "postgresql":
        ClockEvent.objects.bulk_create(events, ignore_conflicts=True)
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
        events = [e for c in clocks for e in _events_for(c, now, worker)]
        _insert_events(events)
        _save_checked(clocks)
        for listener in _listeners:
            listener(events)
    result.warned += sum(e.kind == ClockEvent.Kind.WARNED for e in events)
    result.overdue += sum(e.kind == ClockEvent.Kind.OVERDUE for e in events)


def run_pass(now: datetime | None = None, *, batch_size: int | None = None, worker: str | None = None) -> PassResult:
    """Claim and handle batches until nothing due is left for this worker.

    1. Claim a batch (committed at once, so other workers skip it).
    2. Handle the batch in one transaction; if that fails, handle its clocks one by one
       so that only the bad ones wait for their retry.
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
    while True:
        clocks = claim(now, batch_size)
        if not clocks:
            return result
        result.claimed += len(clocks)
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
        if len(clocks) < batch_size:
            return result
