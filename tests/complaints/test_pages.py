"""The staff complaint pages: who sees which complaint, the identity kept masked, the
audited reveal, intake, and every action form answering bad input with a clear error."""
from datetime import timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.conftest import make_user
from xiaoneng.audit.models import AuditEntry
from xiaoneng.complaints import actions as act
from xiaoneng.complaints.models import Complaint, ExtensionRequest, IdentityGrant, Status
from xiaoneng.orgs.models import Role
from xiaoneng.supervision.models import SupervisionOrder

NAME, PHONE = "张三丰", "13812345678"
LIST = reverse("complaints:list")


def detail(c):
    return reverse("complaints:detail", args=[c.pk])


def act_url(c, action):
    return reverse("complaints:act", args=[c.pk, action])


def rev(c):
    return str(c.steps.count())


def routed(desk, organ=None, **kw):
    complaint, _secret = desk.file(**kw)
    act.do_accept(complaint)
    return act.do_route(complaint, organ=organ or desk.w.tianhe_bureau)


def assert_no_identity(body: str):
    assert NAME not in body and PHONE not in body and "11010519491231002X" not in body


@pytest.fixture
def yuexiu(desk):
    """A complaint of another county (越秀), routed to the 越秀 bureau, with its own handler."""
    desk.w.yuexiu_handler = make_user("yuexiu_handler", Role.HANDLER, organ=desk.w.yuexiu_bureau)
    return routed(desk, organ=desk.w.yuexiu_bureau, region=desk.w.yuexiu, title="越秀的投诉")


# --- who sees what -----------------------------------------------------------------------
def numbers(client, **params):
    response = client.get(LIST, {"per_page": 100, **params})
    assert response.status_code == 200
    return {c.number for c in response.context["rows"]}


def test_the_complaint_officer_sees_the_complaints_of_his_county_only(desk, login, yuexiu):
    mine, _s = desk.file()
    client = login(desk.w.complaint_officer)
    assert numbers(client) == {mine.number}
    assert client.get(detail(yuexiu)).status_code == 404


def test_a_county_handler_sees_only_complaints_routed_to_his_organ(desk, login, yuexiu):
    unrouted, _s = desk.file(title="尚未转办")
    mine = routed(desk, title="转给天河局")
    client = login(desk.w.county_handler)
    assert numbers(client) == {mine.number}
    assert client.get(detail(unrouted)).status_code == 404
    assert client.get(detail(yuexiu)).status_code == 404
    assert client.get(detail(mine)).status_code == 200


@pytest.mark.parametrize("persona", ["outsider", "shenzhen_handler", "appraisal_officer"])
def test_outsiders_and_other_counties_get_nothing(desk, login, persona):
    complaint = routed(desk)
    client = login(getattr(desk.w, persona))
    list_response = client.get(LIST)
    assert list_response.status_code == 404 or not list_response.context["rows"]
    assert client.get(detail(complaint)).status_code == 404
    assert client.post(act_url(complaint, "reply"), {"rev": rev(complaint), "text": "x"}).status_code == 404
    assert client.post(reverse("complaints:reveal", args=[complaint.pk]), {"purpose": "x"}).status_code == 404


def test_the_handler_of_another_organ_gets_a_404(desk, login, yuexiu):
    mine = routed(desk)
    client = login(desk.w.yuexiu_handler)
    assert numbers(client) == {yuexiu.number}
    assert client.get(detail(mine)).status_code == 404


def test_the_list_filters_by_channel_status_duplicates_and_anonymity(desk, login):
    hotline, _s = desk.file(channel="hotline", source_ref="12345-1", title="热线件", content="内容甲")
    anon, _s = desk.file(anonymous=True, reply_channel="web", title="匿名件", content="内容乙")
    dup, _s = desk.file(title="营业执照办理拖延", content="窗口称材料不全但不一次性告知。")
    first, _s = desk.file(content="窗口称材料不全但不一次性告知。", title="营业执照办理拖延", received_at=dup.received_at)
    client = login(desk.w.complaint_officer)
    assert numbers(client, channel="hotline") == {hotline.number}
    assert numbers(client, anonymous="yes") == {anon.number}
    assert dup.number in numbers(client, duplicate="yes") or first.number in numbers(client, duplicate="yes")
    assert hotline.number not in numbers(client, duplicate="yes")
    assert numbers(client, status="accepted") == set()
    assert numbers(client, received_from="2020-01-01", received_to="2020-01-02") == set()


