"""Deriving a clock's `warn_at` and `due_at` from its start, limit, pauses and extensions.

Day units use the calendar's cumulative working-day index (xiaoneng.lib.workdays):
clocks without pauses are computed all at once with numpy, the few with pauses one
by one. A pause recorded on the clock stands still from the day after it began to the
day it ended, both inclusive: the organ worked on the day it suspended, and counting
restarts the day after the resumption (民法典 Art. 201). The `deadline` command takes
explicit stand-still dates instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Exists, OuterRef, prefetch_related_objects
from django.utils import timezone

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.conf import rule
from xiaoneng.lib.workdays import (
    CALENDAR,
    HOURS,
    WORKING,
    Pause,
    WorkCalendar,
    add_hours,
    day_index,
    end_of_day,
    index_day,
    warning_remaining,
)

from .models import Clock, ClockPause


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, tz()).date()


def warn_settings() -> tuple[int, float, float]:
    """(working days, share of the limit, largest share of the limit) left when a clock warns (conf)."""
    return (int(rule("clock_warn_remaining_working_days")), float(rule("clock_warn_share")),
            float(rule("clock_warn_max_share")))


def warn_remaining(limits):
    """How much of each limit is left at the warning (`warning_remaining` with the settings in force);
    every derivation, vectorised or not, goes through it."""
    return warning_remaining(limits, *warn_settings())


@dataclass
class Derived:
    warn_at: datetime | None
    due_at: datetime | None
    provisional: bool
    due_date: date | None
    paused_open: bool


def day_pauses(clock: Clock) -> list[Pause]:
    """The clock's pauses as stand-still date ranges (see the module docstring); each remembers the
    day it began, so that a pause begun on the last day holds the clock (lib.workdays)."""
    out = []
    for p in clock.pauses.all():
        began = local_date(p.started_at)
        first = began + timedelta(days=1)
        last = local_date(p.ended_at) if p.ended_at else None
        if last is not None and last < first:
            continue
        out.append(Pause(first, last, p.reason, p.legal_basis, began))
    return out


def _day_result(clock: Clock, cal: WorkCalendar, pauses: list[Pause] | None = None):
    """The calendar's answer for a day-unit clock (shared by derive and explain_clock)."""
    if pauses is None:
        pauses = day_pauses(clock) if clock.pk else []
    return cal.compute(local_date(clock.start_at), clock.limit, clock.unit, pauses, clock.extension_days,
                       *warn_settings())


def derive(clock: Clock, cal: WorkCalendar | None = None) -> Derived:
    """Warning and due moments of one clock, from scratch."""
    cal = cal or calendar_engine.current()
    total = clock.limit
    extension = clock.extension_days
    if clock.unit == HOURS:
        pauses = [(p.started_at, p.ended_at) for p in clock.pauses.all()] if clock.pk else []
        due = add_hours(clock.start_at, total + extension, pauses)
        # At least an hour before, and never while more than `clock_warn_max_share` of the limit remains.
        left = min(max(1, round(float(rule("clock_warn_share_hours")) * total)),
                   math.floor(float(rule("clock_warn_max_share")) * total + 1e-9))
        warn = add_hours(clock.start_at, int((total + extension) - left), pauses)
        return Derived(warn, due, False, local_date(due) if due else None, due is None)
    result = _day_result(clock, cal)
    zone = tz()
    due_at = end_of_day(index_day(result.due_index), zone) if result.due_index is not None else None
    if result.warn_index is None:
        warn_at = None
    elif result.warn_index <= result.start_index:
        warn_at = clock.start_at
    else:
        warn_at = end_of_day(index_day(result.warn_index), zone)
    due_date = index_day(result.due_index) if result.due_index is not None else None
    return Derived(warn_at, due_at, result.provisional, due_date, result.due_index is None)


def next_check(clock: Clock) -> datetime | None:
    """The next moment the monitoring loop must look at this clock."""
    if clock.state == Clock.State.STOPPED:
        return None
    if clock.warned_at is None and clock.warn_at is not None and (clock.due_at is None or clock.warn_at < clock.due_at):
        return clock.warn_at
    if clock.overdue_at is None and clock.due_at is not None:
        return clock.due_at
    return None


