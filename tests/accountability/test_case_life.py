"""An accountability case from proposal to filed decision: the gates the law puts on the way."""
from datetime import date

import pytest

from tests.accountability.conftest import at
from xiaoneng.accountability import actions
from xiaoneng.accountability import measures as M
from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.accountability.models import (
    Case,
    Evidence,
    Proposal,
    ProposalStatus,
    Responsibility,
    Source,
    Status,
    Tolerance,
)
from xiaoneng.accountability.queries import case_phase, measures_in_force
from xiaoneng.audit.models import AuditEntry
from xiaoneng.calendar.models import CalendarDay
from xiaoneng.clocks.engine import explain_clock
from xiaoneng.supervision.models import AccountabilityProposal, Alert, Level

pytestmark = pytest.mark.django_db


def red_card(world):
    from xiaoneng.clocks import actions as clocks

    clock = clocks.do_start_clock(kind="case.legal", start_at=at("2026-09-28T10:00"), limit=20,
                                  organ=world.tianhe_bureau, label="食品经营许可 法定时限")
    alert = Alert.objects.create(rule="overdue_legal", level=Level.RED, organ=world.tianhe_bureau,
                                 region_code=world.tianhe_bureau.region_code, clock=clock, message="超过法定时限 3 个工作日",
                                 subject_label="SP-2026-001 食品经营许可", raised_at=at("2026-11-04T09:00"),
                                 dedup_key="t-1")
    return AccountabilityProposal.objects.create(alert=alert, organ=world.tianhe_bureau,
                                                 region_code=world.tianhe_bureau.region_code,
                                                 reason="红牌：超过法定时限", proposed_at=at("2026-11-04T09:00"))


def test_a_red_card_is_taken_up_with_the_alert_and_its_clock_explained_as_evidence(world):
    origin = red_card(world)
    proposal = Proposal.objects.get(origin=origin)  # taken up as supervision proposed it
    assert proposal.source == Source.RED_CARD and proposal.organ == world.tianhe_bureau
    kinds = {e.kind: e for e in proposal.evidence.all()}
    assert kinds[Evidence.Kind.ALERT].target == origin.alert
    # The clock's explanation says why it was late: the National Day holidays were not counted.
    assert "国庆节" in kinds[Evidence.Kind.CLOCK].text and "到期 2026-10-30 24:00" in kinds[Evidence.Kind.CLOCK].text
    assert actions.do_take_up_proposal(origin) == proposal  # twice is once
    assert Proposal.objects.count() == 1


def test_a_failed_supervision_order_must_be_named_and_belong_to_the_organ(world):
    with pytest.raises(AccountabilityError) as exc:
        actions.do_propose_accountability(source=Source.ORDER_FAILED, organ=world.tianhe_bureau, title="督办未落实",
                                          reason="逾期未反馈")
    assert exc.value.field == "order"
    assert not Proposal.objects.exists()


def test_a_proposal_is_declined_only_with_reasons_and_then_cannot_be_registered(acct):
    proposal = actions.do_propose_accountability(source=Source.LEADER, organ=acct.world.tianhe_bureau,
                                                 title="领导批示", reason="批示要求严肃问责")
    with pytest.raises(AccountabilityError) as exc:
        actions.do_decline_proposal(proposal, reason="  ")
    assert exc.value.field == "reason"
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN
    actions.do_decline_proposal(proposal, reason="经核实不属于效能问题")
    with pytest.raises(AccountabilityError):
        actions.do_register_case(proposal, deciding_organ=acct.office)
    assert not Case.objects.exists()


def test_registering_starts_a_six_month_decision_clock_which_extends_once_to_twelve(acct):
    case = acct.register("2026-01-15T10:00")
    assert case.status == Status.REGISTERED
    assert case.decision_clock.due_at == at("2026-07-16T00:00")  # 24:00 on 15 July, six months on
    actions.do_extend_decision(case, reason="案情复杂", approver_name="区委书记", at=at("2026-07-01T10:00"))
    case.decision_clock.refresh_from_db()
    assert case.decision_clock.due_at == at("2027-01-16T00:00")  # twelve months after 立案
    with pytest.raises(AccountabilityError, match="只能延长一次"):
        actions.do_extend_decision(case, reason="再延", approver_name="区委书记")


