"""Indicators on known data, the weighted total, lineage and recomputation."""
from decimal import Decimal as D

import pytest

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.indicators import module
from xiaoneng.appraisal.models import Indicator, Result, ResultLine
from xiaoneng.approvals import actions as approvals
from xiaoneng.supervision.engine import raise_findings
from xiaoneng.supervision.models import Level
from xiaoneng.supervision.rules import Finding

from .conftest import at


def line(land, organ, code) -> ResultLine:
    return ResultLine.objects.get(result__period=land.period, result__organ=organ, indicator__code=code)


def closed_and_computed(land, when="2027-01-05T09:00"):
    actions.do_close_period(land.period, at=at(when))
    return actions.do_compute_period(land.period, at=at(when))


@pytest.fixture
def clocks(land):
    w = land.w
    c = type("Clocks", (), {})()
    # On time only because the National Day holidays move the deadline to the end of 30 October.
    c.holiday = land.promise(w.tianhe_bureau, "2026-09-28T10:00", 20, stop="2026-10-30T15:00")
    c.late = land.promise(w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    c.open = land.promise(w.tianhe_bureau, "2026-11-02T09:00", 5)  # never decided: open and overdue
    c.next_year = land.promise(w.tianhe_bureau, "2026-12-28T09:00", 10)  # due in 2027: not this period
    c.yuexiu = land.promise(w.yuexiu_bureau, "2026-05-06T09:00", 10, stop="2026-05-08T09:00")
    return c


def test_on_time_rate_counts_open_overdue_cases_as_late_and_respects_holidays(land, clocks):
    assert clocks.holiday.due_at == at("2026-10-31T00:00")
    closed_and_computed(land)
    th = line(land, land.w.tianhe_bureau, "1.1")
    assert (th.numerator, th.denominator) == (1, 3)
    assert th.value == D("33.3333")
    assert "准时办结率 33.3% = 1 / 3 件，其中 1 件逾期未办结" in th.formula
    assert th.score == D("0.00")  # below the 80 % threshold
    yx = line(land, land.w.yuexiu_bureau, "1.1")
    assert (yx.numerator, yx.denominator, yx.score) == (1, 1, D("100.00"))


def test_the_lineage_of_a_score_lists_exactly_the_records_it_counts(land, clocks):
    closed_and_computed(land)
    th = line(land, land.w.tianhe_bureau, "1.1")
    query = dict(th.query)
    records = list(module(query.pop("source")).records(query))
    assert {c.pk for c in records} == {clocks.holiday.pk, clocks.late.pk, clocks.open.pk}
    assert {c.pk for c in module("on_time").records(query, part="late")} == {clocks.late.pk, clocks.open.pk}


def test_recomputing_a_closed_period_gives_identical_numbers(land, clocks):
    closed_and_computed(land)
    first = list(ResultLine.objects.filter(result__period=land.period).order_by("pk").values())
    totals = list(Result.objects.filter(period=land.period).order_by("pk").values("pk", "total", "rank", "grade"))
    # A case decided after the period ended changes nothing in the closed period.
    from xiaoneng.clocks import actions as clock_actions

    clock_actions.do_stop_clock(clocks.open, at=at("2027-01-06T10:00"))
    actions.do_compute_period(land.period, at=at("2027-01-07T09:00"))
    assert list(ResultLine.objects.filter(result__period=land.period).order_by("pk").values()) == first
    assert list(Result.objects.filter(period=land.period).order_by("pk").values("pk", "total", "rank", "grade")) == totals


def test_cards_count_per_hundred_cases_received(land, matters):
    w = land.w
    for n in range(4):
        approvals.do_submit_case(matter=matters.licence, case_no=f"TH-{n}", applicant_name="张三",
                                 received_at=at("2026-04-01T10:00"))
    case = approvals.do_submit_case(matter=matters.licence, case_no="TH-OLD", applicant_name="李四",
                                    received_at=at("2025-12-30T10:00"))[0]
    raise_findings([
        Finding(rule="test", level=Level.YELLOW, organ=w.tianhe_bureau, subject=case, message="黄牌", key="a",
                at=at("2026-06-01T10:00")),
        Finding(rule="test", level=Level.WARNING, organ=w.tianhe_bureau, subject=case, message="预警", key="b",
                at=at("2026-06-01T10:00")),
    ])
    closed_and_computed(land)
    th = line(land, w.tianhe_bureau, "1.2")
    assert (th.numerator, th.denominator, th.value) == (1, 4, D("25.0000"))
    assert th.score == D("0.00")  # 25 cards per 100 cases, worse than the threshold of 10
    yx = line(land, w.yuexiu_bureau, "1.2")
    assert yx.value is None and yx.score == D("100.00")  # no cases, no cards: nothing held against it


def test_accountability_counts_the_measures_decided_in_the_period(land, acct):
    acct.decided(when="2026-03-02T10:00", measure="warning")
    acct.decided(when="2025-11-02T10:00", measure="warning", number="天效问〔2025〕1号")
    closed_and_computed(land)
    th = line(land, land.w.tianhe_bureau, "2.2")
    assert th.value == D("1") and th.score == D("90.00")
    query = dict(th.query)
    assert len(module(query.pop("source")).records(query)) == 1


def test_a_manual_value_needs_evidence_and_scores_its_attainment(land):
    goal = Indicator.objects.get(scheme=land.scheme, code="2.3")
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_enter_manual_value(land.period, indicator=goal, organ=land.w.tianhe_bureau, value=80, evidence=" ")
    assert err.value.field == "evidence"
    actions.do_enter_manual_value(land.period, indicator=goal, organ=land.w.tianhe_bureau, value=80,
                                  evidence="年度目标考核表（盖章）", at=at("2026-12-20T10:00"))
    closed_and_computed(land)
    assert line(land, land.w.tianhe_bureau, "2.3").score == D("80.00")


def test_the_total_weighs_each_leaf_by_the_weights_on_its_path_and_ranks_the_class(land, clocks):
    closed_and_computed(land)
    th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    # 天河: on time 0 × 42 % + cards (no cases) 100 × 18 % + complaints 100 × 20 % + accountability 100 × 10 %
    # + annual goal not entered 0 × 10 %; 越秀 the same with on time 100 × 42 %.
    assert th.total == D("48.00") and th.grade == "poor"
    assert yx.total == D("90.00") and yx.grade == "excellent"
    assert "未填报" in line(land, land.w.tianhe_bureau, "2.3").formula
    assert (yx.rank, th.rank) == (1, 2)
    assert sum(ln.weighted for ln in th.lines.all()) == th.total


def test_it_refuses_to_close_a_period_before_it_ends(land):
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_close_period(land.period, at=at("2026-12-31T18:00"))
    assert "2026-12-31" in err.value.message


def test_the_formula_is_stored_in_chinese_whoever_computes(land, clocks):
    from django.utils import translation

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    with translation.override("en"):
        actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    assert line(land, land.w.tianhe_bureau, "1.1").formula.startswith("准时办结率 33.3%")
