"""复核 and 申诉: on time, on a clock, never heavier; a change shortens, a revocation ends."""
from datetime import date

import pytest

from tests.accountability.conftest import at
from xiaoneng.accountability import actions
from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.accountability.models import Appeal, CaseStep
from xiaoneng.accountability.queries import case_phase, measures_in_force

pytestmark = pytest.mark.django_db


def served(acct, when="2026-03-02T10:00", measure="major_demerit", served_at="2026-03-03T10:00"):
    case, (zhang,) = acct.decided(when, measure=measure)
    actions.do_serve_case(case, at=at(served_at))
    actions.do_announce_case(case, scope="天河区市场监督管理局内部", at=at(served_at))
    zhang.refresh_from_db()
    return case, zhang


def test_a_review_is_asked_within_30_days_of_receipt_and_decided_on_a_30_day_clock(acct):
    case, zhang = served(acct)
    with pytest.raises(AccountabilityError) as exc:
        actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-04-03T09:00"))
    assert exc.value.field == "received_at" and "2026-04-02" in exc.value.message
    assert not Appeal.objects.exists()
    appeal = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-04-02T09:00"))
    # 30 days from 2 April end on 2 May, inside the Labour Day holidays (1–5 May): 6 May 24:00.
    assert appeal.clock.due_at == at("2026-05-07T00:00")
    # Not before the decision is served.
    other, (li_party,) = acct.decided(number="2号")
    with pytest.raises(AccountabilityError, match="送达后"):
        actions.do_lodge_appeal(li_party, kind="review", grounds="不服")


def test_a_review_deadline_on_a_holiday_moves_to_the_next_working_day(acct):
    # Served on 1 September: 30 days end on 1 October, National Day, so the last day is 8 October.
    case, zhang = served(acct, "2026-08-31T10:00", served_at="2026-09-01T10:00")
    appeal = actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-10-08T16:00"))
    assert appeal.pk


def test_an_appeal_follows_the_review_within_15_days_of_its_result(acct):
    case, zhang = served(acct)
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T09:00"))
    actions.do_decide_appeal(review, outcome="upheld", reasons="事实清楚，量纪适当", at=at("2026-03-20T10:00"))
    actions.do_serve_appeal_result(review, at=at("2026-03-20T15:00"))
    # 15 days from 20 March end on 4 April, the Qingming holidays (4–6 April): the last day is 7 April.
    with pytest.raises(AccountabilityError) as exc:
        actions.do_lodge_appeal(zhang, kind="appeal", grounds="仍不服", received_at=at("2026-04-08T09:00"))
    assert exc.value.field == "received_at" and "2026-04-07" in exc.value.message
    appeal = actions.do_lodge_appeal(zhang, kind="appeal", grounds="仍不服", received_at=at("2026-04-07T09:00"))
    assert appeal.clock.limit == 60
    with pytest.raises(AccountabilityError, match="届满后不能再延长"):  # the 60 days ended on 2026-06-08
        actions.do_extend_appeal(appeal, reason="案情复杂", approver_name="市监委", at=at("2026-06-09T09:00"))
    actions.do_extend_appeal(appeal, reason="案情复杂", approver_name="市监委", at=at("2026-05-11T09:00"))
    appeal.clock.refresh_from_db()
    assert appeal.clock.extension_days == 30
    with pytest.raises(AccountabilityError):
        actions.do_extend_appeal(appeal, reason="再延", approver_name="市监委", at=at("2026-05-12T09:00"))


