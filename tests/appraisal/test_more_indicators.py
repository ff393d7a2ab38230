"""The six later platform indicators on known data: holidays move every deadline, and open overdue
records count as late (or, for handling time, with the days used so far)."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.indicators import module
from xiaoneng.appraisal.models import ResultLine
from xiaoneng.approvals import actions as cases
from xiaoneng.complaints import actions as complaints
from xiaoneng.complaints import ratings
from xiaoneng.complaints.identity import Identity
from xiaoneng.supervision import actions as supervision

from .conftest import at

Y0, Y1 = date(2026, 1, 1), date(2026, 12, 31)
RATER = Identity.of(name="李四", phone="13900001111")
GOOD = {"overall": 5, "efficiency": 5, "competence": 5, "attitude": 5}
BAD = {"overall": 1, "efficiency": 2, "competence": 2, "attitude": 1}


def raw(source, organ, first=Y0, last=Y1):
    return module(source).compute([organ.pk], first, last)[organ.pk]


def counted(source, organ, part="", first=Y0, last=Y1):
    return set(module(source).records({"organ": organ.pk, "from": first.isoformat(), "to": last.isoformat()},
                                      part).values_list("pk", flat=True))


@pytest.fixture
def handled(world, matters):
    """天河's licence cases (promise: 10 working days)."""
    c = type("Cases", (), {})()

    def case(no, start, decided=None):
        k, _code = cases.do_submit_case(matter=matters.licence, case_no=no, applicant_name="张三", received_at=at(start))
        k = cases.do_accept_case(k, at=at(start))
        return cases.do_decide_case(k, outcome="granted", at=at(decided)) if decided else k

    c.holiday = case("TH-1", "2026-09-28T10:00", "2026-10-09T10:00")  # 4 working days over National Day
    c.slow = case("TH-2", "2026-03-02T09:00", "2026-03-20T10:00")  # 14 working days
    c.open = case("TH-3", "2026-11-02T09:00")  # due 11-16, open at the year's end: 43 working days used
    c.young = case("TH-4", "2026-12-28T09:00")  # open, still within its limit: not counted yet
    c.last_year = case("TH-0", "2025-12-01T09:00", "2025-12-10T09:00")
    return c


def test_handling_time_averages_the_share_of_the_limit_used_in_working_days(world, handled):
    r = raw("handling_time", world.tianhe_bureau)
    # (4/10 + 14/10 + 43/10) / 3 = 2.0333…: the open overdue case counts with the days it has used so far.
    assert r.value == D("203.3333") and r.denominator == 3
    assert r.words == ("平均用时占时限 203.3%：3 件（本期办结 2 件，逾期未办结 1 件），"
                       "平均用时 20.3 个工作日，平均时限 10.0 个工作日")
    assert counted("handling_time", world.tianhe_bureau) == {handled.holiday.pk, handled.slow.pk, handled.open.pk}
    assert counted("handling_time", world.tianhe_bureau, "open") == {handled.open.pk}
    assert raw("handling_time", world.yuexiu_bureau).value is None


def test_handling_time_of_an_open_case_counts_only_up_to_the_periods_end(world, handled):
    # In the first half-year the open case is not due yet; only the slow case was decided.
    r = raw("handling_time", world.tianhe_bureau, last=date(2026, 6, 30))
    assert (r.value, r.denominator) == (D("140.0000"), 1)
    # Deciding the open case after the period changes nothing for the period.
    cases.do_decide_case(handled.open, outcome="granted", at=at("2027-01-04T10:00"))
    assert raw("handling_time", world.tianhe_bureau).value == D("203.3333")


@pytest.fixture
def orders(world):
    o = type("Orders", (), {})()

    def order(title, opened, closed=None, organ=None):
        x = supervision.do_open_order(organ=organ or world.tianhe_bureau, source="inspection", title=title,
                                      demand="限期整改", days=5, at=at(opened))
        if closed:
            supervision.do_report_order(x, text="已整改", at=at(closed))
            x = supervision.do_verify_order(x, accepted=True, note="核实", at=at(closed))
        return x

    o.holiday = order("国庆前督办", "2026-09-28T10:00", "2026-10-10T09:00")  # due 10-10 24:00: on time
    o.late = order("三月督办", "2026-03-02T09:00", "2026-03-20T09:00")
    o.open = order("十二月督办", "2026-12-01T09:00")  # due 12-08, never closed
    o.next_year = order("年末督办", "2026-12-29T09:00")  # due in 2027
    return o


