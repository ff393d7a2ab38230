"""The deadline calculator against the official calendars and the law's counting rules."""
import json
import os
import subprocess
import sys
from datetime import date, timedelta

import chinese_calendar
import pytest
from django.core.management import call_command

from xiaoneng.calendar import engine as calendar_engine

pytestmark = pytest.mark.django_db


def reference_due(start: date, n: int) -> date | None:
    """Count by hand, one day at a time, with the chinesecalendar package as the oracle."""
    d, counted = start, 0
    while counted < n:
        d += timedelta(days=1)
        if d.year > 2026:
            return None
        if chinese_calendar.is_workday(d):
            counted += 1
    return d


def deadline(*args) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("deadline", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_it_agrees_with_the_official_calendars_of_2024_to_2026_for_every_start_day():
    cal = calendar_engine.current()
    start = date(2024, 1, 1)
    mismatches = []
    while start <= date(2026, 11, 30):
        for n in (1, 3, 5, 10, 15, 20, 30):
            due = reference_due(start, n)
            if due is None:
                continue
            got = cal.add_working_days(start, n)
            if got != due:
                mismatches.append((start, n, got, due))
        start += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize(
    "start, days, due",
    [
        # 2024 Spring Festival: 02-10..02-17 off; Sunday 02-04 and Sunday 02-18 are make-up working days.
        ("2024-02-02", 2, "2024-02-05"),  # Sat 02-03 no, Sun 02-04 yes, Mon 02-05 yes
        ("2024-02-08", 2, "2024-02-18"),  # Fri 02-09 yes, then the break, Sun 02-18 works
        # 2025 National Day: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 work.
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-09-30", 1, "2025-10-09"),
        ("2025-10-09", 2, "2025-10-11"),
        # 2026 National Day: 10-01..10-07 off; Sunday 09-20 and Saturday 10-10 work.
        ("2026-09-28", 20, "2026-10-30"),
        ("2026-09-19", 1, "2026-09-20"),
    ],
)
def test_it_counts_make_up_weekends_and_skips_holidays(start, days, due):
    assert deadline("--start", start, "--days", str(days))["due_date"] == due


def test_the_start_day_is_not_counted_and_the_deadline_is_midnight_after_the_last_day():
    result = deadline("--start", "2026-11-02", "--days", "1")
    assert result["due_date"] == "2026-11-03"
    assert result["due_at"] == "2026-11-04T00:00:00+08:00"
    assert result["working_days_counted"] == 1


def test_a_pause_stops_the_clock_on_its_dates():
    plain = deadline("--start", "2026-09-28", "--days", "20")
    paused = deadline("--start", "2026-09-28", "--days", "20", "--pause", "2026-10-12:2026-10-14")
    assert plain["due_date"] == "2026-10-30"
    assert paused["due_date"] == "2026-11-04"  # three working days later
    assert "10-12" in paused["explanation"] and "10-14" in paused["explanation"]


def test_a_pause_over_a_holiday_does_not_cost_working_days_twice():
    # 10-01..10-07 are holidays anyway: pausing over them moves nothing.
    assert deadline("--start", "2026-09-28", "--days", "20", "--pause", "2026-10-02:2026-10-06")["due_date"] == "2026-10-30"


def test_overlapping_and_repeated_pauses_are_merged():
    once = deadline("--start", "2026-09-28", "--days", "20", "--pause", "2026-10-12:2026-10-16")
    twice = deadline(
        "--start", "2026-09-28", "--days", "20", "--pause", "2026-10-12:2026-10-14", "--pause", "2026-10-13:2026-10-16"
    )
    assert once["due_date"] == twice["due_date"] == "2026-11-06"


def test_an_extension_adds_working_days_after_the_original_limit():
    assert deadline("--start", "2026-09-28", "--days", "20", "--extend", "10")["due_date"] == "2026-11-13"


def test_in_calendar_mode_a_last_day_off_moves_to_the_next_working_day():
    # 5 calendar days from Saturday 09-26 end on Thursday 10-01, a holiday: the period ends on 10-08.
    result = deadline("--start", "2026-09-26", "--days", "5", "--unit", "calendar")
    assert result["due_date"] == "2026-10-08"
    assert "203" in result["explanation"] or "二百零三" in result["explanation"]


def test_in_calendar_mode_a_working_last_day_stays():
    assert deadline("--start", "2026-09-25", "--days", "5", "--unit", "calendar")["due_date"] == "2026-09-30"


def test_a_date_outside_the_loaded_years_is_provisional():
    result = deadline("--start", "2026-12-20", "--days", "30")
    assert result["provisional"] is True
    assert deadline("--start", "2026-11-02", "--days", "20")["provisional"] is False


def test_the_explanation_names_the_holiday_and_the_make_up_day():
    text = deadline("--start", "2026-09-28", "--days", "20")["explanation"]
    assert "国庆节" in text and "10-10" in text and "2026-10-30 24:00" in text


def run_cli(tmp_path, *args):
    env = {**os.environ, "XIAONENG_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "xiaoneng", "deadline", *args], capture_output=True, text=True, timeout=60, env=env
    )


@pytest.mark.parametrize(
    "args, field",
    [
        (["--start", "2026-02-30", "--days", "5"], "start"),
        (["--start", "2026-02-03", "--days", "-1"], "days"),
        (["--start", "2026-02-03", "--days", "five"], "days"),
        (["--start", "2026-02-03", "--days", "5", "--pause", "2026-02-10:2026-02-05"], "pause"),
        (["--start", "2026-02-03", "--days", "5", "--pause", "2026-01-10:2026-01-12"], "pause"),
        (["--start", "2026-02-03", "--days", "5", "--pause", "2026-02-10"], "pause"),
        (["--start", "2026-02-03", "--days", "5", "--unit", "fortnights"], "unit"),
        (["--start", "2026-02-03", "--days", "5", "--extend", "x"], "extend"),
        (["--start", "2026-02-03"], "--days"),
    ],
)
def test_bad_arguments_exit_non_zero_with_one_line_and_no_traceback(args, field, tmp_path):
    result = run_cli(tmp_path, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert field in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_period_into_a_year_not_yet_announced_skips_its_statutory_holidays_and_says_so():
    # From Monday 2026-12-28: 12-29, 12-30, 12-31, then 2027-01-01 (New Year's Day, a Friday) is not
    # counted although 2027's arrangement is not loaded: 01-04 and 01-05 are the 4th and 5th days.
    result = deadline("--start", "2026-12-28", "--days", "5")
    assert result["due_date"] == "2027-01-05" and result["provisional"] is True
    text = result["explanation"]
    assert "元旦 01-01" in text
    assert "2027 年安排未公布：按法定节假日推算，调休未计入" in text