def test_a_bad_filter_shows_nothing_rather_than_everything(desk, login, yuexiu):
    desk.file()
    client = login(desk.w.complaint_officer)
    assert numbers(client, region=desk.w.yuexiu.pk) == set()
    assert numbers(client, received_from="not-a-date") == set()
    assert numbers(client, received_from="2026-02-02", received_to="2026-01-01") == set()


def test_overdue_and_near_deadline_filters(desk, login):
    old, _s = desk.file(received_at=timezone.now() - timedelta(days=30), title="早已超期")
    fresh, _s = desk.file(title="刚登记", content="另一内容")
    client = login(desk.w.complaint_officer)
    assert numbers(client, deadline="overdue") == {old.number}
    assert fresh.number not in numbers(client, deadline="overdue")


def test_the_list_costs_the_same_number_of_queries_for_3_and_12_complaints(desk, login):
    client = login(desk.w.complaint_officer)

    def count():
        client.get(LIST)  # warm caches (calendar, session)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert response.status_code == 200
        return len(queries)

    for i in range(3):
        routed(desk, title=f"投诉{i}", content=f"内容{i}")
    few = count()
    for i in range(3, 12):
        routed(desk, title=f"投诉{i}", content=f"内容{i}")
    assert count() == few


# --- identity ----------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["complaint_officer", "county_supervisor", "county_handler", "county_leader",
                                     "auditor", "city_supervisor"])
def test_no_page_or_export_shows_the_identity(desk, login, persona):
    complaint = routed(desk)
    client = login(getattr(desk.w, persona))
    page = client.get(detail(complaint)).content.decode()
    assert "张**" in page and "138****5678" in page
    assert_no_identity(page)
    assert_no_identity(client.get(LIST).content.decode())
    export = client.get(LIST, {"export": "xlsx"})
    sheet = load_workbook(BytesIO(export.content)).active
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    assert complaint.number in cells and "张**" in cells
    assert_no_identity(" ".join(cells))


def test_an_anonymous_complaint_shows_anonymous(desk, login):
    complaint, _s = desk.file(anonymous=True, reply_channel="web")
    page = login(desk.w.complaint_officer).get(detail(complaint)).content.decode()
    assert "匿名" in page and 'data-testid="reveal"' not in page


def test_the_officer_reveals_the_identity_with_a_purpose_and_it_is_audited(desk, login):
    complaint = routed(desk)
    client = login(desk.w.complaint_officer)
    page = client.get(detail(complaint)).content.decode()
    assert 'data-testid="reveal"' in page
    url = reverse("complaints:reveal", args=[complaint.pk])
    response = client.post(url, {"purpose": "回访核实"})
    body = response.content.decode()
    assert response.status_code == 200 and NAME in body and PHONE in body
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.filter(action="identity.reveal").get()
    assert entry.changes["purpose"] == "回访核实"
    assert_no_identity(client.get(detail(complaint)).content.decode())  # not kept for the next page


def test_a_reveal_without_a_purpose_reveals_nothing(desk, login):
    complaint = routed(desk)
    response = login(desk.w.complaint_officer).post(reverse("complaints:reveal", args=[complaint.pk]), {"purpose": " "})
    assert response.status_code == 200
    assert_no_identity(response.content.decode())
    assert "查看事由" in response.content.decode()
    assert not AuditEntry.objects.filter(action="identity.reveal").exists()


