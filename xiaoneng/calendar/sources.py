"""Where calendar days come from: the `chinesecalendar` package and the notice file.

Notice file format (UTF-8, one statement a line, `#` starts a comment):

    year: 2027
    source: 国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕X号）
    holiday: 2027-01-01..2027-01-03 元旦
    holiday: 2027-02-05..2027-02-13 春节
    workday: 2027-02-14 春节调休

Every day of the year not named follows the weekend rule. `holiday` lines make days
non-working (a range is inclusive), `workday` lines make a Saturday or Sunday a
make-up working day.
"""
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from django.utils.translation import gettext as _


def gettext_noop(message: str) -> str:
    """Marks a string for makemessages without needing Django settings at import time."""
    return message

# chinesecalendar names holidays in English; the calendar shows the official names.
# The names are stored in Chinese and translated when shown (gettext_noop marks them).
HOLIDAY_NAMES_ZH = {
    "New Year's Day": gettext_noop("元旦"),
    "Spring Festival": gettext_noop("春节"),
    "Tomb-sweeping Day": gettext_noop("清明节"),
    "Labour Day": gettext_noop("劳动节"),
    "Dragon Boat Festival": gettext_noop("端午节"),
    "Mid-autumn Festival": gettext_noop("中秋节"),
    "National Day": gettext_noop("国庆节"),
    "Anti-Fascist 70th Day": gettext_noop("中国人民抗日战争胜利70周年纪念日"),
}


@dataclass(frozen=True)
class Day:
    date: date
    is_working: bool
    kind: str
    name: str


def year_days(year: int, holidays: dict[date, str], makeups: dict[date, str]) -> list[Day]:
    """Every day of `year`: named holidays off, make-up days on, the rest by the weekend rule."""
    days = []
    d = date(year, 1, 1)
    while d.year == year:
        if d in holidays:
            days.append(Day(d, False, "holiday", holidays[d]))
        elif d in makeups:
            days.append(Day(d, True, "makeup", makeups[d]))
        elif d.weekday() >= 5:
            days.append(Day(d, False, "weekend", ""))
        else:
            days.append(Day(d, True, "workday", ""))
        d += timedelta(days=1)
    return days


def package_years() -> dict[int, list[Day]]:
    """Every complete year the installed `chinesecalendar` knows, day by day."""
    from chinese_calendar.constants import holidays, workdays

    first = min(holidays).year
    last = max(holidays).year
    years = {}
    for year in range(first, last + 1):
        hol = {d: HOLIDAY_NAMES_ZH.get(n, n) for d, n in holidays.items() if d.year == year}
        mk = {d: f"{HOLIDAY_NAMES_ZH.get(n, n)}调休" for d, n in workdays.items() if d.year == year}
        years[year] = year_days(year, hol, mk)
    return years


# 全国年节及纪念日放假办法: the days off everyone gets, as (first year in force, Spring Festival days
# from the lunar new year's eve (-1) or day (0), how many, Labour Day days, whether Qingming, Dragon Boat
# and Mid-Autumn are holidays). Versions of 1999, 2007, 2013 and 2024 (in force from 2025-01-01).
STATUTORY_VERSIONS = (
    (2025, -1, 4, 2, True),
    (2014, 0, 3, 1, True),
    (2008, -1, 3, 1, True),
    (2000, 0, 3, 3, False),
)


def _lunar(year: int, month: int, day: int) -> date:
    from lunar_python import Lunar

    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@cache
def _statutory(year: int) -> tuple[tuple[date, str], ...]:
    first_year, sf_from, sf_days, labour_days, traditional = next(v for v in STATUTORY_VERSIONS if year >= v[0])
    days = [(date(year, 1, 1), HOLIDAY_NAMES_ZH["New Year's Day"])]
    new_year = _lunar(year, 1, 1)  # always in January or February of the same year, and so is its eve
    days += [(new_year + timedelta(days=i), HOLIDAY_NAMES_ZH["Spring Festival"]) for i in range(sf_from, sf_from + sf_days)]
    if traditional:
        from lunar_python import Solar

        qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
        days.append((date(qingming.getYear(), qingming.getMonth(), qingming.getDay()), HOLIDAY_NAMES_ZH["Tomb-sweeping Day"]))
        days.append((_lunar(year, 5, 5), HOLIDAY_NAMES_ZH["Dragon Boat Festival"]))
        days.append((_lunar(year, 8, 15), HOLIDAY_NAMES_ZH["Mid-autumn Festival"]))
    days += [(date(year, 5, 1 + i), HOLIDAY_NAMES_ZH["Labour Day"]) for i in range(labour_days)]
    days += [(date(year, 10, 1 + i), HOLIDAY_NAMES_ZH["National Day"]) for i in range(3)]
    return tuple(sorted(days))


