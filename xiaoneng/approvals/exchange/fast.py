"""The set-based fast path: a whole batch of case events in a fixed number of queries.

The per-event path costs tens of queries, clock recomputations and audit entries per
event. Here a batch is applied in three moves:

1. Load — the existing cases the batch names (row-locked), their open steps and
   clocks, in three queries; cases that will be suspended, resumed, extended or
   withdrawn (or are suspended) get their clocks as model instances with their
   pauses (two more queries). The catalogue comes from `rules.Context`.
2. Replay in memory — each case's events go through `replay.CaseReplay` with
   `try_event` as the applier: `rules.readiness` decides apply/hold/reject exactly as
   for the per-event path, and the `on_<type>` methods change an in-memory copy of
   the case as the actions in `approvals/actions.py` would (same transitions, same
   clocks with the same kinds, labels, limits and legal bases, pauses and extensions,
   same status-change, timeline and notification rows). What the fast path does not
   take — parallel approval, and the rare event the actions would refuse for a reason
   `readiness` does not see — is handed over: the replay stops there, and the
   per-event path resumes it after the fast path has written what it did.
3. Write — due dates of new clocks are computed all at once on the calendar's
   cumulative working-day index (`WorkCalendar.due_indices`, the rule of
   `clocks.engine.recompute`); clocks whose pauses or extensions changed go through
   `clocks.engine.derive`. Every table gets one bulk insert (COPY on PostgreSQL) and at
   most one bulk update; one audit entry lists the events applied.

tests/test_exchange.py runs the same streams through both paths and compares cases,
statuses, clocks, pauses, steps, timelines and notifications field by field.
"""
from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from datetime import datetime
from decimal import Decimal

import numpy as np
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record
from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks import engine as clock_engine
from xiaoneng.clocks.actions import ended_before
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock, ClockExtension, ClockPause
from xiaoneng.clocks.signals import clock_stopped, clocks_stopped
from xiaoneng.lib.pg import fetch_binary
from xiaoneng.lib.workdays import CALENDAR, HOURS, WORKING, day_index, end_of_day, index_day
from xiaoneng.notify.models import Message

from .. import notices
from ..actions import DEEMED_LATE_ACCEPTANCE, DEEMED_LATE_CORRECTION, verify_digest
from ..models import Case, CaseEvent, CaseStep, MatterStep, Outcome, Status, StatusChange
from ..signals import case_events
from .bulk import IdPool, Row, columns, writer
from .replay import APPLIED, HAND_OVER, CaseReplay
from .rules import APPLY, Context, Verdict, VersionInfo, readiness
from .schema import Event

S = Status
# Process-wide counters for benchmarks and monitoring: time spent in other capabilities' listeners.
STATS: Counter = Counter()
RUNNING, STOPPED, PAUSED = Clock.State.RUNNING, Clock.State.STOPPED, Clock.State.PAUSED
APPLIED_V = Verdict(APPLIED)
# Cases with these events (or already suspended) need their clocks' pauses in memory.
CLOCK_WORK = frozenset({"suspended", "resumed", "extended", "withdrawn"})
CASE_FIELDS = (
    "id", "case_no", "matter_version_id", "organ_id", "region_code", "parent_id", "is_parallel",
    "first_review_organ_id", "applicant_phone", "status", "outcome", "received_at", "accepted_at",
    "deemed_accepted", "decided_at", "certified_at", "closed_at", "reasons", "fee_charged", "extended",
    "correction_clock_id", "promise_clock_id", "legal_clock_id", "certificate_clock_id",
)
CASE_UPDATES = (
    "status", "outcome", "accepted_at", "deemed_accepted", "decided_at", "certified_at", "closed_at", "reasons",
    "fee_charged", "extended", "correction_clock_id", "promise_clock_id", "legal_clock_id", "certificate_clock_id",
)
CLOCK_SLOTS = ("correction_clock", "promise_clock", "legal_clock", "certificate_clock")
SLOT_AT = tuple(CASE_FIELDS.index(f"{slot}_id") for slot in CLOCK_SLOTS)
ID_AT, NO_AT, VERSION_AT, STATUS_AT = (CASE_FIELDS.index(n) for n in ("id", "case_no", "matter_version_id", "status"))
CLOCK_DERIVED = ("state", "stopped_at", "next_check_at", "warn_at", "due_at", "provisional", "extension_days")
# What the fast path reads of a loaded clock it will at most stop: its own four, then what `clocks_stopped`
# listeners read (supervision's early completions), so that they need not load the clocks again.
LIGHT_CLOCK = ("id", "state", "start_at", "due_at", "kind", "subject_type_id", "subject_id", "organ_id", "region_code")
# The most rows of each table an event of each type adds on the fast path (see the `on_<type>` methods:
# accepting starts the decision clocks and the first step's; a late correction request deems the case
# accepted). The batch's ids are drawn for these at once; a pool that runs short draws more.
NEW_ROWS = {
    Case: {"submitted": 1},
    Clock: {"submitted": 1, "correction_requested": 2, "accepted": 3, "step_completed": 1, "decided": 1},
    CaseEvent: {"correction_requested": 1, "step_completed": 1, "suspended": 1, "resumed": 1, "extended": 1,
                "fee_charged": 1},
}
STEP_FIELDS = ("id", "case_id", "step_id", "started_at", "completed_at", "clock_id", "handler", "organ_id")


