"""责任倒查: from an incident back through its steps, clocks and handlers to who made it late."""
import pytest
from django.urls import reverse

from tests.accountability.conftest import at
from tests.conftest import make_organ, make_user
from xiaoneng.accountability import actions, tracing
from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.accountability.models import Party, Proposal, Status
from xiaoneng.approvals import actions as cases
from xiaoneng.audit.log import acting_as
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Role, Staff
from xiaoneng.supervision.models import AccountabilityProposal, Alert, Level

pytestmark = pytest.mark.django_db
NOW = at("2026-11-30T10:00")


@pytest.fixture
def late(world, matters, acct):
    """食品经营许可 TH-T-1: received Mon 28 Sep, accepted the 29th by 赵六 (through his account); 审查 (5 working
    days, over National Day: due 12 Oct) finished by 王五 on the 16th — four working days late; expert review
    paused 决定 from the 19th to the 23rd; 决定 by 李四 on the 26th, on time; granted on the 27th — past the
    10-day promise, within the legal 20; the certificate never issued. A red card on the promise raised a
    proposal, registered as an accountability case of the 天河 efficiency office."""
    class L:
        pass

    x = L()
    x.wang = Staff.objects.create(organ=world.tianhe_bureau, name="王五", rank="科员")
    x.zhao = Staff.objects.create(organ=world.tianhe_bureau, name="赵六", user=world.county_handler)
    case, _code = cases.do_submit_case(matter=matters.licence, case_no="TH-T-1", applicant_name="申请人",
                                       received_at=at("2026-09-28T09:00"))
    with acting_as(world.county_handler, channel="web"):
        cases.do_accept_case(case, at=at("2026-09-29T09:00"))
    cases.do_complete_step(case, step="审查", at=at("2026-10-16T10:00"), handler="王五")
    cases.do_suspend_case(case, reason="专家评审", legal_basis="《行政许可法》第四十五条", announced_days=5,
                          at=at("2026-10-19T09:00"))
    cases.do_resume_case(case, at=at("2026-10-23T17:00"))
    cases.do_complete_step(case, step="决定", at=at("2026-10-26T10:00"), handler="李四")
    cases.do_decide_case(case, outcome="granted", at=at("2026-10-27T10:00"))
    case.refresh_from_db()
    x.case = case
    x.alert = Alert.objects.create(rule="overdue_promise", level=Level.RED, organ=world.tianhe_bureau,
                                   region_code=world.tianhe_bureau.region_code, subject=case, clock=case.promise_clock,
                                   message="超过承诺时限", subject_label="TH-T-1 食品经营许可",
                                   raised_at=at("2026-10-24T09:00"), dedup_key="trace-1")
    origin = AccountabilityProposal.objects.create(alert=x.alert, organ=world.tianhe_bureau,
                                                   region_code=world.tianhe_bureau.region_code, reason="红牌：超过承诺时限",
                                                   proposed_at=at("2026-10-24T09:00"))
    x.proposal = Proposal.objects.get(origin=origin)
    x.acct = actions.do_register_case(x.proposal, deciding_organ=acct.office, at=at("2026-11-02T10:00"))
    return x


def test_the_chain_walks_back_to_the_step_that_overran_its_own_limit(late):
    (t,) = tracing.trace(late.case, now=NOW)
    assert [s.what for s in t.steps] == ["收件", "状态变更：已受理", "环节办结：审查", "状态变更：特别程序",
                                         "状态变更：已受理", "环节办结：决定", "状态变更：已决定", "尚未完成：送达证件时限"]
    review = t.steps[2]
    assert t.culprit is review and review.person == "王五" and review.staff == late.wang
    assert review.organ.name == "广州市天河区市场监督管理局"
    (clock,) = review.clocks
    assert clock.kind_label == "环节时限" and clock.due_label == "2026-10-12 24:00"
    assert clock.late_label == "逾期 4 个工作日（4 天）" and clock.url == reverse("clocks:detail", args=[clock.clock.pk])
    # the holiday is in the clock's own explanation: it is why the 12th, not the 6th
    assert "国庆节 10-01 至 10-07" in clock.explanation
    # accepted on time (correction clock), through the account of 赵六
    accepted = t.steps[1]
    assert accepted.staff == late.zhao and accepted.person == "赵六" and not accepted.late
    assert [c.kind_label for c in accepted.clocks] == ["一次性告知补正"]


def test_a_pause_shows_on_the_clocks_it_held_and_keeps_the_later_step_on_time(late, acct):
    (t,) = tracing.trace(late.case, now=NOW)
    decision_step = t.steps[5]
    (clock,) = decision_step.clocks
    assert clock.pauses == ["2026-10-19 至 2026-10-23 暂停：专家评审"] and clock.due_label == "2026-10-27 24:00"
    assert not decision_step.late and decision_step.staff == acct.li  # matched by name in the organ
    decided = {c.kind_label: c for c in t.steps[6].clocks}
    assert not decided["法定时限"].late and decided["承诺时限"].late_label == "逾期 2 个工作日（4 天）"
    pending = t.steps[-1]
    assert pending.pending and pending.clocks[0].late and pending.person == ""
    assert [(p.staff.name, p.late) for p in t.persons] == [("赵六", False), ("王五", True), ("李四", False)]


