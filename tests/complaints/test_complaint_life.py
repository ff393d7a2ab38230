"""A complaint's life through the actions: every channel and path, on its clocks."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.audit.models import AuditEntry
from xiaoneng.clocks.models import Clock
from xiaoneng.complaints import actions as act
from xiaoneng.complaints import identity
from xiaoneng.complaints.models import Channel, Complaint, ComplaintStep, Status
from xiaoneng.complaints.workflow import TransitionError
from xiaoneng.notify.models import Message
from xiaoneng.supervision.models import AccountabilityProposal, OrderSource

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 9, 0, tzinfo=CN)  # Monday 2026-11-02


def routed(desk, **kw):
    complaint, _secret = desk.file(received_at=MON, **kw)
    act.do_accept(complaint, at=MON + timedelta(hours=2))
    return act.do_route(complaint, organ=desk.w.tianhe_bureau, at=MON + timedelta(hours=3))


# --- intake ----------------------------------------------------------------------------
@pytest.mark.parametrize("channel,ref", [
    ("web", ""), ("hotline", "12345-20261102-0001"), ("sms", ""), ("letter", ""), ("visit", ""),
    ("media", "广州电视台《效能直击》"), ("interview", "2026年第10期效能访谈"), ("referral", "粤效转〔2026〕12号"),
    ("open311", ""),
])
def test_every_channel_registers_a_complaint_with_a_tracking_code_and_an_acceptance_clock(desk, channel, ref):
    complaint, secret = desk.file(channel=channel, source_ref=ref, received_at=MON)
    assert complaint.status == Status.REGISTERED and complaint.number.startswith("TS20261102")
    assert act.check_secret(complaint, secret) and not act.check_secret(complaint, "WRONG123")
    clock = complaint.acceptance_clock
    assert clock.kind == "complaint.acceptance" and clock.limit == 5 and clock.organ == desk.tianhe_office
    assert clock.due_at == datetime(2026, 11, 10, tzinfo=CN)  # 5 working days after Monday: Mon 11-09 24:00


@pytest.mark.parametrize("channel", ["hotline", "media", "interview", "referral"])
def test_channels_with_a_source_document_must_name_it(desk, channel):
    with pytest.raises(act.ComplaintError) as err:
        desk.file(channel=channel, source_ref="  ")
    assert err.value.field == "source_ref"
    assert not Complaint.objects.exists() and not Clock.objects.exists()


def test_an_anonymous_complaint_stores_no_identity_and_can_only_be_followed_on_the_web(desk):
    complaint, _secret = desk.file(anonymous=True, reply_channel="web")
    assert complaint.identity_enc == "" and complaint.name_masked == "" and complaint.phone_digest == ""
    assert complaint.complainant_label == "匿名"
    assert not Message.objects.exists()
    with pytest.raises(act.ComplaintError) as err:
        desk.file(anonymous=True, reply_channel="sms", title="另一件事")
    assert err.value.field == "reply_channel"


def test_the_identity_is_encrypted_at_rest_and_pages_get_only_masked_copies(desk):
    complaint, _secret = desk.file()
    row = Complaint.objects.values("identity_enc", "name_masked", "phone_masked").get(pk=complaint.pk)
    assert "张三丰" not in row["identity_enc"] and "13812345678" not in row["identity_enc"]
    assert row["name_masked"] == "张**" and row["phone_masked"] == "138****5678"
    assert identity.decrypt(row["identity_enc"]).id_number == "11010519491231002X"


@pytest.mark.parametrize("field,value", [
    ("phone", "12345"), ("id_number", "110105194912310021"), ("email", "not-an-email"),
])
def test_a_malformed_contact_is_refused_with_its_field(desk, field, value):
    person = identity.Identity.of(**{**desk.person.__dict__, field: value})
    with pytest.raises(act.ComplaintError) as err:
        desk.file(complainant=person)
    assert err.value.field == field
    assert not Complaint.objects.exists()


def test_a_named_complaint_needs_a_name_or_a_phone_and_the_contact_its_reply_channel_uses(desk):
    with pytest.raises(act.ComplaintError) as err:
        desk.file(complainant=identity.Identity())
    assert err.value.field == "name"
    with pytest.raises(act.ComplaintError) as err:
        desk.file(reply_channel="email")
    assert err.value.field == "email"


def test_empty_or_oversized_text_and_naive_times_are_refused(desk, settings):
    settings.XIAONENG_RULES = {"complaint_max_content_chars": 100}
    for kwargs, field in [({"title": " "}, "title"), ({"content": ""}, "content"), ({"content": "拖" * 101}, "content"),
                          ({"received_at": datetime(2026, 11, 2, 9)}, "received_at"), ({"lat": "north"}, "lat"),
                          ({"long": 500}, "long")]:
        with pytest.raises(act.ComplaintError) as err:
            desk.file(**kwargs)
        assert err.value.field == field
    assert not Complaint.objects.exists()


def test_the_complainant_is_sent_the_tracking_code_and_secret_by_sms(desk):
    complaint, secret = desk.file()
    message = Message.objects.get(kind="complaint.registered")
    assert message.to == "13812345678" and complaint.number in message.text and secret in message.text


def test_a_second_complaint_by_the_same_person_on_the_same_category_is_flagged_as_a_possible_duplicate(desk):
    first, _s = desk.file()
    second, _s = desk.file(title="还是营业执照的事", content="换了说法")
    other_person, _s = desk.file(title="别人的事", content="完全不同的内容",
                                 complainant=identity.Identity.of(name="李四", phone="13900000000"))
    assert second.possible_duplicate == first and other_person.possible_duplicate is None


# --- acceptance and routing ------------------------------------------------------------
def test_not_accepting_needs_reasons_stops_the_clock_and_tells_the_complainant(desk):
    complaint, _s = desk.file(received_at=MON)
    with pytest.raises(act.ComplaintError):
        act.do_not_accept(complaint, reasons=" ")
    act.do_not_accept(complaint, reasons="属于信访事项，已告知向信访部门反映", at=MON + timedelta(days=1))
    complaint.refresh_from_db()
    assert complaint.status == Status.NOT_ACCEPTED and complaint.acceptance_clock.state == Clock.State.STOPPED
    assert "信访" in Message.objects.get(kind="complaint.not_accepted").text


def test_routing_starts_the_organs_handling_clock_and_opens_a_two_working_day_send_back_window(desk):
    complaint = routed(desk)
    clock = complaint.handling_clock
    assert complaint.status == Status.ROUTED and complaint.organ == desk.w.tianhe_bureau
    assert clock.kind == "complaint.handling" and clock.limit == 30 and clock.unit == "calendar"
    assert complaint.sendback_until == datetime(2026, 11, 5, tzinfo=CN)  # Tue + Wed → Wed 24:00
    assert complaint.region_code == desk.w.tianhe_bureau.region_code


def test_a_hotline_work_order_has_the_hotline_limit_in_working_days(desk, settings):
    settings.XIAONENG_RULES = {"hotline_order_working_days": 3}
    complaint = routed(desk, channel="hotline", source_ref="12345-0001")
    assert (complaint.handling_clock.limit, complaint.handling_clock.unit) == (3, "working")


def test_routing_outside_the_complaints_region_is_refused(desk):
    complaint, _s = desk.file()
    act.do_accept(complaint)
    with pytest.raises(act.ComplaintError) as err:
        act.do_route(complaint, organ=desk.w.futian_bureau)
    assert err.value.field == "organ"


def test_the_organ_sends_back_a_wrongly_routed_complaint_and_rerouting_restarts_the_clock(desk):
    complaint = routed(desk, region=desk.w.gz)  # the city office may route across its districts
    first_clock = complaint.handling_clock
    act.do_send_back(complaint, reasons="该事项属越秀区管辖", at=MON + timedelta(days=1))
    complaint.refresh_from_db()
    assert complaint.status == Status.SENT_BACK and complaint.organ is None
    first_clock.refresh_from_db()
    assert first_clock.state == Clock.State.STOPPED
    act.do_route(complaint, organ=desk.w.yuexiu_bureau, at=MON + timedelta(days=1, hours=1))
    complaint.refresh_from_db()
    assert complaint.route_count == 2 and complaint.handling_clock != first_clock
    assert complaint.handling_clock.start_at == MON + timedelta(days=1, hours=1)
    kinds = list(complaint.steps.values_list("kind", flat=True))
    assert kinds == ["register", "accept", "route", "send_back", "route"]


def test_sending_back_after_the_window_or_without_reasons_is_refused(desk):
    complaint = routed(desk)
    with pytest.raises(act.ComplaintError):
        act.do_send_back(complaint, reasons="")
    with pytest.raises(act.ComplaintError) as err:
        act.do_send_back(complaint, reasons="不归我们管", at=datetime(2026, 11, 5, 0, 1, tzinfo=CN))
    assert "退回期限" in err.value.message


def test_an_extension_is_asked_by_the_organ_and_approved_by_a_supervisor(desk):
    complaint = routed(desk)
    due = complaint.handling_clock.due_at
    asked, approved = datetime(2026, 11, 20, 9, tzinfo=CN), datetime(2026, 11, 23, 9, tzinfo=CN)  # before 12-02 24:00
    request = act.do_request_extension(complaint, days=10, reasons="需现场核查", at=asked)
    with pytest.raises(act.ComplaintError):
        act.do_request_extension(complaint, days=5, reasons="再要一次", at=asked)  # one pending at a time
    act.do_decide_extension(request, approved=True, approver=desk.w.county_supervisor, note="同意", at=approved)
    complaint.refresh_from_db()
    # 30 + 10 calendar days from Mon 11-02 end on Sat 12-12, which rolls to Mon 12-14 (24:00)
    assert due == datetime(2026, 12, 3, tzinfo=CN)
    assert complaint.extended and complaint.handling_clock.due_at == datetime(2026, 12, 15, tzinfo=CN)
    with pytest.raises(act.ComplaintError):
        act.do_decide_extension(request, approved=True, approver=desk.w.county_supervisor)  # replay


def test_it_refuses_to_approve_an_extension_after_the_handling_period_ended(desk):
    complaint = routed(desk)
    due = complaint.handling_clock.due_at  # 2026-12-02 24:00
    request = act.do_request_extension(complaint, days=10, reasons="需现场核查", at=due - timedelta(days=2))
    with pytest.raises(act.ComplaintError) as err:
        act.do_decide_extension(request, approved=True, approver=desk.w.county_supervisor, note="同意",
                                at=due + timedelta(hours=9))
    assert err.value.field == "approved" and "届满" in err.value.message
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert not complaint.extended and complaint.handling_clock.due_at == due


def test_an_extension_beyond_the_cap_is_refused_and_a_refusal_needs_reasons(desk):
    complaint = routed(desk)
    with pytest.raises(act.ComplaintError) as err:
        act.do_request_extension(complaint, days=31, reasons="太忙")
    assert err.value.field == "days"
    request = act.do_request_extension(complaint, days=5, reasons="需要调查")
    with pytest.raises(act.ComplaintError):
        act.do_decide_extension(request, approved=False, approver=desk.w.county_supervisor, note="")
    act.do_decide_extension(request, approved=False, approver=desk.w.county_supervisor, note="理由不充分")
    assert not Complaint.objects.get(pk=complaint.pk).extended


# --- answer, reply, rating, review -----------------------------------------------------
def answered(desk, **kw):
    complaint = routed(desk, **kw)
    act.do_report_handling(complaint, report="已约谈窗口负责人并当场办结", result="founded", at=MON + timedelta(days=3))
    return act.do_reply(complaint, text="经核查属实，已整改。", at=MON + timedelta(days=4))


def test_a_satisfied_complainant_closes_the_complaint(desk):
    complaint = answered(desk)
    assert complaint.handling_clock.state == Clock.State.STOPPED
    assert Message.objects.filter(kind="complaint.replied").exists()
    act.do_rate(complaint, level=4, comment="满意")
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED and complaint.satisfaction == 4


def test_a_dissatisfied_complainant_appeals_and_the_review_reopens_the_complaint(desk):
    complaint = answered(desk)
    act.do_rate(complaint, level=1, comment="敷衍", at=MON + timedelta(days=5))
    act.do_appeal(complaint, reasons="问题没有解决", at=MON + timedelta(days=5))
    with pytest.raises(act.ComplaintError):
        act.do_appeal(complaint, reasons="再申请一次", at=MON + timedelta(days=6))
    act.do_decide_review(complaint, upheld=False, reasons="核查不充分，重新办理")
    complaint.refresh_from_db()
    assert complaint.status == Status.ROUTED and complaint.route_count == 2


def test_a_review_that_upholds_the_reply_closes_the_complaint(desk):
    complaint = answered(desk)
    act.do_rate(complaint, level=2, at=MON + timedelta(days=5))
    act.do_appeal(complaint, reasons="不服", at=MON + timedelta(days=5))
    act.do_decide_review(complaint, upheld=True, reasons="原答复事实清楚")
    assert Complaint.objects.get(pk=complaint.pk).status == Status.CLOSED


def test_an_appeal_after_the_window_is_refused_and_the_sweep_closes_the_complaint(desk):
    complaint = answered(desk)
    late = complaint.replied_at + timedelta(days=16)
    with pytest.raises(act.ComplaintError):
        act.do_appeal(complaint, reasons="晚了", at=late)
    assert act.close_stale(at=late) == 1
    assert Complaint.objects.get(pk=complaint.pk).status == Status.CLOSED


@pytest.mark.parametrize("level", [0, 6, "五", None])
def test_a_satisfaction_outside_the_five_levels_is_refused(desk, level):
    complaint = answered(desk)
    with pytest.raises(act.ComplaintError) as err:
        act.do_rate(complaint, level=level)
    assert err.value.field == "level"


def test_a_status_change_the_table_does_not_list_is_refused(desk):
    complaint, _s = desk.file()
    with pytest.raises(TransitionError):
        act.do_reply(complaint, text="还没办呢")
    assert Complaint.objects.get(pk=complaint.pk).status == Status.REGISTERED


def test_a_merged_duplicate_stops_its_clocks_and_its_complainant_hears_the_reply(desk):
    first, _s = desk.file(received_at=MON)
    second, _s = desk.file(received_at=MON + timedelta(hours=1), title="同一件事", content="营业执照拖延")
    act.do_merge(second, into=first, note="同一事项")
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.acceptance_clock.state == Clock.State.STOPPED
    assert Message.objects.filter(kind="complaint.merged", ref=second.number).exists()
    with pytest.raises(act.ComplaintError):
        act.do_merge(first, into=first)
    act.do_accept(first, at=MON + timedelta(hours=2))
    act.do_route(first, organ=desk.w.tianhe_bureau, at=MON + timedelta(hours=3))
    act.do_report_handling(first, report="已处理", result="partly")
    act.do_reply(first, text="已处理")
    assert Message.objects.filter(kind="complaint.replied", ref=second.number).exists()


def test_a_founded_complaint_opens_a_supervision_order_and_an_accountability_proposal(desk):
    complaint = answered(desk)
    order = act.do_open_order(complaint, demand="请于5个工作日内整改并报告")
    assert order.source == OrderSource.COMPLAINT and order.organ == desk.w.tianhe_bureau and order.clock_id
    proposal = act.do_propose_accountability(complaint, reason="窗口人员多次推诿")
    assert proposal.complaint == complaint and proposal.alert is None
    assert set(complaint.steps.values_list("kind", flat=True)) >= {"order", "proposal"}


def test_an_unfounded_complaint_cannot_propose_accountability(desk):
    complaint = routed(desk)
    act.do_report_handling(complaint, report="经查不属实", result="unfounded")
    with pytest.raises(act.ComplaintError):
        act.do_propose_accountability(complaint, reason="x")
    assert not AccountabilityProposal.objects.exists()


# --- identity --------------------------------------------------------------------------
def test_the_complaint_officer_may_reveal_the_identity_and_the_reveal_is_audited(desk):
    complaint, _s = desk.file()
    assert identity.may_reveal(desk.w.complaint_officer, complaint)
    who = identity.reveal(desk.w.complaint_officer, complaint, purpose="电话回访")
    assert who.name == "张三丰"
    entry = AuditEntry.objects.filter(action="identity.reveal").latest("pk")
    assert entry.object_id == str(complaint.pk) and entry.changes["purpose"] == "电话回访"


def test_the_organ_complained_about_never_sees_the_complainant_unless_a_supervisor_grants_it(desk):
    complaint = routed(desk)
    handler = desk.w.county_handler
    assert not identity.may_reveal(handler, complaint)
    with pytest.raises(PermissionError):
        identity.reveal(handler, complaint, purpose="好奇")
    act.do_grant_identity(complaint, organ=desk.w.tianhe_bureau, reasons="需当面核实", actor=desk.w.county_supervisor)
    assert identity.may_reveal(handler, complaint)
    assert not identity.may_reveal(desk.w.shenzhen_handler, complaint)


@pytest.mark.parametrize("who", ["outsider", "auditor", "county_leader", "shenzhen_handler", "appraisal_officer"])
def test_roles_that_do_not_need_the_identity_may_not_reveal_it(desk, who):
    complaint = routed(desk)
    assert not identity.may_reveal(getattr(desk.w, who), complaint)


def test_key_rotation_reencrypts_every_identity_with_the_new_key(desk, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    complaint, _s = desk.file()
    old = identity.keys()[0].decode()
    new = Fernet.generate_key().decode()
    settings.XIAONENG_IDENTITY_KEYS = [new, old]
    call_command("identity_keys", "rotate")
    settings.XIAONENG_IDENTITY_KEYS = [new]
    stored = Complaint.objects.get(pk=complaint.pk).identity_enc
    assert identity.decrypt(stored).phone == "13812345678"


def test_every_state_change_writes_a_step_and_public_steps_exclude_internal_ones(desk):
    complaint = routed(desk)
    act.do_request_extension(complaint, days=3, reasons="内部事项")
    public = set(ComplaintStep.objects.filter(complaint=complaint, public=True).values_list("kind", flat=True))
    assert public == {"register", "accept", "route"}


def test_channels_are_the_ones_the_issue_names():
    assert set(Channel.values) == {"web", "hotline", "sms", "letter", "visit", "media", "interview", "referral",
                                   "open311"}
