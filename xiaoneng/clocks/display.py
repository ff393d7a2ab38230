"""A clock as a record page shows it (cases, complaints, ratings, alerts, orders):
title, state, warning/overdue badge, deadline in the law's words and the explanation.
`web/_clock_row.html` draws one row."""
from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from xiaoneng.lib.workdays import OutOfRange

from .engine import explain_clock
from .explain import deadline_label
from .models import Clock


@dataclass
class ClockRow:
    title: str
    clock: Clock
    explanation: str
    overdue: bool
    warning: bool

    @property
    def due_label(self) -> str:
        return deadline_label(self.clock.due_at)

    @property
    def stopped_label(self) -> str:
        return f"{timezone.localtime(self.clock.stopped_at):%Y-%m-%d %H:%M}" if self.clock.stopped_at else ""


def clock_row(clock: Clock, title: str, now, cal=None) -> ClockRow:
    """One row; a clock beyond the loaded calendar is shown without its explanation."""
    try:
        words = explain_clock(clock, cal)
    except OutOfRange:
        words = ""
    overdue = clock.is_overdue(now)
    # A paused clock does not draw nearer its deadline (one held by a pause begun before it has none).
    warning = clock.state == Clock.State.RUNNING and not overdue and clock.warn_at is not None and clock.warn_at <= now
    return ClockRow(str(title), clock, words, overdue, warning)