def statutory_holidays(year: int) -> dict[date, str]:
    """The days off the law itself fixes in `year` (2000 on), lunar dates and the Qingming term computed.

    The State Council's notice for a year adds make-up working days (调休), bridges and days in lieu of
    holidays that fall on a weekend (补假); none of those is known before it is published. So a year not
    loaded yet counts these days as holidays and every other day by the weekend rule, and stays provisional.
    When two fall on one day (Mid-Autumn on 1 October) the day is simply off.
    """
    if year < STATUTORY_VERSIONS[-1][0]:
        raise ValueError(f"no statutory holiday rules before {STATUTORY_VERSIONS[-1][0]}")
    return dict(_statutory(year))


def statutory_days(year: int) -> list[Day]:
    """Every day of a year not loaded: the statutory holidays off, the rest by the weekend rule."""
    return year_days(year, statutory_holidays(year), {})


class NoticeError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class Notice:
    year: int
    source: str
    days: list[Day]


def _parse_date(text: str, lineno: int, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors.append(_("第%(line)d行：日期“%(text)s”无效，应为 YYYY-MM-DD") % {"line": lineno, "text": text.strip()})
        return None


def parse_notice(raw: bytes) -> Notice:
    """Parse a notice file; raise NoticeError listing every bad line (nothing is applied)."""
    errors: list[str] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoticeError([_("文件不是 UTF-8 编码（第%(pos)d字节出错），请另存为 UTF-8 后重试") % {"pos": exc.start + 1}]) from exc
    year = None
    source = ""
    holidays: dict[date, str] = {}
    makeups: dict[date, str] = {}
    pending: list[tuple[int, str, date, date, str]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            key, sep, value = line.partition("：")
        key, value = key.strip().lower(), value.strip()
        if not sep or key not in {"year", "source", "holiday", "workday"}:
            errors.append(_("第%(line)d行：无法识别“%(text)s”，应为 year:、source:、holiday: 或 workday:") % {"line": lineno, "text": line})
            continue
        if key == "year":
            if not value.isdigit() or not 2000 <= int(value) <= 2060:
                errors.append(_("第%(line)d行：年份“%(text)s”无效") % {"line": lineno, "text": value})
            else:
                year = int(value)
            continue
        if key == "source":
            source = value[:200]
            continue
        span, _sp, name = value.partition(" ")
        first_text, _dots, last_text = span.partition("..")
        first = _parse_date(first_text, lineno, errors)
        last = _parse_date(last_text, lineno, errors) if last_text else first
        if first is None or last is None:
            continue
        if last < first:
            errors.append(_("第%(line)d行：结束日期早于开始日期") % {"line": lineno})
            continue
        pending.append((lineno, key, first, last, name.strip()))
    if year is None and not errors:
        errors.append(_("缺少 year: 行"))
    for lineno, key, first, last, name in pending:
        d = first
        while d <= last:
            if year is not None and d.year != year:
                errors.append(_("第%(line)d行：%(date)s 不在 %(year)d 年内") % {"line": lineno, "date": d, "year": year})
                break
            if key == "holiday":
                if d in makeups:
                    errors.append(_("第%(line)d行：%(date)s 同时被列为放假和调休上班") % {"line": lineno, "date": d})
                holidays[d] = name or _("法定节假日")
            else:
                if d.weekday() < 5:
                    errors.append(_("第%(line)d行：%(date)s 是工作日，调休上班只能是周六或周日") % {"line": lineno, "date": d})
                if d in holidays:
                    errors.append(_("第%(line)d行：%(date)s 同时被列为放假和调休上班") % {"line": lineno, "date": d})
                makeups[d] = name or _("调休上班")
            d += timedelta(days=1)
    if errors:
        raise NoticeError(errors)
    return Notice(year, source or _("国务院办公厅节假日安排通知 %(year)d") % {"year": year}, year_days(year, holidays, makeups))