# --- in-memory state ----------------------------------------------------------------------------
class ClockState:
    """A clock as the fast path knows it: light (id, state, start, due, and in `info` the loaded
    `LIGHT_CLOCK` values, with the columns listeners read) for a loaded clock that will at most be stopped; `row` for one started in this
    batch; `obj`, a `Clock` instance with its pauses prefetched, for one that is paused, resumed or
    extended (engine.derive does the rest)."""

    __slots__ = ("id", "_state", "_start_at", "_due_at", "stopped_at", "row", "obj", "info", "derived", "changed")

    def __init__(self, id, state=RUNNING, start_at=None, due_at=None, row=None, obj=None, info=None):
        self.id, self._state, self._start_at, self._due_at = id, state, start_at, due_at
        self.stopped_at, self.row, self.obj, self.info, self.derived, self.changed = None, row, obj, info, False, False

    @property
    def new(self) -> bool:
        return self.row is not None

    @property
    def state(self) -> str:
        return self.obj.state if self.obj is not None else self._state

    @property
    def start_at(self) -> datetime:
        return self.obj.start_at if self.obj is not None else self._start_at

    @property
    def kind(self) -> str:
        return self.obj.kind if self.obj is not None else self.row["kind"]

    def pauses(self) -> list[ClockPause]:
        return self.obj._prefetched_objects_cache["pauses"]

    def as_stopped(self):
        """What `clocks_stopped` listeners get, once the batch is written: the instance, the new
        clock's row, or the loaded columns (`LIGHT_CLOCK`) with the stop."""
        if self.obj is not None:
            return self.obj
        if self.row is not None:
            return self.row
        # Made into a row only here: most loaded clocks of a batch are not stopped.
        return Row(zip(LIGHT_CLOCK, self.info, strict=True), state=self._state, stopped_at=self.stopped_at)


class StepState:
    __slots__ = ("id", "step_id", "order", "name", "organ_id", "clock", "started_at", "completed_at", "handler",
                 "new", "changed")

    def __init__(self, id, step_id, order, name, organ_id, clock, started_at, completed_at=None, handler="",
                 new=False):
        self.id, self.step_id, self.order, self.name, self.organ_id = id, step_id, order, name, organ_id
        self.clock, self.started_at, self.completed_at, self.handler = clock, started_at, completed_at, handler
        self.new, self.changed = new, False


class CaseState:
    """The attributes of a `Case` the actions read and write, plus what `rules.readiness` asks."""

    def __init__(self, *, version: VersionInfo, matter_code: str, new: bool = False, row: dict | None = None,
                 **fields):
        self.version, self.matter_code, self.new, self.row = version, matter_code, new, row
        self.changed = self.paused_light = False
        self.clocks: dict[str, ClockState | None] = dict.fromkeys(CLOCK_SLOTS)
        self.steps: list[StepState] = []
        self.__dict__.update(fields)

    def version_steps(self) -> list[tuple[str, int]]:
        return [(s.name, s.order) for s in self.version.steps]

    def current_step(self) -> tuple[str, int] | None:
        step = self.open_step()
        return (step.name, step.order) if step else None

    def open_step(self) -> StepState | None:
        open_steps = [s for s in self.steps if s.completed_at is None]
        return min(open_steps, key=lambda s: s.order) if open_steps else None

    def has_open_subcases(self) -> bool:  # never asked: parallel cases take the per-event path
        return True

    def open_clocks(self) -> list[ClockState]:
        """`actions._open_clocks`: the case's clocks and those of unfinished steps, not stopped."""
        found = [c for c in self.clocks.values() if c is not None]
        found += [s.clock for s in self.steps if s.completed_at is None and s.clock is not None]
        return [c for c in found if c.state != STOPPED]


