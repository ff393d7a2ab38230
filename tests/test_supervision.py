"""Electronic supervision: rules raise alerts once, the ladder climbs, alerts and orders live."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.approvals import actions as cases
from xiaoneng.approvals.catalogue import Rules, do_create_matter
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks import monitor
from xiaoneng.orgs import access
from xiaoneng.supervision import actions
from xiaoneng.supervision.models import AccountabilityProposal, Alert, EarlyCompletion, SupervisionOrder

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def accepted_case(matters, no="TH-S-1", when="2026-09-28T10:00", accept="2026-09-28T11:00", matter=None):
    case, _ = cases.do_submit_case(matter=matter or matters.licence, case_no=no, applicant_name="张三",
                                   received_at=at(when))
    cases.do_accept_case(case, at=at(accept))
    return case


def rules_of(alerts):
    return sorted(a.rule for a in alerts)


# --- near deadline ---------------------------------------------------------------------------
def test_a_clock_near_its_deadline_raises_a_warning_with_the_numbers(matters):
    case = accepted_case(matters)  # promise 10 working days: due 10-16 (National Day skipped, Sat 10-10 counted)
    monitor.run_pass(at("2026-10-15T09:00"))
    warning = Alert.objects.filter(rule="near_deadline", clock__kind="case.promise").get()
    assert warning.level == "warning" and warning.organ == case.organ
    assert "2026-10-16 24:00" in warning.message and "还剩 2 个工作日" in warning.message


def test_a_pass_leaves_one_digest_per_organ_to_the_background_sender(matters, world):
    from xiaoneng.notify import outbox
    from xiaoneng.notify.models import Message
    from xiaoneng.orgs.models import Grant, Role, User

    handler = User.objects.create(username="digest-handler", email="handler@tianhe.example")
    Grant.objects.create(user=handler, role=Role.HANDLER, organ=world.tianhe_bureau)
    accepted_case(matters, no="TH-D-1")
    accepted_case(matters, no="TH-D-2")
    monitor.run_pass(at("2026-10-15T09:00"))
    digest = Message.objects.get(kind="supervision.digest")
    assert digest.to == "handler@tianhe.example" and digest.state == Message.State.PENDING
    warnings = Alert.objects.filter(organ=world.tianhe_bureau, level="warning").count()
    assert warnings >= 2 and f"预警{warnings}条" in digest.text
    assert outbox.send() == (1, 0)
    digest.refresh_from_db()
    assert digest.state == Message.State.SENT


def test_no_warning_before_the_threshold_even_across_a_holiday(matters):
    accepted_case(matters)
    # 09-30: the promise is due 10-16 and the National Day break lies between: more than 2 working days remain
    monitor.run_pass(at("2026-09-30T18:00"))
    assert not Alert.objects.filter(rule="near_deadline", clock__kind="case.promise").exists()


def test_a_make_up_saturday_counts_towards_the_warning(matters):
    case = accepted_case(matters)
    # promise 10 wd, warn when max(2, 20%)=2 remain: after the 8th working day, 10-14 (Sat 10-10 is the 5th)
    case.refresh_from_db()
    assert case.promise_clock.warn_at == at("2026-10-15T00:00")


def near_deadline_alert(clock):
    return Alert.objects.filter(rule="near_deadline", clock=clock).first()


def test_a_warning_cites_the_legal_basis_of_its_own_clock_kind(matters, world):
    case = accepted_case(matters)
    complaint = clocks.do_start_clock(kind="complaint.acceptance", start_at=at("2026-10-09T10:00"), limit=5,
                                      organ=world.tianhe_bureau, label="TS-1 投诉受理", legal_basis="效能投诉受理规定")
    correction = clocks.do_start_clock(kind="case.correction", start_at=at("2026-10-09T10:00"), limit=5,
                                       organ=world.tianhe_bureau, label="TH-S-9 补正告知")
    order = actions.do_open_order(organ=world.tianhe_bureau, source="media", title="窗口推诿扯皮", demand="核查并整改",
                                  at=at("2026-10-09T10:00"))
    monitor.run_pass(at("2026-10-15T09:00"))
    case.refresh_from_db()
    assert near_deadline_alert(case.promise_clock).legal_basis == "本机关公开承诺（《行政许可法》第四十二条）"
    assert near_deadline_alert(complaint).legal_basis == "效能投诉受理规定"
    assert near_deadline_alert(correction).legal_basis == "《行政许可法》第三十二条"
    assert near_deadline_alert(order.clock).legal_basis == "效能督办制度"


def test_the_complaint_rules_a_warning_cites_are_configuration(world, settings):
    settings.XIAONENG_RULES = {"clock_legal_basis": {"complaint.acceptance": "《广东省行政效能投诉处理办法》第十二条"}}
    complaint = clocks.do_start_clock(kind="complaint.acceptance", start_at=at("2026-10-09T10:00"), limit=5,
                                      organ=world.tianhe_bureau, label="TS-1 投诉受理", legal_basis="效能投诉受理规定")
    monitor.run_pass(at("2026-10-15T09:00"))
    assert near_deadline_alert(complaint).legal_basis == "《广东省行政效能投诉处理办法》第十二条"


def test_a_two_day_order_warns_a_day_before_its_deadline_with_its_own_numbers(world):
    order = actions.do_open_order(organ=world.tianhe_bureau, source="media", title="窗口推诿扯皮", demand="核查并整改",
                                  days=2, at=at("2026-11-02T10:00"))  # a Monday: due Wednesday 11-04 24:00
    monitor.run_pass(at("2026-11-02T10:05"))
    assert near_deadline_alert(order.clock) is None  # not the moment it starts
    monitor.run_pass(at("2026-11-04T09:00"))
    message = near_deadline_alert(order.clock).message
    assert "还剩 1 个工作日" in message and "2026-11-04 24:00" in message and "时限 2 个工作日" in message


def test_the_start_day_is_not_left_to_count(world, settings):
    settings.XIAONENG_RULES = {"clock_warn_max_share": 1.0}  # a deployment that warns short clocks at once
    order = actions.do_open_order(organ=world.tianhe_bureau, source="media", title="窗口推诿扯皮", demand="核查并整改",
                                  days=2, at=at("2026-11-02T10:00"))
    monitor.run_pass(at("2026-11-02T10:05"))
    message = near_deadline_alert(order.clock).message
    assert "还剩 2 个工作日" in message and "时限 2 个工作日" in message


def test_a_day_the_clock_stood_still_is_not_left_to_count(world):
    clock = clocks.do_start_clock(kind="case.step", start_at=at("2026-11-02T10:00"), limit=5,
                                  organ=world.tianhe_bureau, label="TH-S-2 审查")
    clocks.do_pause_clock(clock, at=at("2026-11-06T10:00"), reason="专家评审", legal_basis="《行政许可法》第四十五条")
    clocks.do_resume_clock(clock, at=at("2026-11-09T09:00"))  # 11-03..11-06 counted: one day left, 11-10
    monitor.run_pass(at("2026-11-09T15:00"))
    message = near_deadline_alert(clock).message
    assert "还剩 1 个工作日" in message and "2026-11-10 24:00" in message


def test_an_hour_clock_warns_in_hours(world):
    clock = clocks.do_start_clock(kind="complaint.handling", start_at=at("2026-11-02T10:00"), limit=10, unit="hours",
                                  organ=world.tianhe_bureau, label="TS-2 投诉办理")
    monitor.run_pass(at("2026-11-02T18:30"))
    message = near_deadline_alert(clock).message
    assert "还剩 2 小时" in message and "2026-11-02 20:00" in message and "时限 10 小时" in message


def test_a_promise_suspended_on_its_last_day_gets_no_card_while_suspended(matters):
    case = accepted_case(matters)  # promise due 10-16 24:00
    cases.do_suspend_case(case, reason="检测检验", announced_days=10, legal_basis="《行政许可法》第四十五条",
                          at=at("2026-10-16T10:00"))
    monitor.run_pass(at("2026-10-20T09:00"))
    assert not Alert.objects.filter(rule__in=["overdue_promise", "overdue_legal"]).exists()
    assert not SupervisionOrder.objects.exists()
    case.refresh_from_db()
    assert not case.promise_clock.is_overdue(at("2026-10-20T09:00"))


# --- overdue and the ladder --------------------------------------------------------------------
def test_overdue_against_the_promise_and_the_law_are_two_findings_with_yellow_cards_and_orders(matters):
    case = accepted_case(matters)
    monitor.run_pass(at("2026-10-17T09:00"))  # past the promise (10-16), not the law (10-30)
    assert Alert.objects.filter(rule="overdue_promise", level="yellow").count() == 1
    assert not Alert.objects.filter(rule="overdue_legal").exists()
    order = SupervisionOrder.objects.get(alert__rule="overdue_promise")
    assert order.organ == case.organ and order.clock.limit == 5
    monitor.run_pass(at("2026-10-31T09:00"))
    assert Alert.objects.filter(rule="overdue_legal", level="yellow").count() == 1


def test_an_order_not_done_in_time_brings_a_red_card_and_an_accountability_proposal(matters):
    accepted_case(matters)
    monitor.run_pass(at("2026-10-17T09:00"))
    order = SupervisionOrder.objects.get()
    monitor.run_pass(order.clock.due_at + timedelta(hours=1))
    red = Alert.objects.get(rule="order_overdue")
    assert red.level == "red" and AccountabilityProposal.objects.filter(alert=red).exists()


def test_a_reported_and_verified_order_brings_no_red_card(matters):
    accepted_case(matters)
    monitor.run_pass(at("2026-10-17T09:00"))
    order = SupervisionOrder.objects.get()
    actions.do_report_order(order, text="已办结并向申请人致歉", at=at("2026-10-16T09:00"))
    actions.do_verify_order(order, accepted=True, note="核实属实", at=at("2026-10-16T15:00"))
    monitor.run_pass(at("2026-12-01T09:00"))
    assert not Alert.objects.filter(rule="order_overdue").exists()


def test_two_passes_never_raise_the_same_alert_twice(matters):
    accepted_case(matters)
    monitor.run_pass(at("2026-10-17T09:00"))
    n = Alert.objects.count()
    from xiaoneng.clocks.models import Clock

    # replay everything the open clocks have seen
    Clock.objects.exclude(state="stopped").update(overdue_at=None, warned_at=None, next_check_at=at("2026-10-01T00:00"))
    monitor.run_pass(at("2026-10-17T10:00"))
    assert Alert.objects.count() == n


def test_a_step_overdue_while_the_case_is_not(matters):
    accepted_case(matters, when="2026-11-02T08:00", accept="2026-11-02T09:00")  # step 审查 5 wd: due 11-09; promise 11-16
    monitor.run_pass(at("2026-11-10T09:00"))
    assert Alert.objects.filter(rule="step_overdue").count() == 1
    assert not Alert.objects.filter(rule="overdue_promise").exists()


def test_a_correction_clock_running_out_is_a_yellow_card(matters):
    cases.do_submit_case(matter=matters.licence, case_no="TH-C-1", applicant_name="李四", received_at=at("2026-11-02T09:00"))
    monitor.run_pass(at("2026-11-06T09:00"))
    assert not Alert.objects.filter(rule="correction_late").exists()
    monitor.run_pass(at("2026-11-10T09:00"))  # 5 working days ended 11-09 24:00
    assert Alert.objects.get(rule="correction_late").level == "yellow"


def test_a_certificate_later_than_ten_working_days(matters):
    case = accepted_case(matters)
    cases.do_decide_case(case, outcome="granted", at=at("2026-10-09T10:00"))
    monitor.run_pass(at("2026-10-22T10:00"))  # 10 working days end 10-22 (Sat 10-10 counts)
    assert not Alert.objects.filter(rule="certificate_late").exists()
    monitor.run_pass(at("2026-10-23T10:00"))
    assert Alert.objects.filter(rule="certificate_late").exists()


def test_a_suspension_without_legal_basis_and_one_longer_than_announced(matters):
    case = accepted_case(matters)
    cases.do_suspend_case(case, reason="检测", announced_days=3, at=at("2026-10-08T09:00"))
    assert Alert.objects.get(rule="suspension_without_basis").level == "yellow"
    cases.do_resume_case(case, at=at("2026-10-15T09:00"))
    assert Alert.objects.filter(rule="suspension_overrun").exists()


def test_a_suspension_with_basis_and_within_its_announced_days_raises_nothing(matters):
    case = accepted_case(matters)
    cases.do_suspend_case(case, reason="专家评审", legal_basis="《行政许可法》第四十五条", announced_days=5,
                          at=at("2026-10-08T09:00"))
    cases.do_resume_case(case, at=at("2026-10-12T09:00"))
    assert not Alert.objects.filter(rule__startswith="suspension").exists()


def test_fees_above_the_standard_or_on_a_free_matter(matters):
    paid = accepted_case(matters, no="TH-F-1", matter=matters.paid)
    cases.do_charge_fee(paid, amount="100.00")
    assert not Alert.objects.filter(rule="fee_above_standard").exists()
    cases.do_charge_fee(paid, amount="30.00")
    assert "超过收费标准 100.00" in Alert.objects.get(rule="fee_above_standard").message
    free = accepted_case(matters, no="TH-F-2")
    cases.do_charge_fee(free, amount="5")
    assert Alert.objects.filter(rule="fee_above_standard", subject_id=free.pk).exists()


def test_an_extension_recorded_after_the_legal_period_is_an_irregular_extension_with_a_yellow_card(matters):
    from xiaoneng.approvals.models import CaseEvent
    from xiaoneng.supervision import engine

    case = accepted_case(matters)  # legal limit due 2026-10-30 24:00
    cases.do_extend_case(case, days=5, reasons="需现场核查", approver_name="李局长", at=at("2026-10-20T09:00"))
    assert not Alert.objects.filter(rule="extension_irregular").exists()  # in time: nothing irregular
    late = accepted_case(matters, no="TH-S-2")
    cases.do_extend_case(late, days=10, reasons="需现场核查", approver_name="李局长", at=at("2026-11-05T09:00"),
                         record_late=True)
    alert = Alert.objects.get(rule="extension_irregular")
    assert (alert.level, alert.subject_id, alert.legal_basis) == ("yellow", late.pk, "《行政许可法》第四十二条")
    assert "2026-10-30 24:00" in alert.message and "不产生效力" in alert.message
    assert alert.raised_at == at("2026-11-05T09:00") and SupervisionOrder.objects.filter(alert=alert).exists()
    # the exchange fast path's batch form finds the same (raised once)
    from xiaoneng.supervision.rules import irregular_acts

    events = list(CaseEvent.objects.filter(kind="extend").order_by("pk"))
    found = irregular_acts.check_many(events)
    assert [(f.rule, f.subject.pk, f.message) for f in found] == [("extension_irregular", late.pk, alert.message)]
    engine.on_case_events(None, events=events)
    assert Alert.objects.filter(rule="extension_irregular").count() == 1


def test_early_completion_is_a_positive_figure_not_an_alert(matters):
    case = accepted_case(matters)
    cases.do_decide_case(case, outcome="granted", at=at("2026-10-09T10:00"))
    early = EarlyCompletion.objects.get()
    assert early.working_days_saved == 6  # 10-10 (make-up Saturday), 10-12 … 10-16
    assert not Alert.objects.exists()


def test_a_batch_of_case_events_finds_what_the_events_one_by_one_find_each_at_its_moment(matters):
    """The exchange fast path hands supervision a whole batch (`case_events`): the same alerts as event by
    event, raised in one call (one audit entry), each at its event's moment — its order too."""
    from django.db import transaction

    from xiaoneng.approvals.models import CaseEvent
    from xiaoneng.approvals.signals import case_event
    from xiaoneng.audit.models import AuditEntry
    from xiaoneng.supervision import engine

    assert case_event.disconnect(dispatch_uid="supervision-case-event")  # record the events without their alerts
    try:
        suspended = accepted_case(matters, no="TH-B-1")
        cases.do_suspend_case(suspended, reason="检测", announced_days=3, at=at("2026-10-08T09:00"))
        cases.do_resume_case(suspended, at=at("2026-10-15T09:00"))
        cases.do_charge_fee(accepted_case(matters, no="TH-B-2"), amount="5", at=at("2026-10-09T10:00"))
        cases.do_charge_fee(accepted_case(matters, no="TH-B-3"), amount="5", at=at("2026-10-09T11:00"))
    finally:
        case_event.connect(engine.on_case_event, dispatch_uid="supervision-case-event")
    events = list(CaseEvent.objects.select_related("case").order_by("pk"))

    def alerts():
        return sorted(Alert.objects.values_list("dedup_key", "rule", "level", "organ_id", "subject_type_id", "subject_id",
                                                "subject_label", "message", "legal_basis", "raised_at", "evidence"))

    def orders():
        return sorted(SupervisionOrder.objects.values_list("alert__dedup_key", "opened_at"))

    sid = transaction.savepoint()
    for event in events:
        engine.on_case_event(None, case=event.case, event=event)
    one_by_one, their_orders = alerts(), orders()
    transaction.savepoint_rollback(sid)
    raises = AuditEntry.objects.filter(action="supervision.raise").count()
    engine.on_case_events(None, events=events)
    assert alerts() == one_by_one and orders() == their_orders
    assert sorted(a[1] for a in one_by_one) == ["fee_above_standard", "fee_above_standard", "suspension_overrun",
                                                "suspension_without_basis"]
    moments = {e.kind: e.at for e in events}
    assert {a.rule: a.raised_at for a in Alert.objects.exclude(rule="fee_above_standard")} == {
        "suspension_without_basis": moments["suspend"], "suspension_overrun": moments["resume"]}
    assert SupervisionOrder.objects.get(alert__rule="suspension_without_basis").opened_at == moments["suspend"]
    assert AuditEntry.objects.filter(action="supervision.raise").count() == raises + 1


