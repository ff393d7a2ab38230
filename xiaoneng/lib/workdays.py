"""Working-day arithmetic on a day-by-day calendar, O(1) per clock and vectorised.

The calendar is an array of days from FIRST_DAY to LAST_DAY. `working[i]` says whether
day i is a working day (make-up working weekends included, holidays excluded), and
`cum[i]` is the number of working days from FIRST_DAY to day i inclusive. Then

    working days in (a, b]                 = cum[b] - cum[a]
    the N-th working day after day s       = first i with cum[i] >= cum[s] + N

which is one `searchsorted` for any number of clocks at once. Legal semantics
(行政许可法 Art. 82; 民法典 Art. 201, 203):

* the day an act happens is not counted: counting starts the next day;
* N working days end at 24:00 of the N-th working day after the start day;
* days of a pause (Art. 45) are not counted; an extension adds days after the limit;
* a pause that begins on or before the last day (before 24:00 of it) holds the clock even
  when the limit is used up that day: it cannot expire while paused, and what is left of
  the last day resumes with the clock, which then falls due at 24:00 of the resumption day
  (of the next working day if that is a rest day);
* in calendar-day mode a period whose last day is not a working day ends at 24:00 of
  the next working day.

Days whose year has not been loaded from an official notice are flagged `provisional`
(any result that used such a day is provisional too): the caller marks the holidays the
law fixes as days off (calendar.sources.statutory_holidays) and the rest follows the
weekend rule, with no make-up working days, which only the notice can tell.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2060, 12, 31)
N_DAYS = (LAST_DAY - FIRST_DAY).days + 1
FIRST_ORDINAL = FIRST_DAY.toordinal()

WORKING = "working"
CALENDAR = "calendar"
HOURS = "hours"
UNITS = (WORKING, CALENDAR, HOURS)


class OutOfRange(ValueError):
    """A date outside the span the calendar array covers."""


def day_index(d: date) -> int:
    i = d.toordinal() - FIRST_ORDINAL
    if not 0 <= i < N_DAYS:
        raise OutOfRange(f"{d.isoformat()} is outside the supported span {FIRST_DAY}..{LAST_DAY}")
    return i


def index_day(i: int) -> date:
    return date.fromordinal(int(i) + FIRST_ORDINAL)


@dataclass(frozen=True)
class Pause:
    """The clock stands still from `first` to `last` inclusive (`last` None: still paused).

    `began`: the day the pause began, if before `first` (a clock's pause begins on a day that
    is still counted); a pause that began on or before the last day holds the clock."""

    first: date
    last: date | None
    reason: str = ""
    legal_basis: str = ""
    began: date | None = None


def warning_remaining(limit, warn_days: int, warn_share: float, warn_max_share: float = 1.0):
    """How much of the limit is left when a clock warns (int, or numpy arrays of limits).

    `max(warn_days, ceil(warn_share * limit))`, but never more than `floor(warn_max_share * limit)`:
    a short clock does not warn the moment it starts (with the default 0.5, a 2-day clock warns
    with one day left and a 1-day clock, all of whose time is its last day, not separately)."""
    if isinstance(limit, np.ndarray):
        wanted = np.maximum(warn_days, np.ceil(warn_share * limit))
        return np.minimum(wanted, np.floor(warn_max_share * limit + 1e-9)).astype(np.int64)
    return min(max(warn_days, math.ceil(warn_share * limit)), math.floor(warn_max_share * limit + 1e-9))


@dataclass
class Result:
    due_index: int | None  # None while an open pause holds the clock
    warn_index: int | None
    provisional: bool
    start_index: int
    pauses: list[tuple[int, int | None]] = field(default_factory=list)
    rolled_from: int | None = None  # calendar mode: the non-working last day moved forward
    held_from: int | None = None  # a pause began on this day, the last day, and holds the clock


class WorkCalendar:
    """An immutable day-by-day calendar with its cumulative working-day index."""

    def __init__(self, working: np.ndarray, official: np.ndarray, names: dict[int, str] | None = None):
        assert working.shape == (N_DAYS,) and official.shape == (N_DAYS,)
        self.working = working.astype(bool)
        self.official = official.astype(bool)
        self.names = names or {}
        self.cum = np.cumsum(self.working, dtype=np.int32)
        self.cum_unofficial = np.cumsum(~self.official, dtype=np.int32)
        # first_reaching[k]: the first day whose cumulative count reaches k, so that the
        # N-th working day after day s is first_reaching[cum[s] + N] — two array reads.
        self.first_reaching = np.searchsorted(self.cum, np.arange(int(self.cum[-1]) + 1), side="left").astype(np.int32)
        # next_working[i]: the first working day at or after day i (Civil Code Art. 203).
        idx = np.where(self.working, np.arange(N_DAYS), N_DAYS - 1)
        self.next_working = np.minimum.accumulate(idx[::-1])[::-1]

    # --- construction -----------------------------------------------------------------
    @staticmethod
    def weekend_rule() -> np.ndarray:
        weekday = (np.arange(N_DAYS) + FIRST_DAY.weekday()) % 7
        return weekday < 5

    @classmethod
    def from_days(cls, days, official_years) -> WorkCalendar:
        """Build from (date, is_working, name) rows; years in `official_years` are official."""
        working = cls.weekend_rule()
        official = np.zeros(N_DAYS, dtype=bool)
        for year in official_years:
            a, b = date(year, 1, 1), date(year, 12, 31)
            if a >= FIRST_DAY and b <= LAST_DAY:
                official[day_index(a) : day_index(b) + 1] = True
        names = {}
        for d, is_working, name in days:
            if FIRST_DAY <= d <= LAST_DAY:
                i = day_index(d)
                working[i] = is_working
                if name:
                    names[i] = name
        return cls(working, official, names)

    # --- scalar queries -----------------------------------------------------------------
    def is_working(self, d: date) -> bool:
        return bool(self.working[day_index(d)])

    def is_official(self, d: date) -> bool:
        return bool(self.official[day_index(d)])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: the start day not counted, the end day counted."""
        return int(self.cum[day_index(b)] - self.cum[day_index(a)])

    def add_working_days(self, start: date, n: int) -> date:
        return index_day(self._add_working(day_index(start), n))

    def _add_working(self, s: int, n: int) -> int:
        if n <= 0:
            return s
        target = int(self.cum[s]) + n
        if target >= self.first_reaching.size:
            raise OutOfRange(f"{n} working days after {index_day(s)} run past {LAST_DAY}")
        return int(self.first_reaching[target])

    def _add_calendar(self, s: int, n: int) -> int:
        i = s + max(n, 0)
        if i >= N_DAYS:
            raise OutOfRange(f"{n} days after {index_day(s)} run past {LAST_DAY}")
        return i

    def _provisional(self, a: int, b: int) -> bool:
        lo = self.cum_unofficial[a - 1] if a > 0 else 0
        return bool(self.cum_unofficial[b] - lo > 0)

    # --- vectorised ---------------------------------------------------------------------
    def due_indices(self, start: np.ndarray, n: np.ndarray, unit: str = WORKING) -> np.ndarray:
        """Due-day indices for many clocks without pauses at once."""
        start = np.asarray(start, dtype=np.int64)
        n = np.asarray(n, dtype=np.int64)
        if unit == WORKING:
            target = self.cum[start] + n
            if target.size and int(target.max()) >= self.first_reaching.size:
                raise OutOfRange(f"a limit runs past {LAST_DAY}")
            due = np.maximum(self.first_reaching[target], start)
        elif unit == CALENDAR:
            due = start + np.maximum(n, 0)
            due = self.next_working[np.minimum(due, N_DAYS - 1)]
        else:
            raise ValueError(f"vectorised arithmetic handles day units, not {unit!r}")
        if due.size and int(due.max()) >= N_DAYS - 1:
            raise OutOfRange(f"a limit runs past {LAST_DAY}")
        return due

    def provisional_mask(self, start: np.ndarray, due: np.ndarray) -> np.ndarray:
        start = np.asarray(start, dtype=np.int64)
        lo = np.where(start > 0, self.cum_unofficial[np.maximum(start - 1, 0)], 0)
        return (self.cum_unofficial[due] - lo) > 0

    # --- one clock with pauses ------------------------------------------------------------
    def compute(self, start: date, limit: int, unit: str = WORKING, pauses=(), extension: int = 0,
                warn_days: int = 2, warn_share: float = 0.2, warn_max_share: float = 1.0) -> Result:
        """Due and warning day of one day-unit clock.

        1. Merge the pauses into disjoint index ranges after the start day.
        2. Walk from the start day: count days up to each pause, skip the pause, until the
           limit (plus extensions) is used up; an open pause reached first holds the clock.
        3. In calendar mode, roll a non-working last day to the next working day.
        4. The warning falls where `warning_remaining(limit, …)` days remain.
        """
        if unit not in (WORKING, CALENDAR):
            raise ValueError(f"unit must be {WORKING} or {CALENDAR}, not {unit!r}")
        if limit < 0 or extension < 0:
            raise ValueError("limit and extension must not be negative")
        s = day_index(start)
        merged = self._merge_pauses(s, pauses)
        total = limit + extension
        held: list[int] = []
        due = self._walk(s, total, unit, merged, roll=False, held=held)
        rolled_from = None
        if unit == CALENDAR and due is not None and not self.working[due]:
            rolled_from, due = due, int(self.next_working[due])
        remaining_at_warning = warning_remaining(limit, warn_days, warn_share, warn_max_share)
        warn = self._walk(s, max(total - remaining_at_warning, 0), unit, merged, roll=False)
        ranges = [(a, b) for a, b, _g in merged]
        last_used = due if due is not None else (ranges[-1][0] - 1 if ranges else s)
        provisional = self._provisional(s, max(last_used, s))
        return Result(due, warn, provisional, s, ranges, rolled_from, held[0] if held else None)

    def _merge_pauses(self, s: int, pauses) -> list[tuple[int, int | None, int]]:
        """Disjoint (first, last, began) index ranges after the start day; `began` is the day the
        (first of the merged) pause began, at most `first`."""
        merged: list[list] = []
        for p in sorted(pauses, key=lambda p: p.first):
            a = max(day_index(p.first), s + 1)
            b = day_index(p.last) if p.last is not None else None
            if b is not None and b < a:
                continue  # the pause lies wholly on or before the start day
            g = min(day_index(p.began), a) if p.began is not None else a
            if merged and (merged[-1][1] is None or a <= merged[-1][1] + 1):
                if merged[-1][1] is not None:
                    merged[-1][1] = None if b is None else max(merged[-1][1], b)
                continue
            merged.append([a, b, g])
        return [(a, b, g) for a, b, g in merged]

    def _walk(self, s: int, n: int, unit: str, ranges, roll: bool = True, held: list | None = None) -> int | None:
        add = self._add_working if unit == WORKING else self._add_calendar
        cursor, remaining, crossed = s, n, False
        for a, b, g in ranges:
            before = int(self.cum[a - 1] - self.cum[cursor]) if unit == WORKING else (a - 1 - cursor)
            if remaining <= before:
                # The count runs out before the pause; it still holds the clock if it began on or before
                # the last day (in calendar mode: the last day as rolled to a working day).
                last = add(cursor, remaining)
                if unit == CALENDAR:
                    last = int(self.next_working[last])
                if g > last:
                    break
                remaining = 0
                if held is not None:
                    held.append(g)
            else:
                remaining -= before
            if b is None:
                return None
            cursor, crossed = b, True
        if crossed and remaining == 0 and unit == WORKING:
            # What was left of the last day: the rest of the resumption day, or of the next working day.
            return int(self.next_working[cursor])
        due = add(cursor, remaining)
        if unit == CALENDAR and roll:
            due = int(self.next_working[due])
        return due

    # --- description ----------------------------------------------------------------------
    def non_working_runs(self, a: int, b: int) -> list[tuple[int, int, str]]:
        """Runs of named non-working days (holidays) in [a, b], for explanations."""
        runs: list[list] = []
        for i in range(a, b + 1):
            name = self.names.get(i)
            if self.working[i] or not name:
                continue
            if runs and runs[-1][1] == i - 1 and runs[-1][2] == name:
                runs[-1][1] = i
            else:
                runs.append([i, i, name])
        # A holiday run usually swallows the weekend beside it; show the whole break.
        return [(x, y, n) for x, y, n in runs]

    def unofficial_years(self, a: int, b: int) -> list[int]:
        """The years with days in [a, b] that are not loaded from an official notice."""
        return [y for y in range(index_day(a).year, index_day(b).year + 1)
                if not self.official[day_index(max(date(y, 1, 1), index_day(a)))]]

    def makeup_days(self, a: int, b: int) -> list[int]:
        """Make-up working days (working Saturdays and Sundays) in [a, b]."""
        return [i for i in range(a, b + 1) if self.working[i] and (i + FIRST_DAY.weekday()) % 7 >= 5]


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """24:00 of `d`, i.e. the first instant of the next day, as an aware datetime."""
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz)


def add_hours(start: datetime, hours: int, pauses: list[tuple[datetime, datetime | None]] = ()) -> datetime | None:
    """`hours` of clock time after `start`, not counting paused intervals."""
    due = start + timedelta(hours=hours)
    for a, b in sorted(pauses, key=lambda p: p[0]):
        if a >= due:
            break
        if b is None:
            return None
        a = max(a, start)
        if b > a:
            due += b - a
    return due
