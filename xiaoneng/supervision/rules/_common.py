"""Small helpers shared by the rule modules (not a rule itself: no `register` call)."""
import math
from datetime import datetime, time
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xiaoneng.calendar.engine import current
from xiaoneng.clocks.engine import local_date, tz
from xiaoneng.clocks.explain import deadline_label


@lru_cache(maxsize=4096)
def _local_day(moment, zone: str):
    return local_date(moment)


def _day(moment):
    """The local date of a moment, remembered: deadlines fall at midnight and a pass has one
    `now`, so a monitoring pass asks for the same few moments thousands of times."""
    return _local_day(moment, settings.TIME_ZONE)


def _last_day(clock):
    return _day(clock.due_at) - timezone.timedelta(days=1)


@lru_cache(maxsize=4096)
def _deadline(moment, zone: str) -> str:
    return deadline_label(moment)


def due_text(clock) -> str:
    """A deadline the way the law says it (24:00 of the last day): `clocks.explain.deadline_label`, the one
    form every page, export and message shows; remembered, as a pass asks for the same few moments."""
    if clock.due_at is None:
        return "—"
    return _deadline(clock.due_at, timezone.get_current_timezone_name())


def resumed_today(clocks, now) -> dict[int, object]:
    """{clock id: local day of its last resumption} for those of `clocks` resumed on `now`'s local day or
    later (one query): such a day stood still, so it is not left to count."""
    if not clocks:
        return {}
    from xiaoneng.clocks.models import ClockPause

    since = datetime.combine(_day(now), time(0), tzinfo=tz())
    out: dict[int, object] = {}
    for clock_id, ended_at in ClockPause.objects.filter(clock_id__in=[c.pk for c in clocks], ended_at__gte=since) \
            .values_list("clock_id", "ended_at"):
        out[clock_id] = max(out.get(clock_id, _day(ended_at)), _day(ended_at))
    return out


def left_in_unit(clock, now, resumed_on=None) -> int:
    """What is left of the clock at `now`, in its own unit (0 past its deadline or while a pause holds it).

    Day units count the days still to be counted: today while it lasts (at 09:00 on the last day, one
    remains), but not the start day (never counted) nor a day the clock stood still (`resumed_on`: the day of
    a resumption today). Hours: whole hours to the deadline, rounded up."""
    if clock.due_at is None:
        return 0
    if clock.unit == "hours":
        return max(math.ceil((clock.due_at - now).total_seconds() / 3600), 0)
    floor = max(_day(now) - timezone.timedelta(days=1), _day(clock.start_at))
    if resumed_on is not None:
        floor = max(floor, resumed_on)
    last = _last_day(clock)
    if clock.unit == "calendar":
        return max((last - floor).days, 0)
    return max(current(check=False).working_days_between(floor, last), 0) if last > floor else 0


def working_days_late(clock, now) -> int:
    if clock.due_at is None:
        return 0
    return max(current(check=False).working_days_between(_last_day(clock), _day(now)), 0)


def organ_of(clock, case):
    return (case.organ if case is not None else None) or clock.organ


def evidence(clock, **extra) -> dict:
    return {
        "clock": clock.pk,
        "kind": clock.kind,
        "start_at": clock.start_at.isoformat(),
        "limit": clock.limit,
        "unit": clock.unit,
        "extension_days": clock.extension_days,
        "due_at": clock.due_at.isoformat() if clock.due_at else None,
        "provisional": clock.provisional,
        **extra,
    }


@lru_cache(maxsize=512)
def _translated(language, msgid: str) -> str:
    return _(msgid)


def tr(msgid: str, language: str | None = None) -> str:
    """`gettext` for the rules' fixed texts, remembered per language (a monitoring pass formats
    thousands of findings with the same few templates); `language` if the caller knows it."""
    return _translated(language or get_language(), msgid)


@lru_cache(maxsize=64)
def _unit_label(language, unit: str) -> str:
    from xiaoneng.clocks.models import Clock

    return str(dict(Clock._meta.get_field("unit").flatchoices).get(unit, unit))


def unit_label(clock, language: str | None = None) -> str:
    """`clock.get_unit_display()`, remembered per language."""
    return _unit_label(language or get_language(), clock.unit)