def test_the_organ_sees_the_identity_only_after_a_supervisor_grants_it(desk, login):
    complaint = routed(desk)
    handler = login(desk.w.county_handler)
    assert 'data-testid="reveal"' not in handler.get(detail(complaint)).content.decode()
    assert handler.post(reverse("complaints:reveal", args=[complaint.pk]), {"purpose": "回访"}).status_code == 403
    supervisor = login(desk.w.county_supervisor)
    response = supervisor.post(act_url(complaint, "grant_identity"), {"rev": rev(complaint), "reasons": "需回访"})
    assert response.status_code == 302
    assert IdentityGrant.objects.filter(complaint=complaint, organ=desk.w.tianhe_bureau).exists()
    handler = login(desk.w.county_handler)
    response = handler.post(reverse("complaints:reveal", args=[complaint.pk]), {"purpose": "回访"})
    assert response.status_code == 200 and NAME in response.content.decode()


# --- actions -----------------------------------------------------------------------------
def test_the_officer_accepts_routes_and_replies_through_the_page(desk, login):
    complaint, _s = desk.file()
    client = login(desk.w.complaint_officer)
    assert client.post(act_url(complaint, "accept"), {"rev": rev(complaint)}).status_code == 302
    complaint.refresh_from_db()
    response = client.post(act_url(complaint, "route"), {"rev": rev(complaint), "organ": desk.w.tianhe_bureau.pk})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.ROUTED and complaint.organ == desk.w.tianhe_bureau
    handler = login(desk.w.county_handler)
    response = handler.post(act_url(complaint, "report"), {"rev": rev(complaint), "report": "已核实并整改",
                                                           "result": "founded"})
    assert response.status_code == 302
    client = login(desk.w.complaint_officer)
    assert client.post(act_url(complaint, "reply"), {"rev": rev(complaint), "text": "已整改"}).status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.REPLIED
    page = client.get(detail(complaint)).content.decode()
    assert "complaint_officer" in page  # actor labels are shown to staff


def test_a_replayed_accept_is_a_clear_error_not_a_second_accept(desk, login):
    complaint, _s = desk.file()
    client = login(desk.w.complaint_officer)
    data = {"rev": rev(complaint)}
    assert client.post(act_url(complaint, "accept"), data).status_code == 302
    response = client.post(act_url(complaint, "accept"), data)
    assert response.status_code == 200
    assert "不能执行" in response.content.decode()
    assert complaint.steps.filter(kind="accept").count() == 1


def test_a_stale_revision_is_refused(desk, login):
    complaint, _s = desk.file()
    act.do_accept(complaint)
    client = login(desk.w.complaint_officer)
    response = client.post(act_url(complaint, "route"), {"rev": "1", "organ": desk.w.tianhe_bureau.pk})
    assert response.status_code == 200 and "重复提交" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).status == Status.ACCEPTED


@pytest.mark.parametrize("action,data,field_text", [
    ("not_accept", {"reasons": ""}, "不予受理理由"),
    ("route", {"organ": "abc"}, "承办机关"),
    ("route", {"organ": "999999"}, "承办机关"),
    ("route", {}, "承办机关"),
])
def test_bad_input_on_officer_forms_names_the_field(desk, login, action, data, field_text):
    complaint, _s = desk.file()
    if action == "route":
        complaint = act.do_accept(complaint)
    client = login(desk.w.complaint_officer)
    response = client.post(act_url(complaint, action), {"rev": rev(complaint), **data})
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="field-error"' in body and field_text in body
    assert Complaint.objects.get(pk=complaint.pk).status == complaint.status


def test_routing_to_another_countys_organ_is_refused(desk, login):
    complaint, _s = desk.file()
    act.do_accept(complaint)
    client = login(desk.w.complaint_officer)
    response = client.post(act_url(complaint, "route"), {"rev": rev(complaint), "organ": desk.w.yuexiu_bureau.pk})
    assert response.status_code == 200 and "不在投诉所属区划或您的范围内" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).organ is None


