"""The calendar in force, as a `WorkCalendar`, cached per process by revision number."""
import threading

from xiaoneng.lib.workdays import WorkCalendar

from .models import CalendarDay, CalendarRevision, CalendarYear

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
        years = CalendarYear.objects.values_list("year", flat=True)
        _cached = (number, WorkCalendar.from_days(days, list(years)))
        return _cached[1]


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None