def test_the_15_days_after_a_review_run_from_the_day_its_decision_was_received_not_decided(acct):
    case, zhang = served(acct)
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T09:00"))
    with pytest.raises(AccountabilityError, match="尚未作出决定"):
        actions.do_serve_appeal_result(review, at=at("2026-03-11T10:00"))
    actions.do_decide_appeal(review, outcome="upheld", reasons="事实清楚，量纪适当", at=at("2026-03-20T10:00"))
    with pytest.raises(AccountabilityError, match="送达时间早于决定时间") as exc:
        actions.do_serve_appeal_result(review, at=at("2026-03-19T10:00"))
    assert exc.value.field == "at"
    # Decided on 20 March, received by the person only on 30 March: the 15 days end on 14 April.
    actions.do_serve_appeal_result(review, at=at("2026-03-30T10:00"))
    with pytest.raises(AccountabilityError, match="已登记该决定的送达"):  # a replay changes nothing
        actions.do_serve_appeal_result(review, at=at("2026-03-31T10:00"))
    review.refresh_from_db()
    assert review.result_served_at == at("2026-03-30T10:00")
    with pytest.raises(AccountabilityError, match="2026-04-14"):
        actions.do_lodge_appeal(zhang, kind="appeal", grounds="仍不服", received_at=at("2026-04-15T09:00"))
    assert actions.do_lodge_appeal(zhang, kind="appeal", grounds="仍不服", received_at=at("2026-04-14T09:00")).pk


def test_an_appeal_after_a_review_whose_decision_was_not_yet_served_is_not_refused_as_late(acct):
    case, zhang = served(acct)
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T09:00"))
    actions.do_decide_appeal(review, outcome="upheld", reasons="事实清楚，量纪适当", at=at("2026-03-20T10:00"))
    # The law's days run from receipt; without a recorded receipt they have not begun.
    assert actions.do_lodge_appeal(zhang, kind="appeal", grounds="仍不服", received_at=at("2026-04-20T09:00")).pk


def test_an_appeal_never_makes_the_measure_heavier(acct):
    case, zhang = served(acct, measure="demerit")
    appeal = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T09:00"))
    for measure, months in (("major_demerit", None), ("demerit", 12), ("demerit", 18)):
        with pytest.raises(AccountabilityError) as exc:
            actions.do_decide_appeal(appeal, outcome="changed", new_measure=measure, new_months=months, reasons="改")
        assert exc.value.field == "new_measure"
    zhang.refresh_from_db()
    assert (zhang.measure, zhang.months) == ("demerit", 12)
    appeal.refresh_from_db()
    assert appeal.outcome == Appeal.Outcome.PENDING


def test_a_change_to_a_lighter_measure_shortens_the_period_from_the_same_start(acct):
    case, zhang = served(acct, measure="major_demerit")
    assert zhang.ends_on == date(2027, 9, 2)
    appeal = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T09:00"))
    actions.do_decide_appeal(appeal, outcome="changed", new_measure="warning", reasons="情节较轻",
                             at=at("2026-04-01T10:00"))
    zhang.refresh_from_db()
    assert (zhang.measure, zhang.starts_on, zhang.ends_on) == ("warning", date(2026, 3, 2), date(2026, 9, 2))
    assert measures_in_force(acct.zhang, date(2026, 9, 2)) == []
    (in_force,) = measures_in_force(acct.zhang, date(2026, 9, 1))
    assert not in_force.blocks_pay_step


def test_a_revocation_ends_the_effects_and_clears_the_name_where_it_was_announced(acct):
    case, zhang = served(acct, measure="demerit")
    appeal = actions.do_lodge_appeal(zhang, kind="review", grounds="事实不清", received_at=at("2026-03-10T09:00"))
    # The measure stays in force while the review runs.
    assert measures_in_force(acct.zhang, date(2026, 3, 20))
    actions.do_decide_appeal(appeal, outcome="revoked", reasons="事实不清，证据不足", pay_to_restore="补发 3 月绩效",
                             at=at("2026-04-01T10:00"))
    assert measures_in_force(acct.zhang, date(2026, 3, 31))
    assert measures_in_force(acct.zhang, date(2026, 4, 1)) == []
    assert case_phase(case, date(2026, 4, 2)) == "revoked"
    step = CaseStep.objects.filter(case=case, kind=CaseStep.Kind.APPEAL_DECIDE).get()
    assert "天河区市场监督管理局内部" in step.text and "恢复名誉" in step.text
    appeal.refresh_from_db()
    assert appeal.pay_to_restore == "补发 3 月绩效" and not appeal.clock.is_open()
    with pytest.raises(AccountabilityError, match="已撤销"):
        actions.do_lodge_appeal(zhang, kind="appeal", grounds="再诉", received_at=at("2026-04-02T10:00"))