def apply(clock: Clock, derived: Derived) -> list[str]:
    """Copy derived values onto the clock; return the fields that changed."""
    changed = []
    for name in ("warn_at", "due_at", "provisional"):
        if getattr(clock, name) != getattr(derived, name):
            setattr(clock, name, getattr(derived, name))
            changed.append(name)
    nxt = next_check(clock)
    if clock.next_check_at != nxt:
        clock.next_check_at = nxt
        changed.append("next_check_at")
    return changed


def refresh(clock: Clock) -> None:
    """Recompute and save one clock (used by the actions after each change)."""
    changed = apply(clock, derive(clock))
    if changed:
        clock.save(update_fields=changed)


def batched(iterable, n):
    it = iter(iterable)
    while chunk := list(islice(it, n)):
        yield chunk


def recompute(queryset, cal: WorkCalendar | None = None, batch_size: int = 5000) -> int:
    """Recompute stored deadlines of many clocks in bulk; returns how many changed.

    1. Read the clocks in chunks, marking which have pauses (one EXISTS subquery).
    2. Day-unit clocks without pauses go through one numpy call per unit and chunk;
       the rest through `derive` one by one, with their pauses prefetched.
    3. Only clocks whose values changed are written, with bulk_update.
    """
    cal = cal or calendar_engine.current()
    qs = queryset.annotate(has_pause=Exists(ClockPause.objects.filter(clock=OuterRef("pk")))).order_by("pk")
    changed = 0
    for chunk in batched(qs.iterator(chunk_size=batch_size), batch_size):
        rows = _recompute_chunk(list(chunk), cal)
        Clock.objects.bulk_update(rows, ["warn_at", "due_at", "provisional", "next_check_at"], batch_size=1000)
        changed += len(rows)
    return changed


def _recompute_chunk(chunk: list[Clock], cal: WorkCalendar) -> list[Clock]:
    zone = tz()
    changed: list[Clock] = []
    complex_ = [c for c in chunk if c.unit == HOURS or c.has_pause]
    prefetch_related_objects(complex_, "pauses")
    for clock in complex_:
        if apply(clock, derive(clock, cal)):
            changed.append(clock)
    for unit in (WORKING, CALENDAR):
        group = [c for c in chunk if c.unit == unit and not c.has_pause]
        if not group:
            continue
        starts = np.array([day_index(local_date(c.start_at)) for c in group], dtype=np.int64)
        limits = np.array([c.limit for c in group], dtype=np.int64)
        totals = limits + np.array([c.extension_days for c in group], dtype=np.int64)
        due = cal.due_indices(starts, totals, unit)
        remaining = warn_remaining(limits)
        warn_n = np.maximum(totals - remaining, 0)
        warn = cal.due_indices(starts, warn_n, WORKING) if unit == WORKING else starts + warn_n
        provisional = cal.provisional_mask(starts, due)
        for c, d, w, s, p in zip(group, due.tolist(), warn.tolist(), starts.tolist(), provisional.tolist(), strict=True):
            warn_at = c.start_at if w <= s else end_of_day(index_day(w), zone)
            if apply(c, Derived(warn_at, end_of_day(index_day(d), zone), bool(p), index_day(d), False)):
                changed.append(c)
    return changed


def affected_by_days(first: date, last: date):
    """Open clocks whose counted span may include a day in [first, last]."""
    zone = tz()
    return Clock.objects.exclude(state=Clock.State.STOPPED).filter(
        start_at__lt=end_of_day(last, zone)
    ).exclude(due_at__lt=datetime.combine(first, datetime.min.time(), tzinfo=zone))


def explain_clock(clock: Clock, cal: WorkCalendar | None = None) -> str:
    """The clock's explanation in the active language (see xiaoneng.clocks.explain)."""
    from . import explain

    if clock.unit == HOURS:
        return explain.describe_hours(clock)
    cal = cal or calendar_engine.current()
    pauses = day_pauses(clock) if clock.pk else []
    result = _day_result(clock, cal, pauses)
    label, note = explain.start_words(clock.start_reason)
    return explain.describe(cal, result, clock.unit, clock.limit, clock.extension_days, pauses, label, note)