def test_a_six_month_limit_ending_on_national_day_moves_to_the_first_working_day_after_it(acct):
    case = acct.register("2026-04-01T10:00")
    # 1 October 2026 is a public holiday, as are 2–7 October; the limit ends at 24:00 on 8 October.
    assert case.decision_clock.due_at == at("2026-10-09T00:00")
    assert "顺延" in explain_clock(case.decision_clock)


def test_no_decision_is_signed_before_every_person_was_heard_or_waived(acct):
    case = acct.register()
    zhang = actions.do_add_party(case, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    li = actions.do_add_party(case, staff=acct.li, responsibility=Responsibility.MAIN_LEADER)
    actions.do_record_findings(case, findings="经查属实")
    actions.do_notify_party(zhang, measure="warning")
    actions.do_notify_party(li, measure="admonish")
    actions.do_record_statement(zhang, statement="无异议")
    with pytest.raises(AccountabilityError) as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="天效问〔2026〕1号",
                               measures={zhang.pk: (["warning"], None), li.pk: (["admonish"], None)})
    assert exc.value.field == "measures" and "李四" in exc.value.message and "张三" not in exc.value.message
    case.refresh_from_db()
    assert case.status == Status.NOTIFIED and case.decision_number == ""
    # A recorded waiver counts as heard; a bare statement-less record does not.
    with pytest.raises(AccountabilityError) as exc:
        actions.do_record_statement(li, statement="")
    assert exc.value.field == "statement"
    actions.do_record_statement(li, waived=True)
    for p in (zhang, li):
        actions.do_review_tolerance(p, situations=[], outcome=Tolerance.NONE)
    actions.do_decide_case(case, decider="王局长", decision_number="天效问〔2026〕1号",
                           measures={zhang.pk: (["warning"], None), li.pk: (["admonish"], None)})
    case.refresh_from_db()
    assert case.status == Status.DECIDED


def test_a_measure_heavier_than_the_one_notified_is_refused(acct):
    case, (zhang,) = acct.heard(measure="warning")
    with pytest.raises(AccountabilityError, match="第四十三条") as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["demerit"], None)})
    assert exc.value.field == "measures"
    with pytest.raises(AccountabilityError, match="第四十三条"):
        # The same sanction with a longer period is heavier too.
        actions.do_decide_case(case, decider="王局长", decision_number="1号",
                               measures={zhang.pk: (["warning", "warning"], 12)})
    # Lighter is allowed.
    actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["admonish"], None)})
    zhang.refresh_from_db()
    assert zhang.measure == "admonish"


def test_several_equal_sanctions_combine_to_at_most_48_months_and_different_ones_execute_the_heaviest():
    assert M.period_range(["major_demerit"] * 3) == ("major_demerit", 18, 48)  # 3 × 18 = 54, capped
    assert M.period_range(["demerit", "demerit"]) == ("demerit", 12, 24)
    assert M.period_range(["warning", "major_demerit"]) == ("major_demerit", 18, 18)
    assert M.period_range(["removal", "removal"]) == ("removal", 24, 24)  # 撤职 does not add up
    assert M.period_range(["expulsion", "warning"]) == ("expulsion", None, None)


def test_a_combined_period_beyond_the_cap_is_refused_on_the_decision(acct):
    case, (zhang,) = acct.heard(measure="major_demerit", months=48)
    with pytest.raises(AccountabilityError, match="18 至 48") as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="1号",
                               measures={zhang.pk: (["major_demerit"] * 3, 54)})
    assert exc.value.field == "measures"
    actions.do_decide_case(case, decider="王局长", decision_number="1号", at=at("2026-03-02T10:00"),
                           measures={zhang.pk: (["major_demerit"] * 3, 48)})
    zhang.refresh_from_db()
    assert (zhang.months, zhang.starts_on, zhang.ends_on) == (48, date(2026, 3, 2), date(2030, 3, 2))


def test_a_sanction_ends_by_itself_on_its_date(acct):
    case, (zhang,) = acct.decided("2026-03-10T10:00", measure="warning")
    assert zhang.ends_on == date(2026, 9, 10)
    assert [f.measure.code for f in measures_in_force(acct.zhang, date(2026, 3, 10))] == ["warning"]
    assert [f.measure.code for f in measures_in_force(acct.zhang, date(2026, 9, 9))] == ["warning"]
    assert measures_in_force(acct.zhang, date(2026, 9, 10)) == []
    assert measures_in_force(acct.zhang, date(2026, 3, 9)) == []
    assert measures_in_force(acct.li, date(2026, 5, 1)) == []
    assert case_phase(case, date(2026, 5, 1)) == "in_force" and case_phase(case, date(2026, 9, 10)) == "expired"