def test_a_handler_cannot_use_officer_actions_and_an_officer_cannot_send_back(desk, login):
    complaint = routed(desk)
    handler = login(desk.w.county_handler)
    assert handler.post(act_url(complaint, "reply"), {"rev": rev(complaint), "text": "x"}).status_code == 403
    officer = login(desk.w.complaint_officer)
    assert officer.post(act_url(complaint, "send_back"), {"rev": rev(complaint), "reasons": "x"}).status_code == 403
    leader = login(desk.w.county_leader)
    assert leader.post(act_url(complaint, "report"), {"rev": rev(complaint), "report": "x",
                                                      "result": "founded"}).status_code == 403
    assert officer.post(act_url(complaint, "nonsense"), {}).status_code == 404


def test_the_organ_sends_back_within_the_window_with_reasons(desk, login):
    complaint = routed(desk)
    client = login(desk.w.county_handler)
    response = client.post(act_url(complaint, "send_back"), {"rev": rev(complaint), "reasons": ""})
    assert response.status_code == 200 and "退回理由" in response.content.decode()
    response = client.post(act_url(complaint, "send_back"), {"rev": rev(complaint), "reasons": "非本局职责"})
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).status == Status.SENT_BACK


def test_a_send_back_after_the_window_is_refused(desk, login):
    complaint = routed(desk)
    Complaint.objects.filter(pk=complaint.pk).update(sendback_until=timezone.now() - timedelta(hours=1))
    response = login(desk.w.county_handler).post(act_url(complaint, "send_back"),
                                                 {"rev": rev(complaint), "reasons": "非本局职责"})
    assert response.status_code == 200 and "不能执行" in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).status == Status.ROUTED


def test_extension_requested_by_the_organ_and_decided_by_the_supervisor(desk, login):
    complaint = routed(desk)
    client = login(desk.w.county_handler)
    response = client.post(act_url(complaint, "extension"), {"rev": rev(complaint), "days": "ten", "reasons": "x"})
    assert response.status_code == 200 and "延期天数" in response.content.decode()
    response = client.post(act_url(complaint, "extension"), {"rev": rev(complaint), "days": "10", "reasons": "需调查"})
    assert response.status_code == 302
    request = ExtensionRequest.objects.get()
    supervisor = login(desk.w.county_supervisor)
    data = {"rev": rev(complaint), "request_id": request.pk, "decision": "refuse", "note": ""}
    response = supervisor.post(act_url(complaint, "decide_extension"), data)
    assert response.status_code == 200 and "不予批准须说明理由" in response.content.decode()
    data["decision"] = "approve"
    assert supervisor.post(act_url(complaint, "decide_extension"), data).status_code == 302
    request.refresh_from_db()
    assert request.approved is True
    response = supervisor.post(act_url(complaint, "decide_extension"), {**data, "rev": rev(complaint)})
    assert response.status_code == 200 and "不能执行" in response.content.decode()


def test_merging_into_an_unknown_or_out_of_scope_number_is_refused(desk, login, yuexiu):
    complaint, _s = desk.file()
    target, _s = desk.file(title="另一件", content="另一内容")
    client = login(desk.w.complaint_officer)
    for number in ("TS00000000000000", yuexiu.number):
        response = client.post(act_url(complaint, "merge"), {"rev": rev(complaint), "into": number})
        assert response.status_code == 200 and "找不到编号" in response.content.decode()
    response = client.post(act_url(complaint, "merge"), {"rev": rev(complaint), "into": complaint.number})
    assert response.status_code == 200 and "不能把投诉合并到它自己" in response.content.decode()
    response = client.post(act_url(complaint, "merge"), {"rev": rev(complaint), "into": target.number.lower()})
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).merged_into == target


def test_the_supervisor_opens_an_order_which_the_page_links(desk, login):
    complaint = routed(desk)
    client = login(desk.w.county_supervisor)
    response = client.post(act_url(complaint, "order"), {"rev": rev(complaint), "demand": ""})
    assert response.status_code == 200 and "督办要求" in response.content.decode()
    response = client.post(act_url(complaint, "order"), {"rev": rev(complaint), "demand": "三日内答复", "days": "3"})
    assert response.status_code == 302
    order = SupervisionOrder.objects.get()
    assert order.number in client.get(detail(complaint)).content.decode()