def test_the_bulk_listener_records_the_early_completions_the_per_clock_one_records(matters, world):
    """`clocks_stopped` (a bulk writer's stops, as `Clock`s or rows) gives what `clock_stopped` gives per clock:
    early completions of decided cases only, not of a withdrawal nor of a late or non-promise clock."""
    from xiaoneng.approvals.exchange.bulk import Row
    from xiaoneng.supervision import engine

    early = accepted_case(matters, no="TH-E-1")
    cases.do_decide_case(early, outcome="granted", at=at("2026-10-09T10:00"))
    as_row = accepted_case(matters, no="TH-E-2", accept="2026-09-28T12:00")
    cases.do_decide_case(as_row, outcome="denied", reasons="不符合条件", at=at("2026-10-12T10:00"))
    withdrawn = accepted_case(matters, no="TH-E-3")
    cases.do_withdraw_case(withdrawn, reason="申请人撤回", at=at("2026-10-09T10:00"))
    late = clocks.do_start_clock(kind="case.promise", start_at=at("2026-11-02T09:00"), limit=5, organ=world.tianhe_bureau)
    clocks.do_stop_clock(late, at=at("2026-11-20T09:00"))
    columns = ("clock__kind", "organ_id", "region_code", "working_days_saved", "at")
    per_clock = sorted(EarlyCompletion.objects.values_list(*columns))
    assert len(per_clock) == 2
    stopped = []
    for case in (early, as_row, withdrawn):
        case.refresh_from_db()
        for c in (case.promise_clock, case.legal_clock):
            if c.stopped_at and case is as_row:  # as the exchange fast path hands a loaded clock
                c = Row({f: getattr(c, f) for f in ("id", "kind", "due_at", "subject_id", "organ_id", "region_code",
                                                     "stopped_at")})
            if c.stopped_at:
                stopped.append((c, c.stopped_at))
    late.refresh_from_db()
    stopped.append((late, late.stopped_at))
    assert len(stopped) >= 5 and any(isinstance(c, Row) for c, _at in stopped)
    EarlyCompletion.objects.all().delete()
    engine.on_clocks_stopped(None, stopped=stopped)
    assert sorted(EarlyCompletion.objects.values_list(*columns)) == per_clock
    engine.on_clocks_stopped(None, stopped=stopped)  # once each
    assert EarlyCompletion.objects.count() == 2


