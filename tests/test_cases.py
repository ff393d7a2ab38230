"""Approval cases move through every legal path with the clocks the law sets."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.approvals import actions, catalogue
from xiaoneng.approvals.models import Case, CaseEvent, StatusChange
from xiaoneng.approvals.risk import is_at_risk
from xiaoneng.approvals.workflow import TransitionError
from xiaoneng.clocks import engine
from xiaoneng.clocks.models import Clock
from xiaoneng.notify.models import Message

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def midnight_after(day):
    return at(day) + timedelta(days=1)


def submit(matter, no="TH-2026-0001", when="2026-09-28T10:00", **kw):
    case, code = actions.do_submit_case(
        matter=matter, case_no=no, applicant_name="张三", applicant_phone="13800000000", received_at=at(when), **kw
    )
    return case, code


def fresh(case):
    return Case.objects.select_related("promise_clock", "legal_clock", "correction_clock", "certificate_clock").get(pk=case.pk)


def test_a_submission_starts_the_five_working_day_correction_clock(matters):
    case, _code = submit(matters.licence, when="2026-09-28T10:00")
    # 09-29, 09-30, then the National Day break, 10-08, 10-09, make-up Saturday 10-10
    assert fresh(case).correction_clock.due_at == midnight_after("2026-10-10")
    assert case.status == "submitted"


def test_the_applicant_gets_a_verification_code_that_opens_the_case(matters):
    case, code = submit(matters.licence)
    assert actions.check_verify_code(case, code) and not actions.check_verify_code(case, "000000" if code != "000000" else "1")
    message = Message.objects.get(ref=case.case_no, kind="case.submitted")
    assert code in message.text and message.to == "13800000000"


def test_a_timely_correction_then_acceptance_starts_the_decision_clocks_at_acceptance(matters):
    case, _ = submit(matters.licence)
    actions.do_request_correction(case, items=["营业执照复印件不清晰", "缺少法定代表人签字"], at=at("2026-09-30T09:00"))
    actions.do_mark_corrected(case, at=at("2026-10-12T09:00"))
    actions.do_accept_case(case, at=at("2026-10-13T09:00"))
    case = fresh(case)
    assert not case.deemed_accepted and case.accepted_at == at("2026-10-13T09:00")
    assert case.legal_clock.start_at == at("2026-10-13T09:00")
    assert case.legal_clock.due_at == midnight_after("2026-11-10")  # 20 working days
    assert case.promise_clock.due_at == midnight_after("2026-10-27")  # promised 10


def test_a_late_correction_notice_counts_the_case_as_accepted_from_receipt(matters):
    case, _ = submit(matters.licence, when="2026-09-28T10:00")
    actions.do_request_correction(case, items=["补充材料"], at=at("2026-10-12T09:00"))  # after 10-10 24:00
    case = fresh(case)
    assert case.deemed_accepted and case.accepted_at == at("2026-09-28T10:00")
    assert case.legal_clock.start_at == case.received_at
    assert case.legal_clock.due_at == midnight_after("2026-10-30")
    assert CaseEvent.objects.get(case=case, kind="correction").data["late"] is True


def test_a_late_acceptance_without_a_correction_notice_also_counts_from_receipt(matters):
    case, _ = submit(matters.licence, when="2026-09-28T10:00")
    actions.do_accept_case(case, at=at("2026-10-15T09:00"))
    case = fresh(case)
    assert case.deemed_accepted and case.legal_clock.start_at == case.received_at


def test_corrections_must_be_listed_at_once_and_only_once(matters):
    case, _ = submit(matters.licence)
    with pytest.raises(actions.CaseError) as info:
        actions.do_request_correction(case, items=[" "], at=at("2026-09-29T09:00"))
    assert info.value.field == "items"
    actions.do_request_correction(case, items=["缺少申请书"], at=at("2026-09-29T09:00"))
    with pytest.raises(actions.CaseError):
        actions.do_request_correction(case, items=["又缺一份"], at=at("2026-09-30T09:00"))


def test_a_refusal_needs_reasons_and_stops_every_clock(matters):
    case, _ = submit(matters.licence)
    with pytest.raises(actions.CaseError) as info:
        actions.do_refuse_case(case, reasons="", at=at("2026-09-29T09:00"))
    assert info.value.field == "reasons"
    actions.do_refuse_case(case, reasons="不属于本机关职权范围", at=at("2026-09-29T09:00"))
    case = fresh(case)
    assert case.status == "refused" and case.correction_clock.state == Clock.State.STOPPED


def test_a_special_procedure_pauses_the_decision_clocks(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    before = fresh(case).legal_clock.due_at
    with pytest.raises(actions.CaseError):
        actions.do_suspend_case(case, reason="专家评审", announced_days=0, at=at("2026-10-12T09:00"))
    actions.do_suspend_case(case, reason="专家评审", legal_basis="《行政许可法》第四十五条", announced_days=5,
                            at=at("2026-10-12T09:00"))
    assert fresh(case).legal_clock.due_at is None  # standing still
    actions.do_resume_case(case, at=at("2026-10-16T17:00"))
    after = fresh(case).legal_clock.due_at
    # Stood still 10-13..10-16: four working days.
    assert after == before + timedelta(days=4)
    assert fresh(case).status == "accepted"


def test_an_extension_is_allowed_once_within_ten_days_with_approver_and_reasons(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    for kwargs, field in [
        ({"days": 11, "reasons": "情况复杂", "approver_name": "李局长"}, "days"),
        ({"days": 10, "reasons": "", "approver_name": "李局长"}, "reasons"),
        ({"days": 10, "reasons": "情况复杂", "approver_name": ""}, "approver"),
        ({"days": "ten", "reasons": "情况复杂", "approver_name": "李局长"}, "days"),
    ]:
        with pytest.raises(actions.CaseError) as info:
            actions.do_extend_case(case, at=at("2026-10-20T09:00"), **kwargs)
        assert info.value.field == field
    due = fresh(case).legal_clock.due_at
    actions.do_extend_case(case, days=10, reasons="需现场核查", approver_name="李局长", at=at("2026-10-20T09:00"))
    assert fresh(case).legal_clock.due_at == due + timedelta(days=14)  # ten working days = two weeks here
    with pytest.raises(actions.CaseError, match="一次"):
        actions.do_extend_case(case, days=1, reasons="再延", approver_name="李局长", at=at("2026-10-21T09:00"))
    assert Message.objects.filter(ref=case.case_no, kind="case.extended").exists()


def test_a_grant_starts_the_ten_day_certificate_clock_and_the_case_closes_after_issue(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    actions.do_complete_step(case, step="审查", at=at("2026-10-09T09:00"), handler="王五")
    actions.do_complete_step(case, step="决定", at=at("2026-10-12T09:00"))
    actions.do_decide_case(case, outcome="granted", at=at("2026-10-12T15:00"))
    case = fresh(case)
    assert case.legal_clock.state == Clock.State.STOPPED and case.promise_clock.state == Clock.State.STOPPED
    assert case.certificate_clock.due_at == midnight_after("2026-10-26")
    actions.do_issue_certificate(case, at=at("2026-10-14T10:00"))
    actions.do_close_case(case, at=at("2026-10-14T10:05"))
    case = fresh(case)
    assert case.status == "closed" and case.certificate_clock.state == Clock.State.STOPPED
    assert list(StatusChange.objects.filter(case=case).values_list("to_status", flat=True)) == [
        "accepted", "decided", "certified", "closed"
    ]


def test_a_denial_needs_reasons_and_has_no_certificate(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    with pytest.raises(actions.CaseError):
        actions.do_decide_case(case, outcome="denied", reasons=" ", at=at("2026-10-12T09:00"))
    actions.do_decide_case(case, outcome="denied", reasons="经营场所不符合要求", at=at("2026-10-12T09:00"))
    case = fresh(case)
    assert case.certificate_clock is None
    with pytest.raises(actions.CaseError):
        actions.do_issue_certificate(case, at=at("2026-10-13T09:00"))


def test_steps_run_in_order_and_report_a_wrong_order(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    with pytest.raises(actions.CaseError) as info:
        actions.do_complete_step(case, step="决定", at=at("2026-10-09T09:00"))
    assert "审查" in info.value.message
    step = case.steps.get(step__name="审查")
    assert step.clock.due_at == midnight_after("2026-10-12")  # 09-30, 10-08, 10-09, Sat 10-10, 10-12


def test_a_first_review_by_a_lower_organ_has_twenty_working_days(world, matters):
    # Received the same morning: a timely acceptance (a late one counts from receipt, below).
    case, _ = submit(matters.first_review, no="GZ-2026-0001", when="2026-11-02T08:30",
                     first_review_organ=world.tianhe_bureau)
    actions.do_accept_case(case, at=at("2026-11-02T09:00"))
    review = case.steps.get(step__is_first_review=True)
    assert review.organ == world.tianhe_bureau and review.clock.kind == "case.first_review"
    assert review.clock.due_at == midnight_after("2026-11-30")


def test_the_case_cannot_skip_the_transition_table(matters):
    case, _ = submit(matters.licence)
    with pytest.raises(TransitionError):
        actions.do_close_case(case, at=at("2026-09-29T09:00"))
    with pytest.raises(TransitionError):
        actions.do_decide_case(case, outcome="granted", at=at("2026-09-29T09:00"))


def test_withdrawal_is_possible_before_the_decision_only(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    actions.do_withdraw_case(case, reason="申请人撤回", at=at("2026-10-09T09:00"))
    assert fresh(case).status == "withdrawn"
    assert not Clock.objects.filter(subject_id=case.pk).exclude(state="stopped").exists()
    other, _ = submit(matters.licence, no="TH-2026-0002")
    actions.do_accept_case(other, at=at("2026-09-29T09:00"))
    actions.do_decide_case(other, outcome="granted", at=at("2026-10-09T09:00"))
    with pytest.raises(TransitionError):
        actions.do_withdraw_case(other, at=at("2026-10-10T09:00"))


def test_fees_are_recorded_against_the_standard(matters):
    paid, _ = submit(matters.paid, no="TH-FEE-1")
    event = actions.do_charge_fee(paid, amount="150.00", at=at("2026-09-29T09:00"))
    assert event.data["over_standard"] is True and event.data["standard"] == "100.00"
    free, _ = submit(matters.licence, no="TH-FEE-2")
    assert actions.do_charge_fee(free, amount="20", at=at("2026-09-29T09:00")).data["free_matter"] is True
    with pytest.raises(actions.CaseError):
        actions.do_charge_fee(free, amount="abc")
    with pytest.raises(actions.CaseError):
        actions.do_charge_fee(free, amount="-1")


def test_a_case_keeps_the_rules_in_force_when_it_was_received(matters):
    old, _ = submit(matters.licence, no="TH-V1", when="2026-09-28T10:00")
    catalogue.do_publish_version(
        matters.licence,
        catalogue.Rules(legal_basis="修订后", legal_limit=20, promised_limit=5, effective_from=at("2026-10-01T00:00")),
    )
    new, _ = submit(matters.licence, no="TH-V2", when="2026-10-09T10:00")
    assert old.matter_version.number == 1 and new.matter_version.number == 2
    actions.do_accept_case(old, at=at("2026-09-29T09:00"))
    assert fresh(old).promise_clock.limit == 10


def test_a_promise_longer_than_the_law_is_rejected(world):
    with pytest.raises(catalogue.CatalogueError) as info:
        catalogue.do_create_matter(
            code="X-1", name="测试", kind="licence", organ=world.tianhe_bureau,
            rules=catalogue.Rules(legal_basis="某法", legal_limit=20, promised_limit=25),
        )
    assert "promised_limit" in info.value.errors


def test_parallel_approval_opens_a_subcase_per_organ_under_one_joint_clock(world, matters):
    case, _ = submit(matters.parallel, no="GZ-BL-0001", when="2026-11-02T09:00")
    subs = list(case.subcases.order_by("case_no"))
    assert [s.organ for s in subs] == [world.gz_bureau, world.tianhe_bureau, world.yuexiu_bureau]
    actions.do_accept_case(case, at=at("2026-11-03T09:00"))
    case = fresh(case)
    assert case.legal_clock.kind == "case.joint" and case.legal_clock.limit == 45
    assert all(fresh(s).promise_clock.limit == 45 for s in subs)
    with pytest.raises(actions.CaseError):
        actions.do_extend_case(case, days=16, reasons="复杂", approver_name="市长", at=at("2026-11-20T09:00"))
    actions.do_extend_case(case, days=15, reasons="复杂", approver_name="市长", at=at("2026-11-20T09:00"))
    with pytest.raises(actions.CaseError, match="协办"):
        actions.do_decide_case(case, outcome="granted", at=at("2026-12-01T09:00"))


def test_the_application_is_at_risk_as_soon_as_any_subcase_is(world, matters):
    case, _ = submit(matters.parallel, no="GZ-BL-0002", when="2026-11-02T09:00")
    actions.do_accept_case(case, at=at("2026-11-03T09:00"))
    sub = case.subcases.get(organ=world.yuexiu_bureau)
    quiet = at("2026-11-10T09:00")
    assert not is_at_risk(case, quiet)
    # Make only the sub-case's clock reach its warning.
    Clock.objects.filter(pk=fresh(sub).promise_clock_id).update(warn_at=at("2026-11-09T00:00"))
    assert is_at_risk(sub, quiet) and is_at_risk(case, quiet)


def test_the_lead_organ_sees_every_subcase_but_a_co_organ_sees_only_its_own(world, matters):
    from xiaoneng.orgs import access
    from xiaoneng.orgs.models import Grant, Role

    case, _ = submit(matters.parallel, no="GZ-BL-0003")
    lead = world.county_handler  # holds 天河; make a lead-organ handler
    lead_user = type(lead).objects.create_user("gz_handler", password="x" * 12)
    Grant.objects.create(user=lead_user, role=Role.HANDLER, organ=world.gz_bureau)
    seen_by_lead = set(access.scoped(Case.objects.all(), lead_user, "handle").values_list("case_no", flat=True))
    assert {"GZ-BL-0003-01", "GZ-BL-0003-02", "GZ-BL-0003-03"} <= seen_by_lead
    seen_by_yuexiu_side = set(access.scoped(Case.objects.all(), world.shenzhen_handler, "handle").values_list("case_no", flat=True))
    assert seen_by_yuexiu_side == set()
    seen_by_tianhe = set(access.scoped(Case.objects.all(), world.county_handler, "handle").values_list("case_no", flat=True))
    assert "GZ-BL-0003-02" in seen_by_tianhe and "GZ-BL-0003-03" not in seen_by_tianhe and "GZ-BL-0003" not in seen_by_tianhe


def test_bad_submissions_say_which_field(matters):
    for kwargs, field in [
        ({"case_no": ""}, "case_no"),
        ({"case_no": "x" * 65}, "case_no"),
        ({"applicant_name": " "}, "applicant_name"),
    ]:
        params = {"matter": matters.licence, "case_no": "OK-1", "applicant_name": "张三", "received_at": at("2026-09-28T10:00")}
        params.update(kwargs)
        with pytest.raises(actions.CaseError) as info:
            actions.do_submit_case(**params)
        assert info.value.field == field
    submit(matters.licence, no="DUP-1")
    with pytest.raises(actions.CaseError, match="已存在"):
        submit(matters.licence, no="DUP-1")
    with pytest.raises(actions.CaseError):
        actions.do_submit_case(matter=matters.licence, case_no="NAIVE", applicant_name="张三",
                               received_at=datetime(2026, 9, 28, 10))
    with pytest.raises(actions.CaseError, match="没有生效的版本"):
        submit(matters.licence, no="OLD", when="2020-01-01T10:00")


def test_fee_decimal_places(matters):
    case, _ = submit(matters.paid, no="TH-FEE-3")
    with pytest.raises(actions.CaseError):
        actions.do_charge_fee(case, amount=Decimal("1.001"))


# --- an extension must be approved within the period it extends (Art. 42) ---------------------------
def test_it_refuses_an_extension_after_the_legal_period_ended_and_changes_nothing(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    legal, promise = fresh(case).legal_clock, fresh(case).promise_clock
    late = legal.due_at + timedelta(days=1)
    with pytest.raises(actions.CaseError) as info:
        actions.do_extend_case(case, days=10, reasons="需现场核查", approver_name="李局长", at=late)
    assert info.value.field == "at" and "届满" in info.value.message and "第四十二条" in info.value.message
    case = fresh(case)
    assert not case.extended and not CaseEvent.objects.filter(case=case, kind="extend").exists()
    assert (case.legal_clock.due_at, case.legal_clock.extension_days) == (legal.due_at, 0)
    assert (case.promise_clock.due_at, case.promise_clock.extension_days) == (promise.due_at, 0)
    assert not Message.objects.filter(ref=case.case_no, kind="case.extended").exists()


def test_an_extension_on_the_last_day_of_the_period_is_still_in_time(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    due = fresh(case).legal_clock.due_at
    actions.do_extend_case(case, days=5, reasons="需现场核查", approver_name="李局长", at=due - timedelta(minutes=1))
    assert fresh(case).extended and fresh(case).legal_clock.due_at > due


def test_an_extension_recorded_after_the_period_keeps_the_clock_overdue_against_the_original_date(matters):
    """What an organ's system reports (the exchange): kept on the timeline, extends nothing."""
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    due = fresh(case).legal_clock.due_at
    actions.do_extend_case(case, days=10, reasons="需现场核查", approver_name="李局长", at=due + timedelta(days=3),
                           record_late=True)
    case = fresh(case)
    event = CaseEvent.objects.get(case=case, kind="extend")
    assert event.data["late"] is True and event.data["days"] == 10
    assert case.legal_clock.due_at == due and case.legal_clock.extension_days == 0
    assert case.legal_clock.is_overdue(due + timedelta(days=4)) and not case.extended
    assert not case.legal_clock.extensions.exists()


