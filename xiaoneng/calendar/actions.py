"""Calendar changes: seed from the package, import a notice, edit one day.

Each change (1) writes the days, (2) records the years it makes official, (3) bumps
the revision so every process reloads its arrays, (4) writes one audit entry with the
days that changed, and (5) recomputes, in bulk, the open clocks whose span touches a
changed day. A change that alters nothing writes nothing.
"""
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record

from . import engine
from .models import CalendarDay, CalendarRevision, CalendarYear
from .sources import Day, Notice, package_years, parse_notice


@dataclass
class Outcome:
    changed: list[date] = field(default_factory=list)
    clocks_recomputed: int = 0
    years: list[int] = field(default_factory=list)


def _apply(days: list[Day], source: str, action: str, years: list[int]) -> Outcome:
    existing = {d.date: d for d in CalendarDay.objects.filter(date__in=[d.date for d in days])}
    to_create, to_update, changed = [], [], []
    for d in days:
        old = existing.get(d.date)
        if old is None:
            to_create.append(CalendarDay(date=d.date, is_working=d.is_working, kind=d.kind, name=d.name, source=source))
            changed.append(d.date)
        elif (old.is_working, old.kind, old.name) != (d.is_working, d.kind, d.name):
            old.is_working, old.kind, old.name, old.source = d.is_working, d.kind, d.name, source
            to_update.append(old)
            changed.append(d.date)
    new_years = [y for y in years if not CalendarYear.objects.filter(year=y).exists()]
    outcome = Outcome(changed=changed, years=new_years)
    if not changed and not new_years:
        return outcome
    CalendarDay.objects.bulk_create(to_create, batch_size=1000)
    CalendarDay.objects.bulk_update(to_update, ["is_working", "kind", "name", "source"], batch_size=1000)
    for y in years:
        CalendarYear.objects.update_or_create(year=y, defaults={"source": source})
    CalendarRevision.objects.update_or_create(pk=1, defaults={})
    CalendarRevision.objects.filter(pk=1).update(number=F("number") + 1)
    engine.invalidate()
    record(
        action,
        object_type="workcalendar.calendarday",
        object_id=",".join(str(y) for y in years) or (changed[0].isoformat() if changed else ""),
        object_repr=source[:200],
        changes={
            "days": [
                [d.date.isoformat(), d.kind, d.name] for d in days if d.date in set(changed)
            ][:400],
            "years": years,
        },
    )
    if changed:
        from xiaoneng.clocks.engine import affected_by_days, recompute

        cal = engine.current()
        outcome.clocks_recomputed = recompute(affected_by_days(min(changed), max(changed)), cal)
    return outcome


@transaction.atomic
def do_import_notice(raw: bytes) -> Outcome:
    """Load a year from the State Council notice file (format in sources.py). All or nothing."""
    notice: Notice = parse_notice(raw)
    return _apply(notice.days, notice.source, "calendar.import_notice", [notice.year])


@transaction.atomic
def do_seed_calendar() -> Outcome:
    """Load every year the pinned `chinesecalendar` package knows (skips years already loaded)."""
    import chinese_calendar

    source = f"chinesecalendar {chinese_calendar.__version__}"
    loaded = set(CalendarYear.objects.values_list("year", flat=True))
    days, years = [], []
    for year, year_days in package_years().items():
        if year not in loaded:
            days.extend(year_days)
            years.append(year)
    return _apply(days, source, "calendar.seed", years)


@transaction.atomic
def do_set_day(day: date, *, is_working: bool, name: str = "", reason: str) -> Outcome:
    """An administrator's correction of one day, with the reason recorded."""
    if not reason.strip():
        raise ValueError(_("修改日历必须说明原因"))
    if is_working:
        kind = "workday" if day.weekday() < 5 else "makeup"
    else:
        kind = "weekend" if day.weekday() >= 5 and not name else "holiday"
    source = (_("手工修改：%(reason)s") % {"reason": reason.strip()})[:200]
    return _apply([Day(day, is_working, kind, name.strip()[:60])], source, "calendar.set_day", [])