# --- alert life ------------------------------------------------------------------------------
def test_the_alert_life_explain_then_verify(matters, world):
    accepted_case(matters)
    monitor.run_pass(at("2026-10-17T09:00"))
    alert = Alert.objects.get(rule="overdue_promise")
    with pytest.raises(actions.SupervisionError):
        actions.do_explain_alert(alert, text=" ")
    actions.do_explain_alert(alert, text="申请人补交材料延误", actor=world.county_handler)
    actions.do_close_alert(alert, note="核实属实，已整改", actor=world.county_supervisor)
    alert.refresh_from_db()
    assert alert.status == "closed" and [s.kind for s in alert.steps.all()] == ["explain", "close"]
    with pytest.raises(actions.SupervisionError):
        actions.do_dismiss_alert(alert, reasons="x")


def test_an_appeal_is_decided_by_a_supervisor(matters, world):
    accepted_case(matters)
    monitor.run_pass(at("2026-10-17T09:00"))
    alert = Alert.objects.get(rule="overdue_promise")
    actions.do_appeal_alert(alert, reasons="系统时间错误", actor=world.county_handler)
    actions.do_decide_appeal(alert, accepted=False, reasons="经核查时间无误", actor=world.county_supervisor)
    alert.refresh_from_db()
    assert alert.status == "raised"
    actions.do_appeal_alert(alert, reasons="补充证据", actor=world.county_handler)
    actions.do_decide_appeal(alert, accepted=True, reasons="申诉成立", actor=world.county_supervisor)
    alert.refresh_from_db()
    assert alert.status == "dismissed"