def test_orders_closed_on_time_count_open_overdue_orders_as_late(world, orders):
    assert orders.holiday.clock.due_at == at("2026-10-11T00:00")
    r = raw("orders", world.tianhe_bureau)
    assert (r.numerator, r.denominator, r.value) == (1, 3, D("33.3333"))
    assert r.words == "督办按期办结率 33.3% = 1 / 3 件，其中 1 件逾期未办结"
    assert counted("orders", world.tianhe_bureau) == {orders.holiday.pk, orders.late.pk, orders.open.pk}
    assert counted("orders", world.tianhe_bureau, "late") == {orders.late.pk, orders.open.pk}
    assert raw("orders", world.yuexiu_bureau).value is None


@pytest.fixture
def rated(world):
    r = type("Ratings", (), {})()

    def rate(when, scores, rater=RATER, organ=None):
        return ratings.do_rate_service(kind="offline", organ=organ or world.tianhe_bureau, scores=scores,
                                       window="3号窗口", rater=rater, rated_at=at(when))

    def rectify(rating, when):
        ratings.do_callback(rating, note="已回访", at=at(when))
        return ratings.do_report_rectification(rating, report="已整改", at=at(when))

    r.good = rate("2026-04-01T10:00", GOOD)
    r.good2 = rate("2026-04-02T10:00", {**GOOD, "overall": 4})
    r.holiday = rectify(rate("2026-09-28T10:00", BAD), "2026-10-20T10:00")  # due 10-23 24:00 (15 working days)
    r.late = rectify(rate("2026-03-02T10:00", BAD), "2026-03-25T10:00")  # due 03-23 24:00
    r.open = rate("2026-12-01T10:00", BAD)  # due 12-22, never rectified
    r.anonymous = rate("2026-06-01T10:00", BAD, rater=None)  # no clock
    r.last_year = rate("2025-12-01T10:00", GOOD)
    return r


def test_satisfaction_is_the_share_of_good_ratings_given_in_the_period(world, rated):
    r = raw("satisfaction", world.tianhe_bureau)
    assert (r.numerator, r.denominator, r.value) == (2, 6, D("33.3333"))
    assert r.words == "好评率 33.3% = 好评 2 / 评价 6 条（差评 4 条）"
    assert len(counted("satisfaction", world.tianhe_bureau)) == 6
    assert counted("satisfaction", world.tianhe_bureau, "bad") == {
        rated.holiday.pk, rated.late.pk, rated.open.pk, rated.anonymous.pk}


def test_bad_reviews_rectified_on_time_respect_holidays_and_count_open_ones_as_late(world, rated):
    r = raw("rectification", world.tianhe_bureau)
    assert (r.numerator, r.denominator) == (1, 3)
    assert r.words == "差评按期整改率 33.3% = 1 / 3 条，其中 1 条逾期未整改"
    assert counted("rectification", world.tianhe_bureau) == {rated.holiday.pk, rated.late.pk, rated.open.pk}
    assert counted("rectification", world.tianhe_bureau, "late") == {rated.late.pk, rated.open.pk}


@pytest.fixture
def complained(desk, handled):
    w = desk.w
    c = type("Complaints", (), {})()
    filed = []

    def routed(when, channel="hotline", handled_at=None):
        filed.append(when)
        ref = f"12345-{len(filed)}" if channel == "hotline" else ""
        x, _secret = desk.file(channel=channel, source_ref=ref, title=f"投诉 {len(filed)}", received_at=at(when))
        complaints.do_accept(x, at=at(when))
        x = complaints.do_route(x, organ=w.tianhe_bureau, at=at(when))
        if handled_at:
            x = complaints.do_report_handling(x, report="已核查处理", result="unfounded", at=at(handled_at))
        return x

    c.holiday = routed("2026-09-28T10:00", handled_at="2026-10-10T09:00")  # 5 working days: due 10-10 24:00
    c.late = routed("2026-03-02T10:00", handled_at="2026-03-20T10:00")
    c.open = routed("2026-12-01T10:00")  # due 12-08, unanswered
    c.web = routed("2026-12-20T10:00", channel="web")  # 30 calendar days: due in 2027
    dup = routed("2026-12-02T10:00")
    c.merged = complaints.do_merge(dup, into=c.open, at=at("2026-12-02T11:00"))
    return c


