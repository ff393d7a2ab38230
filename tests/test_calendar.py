"""The working-day calendar: notice import, manual edits, recomputation, warnings."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from xiaoneng.audit.models import AuditEntry
from xiaoneng.calendar import actions, engine, status
from xiaoneng.calendar.models import CalendarDay, CalendarYear
from xiaoneng.calendar.sources import NoticeError, parse_notice
from xiaoneng.clocks import actions as clock_actions

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db

NOTICE_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知（示例）
year: 2027
source: 国办发明电〔2026〕示例号
holiday: 2027-01-01..2027-01-03 元旦
holiday: 2027-02-06..2027-02-13 春节
workday: 2027-02-20 春节调休
""".encode()


def test_every_year_the_package_knows_is_loaded_with_make_up_days():
    assert CalendarYear.objects.filter(year__in=range(2004, 2027)).count() == 23
    makeup = CalendarDay.objects.get(date=date(2026, 10, 10))
    assert makeup.is_working and makeup.kind == "makeup" and "国庆节" in makeup.name
    holiday = CalendarDay.objects.get(date=date(2026, 10, 1))
    assert not holiday.is_working and holiday.kind == "holiday" and holiday.name == "国庆节"


def test_importing_a_notice_loads_the_year_and_makes_it_official():
    outcome = actions.do_import_notice(NOTICE_2027)
    assert outcome.years == [2027]
    cal = engine.current()
    assert cal.is_official(date(2027, 3, 1))
    assert not cal.is_working(date(2027, 2, 8))  # Monday in the Spring Festival break
    assert cal.is_working(date(2027, 2, 20))  # make-up Saturday


def test_importing_the_same_notice_twice_changes_nothing_the_second_time():
    actions.do_import_notice(NOTICE_2027)
    entries = AuditEntry.objects.count()
    outcome = actions.do_import_notice(NOTICE_2027)
    assert outcome.changed == [] and AuditEntry.objects.count() == entries


@pytest.mark.parametrize(
    "text, fragment",
    [
        (b"year: 2027\nholiday: 2027-02-30 x\n", "2027-02-30"),
        (b"year: 2027\nworkday: 2027-02-17 x\n", "2027-02-17"),
        (b"year: 2027\nholiday: 2027-03-05..2027-03-01 x\n", "结束"),
        (b"year: 2027\nholiday: 2028-01-01 x\n", "2028-01-01"),
        (b"holiday: 2027-01-01 x\n", "year"),
        (b"year: 2027\nnonsense\n", "nonsense"),
        ("year: 2027\nholiday: 2027-01-01 元旦\n".encode("gbk"), "UTF-8"),
        (b"year: 2027\nholiday: 2027-02-20 x\nworkday: 2027-02-20 y\n", "2027-02-20"),
    ],
)
def test_a_bad_notice_is_rejected_with_the_line_and_nothing_is_loaded(text, fragment):
    with pytest.raises(NoticeError) as info:
        parse_notice(text)
    assert any(fragment in e for e in info.value.errors), info.value.errors
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_import_command_reports_errors_and_exits_non_zero(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"year: 2027\nholiday: 2027-13-01 x\n")
    with pytest.raises(CommandError, match="未导入任何内容"):
        call_command("calendar", "import", str(bad))


def test_a_changed_day_recomputes_the_clocks_that_span_it(world):
    clock = clock_actions.do_start_clock(
        kind="test", start_at=datetime(2026, 11, 2, 9, tzinfo=SH), limit=5, organ=world.tianhe_bureau
    )
    assert clock.due_at == datetime(2026, 11, 10, tzinfo=SH)  # due 11-09
    outcome = actions.do_set_day(date(2026, 11, 4), is_working=False, name="台风停工", reason="省政府决定")
    assert outcome.clocks_recomputed == 1
    clock.refresh_from_db()
    assert clock.due_at == datetime(2026, 11, 11, tzinfo=SH)
    entry = AuditEntry.objects.filter(action="calendar.set_day").latest("id")
    assert entry.changes["days"] == [["2026-11-04", "holiday", "台风停工"]]


def test_a_manual_change_needs_a_reason():
    with pytest.raises(ValueError):
        actions.do_set_day(date(2026, 11, 4), is_working=False, reason=" ")