def test_an_alert_can_be_escalated_into_an_order_by_hand(matters):
    accepted_case(matters)
    monitor.run_pass(at("2026-10-15T09:00"))
    warning = Alert.objects.filter(rule="near_deadline").first()
    order = actions.do_escalate_alert(warning, demand="请于3个工作日内办结", days=3)
    assert order.alert == warning and order.clock.limit == 3


def test_an_order_by_hand_and_a_take_over_by_a_higher_level(world):
    order = actions.do_open_order(organ=world.tianhe_bureau, source="media", title="窗口推诿扯皮",
                                  demand="核查并整改", issuer=world.tianhe, at=at("2026-11-02T09:00"))
    with pytest.raises(actions.SupervisionError):
        actions.do_take_over_order(order, issuer=world.tianhe)
    actions.do_take_over_order(order, issuer=world.gz)
    order.refresh_from_db()
    assert order.taken_over and order.issuer_region_code == "4401"
    with pytest.raises(actions.SupervisionError) as info:
        actions.do_open_order(organ=world.tianhe_bureau, source="rumour", title="x", demand="y")
    assert info.value.field == "source"


def test_a_returned_order_goes_back_to_the_organ(world):
    order = actions.do_open_order(organ=world.tianhe_bureau, source="inspection", title="暗访发现", demand="整改")
    actions.do_report_order(order, text="已整改")
    actions.do_verify_order(order, accepted=False, note="整改不到位")
    order.refresh_from_db()
    assert order.status == "open"


