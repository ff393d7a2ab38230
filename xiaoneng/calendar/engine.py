"""The calendar in force, as a `WorkCalendar`, cached per process by revision number."""
import threading
from itertools import chain

from xiaoneng.lib.workdays import FIRST_DAY, LAST_DAY, WorkCalendar

from .models import CalendarDay, CalendarRevision, CalendarYear
from .sources import statutory_holidays

_lock = threading.Lock()
_cached: tuple[int, WorkCalendar] | None = None


def revision() -> int:
    row = CalendarRevision.objects.filter(pk=1).values_list("number", flat=True).first()
    return row or 0


def current(*, check: bool = True) -> WorkCalendar:
    """The calendar as stored; reloaded when another process has changed it.

    `check=False` skips the one-row revision query for hot loops that checked already.
    """
    global _cached
    with _lock:
        if _cached is not None and (not check or _cached[0] == revision()):
            return _cached[1]
        number = revision()
        days = CalendarDay.objects.values_list("date", "is_working", "name").iterator(chunk_size=5000)
        years = set(CalendarYear.objects.values_list("year", flat=True))
        # Stored days come second, so a day an administrator set in a year not loaded wins over the law's.
        _cached = (number, WorkCalendar.from_days(chain(statutory_rows(years), days), years))
        return _cached[1]


def statutory_rows(loaded) -> list[tuple]:
    """(date, False, name) for the statutory holidays of every year in the span that is not loaded."""
    return [(d, False, name) for year in range(FIRST_DAY.year, LAST_DAY.year + 1) if year not in loaded
            for d, name in statutory_holidays(year).items()]


def bundled() -> WorkCalendar:
    """The calendar from the installed `chinesecalendar` alone, for when there is no database to read."""
    from .sources import package_years

    years = package_years()
    days = [(d.date, d.is_working, d.name) for year_days in years.values() for d in year_days]
    return WorkCalendar.from_days(chain(statutory_rows(set(years)), days), set(years))


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None