def test_complaints_per_ten_thousand_cases_leave_out_merged_duplicates(world, complained):
    r = raw("complaint_rate", world.tianhe_bureau)
    # 4 complaints (the merged duplicate left out) ÷ 4 cases received in 2026 × 10,000.
    assert (r.numerator, r.denominator, r.value) == (4, 4, D("10000.0000"))
    assert counted("complaint_rate", world.tianhe_bureau) == {
        complained.holiday.pk, complained.late.pk, complained.open.pk, complained.web.pk}
    assert raw("complaint_rate", world.yuexiu_bureau).value is None  # no cases: no data


def test_complaints_handled_on_time_respect_holidays_and_count_unanswered_ones_as_late(world, complained):
    r = raw("complaint_on_time", world.tianhe_bureau)
    assert (r.numerator, r.denominator) == (1, 3)
    assert r.words == "投诉按期办结率 33.3% = 1 / 3 件，其中 1 件逾期未办结"
    assert counted("complaint_on_time", world.tianhe_bureau) == {
        complained.holiday.pk, complained.late.pk, complained.open.pk}
    assert counted("complaint_on_time", world.tianhe_bureau, "late") == {complained.late.pk, complained.open.pk}


ALL = [
    {"code": "1", "parent": "", "name": "办件用时", "weight": 20, "source": "handling_time", "method": "linear",
     "params": {"worst": 100, "best": 50}},
    {"code": "2", "parent": "", "name": "督办", "weight": 20, "source": "orders", "method": "linear",
     "params": {"worst": 80, "best": 100}},
    {"code": "3", "parent": "", "name": "好评率", "weight": 20, "source": "satisfaction", "method": "attainment",
     "params": {"target": 90}},
    {"code": "4", "parent": "", "name": "差评整改", "weight": 10, "source": "rectification", "method": "linear",
     "params": {"worst": 0, "best": 100}},
    {"code": "5", "parent": "", "name": "万件投诉", "weight": 10, "source": "complaint_rate", "method": "ranking",
     "params": {"lower_is_better": True}},
    {"code": "6", "parent": "", "name": "投诉按期", "weight": 20, "source": "complaint_on_time", "method": "linear",
     "params": {"worst": 0, "best": 100}},
]


def test_a_scheme_of_the_new_indicators_computes_with_lineage(world, complained, orders, rated):
    cls = actions.do_create_class(name="全指标类别", region=world.gz, organs=[world.tianhe_bureau, world.yuexiu_bureau])
    scheme = actions.do_create_scheme(organ_class=cls, year=2026, title="全指标方案", rows=[dict(r) for r in ALL])
    period = actions.do_activate_scheme(scheme)
    actions.do_close_period(period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(period, at=at("2027-01-05T09:00"))
    lines = {ln.indicator.code: ln for ln in ResultLine.objects.filter(
        result__period=period, result__organ=world.tianhe_bureau).select_related("indicator")}
    assert lines["1"].score == D("0.00") and lines["1"].formula.startswith("平均用时占时限 203.3%")
    assert lines["2"].score == D("0.00")
    assert lines["3"].score == D("37.04")  # 33.3333 ÷ 90 × 100
    assert lines["4"].score == D("33.33")
    assert lines["6"].score == D("33.33")
    for ln in lines.values():
        query = dict(ln.query)
        assert len(module(query.pop("source")).records(query)) >= 1


def test_a_bad_review_annulled_on_appeal_before_the_periods_end_counts_nowhere(world, rated):
    annulled = rate_and_annul(world, "2026-07-01T10:00", "2026-07-03T10:00")
    assert raw("satisfaction", world.tianhe_bureau).denominator == 6
    assert annulled.pk not in counted("rectification", world.tianhe_bureau)
    # Annulled only after the period: the closed period still counts it as it stood at its end.
    late = rate_and_annul(world, "2026-12-03T10:00", "2027-01-04T10:00")
    assert late.pk in counted("satisfaction", world.tianhe_bureau)
    assert raw("satisfaction", world.tianhe_bureau).denominator == 7


def rate_and_annul(world, rated_at, decided_at):
    bad = ratings.do_rate_service(kind="offline", organ=world.tianhe_bureau, scores=BAD, window="3号窗口",
                                  rater=RATER, rated_at=at(rated_at))
    ratings.do_appeal_rating(bad, reasons="恶意差评，有录像为证", at=at(rated_at) + timedelta(days=1))
    return ratings.do_decide_rating_appeal(bad, upheld=True, reasons="核实为恶意差评", actor=world.county_supervisor,
                                           at=at(decided_at))