def test_a_demerit_blocks_pay_steps_and_a_warning_does_not(acct):
    acct.decided("2026-03-10T10:00", measure="demerit")
    (in_force,) = measures_in_force(acct.zhang, date(2026, 6, 1))
    assert in_force.blocks_pay_step and in_force.blocks_promotion and in_force.excludes_excellent
    assert date(2027, 3, 10) == in_force.ends_on


def test_the_decision_number_is_unique_per_deciding_organ_and_year(acct):
    acct.decided(number="天效问〔2026〕7号")
    case, (p,) = acct.heard()
    with pytest.raises(AccountabilityError) as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="天效问〔2026〕7号",
                               measures={p.pk: (["warning"], None)})
    assert exc.value.field == "decision_number"
    case.refresh_from_db()
    assert case.status == Status.REVIEWED


def test_the_filing_clock_counts_fifteen_working_days_around_national_day(acct):
    case, _ = acct.decided("2026-09-28T10:00")
    # 9-29, 9-30, then 10-8, 10-9, the make-up Saturday 10-10, 10-12 … 10-16, 10-19 … 10-23.
    assert case.filing_clock.due_at == at("2026-10-24T00:00")
    actions.do_serve_case(case, at=at("2026-09-29T10:00"))
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-10-26T10:00"))
    case.refresh_from_db()
    case.filing_clock.refresh_from_db()
    assert case.status == Status.FILED and case.filing_clock.is_overdue(at("2026-10-26T10:00"))
    assert AuditEntry.objects.filter(action="accountability.status", object_id=str(case.pk)).count() >= 7


def test_an_organisational_measure_must_be_carried_out_within_a_month(acct):
    case, (zhang,) = acct.decided("2026-01-30T10:00", measure="reassign")
    # One month from 30 January is 28 February (there is no 30 February): a Saturday in 2026, but a
    # make-up working day of the Spring Festival, so the limit does not move to Monday.
    assert CalendarDay.objects.get(date=date(2026, 2, 28)).is_working
    assert zhang.adjustment_clock.due_at == at("2026-03-01T00:00")
    actions.do_record_adjustment(zhang, at=at("2026-02-20T10:00"))
    zhang.adjustment_clock.refresh_from_db()
    assert not zhang.adjustment_clock.is_open() and not zhang.adjustment_clock.is_overdue(at("2026-03-10T00:00"))


def test_a_person_spared_by_the_error_tolerance_review_gets_no_measure_and_the_case_closes(acct):
    case = acct.register()
    zhang = actions.do_add_party(case, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    actions.do_record_findings(case, findings="经查属实")
    actions.do_notify_party(zhang, measure="warning")
    actions.do_record_statement(zhang, statement="先行先试")
    with pytest.raises(AccountabilityError) as exc:
        actions.do_review_tolerance(zhang, situations=[], outcome=Tolerance.EXEMPT, reason="探索")
    assert exc.value.field == "situations"
    with pytest.raises(AccountabilityError) as exc:
        actions.do_review_tolerance(zhang, situations=["no-such"], outcome=Tolerance.EXEMPT, reason="探索")
    assert exc.value.field == "situations"
    actions.do_review_tolerance(zhang, situations=["explore"], outcome=Tolerance.EXEMPT, reason="改革探索中的无意过失")
    with pytest.raises(AccountabilityError):
        actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["warning"], None)})
    actions.do_close_case(case, reason="经容错纠错审查免予问责")
    case.refresh_from_db()
    case.decision_clock.refresh_from_db()
    assert case.status == Status.CLOSED and not case.decision_clock.is_open()


def test_the_province_adds_its_own_measures_and_tolerance_situations(acct, settings):
    settings.XIAONENG_RULES = {
        "accountability_extra_measures": [{"code": "efficiency_caution", "label": "效能告诫", "rank": 35,
                                           "effect_months": 6, "legal_basis": "省效能问责办法"}],
        "accountability_extra_tolerance": [{"code": "first_time", "label": "初次轻微失误"}],
    }
    assert ("efficiency_caution", "效能告诫") in M.choices(for_organs=False)
    assert "first_time" in dict(M.tolerance_situations())
    # 效能告诫 (35) is lighter than 诫勉 (40): it may be decided after 诫勉 was notified.
    case, (zhang,) = acct.heard(measure="admonish")
    actions.do_decide_case(case, decider="王局长", decision_number="1号",
                           measures={zhang.pk: (["efficiency_caution"], None)}, at=at("2026-03-02T10:00"))
    assert [f.measure.code for f in measures_in_force(acct.zhang, date(2026, 8, 1))] == ["efficiency_caution"]