def test_an_alert_a_proposal_and_the_accountability_case_all_trace_the_same_case(late):
    (from_alert,) = tracing.trace(late.alert, now=NOW)
    assert "发现红牌：TH-T-1 食品经营许可" in [s.what for s in from_alert.steps]
    assert from_alert.culprit.what == "环节办结：审查"
    for obj in (late.proposal, late.acct):
        (t,) = tracing.trace(obj, now=NOW)
        assert t.culprit.staff == late.wang


def test_a_complaint_accepted_late_is_traced_to_the_acceptance(world, desk):
    from xiaoneng.complaints import actions as complaints

    officer = Staff.objects.create(organ=desk.tianhe_office, name="钱七", user=world.complaint_officer)
    complaint, _secret = desk.file(received_at=at("2026-09-28T09:00"))
    with acting_as(world.complaint_officer, channel="web"):
        complaints.do_accept(complaint, at=at("2026-10-20T09:00"))
    (t,) = tracing.trace(complaint, now=NOW)
    assert t.culprit.what == "受理" and t.culprit.staff == officer
    assert t.culprit.clocks[0].kind_label == "投诉受理时限"


def test_a_proposal_made_by_hand_has_nothing_to_trace(acct):
    case = acct.register()
    with pytest.raises(tracing.NothingToTrace):
        tracing.trace(case)


