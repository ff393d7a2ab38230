"""Quarterly interim results (阶段性结果): year to date, stored apart, no effect on the annual process."""
from decimal import Decimal as D

import pytest

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import InterimResult, Period, Result, ResultLine

from .conftest import at


@pytest.fixture
def year(land):
    w = land.w
    land.promise(w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")  # late, due in March
    land.promise(w.tianhe_bureau, "2026-09-28T10:00", 20, stop="2026-10-30T15:00")  # on time, due in October
    land.promise(w.yuexiu_bureau, "2026-05-06T09:00", 10, stop="2026-05-08T09:00")
    return land


def test_a_quarter_is_computed_over_the_year_to_date_without_closing_the_period(year):
    rows = actions.do_compute_interim(year.period, quarter=1, at=at("2026-04-02T09:00"))
    assert len(rows) == 2
    period = Period.objects.get(pk=year.period.pk)
    assert period.status == "open" and period.computed_at is None
    assert not Result.objects.exists() and not ResultLine.objects.exists()
    th = InterimResult.objects.get(period=period, quarter=1, organ=year.w.tianhe_bureau)
    assert (th.first_day.isoformat(), th.last_day.isoformat()) == ("2026-01-01", "2026-03-31")
    on_time = next(ln for ln in th.lines if ln["code"] == "1.1")
    assert on_time["formula"].startswith("准时办结率 0.0% = 0 / 1 件")
    actions.do_compute_interim(year.period, quarter=3, at=at("2026-10-08T09:00"))
    q3 = InterimResult.objects.get(period=period, quarter=3, organ=year.w.tianhe_bureau)
    assert q3.last_day.isoformat() == "2026-09-30"


def test_a_quarter_not_yet_ended_is_refused(year):
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_compute_interim(year.period, quarter=2, at=at("2026-06-30T18:00"))
    assert err.value.field == "quarter" and "2026-06-30" in err.value.message
    with pytest.raises(actions.AppraisalError):
        actions.do_compute_interim(year.period, quarter=5, at=at("2027-01-02T18:00"))
    assert not InterimResult.objects.exists()


def test_recomputing_a_quarter_replaces_its_rows(year):
    actions.do_compute_interim(year.period, quarter=1, at=at("2026-04-02T09:00"))
    actions.do_compute_interim(year.period, quarter=1, at=at("2026-04-03T09:00"))
    assert InterimResult.objects.filter(quarter=1).count() == 2


def annual(land):
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-06T09:00"))
    return sorted(Result.objects.filter(period=land.period).values_list("organ_id", "total", "rank", "grade"))


def test_interim_results_do_not_change_the_annual_process(year, django_db_blocker):
    for q, when in ((1, "2026-04-02T09:00"), (2, "2026-07-02T09:00"), (3, "2026-10-08T09:00")):
        actions.do_compute_interim(year.period, quarter=q, at=at(when))
    with_interim = annual(year)
    period = Period.objects.get(pk=year.period.pk)
    assert period.status == "provisional"
    # The same year computed without any interim result gives the same annual rows.
    interim = list(InterimResult.objects.values_list("pk", "total"))
    Result.objects.all().delete()
    InterimResult.objects.all().delete()
    Period.objects.filter(pk=period.pk).update(status="closed")
    actions.do_compute_period(period, at=at("2027-01-05T09:30"))
    assert sorted(Result.objects.filter(period=period).values_list("organ_id", "total", "rank", "grade")) == with_interim
    # Q4 is the whole year: its totals are the annual ones.
    actions.do_compute_interim(period, quarter=4, at=at("2027-01-08T09:00"))
    q4 = sorted(InterimResult.objects.filter(quarter=4).values_list("organ_id", "total", "rank", "grade"))
    assert q4 == with_interim
    assert interim and all(total is not None for _pk, total in interim)
    assert InterimResult.objects.get(quarter=4, organ=year.w.tianhe_bureau).total == D(
        str(Result.objects.get(period=period, organ=year.w.tianhe_bureau).total))