# --- scope -----------------------------------------------------------------------------------
def test_a_county_supervisor_never_sees_another_countys_alerts(world, matters):
    accepted_case(matters)
    futian_matter = do_create_matter(
        code="440304-SP-001", name="食品经营许可", kind="licence", organ=world.futian_bureau,
        rules=Rules(legal_basis="《食品安全法》", legal_limit=20, promised_limit=10, effective_from=at("2025-01-01T00:00")),
    )
    accepted_case(matters, no="FT-S-1", matter=futian_matter)
    monitor.run_pass(at("2026-10-17T09:00"))
    mine = access.scoped(Alert.objects.all(), world.county_supervisor, "supervise")
    assert mine.exists() and not mine.filter(organ=world.futian_bureau).exists()
    assert access.scoped(Alert.objects.all(), world.province_supervisor, "supervise").filter(organ=world.futian_bureau).exists()
    assert not access.scoped(Alert.objects.all(), world.outsider, "supervise").exists()


def test_fee_decimal_in_message(matters):
    paid = accepted_case(matters, no="TH-F-3", matter=matters.paid)
    cases.do_charge_fee(paid, amount=Decimal("150.50"))
    assert "50.50" in Alert.objects.get(rule="fee_above_standard").message


def test_clock_stop_before_start_guard(world):
    clock = clocks.do_start_clock(kind="case.promise", start_at=at("2026-11-02T09:00"), limit=5, organ=world.tianhe_bureau)
    clocks.do_stop_clock(clock, at=at("2026-11-20T09:00"))  # late: no early completion
    assert not EarlyCompletion.objects.exists()