def test_an_extension_after_the_promise_ended_extends_only_the_legal_clock(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    legal, promise = fresh(case).legal_clock, fresh(case).promise_clock
    when = promise.due_at + timedelta(days=1)
    assert when < legal.due_at
    actions.do_extend_case(case, days=10, reasons="需现场核查", approver_name="李局长", at=when)
    case = fresh(case)
    assert case.extended and case.legal_clock.due_at > legal.due_at
    assert case.promise_clock.due_at == promise.due_at and case.promise_clock.extension_days == 0
    assert CaseEvent.objects.get(case=case, kind="extend").data["late_clocks"] == ["case.promise"]


def test_it_refuses_a_parallel_extension_after_the_joint_period_ended(matters):
    case, _ = submit(matters.parallel, no="GZ-BL-LATE", when="2026-11-02T09:00")
    actions.do_accept_case(case, at=at("2026-11-03T09:00"))
    joint = fresh(case).legal_clock
    with pytest.raises(actions.CaseError) as info:
        actions.do_extend_case(case, days=15, reasons="复杂", approver_name="市长", at=joint.due_at + timedelta(hours=1))
    assert info.value.field == "at"
    assert fresh(case).legal_clock.due_at == joint.due_at and not fresh(case).extended


# --- a deemed acceptance (Art. 32) starts every clock counted from acceptance -----------------------
def test_a_late_acceptance_starts_the_first_step_clock_at_receipt(matters):
    case, _ = submit(matters.licence, when="2026-09-28T10:00")
    actions.do_accept_case(case, at=at("2026-10-15T09:00"))
    step = case.steps.get(step__name="审查")
    assert step.started_at == case.received_at and step.clock.start_at == case.received_at
    assert step.clock.start_reason == "deemed.late_acceptance"
    assert fresh(case).legal_clock.start_reason == "deemed.late_acceptance"


def test_after_a_late_correction_notice_the_first_review_counts_from_receipt(world, matters):
    case, _ = submit(matters.first_review, no="GZ-2026-0009", when="2026-11-02T09:00",
                     first_review_organ=world.tianhe_bureau)
    actions.do_request_correction(case, items=["补充材料"], at=at("2026-11-20T09:00"))  # after five working days
    actions.do_mark_corrected(case, at=at("2026-11-24T09:00"))
    actions.do_accept_case(case, at=at("2026-11-25T09:00"))
    review = case.steps.get(step__is_first_review=True)
    assert review.clock.start_at == case.received_at
    assert review.clock.due_at == midnight_after("2026-11-30")  # as if accepted on receipt
    assert review.clock.start_reason == "deemed.late_correction"
    words = engine.explain_clock(review.clock)
    assert "视为受理" in words and "补正" in words and "第三十二条" in words


def test_a_timely_acceptance_starts_the_first_step_at_acceptance(matters):
    case, _ = submit(matters.licence)
    actions.do_accept_case(case, at=at("2026-09-29T09:00"))
    step = case.steps.get(step__name="审查")
    assert step.clock.start_at == at("2026-09-29T09:00") and step.clock.start_reason == ""
    assert "视为受理" not in engine.explain_clock(step.clock)
