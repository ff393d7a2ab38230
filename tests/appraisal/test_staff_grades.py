"""Staff appraisal: the 优秀 quota and the accountability disqualifiers, enforced at submission."""
import pytest

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import StaffGrade
from xiaoneng.appraisal.staff import do_submit_staff_grades
from xiaoneng.orgs.models import Staff

from .conftest import at


@pytest.fixture
def people(land):
    return [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(10)]


def grades(people, excellent: int) -> dict:
    return {p: ("excellent" if i < excellent else "competent") for i, p in enumerate(people)}


def test_the_quota_allows_a_fifth_as_excellent(land, people):
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(people, 2), at=at("2027-01-20T10:00"))
    assert StaffGrade.objects.filter(year=2026, grade="excellent").count() == 2


def test_a_submission_over_the_quota_is_refused_with_the_numbers_and_saves_nothing(land, people):
    with pytest.raises(actions.AppraisalError) as err:
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(people, 3), at=at("2027-01-20T10:00"))
    assert err.value.message == "优秀等次超出比例：10 人参加考核，优秀比例上限 20%，最多 2 人，现报 3 人"
    assert err.value.field == "grades"
    assert not StaffGrade.objects.exists()


def test_an_organ_graded_excellent_may_have_a_quarter(land, people, settings):
    # 越秀 has no cases; 天河 is graded 优秀 here by lowering the thresholds (configuration).
    settings.XIAONENG_RULES = {"appraisal_grade_thresholds": {"excellent": 40, "good": 30, "fair": 20}}
    eight = people[:8]
    with pytest.raises(actions.AppraisalError):
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(eight, 2), at=at("2027-01-20T10:00"))
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-05T10:00"))
    actions.do_publish_results(land.period, at=at("2027-01-20T09:00"))
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(eight, 2), at=at("2027-01-20T10:00"))
    assert StaffGrade.objects.filter(grade="excellent").count() == 2


def test_the_quota_counts_the_grades_already_submitted(land, people):
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(people[:5], 1), at=at("2027-01-20T10:00"))
    with pytest.raises(actions.AppraisalError, match="10 人参加考核.*现报 3 人"):
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(people[5:], 2), at=at("2027-01-21T10:00"))


def test_a_person_with_a_measure_in_force_cannot_be_excellent(land, acct):
    acct.decided(when="2026-03-02T10:00", measure="warning")  # 警告: six months, over by the year's end
    team = [acct.zhang] + [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(9)]
    with pytest.raises(actions.AppraisalError) as err:
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {p: ("excellent" if p == acct.zhang else "competent")
                                                             for p in team}, at=at("2027-01-20T10:00"))
    assert err.value.message.startswith("以下人员不得确定为优秀：张三：")
    assert "警告 年度内处于影响期" in err.value.message


def test_an_admonishment_within_the_year_bars_excellent(land, acct):
    acct.decided(when="2026-01-10T10:00", measure="admonish")
    team = [acct.zhang] + [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(9)]
    with pytest.raises(actions.AppraisalError, match="张三"):
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {p: ("excellent" if p == acct.zhang else "competent")
                                                             for p in team}, at=at("2027-01-20T10:00"))
    # The same person may be 称职.
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {acct.zhang: "competent"}, at=at("2027-01-20T10:00"))


def test_it_refuses_a_person_of_another_organ(land, people):
    other = Staff.objects.create(organ=land.w.yuexiu_bureau, name="越秀人")
    with pytest.raises(actions.AppraisalError, match="越秀人 不是本机关人员"):
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {other: "competent"}, at=at("2027-01-20T10:00"))


def test_a_revoked_admonishment_no_longer_bars_excellent(land, acct):
    # 政务处分法第六十条 and 问责条例: a revoked decision has no effect — the 诫勉 rule too.
    from xiaoneng.accountability import actions as acct_actions

    case, (zhang,) = acct.decided(when="2026-01-10T10:00", measure="admonish")
    acct_actions.do_serve_case(case, at=at("2026-01-12T10:00"))
    zhang.refresh_from_db()
    review = acct_actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-01-20T10:00"))
    acct_actions.do_decide_appeal(review, outcome="revoked", reasons="事实不清", at=at("2026-02-10T10:00"))
    team = [acct.zhang] + [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(9)]
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {p: ("excellent" if p == acct.zhang else "competent")
                                                         for p in team}, at=at("2027-01-20T10:00"))
    assert StaffGrade.objects.get(staff=acct.zhang).grade == "excellent"