# --- pages ----------------------------------------------------------------------------------------------
def test_the_trace_page_is_reachable_from_the_case_and_the_proposal_and_is_audited(late, world, acct, login):
    client = login(world.county_supervisor)
    page = client.get(reverse("accountability:case", args=[late.acct.pk]))
    assert reverse("accountability:case-trace", args=[late.acct.pk]) in page.content.decode()
    response = client.get(reverse("accountability:case-trace", args=[late.acct.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "致使逾期的环节" in html and "王五" in html and "逾期 4 个工作日" in html
    entry = AuditEntry.objects.filter(action="accountability.trace").latest("id")
    assert entry.actor == world.county_supervisor and entry.changes["staff"] == [late.zhao.pk, late.wang.pk, acct.li.pk]
    proposal_page = client.get(reverse("accountability:proposal", args=[late.proposal.pk])).content.decode()
    assert reverse("accountability:proposal-trace", args=[late.proposal.pk]) in proposal_page
    assert client.get(reverse("accountability:proposal-trace", args=[late.proposal.pk])).status_code == 200
    # the supervisors above see it too
    above = login(world.province_supervisor).get(reverse("accountability:incident-trace", args=["case", late.case.pk]))
    assert above.status_code == 200 and "王五" in above.content.decode()


def test_outsiders_get_404_for_every_trace_page(late, world, login):
    elsewhere = make_user("futian_supervisor", Role.SUPERVISOR, region=world.futian)
    urls = [reverse("accountability:case-trace", args=[late.acct.pk]),
            reverse("accountability:proposal-trace", args=[late.proposal.pk]),
            reverse("accountability:incident-trace", args=["case", late.case.pk]),
            reverse("accountability:incident-trace", args=["alert", late.alert.pk])]
    before = AuditEntry.objects.filter(action="accountability.trace").count()
    for user in (world.outsider, world.county_handler, world.county_leader, world.auditor, elsewhere):
        client = login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(reverse("accountability:case-trace-add", args=[late.acct.pk]),
                           {"staff": [late.wang.pk], "responsibility": "direct"}).status_code == 404
    assert AuditEntry.objects.filter(action="accountability.trace").count() == before
    assert not Party.objects.exists()


def test_unknown_incidents_are_404_not_errors(late, world, login):
    client = login(world.county_supervisor)
    assert client.get(reverse("accountability:incident-trace", args=["rating", late.case.pk])).status_code == 404
    assert client.get(reverse("accountability:incident-trace", args=["case", 999999])).status_code == 404
    manual = make_organ("天河区某局", world.tianhe)
    proposal = actions.do_propose_accountability(source="media", organ=manual, title="暗访", reason="暗访发现")
    response = client.get(reverse("accountability:proposal-trace", args=[proposal.pk]))
    assert response.status_code == 200 and "没有可倒查的平台办理记录" in response.content.decode()


# --- adding the traced persons ---------------------------------------------------------------------------
def test_an_officer_adds_the_traced_persons_in_one_action_audited(late, world, login):
    client = login(world.county_supervisor)
    url = reverse("accountability:case-trace-add", args=[late.acct.pk])
    response = client.post(url, {"staff": [late.wang.pk, late.zhao.pk], "responsibility": "direct"})
    assert response.status_code == 302
    assert sorted(Party.objects.filter(case=late.acct).values_list("name", flat=True)) == ["王五", "赵六"]
    entry = AuditEntry.objects.get(action="accountability.trace_parties")
    assert entry.changes["staff"] == [late.wang.pk, late.zhao.pk] and entry.actor == world.county_supervisor
    # again: nobody is added twice, and the page says why
    again = client.post(url, {"staff": [late.wang.pk], "responsibility": "direct"})
    assert again.status_code == 200 and "王五 已是本案责任人" in again.content.decode()
    assert Party.objects.filter(case=late.acct).count() == 2


def test_adding_refuses_persons_outside_the_trace_bad_responsibility_and_a_case_moved_on(late, world, acct, login):
    client = login(world.county_supervisor)
    url = reverse("accountability:case-trace-add", args=[late.acct.pk])
    for data, words in [({"staff": [acct.zhang.pk], "responsibility": "direct"}, "倒查到的人员"),
                        ({"staff": ["x"], "responsibility": "direct"}, "倒查到的人员"),
                        ({"responsibility": "direct"}, "请至少选择一名倒查到的人员"),
                        ({"staff": [late.wang.pk], "responsibility": "organ"}, "责任类型")]:
        response = client.post(url, data)
        assert response.status_code == 200 and words in response.content.decode(), data
    assert not Party.objects.exists()
    with pytest.raises(AccountabilityError) as exc:
        actions.do_add_traced_parties(late.acct, staff_ids=[acct.zhang.pk])
    assert exc.value.field == "staff"
    actions.do_add_traced_parties(late.acct, staff_ids=[late.wang.pk])
    actions.do_record_findings(late.acct, findings="经查属实")
    assert late.acct.__class__.objects.get(pk=late.acct.pk).status == Status.INVESTIGATED
    response = client.post(url, {"staff": [late.zhao.pk], "responsibility": "direct"}, follow=True)
    assert "调查认定后不能再增加责任人" in response.content.decode()
    assert Party.objects.filter(case=late.acct).count() == 1
    # once investigated, the page no longer offers the form
    assert 'data-testid="trace-add"' not in client.get(reverse("accountability:case-trace", args=[late.acct.pk])).content.decode()



def test_the_incidents_own_pages_lead_to_the_trace_for_accountability_readers_only(late, world, login):
    pages = [reverse("approvals:case", args=[late.case.pk]), reverse("supervision:alert", args=[late.alert.pk])]
    for url in pages:
        mine = login(world.county_supervisor).get(url).content.decode()
        assert 'data-testid="trace-link"' in mine and "/accountability/trace/" in mine, url
        theirs = login(world.county_handler).get(url)
        assert theirs.status_code == 200 and 'data-testid="trace-link"' not in theirs.content.decode(), url


def test_the_trace_page_in_english_leaves_no_chinese_outside_the_data(late, world, acct, login):
    import re

    from xiaoneng.orgs.models import Organ, Region

    client = login(world.county_supervisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    data = sorted({*Region.objects.values_list("name", flat=True), *Organ.objects.values_list("name", flat=True),
                   *Staff.objects.values_list("name", flat=True), *Staff.objects.values_list("rank", flat=True),
                   "专家评审", "TH-T-1 食品经营许可", "审查", "决定", "暗访发现窗口推诿", "简体中文", "效"} - {""},
                  key=len, reverse=True)
    for url in (reverse("accountability:case-trace", args=[late.acct.pk]),
                reverse("accountability:incident-trace", args=["alert", late.alert.pk])):
        html = client.get(url).content.decode()
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))
        for name in data:
            text = text.replace(name, " ")
        assert not re.findall(r"[\u4e00-\u9fff]+", text), (url, re.findall(r"[\u4e00-\u9fff]+", text))


def test_a_parallel_applications_sub_case_clocks_stay_with_their_own_organs(world, matters):
    case, _code = cases.do_submit_case(matter=matters.parallel, case_no="GZ-BL-T", applicant_name="某公司",
                                       received_at=at("2026-11-02T09:00"))
    cases.do_accept_case(case, at=at("2026-11-03T09:00"))
    subs = list(case.subcases.select_related("organ"))
    for sub in subs:  # all decided at one instant, past their 45 working days
        cases.do_decide_case(sub, outcome="granted", at=at("2027-01-20T10:00"))
    cases.do_decide_case(case, outcome="granted", at=at("2027-01-21T10:00"))
    (t,) = tracing.trace(case, now=at("2027-01-25T10:00"))
    for sub in subs:
        (row,) = [s for s in t.steps if s.what == f"{sub.organ.name} · 状态变更：已决定"]
        assert [(c.clock.subject_id, c.kind_label) for c in row.clocks] == [(sub.pk, "并联子件时限")], sub.organ.name
        assert row.organ == sub.organ and row.late
    assert t.culprit.what.endswith(" · 状态变更：已决定")  # a sub-case overran first, the joint clock after
