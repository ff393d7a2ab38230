"""The deadline calculator behind `xiaoneng deadline` and `GET /api/v1/deadline/`.

It answers "if this started on that day, with this limit, these pauses and this
extension, when is it due — and why", with the same engine and wording as stored
clocks. Input checking lives here too, so the command and the API reject the same
bad input with the same words.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.lib.workdays import CALENDAR, WORKING, OutOfRange, Pause, WorkCalendar, end_of_day, index_day

from . import explain
from .engine import tz, warn_settings


class CalculatorError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Query:
    start: date
    days: int
    unit: str = WORKING
    pauses: tuple[Pause, ...] = ()
    extend: int = 0


def parse_date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise CalculatorError(field, _("%(field)s：“%(text)s”不是有效日期，应为 YYYY-MM-DD") % {"field": field, "text": text}) from None


def parse_count(text, field: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise CalculatorError(field, _("%(field)s：“%(text)s”不是整数") % {"field": field, "text": text}) from None
    if value < 0:
        raise CalculatorError(field, _("%(field)s：不能为负数（%(value)d）") % {"field": field, "value": value})
    if value > 3650:
        raise CalculatorError(field, _("%(field)s：%(value)d 过大，上限 3650") % {"field": field, "value": value})
    return value


def parse_pause(text: str, start: date) -> Pause:
    first_text, sep, last_text = str(text).partition(":")
    if not sep:
        raise CalculatorError("pause", _("pause：“%(text)s”应为 YYYY-MM-DD:YYYY-MM-DD") % {"text": text})
    first = parse_date(first_text, "pause")
    last = parse_date(last_text, "pause")
    if last < first:
        raise CalculatorError("pause", _("pause：结束日 %(last)s 早于开始日 %(first)s") % {"first": first, "last": last})
    if last < start:
        raise CalculatorError("pause", _("pause：%(first)s 至 %(last)s 在起算日 %(start)s 之前") % {"first": first, "last": last, "start": start})
    return Pause(first, last, "", "")


def build_query(start, days, unit=WORKING, pauses=(), extend=0) -> Query:
    start_date = parse_date(start, "start")
    if unit not in (WORKING, CALENDAR):
        raise CalculatorError("unit", _("unit：应为 working 或 calendar，而不是“%(unit)s”") % {"unit": unit})
    return Query(
        start=start_date,
        days=parse_count(days, "days"),
        unit=unit,
        pauses=tuple(parse_pause(p, start_date) for p in pauses),
        extend=parse_count(extend, "extend"),
    )


def calculate(query: Query, cal: WorkCalendar | None = None) -> dict:
    """The due date, its instant, the days counted, provisional flag and explanation.

    `cal`: the calendar to use; by default the one in force (the database's).
    """
    cal = cal or calendar_engine.current()
    try:
        result = cal.compute(query.start, query.days, query.unit, query.pauses, query.extend, *warn_settings())
    except OutOfRange as exc:
        raise CalculatorError("start", _("日期超出可计算范围：%(detail)s") % {"detail": exc}) from None
    due = index_day(result.due_index)
    return {
        "start_date": query.start.isoformat(),
        "unit": query.unit,
        "limit": query.days,
        "extension": query.extend,
        "due_date": due.isoformat(),
        "due_at": end_of_day(due, tz()).isoformat(),
        "due_label": explain.deadline_label(end_of_day(due, tz())),
        "warn_date": index_day(result.warn_index).isoformat() if result.warn_index is not None else None,
        "working_days_counted": cal.working_days_between(query.start, due) - explain.paused_working_days(cal, result),
        "calendar_days": (due - query.start).days,
        "provisional": result.provisional,
        "pauses": [{"first": p.first.isoformat(), "last": p.last.isoformat()} for p in query.pauses],
        "explanation": explain.describe(cal, result, query.unit, query.days, query.extend, query.pauses),
    }