class Fast:
    """One batch through the fast path (see the module docstring)."""

    def __init__(self, ctx: Context, batch):
        self.ctx, self.batch = ctx, batch
        self.audit = audit_context()
        self.now = timezone.now()
        self.w = writer()
        self.ids: dict[type, IdPool] = {}  # filled by `draw_ids`
        self.case_type_id = ContentType.objects.get_for_model(Case).pk
        self.cal = calendar_engine.current()
        self.cases: dict[str, CaseState] = {}
        self.exists_elsewhere: set[str] = set()  # case numbers of matters this batch does not name
        self.submitting: set[str] = set()
        self.new_clocks: list[ClockState] = []
        self.changes: list[dict] = []
        self.timeline: list[dict] = []
        self.messages: list[dict] = []
        self.new_pauses: list[ClockPause] = []
        self.ended_pauses: list[ClockPause] = []
        self.extensions: list[dict] = []
        self.stopped: list[tuple[ClockState, datetime]] = []
        self.dues: dict[tuple, datetime | None] = {}  # see due_of
        self.applied: list[str] = []
        self.counts: Counter = Counter()
        self.labels = {
            "correction": _("补正告知"), "legal": _("法定时限"), "promise": _("承诺时限"), "certificate": _("送达证件"),
            "art32": _("《行政许可法》第三十二条"), "art42": _("《行政许可法》第四十二条"),
            "art43": _("《行政许可法》第四十三条"), "art44": _("《行政许可法》第四十四条"),
        }
        self.versions = {v.obj.pk: (v, m.obj.code) for m in ctx.matters.values() for v in m.versions}

    # 1. load ----------------------------------------------------------------------------------------
    def load(self, replays: list[CaseReplay]) -> None:
        rows = self._cases([r.case_no for r in replays])
        self.exists_elsewhere = {r[NO_AT] for r in rows if r[VERSION_AT] not in self.versions}
        rows = [r for r in rows if r[VERSION_AT] in self.versions]
        if not rows:
            return
        busy = {r.case_no for r in replays if any(e.type in CLOCK_WORK for e in r.queue)}
        full = {r[ID_AT] for r in rows if r[NO_AT] in busy or r[STATUS_AT] == S.SUSPENDED}
        steps: dict[int, list] = {}
        for row in self._steps([r[ID_AT] for r in rows]):
            steps.setdefault(row[1], []).append(row)

        def wanted(case_rows):
            ids = {r[i] for r in case_rows for i in SLOT_AT}
            ids |= {s[5] for r in case_rows for s in steps.get(r[ID_AT], ()) if s[4] is None}
            ids.discard(None)
            return list(ids)

        light = self._light_clocks(wanted([r for r in rows if r[ID_AT] not in full]))
        clocks = {c[0]: ClockState(*c[:4], info=c) for c in light}
        if full:
            for obj in self._full_clocks(wanted([r for r in rows if r[ID_AT] in full])):
                clocks[obj.pk] = ClockState(obj.pk, obj=obj)
        names = [n for n in CASE_FIELDS if not n.endswith("clock_id")]
        plain = [i for i, n in enumerate(CASE_FIELDS) if not n.endswith("clock_id")]
        for r in rows:
            info, code = self.versions[r[VERSION_AT]]
            case = CaseState(version=info, matter_code=code, **dict(zip(names, [r[i] for i in plain], strict=True)))
            case.clocks = {slot: clocks.get(r[i]) for slot, i in zip(CLOCK_SLOTS, SLOT_AT, strict=True)}
            case.paused_light = r[ID_AT] not in full and any(
                c is not None and c.state == PAUSED for c in case.clocks.values())
            if r[ID_AT] in steps:
                by_id = {s.id: s for s in info.steps}
                for sid, _case, step_id, started, completed, clock_id, handler, organ_id in steps[r[ID_AT]]:
                    spec = by_id[step_id]
                    case.steps.append(StepState(sid, step_id, spec.order, spec.name, organ_id, clocks.get(clock_id),
                                                started, completed, handler))
                case.paused_light = case.paused_light or (r[ID_AT] not in full and any(
                    s.clock is not None and s.completed_at is None and s.clock.state == PAUSED for s in case.steps))
            self.cases[case.case_no] = case

    # The reads of many rows per batch. On PostgreSQL they are written out (the queries the ORM
    # would send, with the same locks and order) to read rows in binary: Django's cursor reads text
    # and parses each of the rows' timestamps in Python, which cost more than the queries themselves.
    # The lists of numbers and ids go as one binary array each (`%b`), not as a literal per value.
    @staticmethod
    def _cases(case_nos: list[str]) -> list[tuple]:
        """The existing cases of these numbers (`CASE_FIELDS`), row-locked in pk order where the database can."""
        if connection.vendor != "postgresql":
            return list(Case.objects.filter(case_no__in=case_nos).values_list(*CASE_FIELDS))
        table = Case._meta.db_table
        return fetch_binary(
            f'SELECT {columns(Case, CASE_FIELDS)} FROM "{table}" WHERE {columns(Case, ["case_no"])} = ANY(%b) '
            f'ORDER BY {columns(Case, ["id"])} FOR UPDATE OF "{table}"', [case_nos])

    @staticmethod
    def _steps(case_ids: list[int]) -> list[tuple]:
        """The steps of these cases (`STEP_FIELDS`), by case and step order (`CaseStep.Meta.ordering`)."""
        if connection.vendor != "postgresql":
            return list(CaseStep.objects.filter(case_id__in=case_ids).values_list(*STEP_FIELDS))
        step, spec = CaseStep._meta.db_table, MatterStep._meta.db_table
        return fetch_binary(
            f'SELECT {columns(CaseStep, STEP_FIELDS, "s")} FROM "{step}" s '
            f'JOIN "{spec}" m ON {columns(MatterStep, ["id"], "m")} = {columns(CaseStep, ["step_id"], "s")} '
            f'WHERE {columns(CaseStep, ["case_id"], "s")} = ANY(%b) '
            f'ORDER BY {columns(CaseStep, ["case_id"], "s")}, {columns(MatterStep, ["order"], "m")}', [case_ids])

    @staticmethod
    def _light_clocks(ids: list[int]) -> list[tuple]:
        """These clocks' `LIGHT_CLOCK` columns."""
        if connection.vendor != "postgresql":
            return list(Clock.objects.filter(pk__in=ids).values_list(*LIGHT_CLOCK))
        return fetch_binary(f'SELECT {columns(Clock, LIGHT_CLOCK)} FROM "{Clock._meta.db_table}" '
                            f'WHERE {columns(Clock, ["id"])} = ANY(%b)', [ids])

    @staticmethod
    def _full_clocks(ids: list[int]) -> list[Clock]:
        """These clocks as instances, each with its pauses (by start, then id) in its prefetch cache as a list."""
        if connection.vendor != "postgresql":
            pauses = Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at", "id"))
            clocks = list(Clock.objects.filter(pk__in=ids).prefetch_related(pauses))
            for obj in clocks:
                obj._prefetched_objects_cache["pauses"] = list(obj._prefetched_objects_cache["pauses"])
            return clocks
        names = [f.attname for f in Clock._meta.concrete_fields]
        clocks = [Clock.from_db(connection.alias, names, row) for row in fetch_binary(
            f'SELECT {columns(Clock, names)} FROM "{Clock._meta.db_table}" WHERE {columns(Clock, ["id"])} = ANY(%b)',
            [ids])]
        by_clock = {obj.pk: obj for obj in clocks}
        for obj in clocks:
            obj._prefetched_objects_cache = {"pauses": []}
        names = [f.attname for f in ClockPause._meta.concrete_fields]
        for row in fetch_binary(
                f'SELECT {columns(ClockPause, names)} FROM "{ClockPause._meta.db_table}" '
                f'WHERE {columns(ClockPause, ["clock_id"])} = ANY(%b) '
                f'ORDER BY {columns(ClockPause, ["started_at"])}, {columns(ClockPause, ["id"])}', [ids]):
            pause = ClockPause.from_db(connection.alias, names, row)
            clock = by_clock[pause.clock_id]
            pause.clock = clock  # as the prefetch sets it
            clock._prefetched_objects_cache["pauses"].append(pause)
        return clocks

    # 2. replay --------------------------------------------------------------------------------------
    def run(self, replays: list[CaseReplay]) -> list[CaseReplay]:
        """Replay every case; returns those handed over to the per-event path (after writing)."""
        self.load(replays)
        self.draw_ids(replays)
        self.submitting = {r.case_no for r in replays if any(e.type == "submitted" for e in r.queue)}
        handed = [r for r in replays if not r.run(self.try_event)]
        self.write()
        return handed

    def draw_ids(self, replays: list[CaseReplay]) -> None:
        """Ids for the rows the batch may add, drawn in one query (`NEW_ROWS`); those left unused are
        gaps in the sequences, which cost nothing."""
        types = Counter(e.type for r in replays for e in r.events)
        drawn = self.w.allocate_many({model: sum(n * types[t] for t, n in most.items())
                                      for model, most in NEW_ROWS.items()})
        self.ids = {model: IdPool(self.w, model, drawn.get(model, ())) for model in NEW_ROWS}

    def try_event(self, ev: Event) -> Verdict:
        case = self.cases.get(ev.case_no)
        if not self.takes(ev, case):
            return HAND_OVER
        verdict = readiness(ev, case, self.ctx.organs[ev.organ_code].pk)
        if verdict.action != APPLY:
            return verdict
        if not self.feasible(ev, case):
            return HAND_OVER
        getattr(self, f"on_{ev.type}")(ev, case)
        self.applied.append(ev.event_id)
        self.counts[ev.type] += 1
        return APPLIED_V

    def takes(self, ev: Event, case: CaseState | None) -> bool:
        if ev.type == "submitted":
            if case is not None or ev.case_no in self.exists_elsewhere:
                return False
            version = self.ctx.matters[ev.matter_code].version_at(ev.occurred_at)
            return version is not None and not version.obj.is_parallel
        if case is None:
            # A parallel application submitted in this batch creates its sub-cases (`<no>-01`…) on the
            # per-event path; their events must wait for it there. Any other missing case: readiness holds.
            return ev.case_no[:-3] not in self.submitting
        # A paused clock can only be handled with its pauses in memory (`full` cases have them).
        return not (case.is_parallel or case.parent_id is not None or case.paused_light)

    def feasible(self, ev: Event, case: CaseState) -> bool:
        """Whether the action would succeed where `readiness` says apply; if not, the per-event path says why."""
        if ev.type == "extended":
            days, maximum = ev.data["days"], case.version.extension_max
            clocks = [c for c in (case.clocks["legal_clock"], case.clocks["promise_clock"]) if c is not None]
            # A clock whose period ended is not extended (nor checked), as `do_extend_case` does.
            return 0 < days <= maximum and all(
                c.state != STOPPED and self.full(c).obj.extension_days + days <= maximum for c in clocks
                if not ended_before(self.full(c).obj, ev.occurred_at))
        if ev.type == "resumed":
            for c in case.open_clocks():
                if c.state == PAUSED:
                    open_pauses = [p for p in self.full(c).pauses() if p.ended_at is None]
                    if not open_pauses or ev.occurred_at < max(open_pauses, key=lambda p: p.started_at).started_at:
                        return False
        return True

    # clocks, in memory (as xiaoneng.clocks.actions does them) -------------------------------------------
    def start_clock(self, case: CaseState, kind: str, at: datetime, limit: int, unit: str, label: str,
                    basis: str = "", organ_id: int | None = None, start_reason: str = "") -> ClockState:
        organ_id = organ_id or case.organ_id
        clock = ClockState(self.ids[Clock].take(), row=Row({
            "kind": kind, "label": f"{case.case_no} {label}", "subject_type_id": self.case_type_id,
            "subject_id": case.id, "organ_id": organ_id, "region_code": self.ctx.organ_region(organ_id),
            "start_at": at, "limit": limit, "unit": unit, "legal_basis": basis, "start_reason": start_reason,
            "created_at": self.now,
        }))
        clock._start_at = at
        self.new_clocks.append(clock)
        return clock

    def full(self, clock: ClockState) -> ClockState:
        """Give a clock started in this batch a `Clock` instance, derived, with no pauses yet."""
        if clock.obj is None:
            assert clock.new, "a loaded clock needing its pauses must have been loaded with them"
            row = {k: v for k, v in clock.row.items() if k not in ("warn_at", "due_at", "provisional")}
            obj = Clock(id=clock.id, state=clock.state, stopped_at=clock.stopped_at, **row)
            obj._prefetched_objects_cache = {"pauses": []}
            clock_engine.apply(obj, clock_engine.derive(obj, self.cal))
            clock.obj = obj
        return clock

    def refresh(self, clock: ClockState) -> None:
        clock_engine.apply(clock.obj, clock_engine.derive(clock.obj, self.cal))
        clock.changed = True

    def stop(self, clock: ClockState | None, at: datetime) -> None:
        if clock is None or clock.state == STOPPED:
            return
        at = max(at, clock.start_at)
        clock.changed = True
        self.stopped.append((clock, at))
        if clock.obj is None:
            clock._state, clock.stopped_at = STOPPED, at
            return
        obj = clock.obj
        open_pause = next((p for p in clock.pauses() if p.ended_at is None), None)
        if open_pause is not None:
            open_pause.ended_at = max(at, open_pause.started_at)
            self.ended_pauses.append(open_pause)
        obj.state, obj.stopped_at, obj.next_check_at = STOPPED, at, None

    def pause(self, clock: ClockState, at: datetime, reason: str, basis: str, days: int) -> None:
        clock = self.full(clock)
        at = max(at, clock.start_at)
        pause = ClockPause(clock_id=clock.id, started_at=at, reason=reason, legal_basis=basis, announced_days=days)
        pauses = clock.pauses()
        pauses.append(pause)
        pauses.sort(key=lambda p: p.started_at)
        self.new_pauses.append(pause)
        clock.obj.state = PAUSED
        self.refresh(clock)

    def resume(self, clock: ClockState, at: datetime) -> None:
        clock = self.full(clock)
        pause = max((p for p in clock.pauses() if p.ended_at is None), key=lambda p: p.started_at)
        pause.ended_at = at
        self.ended_pauses.append(pause)
        clock.obj.state = RUNNING
        self.refresh(clock)

    def extend(self, clock: ClockState, days: int, reason: str, approver: str, at: datetime) -> None:
        clock = self.full(clock)
        self.extensions.append({"clock_id": clock.id, "days": days, "reason": reason, "approver_id": None,
                                "approver_name": approver, "at": at})
        clock.obj.extension_days += days
        self.refresh(clock)

    # the actions, in memory (names and order follow approvals/actions.py) ----------------------------------
    def set_status(self, case: CaseState, to: str, at: datetime, note: str = "") -> None:
        self.changes.append({"case_id": case.id, "from_status": case.status, "to_status": to, "at": at,
                             "actor_id": getattr(self.audit.actor, "pk", None), "actor_label": self.audit.label,
                             "note": note})
        case.status, case.changed = to, True

    def event(self, case: CaseState, kind: str, at: datetime, **data) -> None:
        # With its id: `case_events` listeners are handed the rows.
        self.timeline.append(Row(id=self.ids[CaseEvent].take(), case_id=case.id, kind=kind, at=at, data=data,
                                 actor_label=self.audit.label))

    def tell(self, case: CaseState, kind: str, **data) -> None:
        if case.parent_id or not case.applicant_phone:
            return
        # Each its own idempotency id: the bulk writer fills a missing column with one default for the whole batch.
        self.messages.append({"channel": "sms", "to": case.applicant_phone, "text": notices.TEXTS[kind](case, data),
                              "kind": f"case.{kind}", "ref": case.case_no, "created_at": self.now, "key": uuid.uuid4()})

    def correction_late(self, case: CaseState, at: datetime) -> bool:
        clock = case.clocks["correction_clock"]
        if clock is None:
            return False
        if clock.obj is not None:
            due = clock.obj.due_at
        elif clock.new:
            due = self.due_of(clock)
        else:
            due = clock._due_at
        return bool(due and at > due)

    def start_decision_clocks(self, case: CaseState, start: datetime, reason: str = "") -> None:
        v, L = case.version, self.labels
        case.clocks["legal_clock"] = self.start_clock(case, "case.legal", start, v.legal_limit, v.legal_unit,
                                                      L["legal"], L["art42"], start_reason=reason)
        case.clocks["promise_clock"] = self.start_clock(case, "case.promise", start, v.promised_limit,
                                                        v.promised_unit, L["promise"], start_reason=reason)

    def deem_accepted(self, case: CaseState, reason: str) -> None:
        if case.deemed_accepted or case.clocks["promise_clock"] is not None:
            return
        case.deemed_accepted, case.accepted_at = True, case.received_at
        self.start_decision_clocks(case, case.received_at, reason)

    def start_next_step(self, case: CaseState, at: datetime, start_reason: str = "") -> None:
        done = {s.step_id for s in case.steps}
        step = next((s for s in case.version.steps if s.id not in done), None)
        if step is None:
            return
        organ_id, limit, unit = case.organ_id, step.limit, step.unit
        if step.is_first_review:
            organ_id = case.first_review_organ_id or case.organ_id
            limit, unit = case.version.first_review_limit, WORKING
        clock = self.start_clock(case, "case.first_review" if step.is_first_review else "case.step", at, limit, unit,
                                 step.name, self.labels["art43"] if step.is_first_review else "", organ_id,
                                 start_reason)
        case.steps.append(StepState(None, step.id, step.order, step.name, organ_id, clock, at, new=True))

    def on_submitted(self, ev: Event, _case) -> None:
        ctx, d = self.ctx, ev.data
        organ = ctx.organs[ev.organ_code]
        version = ctx.matters[ev.matter_code].version_at(ev.occurred_at)
        fr = ctx.organs[d["first_review_organ_code"]].pk if d.get("first_review_organ_code") else None
        code = f"{secrets.randbelow(10**6):06d}"
        case = CaseState(
            version=version, matter_code=ev.matter_code, new=True, id=self.ids[Case].take(), case_no=ev.case_no,
            organ_id=organ.pk, region_code=organ.region_code, parent_id=None, is_parallel=False,
            first_review_organ_id=fr, applicant_phone=d.get("applicant_phone", ""), status=S.SUBMITTED, outcome="",
            received_at=ev.occurred_at, accepted_at=None, deemed_accepted=False, decided_at=None, certified_at=None,
            closed_at=None, reasons="", fee_charged=Decimal("0.00"), extended=False,
            row={"applicant_name": d["applicant_name"], "verify_hash": verify_digest(ev.case_no, code),
                 "source_id": ctx.source.pk, "created_at": self.now},
        )
        self.cases[case.case_no] = case
        case.clocks["correction_clock"] = self.start_clock(
            case, "case.correction", ev.occurred_at, version.correction_limit, WORKING, self.labels["correction"],
            self.labels["art32"])
        self.tell(case, "submitted", code=code)

    def on_correction_requested(self, ev: Event, case: CaseState) -> None:
        at, items = ev.occurred_at, ev.data["items"]
        late = self.correction_late(case, at)
        self.set_status(case, S.CORRECTION_REQUESTED, at, "；".join(items))
        self.event(case, CaseEvent.Kind.CORRECTION, at, items=items, late=late)
        self.stop(case.clocks["correction_clock"], at)
        if late:
            self.deem_accepted(case, DEEMED_LATE_CORRECTION)
        self.tell(case, "correction_requested", items=items)

    def on_corrected(self, ev: Event, case: CaseState) -> None:
        self.set_status(case, S.CORRECTED, ev.occurred_at)

    def on_accepted(self, ev: Event, case: CaseState) -> None:
        at = ev.occurred_at
        came_from = case.status
        self.set_status(case, S.ACCEPTED, at)
        reason = DEEMED_LATE_CORRECTION if case.deemed_accepted else ""
        if came_from == S.SUBMITTED:
            self.stop(case.clocks["correction_clock"], at)
            if self.correction_late(case, at):
                self.deem_accepted(case, DEEMED_LATE_ACCEPTANCE)
                reason = DEEMED_LATE_ACCEPTANCE
        if case.clocks["promise_clock"] is None:
            case.accepted_at = at
            self.start_decision_clocks(case, at)
        self.start_next_step(case, case.accepted_at, reason)
        self.tell(case, "accepted")

    def on_refused(self, ev: Event, case: CaseState) -> None:
        at, reasons = ev.occurred_at, ev.data["reasons"]
        self.set_status(case, S.REFUSED, at, reasons)
        case.reasons, case.closed_at = reasons, at
        for clock in case.open_clocks():
            self.stop(clock, at)
        self.tell(case, "refused", reasons=reasons)

    def on_step_completed(self, ev: Event, case: CaseState) -> None:
        at = ev.occurred_at
        current = case.open_step()
        current.completed_at, current.handler, current.changed = at, ev.data.get("handler", "")[:100], True
        self.stop(current.clock, at)
        self.event(case, CaseEvent.Kind.STEP, at, step=current.name, handler=current.handler)
        self.start_next_step(case, at)

    def on_suspended(self, ev: Event, case: CaseState) -> None:
        at, d = ev.occurred_at, ev.data
        reason, basis, days = d["reasons"], d.get("legal_basis", ""), d["announced_days"]
        self.set_status(case, S.SUSPENDED, at, reason)
        for clock in case.open_clocks():
            if clock.state == RUNNING and clock.kind != "case.certificate":
                self.pause(clock, at, reason, basis, days)
        self.event(case, CaseEvent.Kind.SUSPEND, at, reason=reason, legal_basis=basis, announced_days=days)
        self.tell(case, "suspended", reason=reason, days=days)

    def on_resumed(self, ev: Event, case: CaseState) -> None:
        at = ev.occurred_at
        self.set_status(case, S.ACCEPTED, at)
        for clock in case.open_clocks():
            if clock.state == PAUSED:
                self.resume(clock, at)
        self.event(case, CaseEvent.Kind.RESUME, at)

    def on_extended(self, ev: Event, case: CaseState) -> None:
        """`actions.do_extend_case(record_late=True)`: after the legal deadline it is recorded and extends
        nothing; a clock whose own period ended (the promise) is not extended."""
        at, d = ev.occurred_at, ev.data
        targets = [case.clocks[slot] for slot in ("legal_clock", "promise_clock") if case.clocks[slot] is not None]
        ended = [c for c in targets if ended_before(self.full(c).obj, at)]
        record = {"days": d["days"], "reasons": d["reasons"], "approver": d["approver"]}
        legal = case.clocks["legal_clock"]
        if legal is not None and legal in ended:
            self.event(case, CaseEvent.Kind.EXTEND, at, **record, late=True, due=deadline_label(legal.obj.due_at))
            return
        for clock in targets:
            if clock not in ended:
                self.extend(clock, d["days"], d["reasons"], d["approver"], at)
        if ended:
            record["late_clocks"] = [c.kind for c in ended]
        case.extended, case.changed = True, True
        self.event(case, CaseEvent.Kind.EXTEND, at, **record)
        self.tell(case, "extended", days=d["days"], reasons=d["reasons"])

    def on_decided(self, ev: Event, case: CaseState) -> None:
        at, outcome, reasons = ev.occurred_at, ev.data["outcome"], ev.data.get("reasons", "")
        self.set_status(case, S.DECIDED, at, reasons)
        case.outcome, case.decided_at, case.reasons = outcome, at, reasons
        for clock in case.open_clocks():
            self.stop(clock, at)
        if outcome == Outcome.GRANTED and case.parent_id is None:
            case.clocks["certificate_clock"] = self.start_clock(
                case, "case.certificate", at, case.version.certificate_limit, WORKING, self.labels["certificate"],
                self.labels["art44"])
        self.tell(case, "decided", outcome=outcome, reasons=case.reasons)

    def on_certificate_issued(self, ev: Event, case: CaseState) -> None:
        at = ev.occurred_at
        self.set_status(case, S.CERTIFIED, at)
        case.certified_at = at
        self.stop(case.clocks["certificate_clock"], at)
        self.tell(case, "certified")

    def on_fee_charged(self, ev: Event, case: CaseState) -> None:
        amount, v = ev.data["amount"], case.version
        standard = Decimal(0) if v.is_free else (v.fee_standard or Decimal(0))
        case.fee_charged += amount
        case.changed = True
        self.event(case, CaseEvent.Kind.FEE, ev.occurred_at, amount=str(amount), standard=str(standard),
                   total=str(case.fee_charged), over_standard=case.fee_charged > standard, free_matter=v.is_free)

    def on_withdrawn(self, ev: Event, case: CaseState) -> None:
        at, reason = ev.occurred_at, ev.data.get("reasons", "")
        self.set_status(case, S.WITHDRAWN, at, reason)
        case.closed_at = at
        for clock in case.open_clocks():
            self.stop(clock, at)

    def due_of(self, clock: ClockState) -> datetime | None:
        """A new clock's due moment while replaying. A day-unit clock's depends only on its start day
        and limit (24:00 of the last day), so it is computed once per start day, and the clock itself
        is left to `derive_all`'s vectorised pass."""
        row = clock.row
        if clock.derived or row["unit"] == HOURS:
            if not clock.derived:
                self.derive_one(clock)
            return row["due_at"]
        key = (clock_engine.local_date(row["start_at"]), row["limit"], row["unit"])
        if key not in self.dues:
            self.dues[key] = clock_engine.derive(Clock(start_at=row["start_at"], limit=row["limit"], unit=row["unit"]),
                                                 self.cal).due_at
        return self.dues[key]

    # 3. write ------------------------------------------------------------------------------------------
    def derive_one(self, clock: ClockState) -> None:
        row = clock.row
        derived = clock_engine.derive(Clock(start_at=row["start_at"], limit=row["limit"], unit=row["unit"]), self.cal)
        row.update(warn_at=derived.warn_at, due_at=derived.due_at, provisional=derived.provisional)
        clock.derived = True

    def derive_all(self) -> None:
        """Warning and due moments of the new clocks, day units vectorised (clocks.engine.recompute's rule)."""
        pending = [c for c in self.new_clocks if c.obj is None and not c.derived]
        for c in pending:
            if c.row["unit"] == HOURS:
                self.derive_one(c)
        zone = clock_engine.tz()
        local_days: dict[datetime, int] = {}
        ends: dict[int, datetime] = {}
        for unit in (WORKING, CALENDAR):
            group = [c for c in pending if c.row["unit"] == unit]
            if not group:
                continue
            for c in group:
                t = c.row["start_at"]
                if t not in local_days:
                    local_days[t] = day_index(clock_engine.local_date(t))
            starts = np.fromiter((local_days[c.row["start_at"]] for c in group), np.int64, len(group))
            limits = np.fromiter((c.row["limit"] for c in group), np.int64, len(group))
            due = self.cal.due_indices(starts, limits, unit)
            remaining = clock_engine.warn_remaining(limits)
            warn_n = np.maximum(limits - remaining, 0)
            warn = self.cal.due_indices(starts, warn_n, WORKING) if unit == WORKING else starts + warn_n
            provisional = self.cal.provisional_mask(starts, due)
            for c, d, w, s, p in zip(group, due.tolist(), warn.tolist(), starts.tolist(), provisional.tolist(),
                                     strict=True):
                for i in (d, w):
                    if i not in ends:
                        ends[i] = end_of_day(index_day(i), zone)
                c.row.update(warn_at=c.row["start_at"] if w <= s else ends[w], due_at=ends[d], provisional=bool(p))
                c.derived = True

    def clock_rows(self) -> list[dict]:
        rows = []
        for c in self.new_clocks:
            if c.obj is not None:
                obj = c.obj
                row = {f.attname: getattr(obj, f.attname) for f in Clock._meta.concrete_fields}
                rows.append(row)
                continue
            row = c.row
            row.update(id=c.id, state=c._state, stopped_at=c.stopped_at)
            warn, due = row["warn_at"], row["due_at"]
            if c._state == STOPPED:
                row["next_check_at"] = None
            elif warn is not None and (due is None or warn < due):
                row["next_check_at"] = warn
            else:
                row["next_check_at"] = due
            rows.append(row)
        return rows

    def write(self) -> None:
        w = self.w
        self.derive_all()
        w.insert(Clock, self.clock_rows())
        new_cases = [c for c in self.cases.values() if c.new]
        w.insert(Case, [self.case_row(c) for c in new_cases])
        w.update(Case, list(CASE_UPDATES), [
            (c.id, *(self.case_value(c, f) for f in CASE_UPDATES)) for c in self.cases.values() if c.changed and not c.new
        ])
        light, full = [], []
        for c in self._old_clocks():
            if c.obj is not None:
                full.append((c.id, *(getattr(c.obj, f) for f in CLOCK_DERIVED)))
            else:
                light.append((c.id, c._state, c.stopped_at, None))
        w.update(Clock, ["state", "stopped_at", "next_check_at"], light)
        w.update(Clock, list(CLOCK_DERIVED), full)
        new_pause_ids = {id(p) for p in self.new_pauses}
        w.insert(ClockPause, [
            {"clock_id": p.clock_id, "started_at": p.started_at, "ended_at": p.ended_at, "reason": p.reason,
             "legal_basis": p.legal_basis, "announced_days": p.announced_days} for p in self.new_pauses])
        w.update(ClockPause, ["ended_at"], list({p.pk: (p.pk, p.ended_at) for p in self.ended_pauses
                                                 if id(p) not in new_pause_ids}.values()))
        w.insert(ClockExtension, self.extensions)
        steps_new, steps_old = [], []
        for case in self.cases.values():
            for s in case.steps:
                if s.new:
                    steps_new.append({"case_id": case.id, "step_id": s.step_id, "organ_id": s.organ_id,
                                      "clock_id": s.clock.id if s.clock else None, "started_at": s.started_at,
                                      "completed_at": s.completed_at, "handler": s.handler})
                elif s.changed:
                    steps_old.append((s.id, s.completed_at, s.handler))
        w.insert(CaseStep, steps_new)
        w.update(CaseStep, ["completed_at", "handler"], steps_old)
        w.insert(StatusChange, self.changes)
        w.insert(CaseEvent, self.timeline)
        if self.messages:  # pending in the outbox: the background sender sends them (see notify.outbox)
            w.insert(Message, self.messages)
        if self.applied:
            record("exchange.apply", self.batch, object_repr=f"batch {self.batch.pk}", changes={
                "events": self.applied, "by_type": dict(self.counts), "cases_created": len(new_cases),
                "clocks_started": len(self.new_clocks), "status_changes": len(self.changes)})
        self.signal(case_events.has_listeners(Case))

    def signal(self, listening: bool) -> None:
        """What the actions announce as they go, announced now that the batch's rows are written, in
        the same order: the timeline entries at once (`case_events` — not `case_event` per row), and
        the clocks stopped (`clocks_stopped` at once, or `clock_stopped` for each to a listener of
        only that). The bulk signals carry the written rows (`bulk.Row`), not model instances.
        """
        started = time.perf_counter()
        if listening and self.timeline:
            case_events.send(sender=Case, events=self.timeline)
        if self.stopped and clocks_stopped.has_listeners(Clock):
            clocks_stopped.send(sender=Clock, stopped=[(c.as_stopped(), at) for c, at in self.stopped])
        elif self.stopped and clock_stopped.has_listeners(Clock):  # it is owed a Clock instance
            clocks = Clock.objects.in_bulk({c.id for c, _at in self.stopped})
            for c, at in self.stopped:
                clock_stopped.send(sender=Clock, clock=clocks[c.id], at=at)
        STATS["listener_seconds"] += time.perf_counter() - started

    def _old_clocks(self):
        seen = set()
        for case in self.cases.values():
            for c in [*case.clocks.values(), *(s.clock for s in case.steps)]:
                if c is not None and not c.new and c.changed and c.id not in seen:
                    seen.add(c.id)
                    yield c

    @staticmethod
    def case_value(case: CaseState, name: str):
        if name.endswith("_clock_id"):
            clock = case.clocks[name[:-3]]
            return clock.id if clock else None
        return getattr(case, name)

    def case_row(self, case: CaseState) -> dict:
        row = {
            "id": case.id, "case_no": case.case_no, "matter_version_id": case.version.obj.pk, "organ_id": case.organ_id,
            "region_code": case.region_code, "parent_id": None, "is_parallel": False,
            "first_review_organ_id": case.first_review_organ_id, "applicant_phone": case.applicant_phone,
            "received_at": case.received_at, **case.row,
        }
        row.update({f: self.case_value(case, f) for f in CASE_UPDATES})
        return row


__all__ = ["Fast"]
