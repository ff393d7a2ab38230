"""Small helpers shared by the rule modules (not a rule itself: no `register` call)."""
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xiaoneng.calendar.engine import current
from xiaoneng.clocks.engine import local_date


@lru_cache(maxsize=4096)
def _local_day(moment, zone: str):
    return local_date(moment)


def _day(moment):
    """The local date of a moment, remembered: deadlines fall at midnight and a pass has one
    `now`, so a monitoring pass asks for the same few moments thousands of times."""
    return _local_day(moment, settings.TIME_ZONE)


def _last_day(clock):
    return _day(clock.due_at) - timezone.timedelta(days=1)


def due_text(clock) -> str:
    """A deadline the way the law counts it: 24:00 of the last day."""
    if clock.due_at is None:
        return "—"
    return f"{_last_day(clock):%Y-%m-%d} 24:00"


def working_days_left(clock, now) -> int:
    if clock.due_at is None:
        return 0
    # Today counts while it lasts: at 09:00 on the last day, one working day remains.
    return max(current(check=False).working_days_between(_day(now) - timezone.timedelta(days=1), _last_day(clock)), 0)


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