# --- what organs' systems report -------------------------------------------------------------
def _exchange_events(world, *rows):
    from django.utils import timezone

    from xiaoneng.approvals.models import ExchangeBatch, ExchangeEvent, ExchangeSource
    from xiaoneng.approvals.signals import exchange_processed

    source = ExchangeSource.objects.create(code="th-system", name="天河审批系统", key_prefix="x", key_hash="x")
    batch = ExchangeBatch.objects.create(source=source, received_at=timezone.now(), raw="[]", size=2)
    events = [
        ExchangeEvent.objects.create(source=source, batch=batch, event_id=f"e{i}", received_at=timezone.now(),
                                     organ_code=world.tianhe_bureau.credit_code, payload={}, **row)
        for i, row in enumerate(rows)
    ]
    exchange_processed.send(sender=ExchangeEvent, events=events)
    return events


def test_a_late_report_and_an_irregular_act_reported_by_a_system_become_alerts(world):
    _exchange_events(
        world,
        {"type": "accepted", "case_no": "X-1", "state": "applied", "lag_seconds": 3 * 24 * 3600},
        {"type": "refused", "case_no": "X-2", "state": "rejected", "error_field": "reasons", "error_reason": "缺少理由",
         "lag_seconds": 60},
        {"type": "step_completed", "case_no": "X-3", "state": "rejected", "error_field": "step",
         "error_reason": "环节顺序不符", "lag_seconds": 60},
    )
    assert rules_of(Alert.objects.all()) == ["late_report", "process_anomaly", "refusal_without_reasons"]
    assert "迟报 72.0 小时" in Alert.objects.get(rule="late_report").message


def test_a_timely_valid_report_raises_nothing(world):
    _exchange_events(world, {"type": "accepted", "case_no": "X-1", "state": "applied", "lag_seconds": 600})
    assert not Alert.objects.exists()