def test_review_and_accountability_proposal(desk, login):
    complaint = routed(desk)
    act.do_report_handling(complaint, report="属实", result="founded")
    act.do_reply(complaint, text="已处理")
    act.do_rate(complaint, level=1)
    act.do_appeal(complaint, reasons="不满意")
    client = login(desk.w.complaint_officer)
    response = client.post(act_url(complaint, "review"), {"rev": rev(complaint), "decision": "maybe", "reasons": "x"})
    assert response.status_code == 200 and "复核结论" in response.content.decode()
    response = client.post(act_url(complaint, "review"), {"rev": rev(complaint), "decision": "uphold",
                                                          "reasons": "答复合理"})
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).status == Status.CLOSED
    response = client.post(act_url(complaint, "propose"), {"rev": rev(complaint), "reason": "拖延办理"})
    assert response.status_code == 302


def test_a_get_on_an_action_address_goes_back_to_the_page(desk, login):
    complaint, _s = desk.file()
    response = login(desk.w.complaint_officer).get(act_url(complaint, "accept"))
    assert response.status_code == 302 and response["Location"] == detail(complaint)


# --- intake ------------------------------------------------------------------------------
INTAKE = reverse("complaints:intake")


def intake_data(desk, **over):
    data = {"channel": "hotline", "source_ref": "12345-20261102-0001", "region": desk.w.tianhe.pk,
            "category": desk.delay.pk, "title": "办证拖延", "content": "等了两个月", "name": NAME,
            "phone": PHONE, "reply_channel": "phone"}
    data.update(over)
    return data


def test_the_officer_registers_a_hotline_complaint_and_sees_the_code_and_secret_once(desk, login):
    client = login(desk.w.complaint_officer)
    page = client.get(INTAKE).content.decode()
    assert "热线工单号" in page
    response = client.post(INTAKE, intake_data(desk))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    complaint = Complaint.objects.get()
    assert complaint.number in response.content.decode()
    assert act.check_secret(complaint, response.context["secret"])
    assert complaint.name_masked == "张**"


@pytest.mark.parametrize("over,field_text", [
    ({"source_ref": ""}, "热线工单号必填"),
    ({"channel": "media", "source_ref": ""}, "媒体与栏目必填"),
    ({"region": "abc"}, "所属区划"),
    ({"category": "999999"}, "投诉类别"),
    ({"title": ""}, "标题"),
    ({"phone": "12345"}, "联系电话"),
    ({"name": "", "phone": ""}, "投诉人姓名"),
    ({"channel": "carrier-pigeon"}, "投诉渠道"),
    ({"content": "长" * 100_000}, "投诉内容"),
    ({"email": "not-an-email"}, "电子邮件"),
])
def test_bad_intake_input_names_the_field_and_registers_nothing(desk, login, over, field_text):
    response = login(desk.w.complaint_officer).post(INTAKE, intake_data(desk, **over))
    assert response.status_code == 200 and field_text in response.content.decode()
    assert not Complaint.objects.exists()


def test_intake_region_is_limited_to_the_officers_scope(desk, login):
    response = login(desk.w.complaint_officer).post(INTAKE, intake_data(desk, region=desk.w.yuexiu.pk))
    assert response.status_code == 200 and not Complaint.objects.exists()


def test_an_anonymous_intake_keeps_no_identity(desk, login):
    response = login(desk.w.complaint_officer).post(INTAKE, intake_data(desk, anonymous="on", reply_channel="web"))
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert complaint.anonymous and complaint.identity_enc == ""


@pytest.mark.parametrize("persona", ["county_handler", "county_supervisor", "outsider"])
def test_only_complaint_officers_reach_intake(desk, login, persona):
    assert login(getattr(desk.w, persona)).get(INTAKE).status_code == 404