def test_a_clock_reaching_into_an_unloaded_year_becomes_official_when_the_year_is_loaded(world):
    clock = clock_actions.do_start_clock(
        kind="test", start_at=datetime(2026, 12, 28, 9, tzinfo=SH), limit=30, organ=world.tianhe_bureau
    )
    assert clock.provisional is True
    actions.do_import_notice(NOTICE_2027)
    clock.refresh_from_db()
    assert clock.provisional is False


def test_supervisors_are_warned_from_november_when_next_year_is_missing(world):
    assert status.next_year_warning(world.province_supervisor, today=date(2026, 11, 27)) is not None
    assert status.next_year_warning(world.province_supervisor, today=date(2026, 10, 31)) is None
    assert status.next_year_warning(world.county_handler, today=date(2026, 11, 27)) is None
    actions.do_import_notice(NOTICE_2027)
    assert status.next_year_warning(world.province_supervisor, today=date(2026, 11, 27)) is None


# --- years whose official arrangement is not out yet -------------------------------------------
def test_a_year_not_loaded_keeps_the_holidays_the_law_fixes():
    from xiaoneng.calendar.sources import statutory_holidays

    assert not CalendarYear.objects.filter(year=2027).exists()
    cal = engine.current()
    days = statutory_holidays(2027)
    # 全国年节及纪念日放假办法 (2024): 1 + 4 + 1 + 2 + 1 + 1 + 3 days; 2027's lunar new year is 6 February.
    assert len(days) == 13
    assert days[date(2027, 1, 1)] == "元旦" and days[date(2027, 10, 3)] == "国庆节"
    assert [d for d, name in sorted(days.items()) if name == "春节"] == [
        date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]
    for d in days:
        assert not cal.is_working(d), d
        assert not cal.is_official(d)
    assert not cal.is_working(date(2027, 1, 1))  # a Friday
    assert cal.is_working(date(2027, 1, 4))  # the weekend rule still holds around them


@pytest.mark.parametrize("year", range(2004, 2027))
def test_the_computed_statutory_days_are_days_off_in_every_official_arrangement(year):
    """The lunar dates and the Qingming term, checked against what the State Council announced."""
    from xiaoneng.calendar.sources import statutory_holidays

    days = statutory_holidays(year)
    official = dict(CalendarDay.objects.filter(date__in=list(days)).values_list("date", "is_working"))
    assert len(official) == len(days)
    assert [d for d in days if official[d]] == []
    if year >= 2025:  # the 2024 amendment: Spring Festival 4 days, Labour Day 2
        assert len(days) == 13
        official_holidays = set(CalendarDay.objects.filter(date__year=year, kind="holiday").values_list("date", flat=True))
        assert set(days) <= official_holidays


def test_loading_the_notice_replaces_the_statutory_estimate():
    actions.do_import_notice(NOTICE_2027)
    cal = engine.current()
    assert cal.is_official(date(2027, 2, 5))
    # The law's estimate had the eve (02-05) and Qingming (04-05) off; the sample notice does not: it rules.
    assert cal.is_working(date(2027, 2, 5)) and cal.is_working(date(2027, 4, 5))
    assert not cal.is_working(date(2027, 2, 8))


def test_the_upgrade_moves_open_clocks_computed_by_the_weekend_rule_alone(world):
    import importlib

    from django.apps import apps as registry

    from xiaoneng.clocks.models import Clock

    migration = importlib.import_module(
        "xiaoneng.calendar.migrations.0003_recompute_provisional_clocks_with_statutory_holidays")
    clock = clock_actions.do_start_clock(
        kind="test", start_at=datetime(2026, 12, 28, 9, tzinfo=SH), limit=5, organ=world.tianhe_bureau
    )
    assert clock.due_at == datetime(2027, 1, 6, tzinfo=SH)  # due 2027-01-05: New Year's Day not counted
    Clock.objects.filter(pk=clock.pk).update(due_at=datetime(2027, 1, 5, tzinfo=SH))  # as stored before
    migration.recompute(registry, None)
    clock.refresh_from_db()
    assert clock.due_at == datetime(2027, 1, 6, tzinfo=SH) and clock.provisional


def test_the_calendar_page_shows_a_year_not_loaded_with_its_statutory_holidays(world, login):
    html = login(world.admin).get("/calendar/", {"year": 2027}).content.decode()
    assert "按法定节假日推算" in html and "调休未计入" in html
    assert 'title="元旦"' in html and html.count("· 春节") == 4