def test_an_organ_measure_is_not_given_to_a_person(acct):
    case, (zhang,) = acct.heard(measure="warning")
    with pytest.raises(AccountabilityError, match="不适用于个人"):
        actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["reorganise"], None)})


def test_a_founded_complaint_proposing_accountability_arrives_as_a_proposal_with_the_complaint(desk, world):
    from xiaoneng.complaints import actions as complaint_actions
    from xiaoneng.complaints.models import Complaint

    complaint = desk.file()[0]
    # Skip the handling steps (tested in tests/complaints): the complaint was routed and found founded.

    Complaint.objects.filter(pk=complaint.pk).update(organ=world.tianhe_bureau, result="founded")
    complaint.refresh_from_db()
    complaint_actions.do_propose_accountability(complaint, reason="查实窗口人员推诿")
    proposal = Proposal.objects.get(source=Source.COMPLAINT)
    assert proposal.organ == world.tianhe_bureau and proposal.reason == "查实窗口人员推诿"
    assert proposal.title == f"效能投诉属实：{complaint.masked['title']}（{complaint.number}）"
    (link,) = proposal.evidence.all()
    assert link.target == complaint and link.text == complaint.content


def test_a_missed_filing_deadline_is_a_supervision_alert_like_any_other(acct):
    from xiaoneng.clocks import monitor

    case, _ = acct.decided("2026-09-28T10:00")
    monitor.run_pass(now=at("2026-10-26T09:00"))
    alert = Alert.objects.get(rule="accountability_overdue", clock=case.filing_clock)
    assert alert.level == Level.YELLOW and alert.organ == acct.office and "备案" in alert.message


def test_audit_entries_about_persons_and_appeals_sit_in_the_case_region(acct):
    case, (zhang,) = acct.decided()
    entries = AuditEntry.objects.filter(object_type="accountability.party", object_id=str(zhang.pk))
    assert entries.exists() and set(entries.values_list("region_code", flat=True)) == {case.region_code}


def test_a_period_typed_for_a_measure_without_one_is_refused(acct):
    case, (zhang,) = acct.heard(measure="admonish")
    with pytest.raises(AccountabilityError, match="没有处分期") as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["admonish"], 6)})
    assert exc.value.field == "measures"


def test_the_third_caution_in_a_year_proposes_the_next_measure_and_one_for_the_unit_leadership(acct, settings):
    settings.XIAONENG_RULES = {
        "accountability_extra_measures": [{"code": "efficiency_caution", "label": "效能告诫", "rank": 35}],
        "accountability_escalation": [{"measure": "efficiency_caution", "count": 3, "propose": "admonish",
                                       "leader": True}],
    }
    acct.decided("2025-12-20T10:00", measure="efficiency_caution", number="天效问〔2025〕9号")  # last year
    acct.decided("2026-02-02T10:00", measure="efficiency_caution", number="天效问〔2026〕1号")
    acct.decided("2026-05-06T10:00", measure="efficiency_caution", number="天效问〔2026〕2号")
    assert not Proposal.objects.filter(source=Source.ESCALATION).exists()
    acct.decided("2026-08-03T10:00", measure="efficiency_caution", number="天效问〔2026〕3号")
    person, leadership = Proposal.objects.filter(source=Source.ESCALATION).order_by("pk")
    assert (person.staff, person.proposed_measure) == (acct.zhang, "admonish")
    assert "第 3 次" in person.reason and "天效问〔2026〕1号" in person.reason and "〔2025〕" not in person.reason
    assert [e.label for e in person.evidence.all()] == ["天效问〔2026〕1号", "天效问〔2026〕2号", "天效问〔2026〕3号"]
    assert leadership.staff is None and leadership.organ == acct.world.tianhe_bureau and "领导责任" in leadership.reason
    # The fourth does not raise them again.
    acct.decided("2026-10-12T10:00", measure="efficiency_caution", number="天效问〔2026〕4号")
    assert Proposal.objects.filter(source=Source.ESCALATION).count() == 2
