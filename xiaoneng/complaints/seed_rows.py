"""Writing seeded rows fast: reserved ids, plain multi-row INSERTs, clocks derived in bulk.

`bulk_create` builds a model instance per row and runs every value through the field
machinery; for the ~70,000 rows of a demo year that alone took longer than the rest of
the seed. Here rows are dicts; only the columns that need it are adapted
(datetimes, UUIDs, JSON), defaults are filled from the fields, and the rows go to the
database with one ``executemany`` per table (psycopg pipelines it on PostgreSQL).
Ids of the rows others point at are reserved from the table's sequence first, so the
rows link up without updates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.utils import timezone

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks import engine
from xiaoneng.clocks.models import Clock, ClockExtension, ClockPause
from xiaoneng.lib.workdays import WORKING, day_index, end_of_day, index_day


def reserve_ids(model, count: int) -> int:
    """The first of `count` consecutive primary keys nobody else will get."""
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cur.fetchone()[0]
            cur.execute("SELECT nextval(%s)", [sequence])
            first = cur.fetchone()[0]
            if count > 1:
                cur.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return first
        cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        top = cur.fetchone()[0]
        row = None
        if connection.vendor == "sqlite":
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
        return max(top, row[0] if row else 0) + 1


def _adapter(f: models.Field):
    if isinstance(f, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(f, (models.UUIDField, models.JSONField)):
        return lambda v: f.get_db_prep_save(v, connection)
    if isinstance(f, models.DecimalField):
        return lambda v: connection.ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
    return None


def insert_rows(model, rows: list[dict], batch: int = 5000) -> int:
    """INSERT dicts keyed by field name or attname; missing fields get their defaults,
    ``auto_now_add`` fields now; a foreign key may be given as an object or an id."""
    if not rows:
        return 0
    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.attname not in rows[0]
                                                              and f.name not in rows[0])]
    plan = []
    for f in fields:
        if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
            default = now
        elif f.has_default():
            default = f.get_default()
        else:
            default = None if f.null else ("" if isinstance(f, (models.CharField, models.TextField)) else None)
        plan.append((f.attname, f.name, f.is_relation, default, _adapter(f)))
    values = []
    for row in rows:
        out = []
        for attname, name, relation, default, adapt in plan:
            if attname in row:
                v = row[attname]
            elif name in row:
                v = row[name]
                if relation and v is not None:
                    v = v.pk
            else:
                v = default() if callable(default) else default
            out.append(adapt(v) if adapt is not None and v is not None else v)
        values.append(out)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(p[1]).column) for p in plan)
    marks = ", ".join(["%s"] * len(plan))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({marks})"
    with connection.cursor() as cur:
        for start in range(0, len(values), batch):
            cur.executemany(sql, values[start:start + batch])
    return len(values)


# --- clocks --------------------------------------------------------------------------------------


@dataclass
class ClockPlan:
    """A clock as the actions would leave it: started, maybe extended, paused, stopped."""

    kind: str
    start_at: datetime
    limit: int
    unit: str
    organ: object
    region_code: str
    label: str
    basis: str
    owner: object  # has .pk once ids are reserved
    stopped_at: datetime | None = None
    paused_at: datetime | None = None
    extensions: list = field(default_factory=list)  # (days, reason, approver, approver name, at)
    pauses: list = field(default_factory=list)  # (started, ended or None, reason, legal basis)
    pk: int | None = None

    def stop(self, at: datetime) -> None:
        """As do_stop_clock: an open pause ends when the clock stops."""
        if self.stopped_at is None:
            self.stopped_at = max(at, self.start_at)
            self.paused_at = None
            self.pauses = [(s, e if e is not None else max(self.stopped_at, s), r, b) for s, e, r, b in self.pauses]


def derive_in_bulk(clocks: list[Clock]) -> None:
    """warn_at/due_at/provisional/next_check_at of pause-free day-unit clocks, vectorised:
    the arithmetic of `engine.recompute` (cumulative working-day index, `due_indices`),
    applied before the rows exist so that each is written once."""
    cal, zone = calendar_engine.current(), engine.tz()
    for unit in ("working", "calendar"):
        group = [c for c in clocks if c.unit == unit]
        if not group:
            continue
        starts = np.array([day_index(engine.local_date(c.start_at)) for c in group], dtype=np.int64)
        limits = np.array([c.limit for c in group], dtype=np.int64)
        totals = limits + np.array([c.extension_days for c in group], dtype=np.int64)
        due = cal.due_indices(starts, totals, unit)
        remaining = engine.warn_remaining(limits)
        warn_n = np.maximum(totals - remaining, 0)
        warn = cal.due_indices(starts, warn_n, WORKING) if unit == WORKING else starts + warn_n
        provisional = cal.provisional_mask(starts, due)
        for c, d, w, s, p in zip(group, due.tolist(), warn.tolist(), starts.tolist(), provisional.tolist(), strict=True):
            warn_at = c.start_at if w <= s else end_of_day(index_day(w), zone)
            engine.apply(c, engine.Derived(warn_at, end_of_day(index_day(d), zone), bool(p), index_day(d), False))


def write_clocks(plans: list[ClockPlan], subject_model) -> None:
    """Clock rows (ids reserved, deadlines derived in bulk), then their extensions and pauses;
    the few clocks with pauses are derived by `engine.recompute` itself."""
    if not plans:
        return
    first = reserve_ids(Clock, len(plans))
    subject_type = ContentType.objects.get_for_model(subject_model)
    clocks = []
    for i, p in enumerate(plans):
        p.pk = first + i
        state = Clock.State.STOPPED if p.stopped_at else (Clock.State.PAUSED if p.paused_at else Clock.State.RUNNING)
        clocks.append(Clock(
            kind=p.kind, label=p.label[:200], subject_type_id=subject_type.pk, subject_id=p.owner.pk, organ=p.organ,
            region_code=p.organ.region_code if p.organ else p.region_code, start_at=p.start_at, limit=p.limit,
            unit=p.unit, legal_basis=p.basis, state=state, stopped_at=p.stopped_at,
            extension_days=sum(e[0] for e in p.extensions)))
    derive_in_bulk([c for c, p in zip(clocks, plans, strict=True) if not p.pauses])
    names = ("kind", "label", "subject_type_id", "subject_id", "organ_id", "region_code", "start_at", "limit", "unit",
             "legal_basis", "state", "stopped_at", "warn_at", "due_at", "extension_days", "provisional", "next_check_at")
    insert_rows(Clock, [{"id": p.pk, **{n: getattr(c, n) for n in names}} for c, p in zip(clocks, plans, strict=True)])
    insert_rows(ClockExtension, [
        dict(clock_id=p.pk, days=days, reason=reason, approver=approver, approver_name=name, at=at)
        for p in plans for days, reason, approver, name, at in p.extensions])
    paused = [p for p in plans if p.pauses]
    insert_rows(ClockPause, [
        dict(clock_id=p.pk, started_at=started, ended_at=ended, reason=reason, legal_basis=basis)
        for p in paused for started, ended, reason, basis in p.pauses])
    if paused:
        engine.recompute(Clock.objects.filter(pk__in=[p.pk for p in paused]))
