"""Handling pages: case lists per role, the case page and its actions, the matter catalogue."""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import include, path, reverse
from django.utils import timezone
from openpyxl import load_workbook

import xiaoneng.urls
from xiaoneng.approvals import actions
from xiaoneng.approvals.catalogue import Rules, StepSpec, do_create_matter
from xiaoneng.approvals.models import Case, CaseEvent, StatusChange
from xiaoneng.audit.log import acting_as
from xiaoneng.clocks.models import Clock
from xiaoneng.orgs.models import Grant, Role, User

# Until the project routes these pages itself, the tests route them the way it will.
urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    path("public/", include("xiaoneng.approvals.public_urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)


def ago(**kw):
    return timezone.now() - timedelta(**kw)


def submit(matter, no, *, organ=None, name="张三丰", phone="13800001234", when=None, **kw):
    case, _code = actions.do_submit_case(
        matter=matter, case_no=no, applicant_name=name, applicant_phone=phone,
        received_at=when or ago(hours=2), organ=organ, **kw,
    )
    return case


@pytest.fixture
def cases(world, matters):
    """Cases in 天河 (two), 石牌 (below 天河), 越秀 and 福田, and a parallel application led by 广州."""
    since = ago(days=400)
    yuexiu = do_create_matter(code="440104-SP-001", name="食品经营许可（越秀）", kind="licence", organ=world.yuexiu_bureau,
                              rules=Rules(legal_basis="《食品安全法》", legal_limit=20, promised_limit=10, effective_from=since))
    futian = do_create_matter(code="440304-SP-001", name="食品经营许可（福田）", kind="licence", organ=world.futian_bureau,
                              rules=Rules(legal_basis="《食品安全法》", legal_limit=20, promised_limit=10, effective_from=since))
    # The shared matters start on 2025-01-01; these cases are received now.
    c = type("Cases", (), {})()
    c.th1 = submit(matters.licence, "TH-0001")
    c.th2 = submit(matters.licence, "TH-0002", name="李四", phone="13900002222")
    c.station = submit(matters.licence, "SP-0001", organ=world.tianhe_station, name="王五")
    c.yx = submit(yuexiu, "YX-0001", name="赵六")
    c.ft = submit(futian, "FT-0001", name="钱七")
    c.bl = submit(matters.parallel, "GZ-BL-0001", name="孙八")
    c.yuexiu_matter, c.futian_matter = yuexiu, futian
    return c


def case_nos(response):
    return {c.case_no for c in response.context["rows"]}


def act(client, case, action, data=None, rev=None):
    payload = {"rev": rev if rev is not None else revision(case), **(data or {})}
    return client.post(reverse("approvals:act", args=[case.pk, action]), payload)


def revision(case):
    return str(StatusChange.objects.filter(case=case).count() + CaseEvent.objects.filter(case=case).count())


def fresh(case):
    return Case.objects.get(pk=case.pk)


def text(response):
    return response.content.decode()


# --- scoping --------------------------------------------------------------------------------
def test_a_county_handler_sees_tianhe_cases_and_gets_404_for_futian_and_yuexiu(world, cases, login):
    client = login(world.county_handler)
    page = client.get(reverse("approvals:cases"))
    assert page.status_code == 200
    # 天河 and the 石牌 station below it, and 天河's own sub-case of the 广州 application.
    assert case_nos(page) == {"TH-0001", "TH-0002", "SP-0001", "GZ-BL-0001-02"}
    for other in (cases.ft, cases.yx, cases.bl):
        assert client.get(reverse("approvals:case", args=[other.pk])).status_code == 404
    assert client.get(reverse("approvals:case", args=[cases.th1.pk])).status_code == 200
    assert client.get(reverse("approvals:case", args=[999999])).status_code == 404


def test_supervisors_see_the_cases_of_their_region(world, cases, login, client):
    city = case_nos(login(world.city_supervisor).get(reverse("approvals:cases")))
    assert city == {"TH-0001", "TH-0002", "SP-0001", "YX-0001", "GZ-BL-0001"}  # sub-cases sit under the application
    client.logout()
    county = case_nos(login(world.county_supervisor).get(reverse("approvals:cases")))
    assert county == {"TH-0001", "TH-0002", "SP-0001", "GZ-BL-0001-02"}
    client.logout()
    province = login(world.province_supervisor)
    assert "FT-0001" in case_nos(province.get(reverse("approvals:cases")))
    assert province.get(reverse("approvals:case", args=[cases.ft.pk])).status_code == 200


def test_an_outsider_sees_nothing(world, cases, matters, login):
    client = login(world.outsider)
    page = client.get(reverse("approvals:cases"))
    assert page.status_code == 200 and case_nos(page) == set()
    assert client.get(reverse("approvals:case", args=[cases.th1.pk])).status_code == 404
    assert client.get(reverse("approvals:matter", args=[matters.licence.pk])).status_code == 404
    assert list(client.get(reverse("approvals:matters")).context["rows"]) == []
    export = client.get(reverse("approvals:cases"), {"export": "xlsx"})
    assert len(list(load_workbook(io.BytesIO(export.content)).active.iter_rows())) == 1  # the header only


def test_anonymous_visitors_are_sent_to_the_login_page(cases, client):
    response = client.get(reverse("approvals:case", args=[cases.th1.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_lead_organ_sees_every_subcase_under_its_application(world, cases, login):
    lead = User.objects.create_user("gz_handler", password="x" * 12)
    Grant.objects.create(user=lead, role=Role.HANDLER, organ=world.gz_bureau)
    client = login(lead)
    page = client.get(reverse("approvals:cases"))
    rows = {c.case_no: c for c in page.context["rows"]}
    assert "GZ-BL-0001" in rows and "GZ-BL-0001-02" not in rows
    assert [s.case_no for s in rows["GZ-BL-0001"].visible_subcases] == ["GZ-BL-0001-01", "GZ-BL-0001-02", "GZ-BL-0001-03"]
    detail = client.get(reverse("approvals:case", args=[cases.bl.pk]))
    assert [s.case_no for s in detail.context["subcases"]] == ["GZ-BL-0001-01", "GZ-BL-0001-02", "GZ-BL-0001-03"]
    # A co-organ handles its own sub-case once the application is accepted; the
    # application-level actions (acceptance, extension, withdrawal) stay with the lead.
    actions.do_accept_case(cases.bl)
    tianhe_sub = cases.bl.subcases.get(organ=world.tianhe_bureau)
    sub_page = login(world.county_handler).get(reverse("approvals:case", args=[tianhe_sub.pk]))
    assert sub_page.context["can_act"] and not sub_page.context["parent_visible"]
    assert {f.action for f in sub_page.context["action_forms"]} == {"suspend", "decide", "fee"}
    assert "GZ-BL-0001" in text(sub_page)


# --- filters, sorting, paging, export --------------------------------------------------------
def test_filters_narrow_the_list_within_scope(world, cases, matters, login):
    client = login(world.city_supervisor)
    url = reverse("approvals:cases")
    assert case_nos(client.get(url, {"q": "李四"})) == {"TH-0002"}
    assert case_nos(client.get(url, {"q": "th-000"})) == {"TH-0001", "TH-0002"}
    assert case_nos(client.get(url, {"organ": world.yuexiu_bureau.pk})) == {"YX-0001", "GZ-BL-0001-03"}
    assert case_nos(client.get(url, {"matter": cases.yuexiu_matter.pk})) == {"YX-0001"}
    # A filter on a co-organ shows its sub-case even though the application is elsewhere.
    assert case_nos(client.get(url, {"organ": world.tianhe_bureau.pk})) == {"TH-0001", "TH-0002", "GZ-BL-0001-02"}
    actions.do_accept_case(cases.th1)
    assert case_nos(client.get(url, {"status": "accepted"})) == {"TH-0001"}
    today = timezone.localdate()
    assert len(case_nos(client.get(url, {"received_from": today - timedelta(days=1)}))) == 5
    assert case_nos(client.get(url, {"received_to": today - timedelta(days=3)})) == set()


def test_filters_outside_the_scope_or_malformed_show_nothing_and_say_why(world, cases, login):
    client = login(world.city_supervisor)
    url = reverse("approvals:cases")
    for params in ({"organ": world.futian_bureau.pk}, {"matter": cases.futian_matter.pk}, {"organ": "abc"},
                   {"status": "nonsense"}, {"received_from": "2026-13-01"},
                   {"received_from": "2026-10-10", "received_to": "2026-10-01"}):
        page = client.get(url, params)
        assert page.status_code == 200 and case_nos(page) == set(), params
        assert page.context["form"].errors, params


def test_the_risk_filter_tells_overdue_at_risk_and_on_time_apart(world, cases, login):
    for case in (cases.th1, cases.th2, cases.station):
        actions.do_accept_case(case)
    now = timezone.now()
    th1, th2 = fresh(cases.th1), fresh(cases.th2)
    Clock.objects.filter(pk=th1.promise_clock_id).update(warn_at=now - timedelta(days=3), due_at=now - timedelta(hours=1))
    Clock.objects.filter(pk=th2.promise_clock_id).update(warn_at=now - timedelta(hours=1), due_at=now + timedelta(days=2))
    client = login(world.county_handler)
    url = reverse("approvals:cases")
    assert case_nos(client.get(url, {"risk": "overdue"})) == {"TH-0001"}
    assert case_nos(client.get(url, {"risk": "at_risk"})) == {"TH-0002"}
    assert case_nos(client.get(url, {"risk": "on_time"})) == {"SP-0001", "GZ-BL-0001-02"}
    page = text(client.get(url))
    assert 'data-testid="badge-overdue"' in page and 'data-testid="badge-at-risk"' in page


def test_sorting_and_paging(world, matters, login):
    for i in range(30):
        submit(matters.licence, f"TH-P-{i:03d}", when=ago(hours=30 - i))
    client = login(world.county_handler)
    url = reverse("approvals:cases")
    first = client.get(url)
    assert first.context["page"].paginator.count == 30 and len(first.context["rows"]) == 25
    assert first.context["rows"][0].case_no == "TH-P-029"  # newest first by default
    ordered = client.get(url, {"sort": "case_no", "page": 2})
    assert [c.case_no for c in ordered.context["rows"]] == [f"TH-P-{i:03d}" for i in range(25, 30)]
    assert client.get(url, {"sort": "-case_no"}).context["rows"][0].case_no == "TH-P-029"
    assert client.get(url, {"sort": "no-such-key"}).status_code == 200
    assert client.get(url, {"page": "9999"}).status_code == 200
    partial = client.get(url, {"q": "TH-P-00"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial) and 'data-testid="case-table"' in text(partial)


def test_the_export_holds_exactly_the_filtered_rows_with_masked_phones(world, cases, login):
    client = login(world.city_supervisor)
    response = client.get(reverse("approvals:cases"), {"q": "TH-", "export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert sorted(r[0] for r in body) == ["TH-0001", "TH-0002"]
    phone = header.index("联系电话")
    assert {r[phone] for r in body} == {"138****1234", "139****2222"}
    assert "13800001234" not in response.content.decode("latin-1")
    everything = client.get(reverse("approvals:cases"), {"export": "xlsx"})
    nos = [r[0] for r in list(load_workbook(io.BytesIO(everything.content)).active.iter_rows(values_only=True))[1:]]
    # Every visible row of every page, each application followed by its sub-cases; nothing from 福田.
    assert set(nos) == {"TH-0001", "TH-0002", "SP-0001", "YX-0001", "GZ-BL-0001",
                        "GZ-BL-0001-01", "GZ-BL-0001-02", "GZ-BL-0001-03"}
    assert nos.index("GZ-BL-0001-01") == nos.index("GZ-BL-0001") + 1


def test_the_case_list_runs_a_bounded_number_of_queries(world, matters, login, django_assert_max_num_queries):
    client = login(world.city_supervisor)
    for i in range(3):
        submit(matters.licence, f"TH-Q-{i}")
    submit(matters.parallel, "GZ-BL-Q")
    client.get(reverse("approvals:cases"))  # warm up (session, calendar)
    with django_assert_max_num_queries(14) as small:
        client.get(reverse("approvals:cases"))
    for i in range(3, 40):
        submit(matters.licence, f"TH-Q-{i}")
    for i in range(3):
        submit(matters.parallel, f"GZ-BL-Q{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("approvals:cases"))
    with django_assert_max_num_queries(len(small.captured_queries) + 2):
        client.get(reverse("approvals:cases"), {"export": "xlsx"})


# --- the case page ---------------------------------------------------------------------------
def test_the_case_page_shows_facts_clocks_explained_and_the_timeline(world, cases, login):
    with acting_as(world.county_handler, channel="web"):
        actions.do_accept_case(cases.th1)
    client = login(world.county_handler)
    page = client.get(reverse("approvals:case", args=[cases.th1.pk]))
    html = text(page)
    assert "食品经营许可" in html and "第 1 版" in html and "广州市天河区市场监督管理局" in html
    assert "138****1234" in html and "13800001234" not in html
    kinds = [row.clock.kind for row in page.context["clocks"]]
    assert kinds == ["case.correction", "case.legal", "case.promise", "case.step"]
    assert all("工作日" in row.explanation for row in page.context["clocks"])
    assert html.count('data-testid="clock-explanation"') == 4
    titles = [e.title for e in page.context["timeline"]]
    assert titles == ["收件", "已申请 → 已受理"]
    assert {f.action for f in page.context["action_forms"]} == {"step", "suspend", "extend", "decide", "withdraw", "fee"}


def test_the_case_page_notes_a_deemed_acceptance_and_a_fee_above_the_standard(world, matters, login):
    case = submit(matters.paid, "TH-FEE-1", when=ago(days=20))
    actions.do_accept_case(case)  # more than five working days after receipt
    actions.do_charge_fee(case, amount="150.00")
    html = text(login(world.county_handler).get(reverse("approvals:case", args=[case.pk])))
    assert 'data-testid="deemed-accepted"' in html
    assert "超过收费标准" in html and "100.00" in html and "150.00" in html


def test_a_handler_moves_a_case_through_the_page(world, cases, login):
    client = login(world.county_handler)
    case = cases.th1
    response = act(client, case, "correction", {"items": "营业执照复印件不清晰\n\n缺少法定代表人签字\n"})
    assert response.status_code == 302 and response["Location"] == reverse("approvals:case", args=[case.pk])
    event = CaseEvent.objects.get(case=case, kind="correction")
    assert event.data["items"] == ["营业执照复印件不清晰", "缺少法定代表人签字"] and event.actor_label == "county_handler"
    assert act(client, case, "corrected").status_code == 302
    assert act(client, case, "accept").status_code == 302
    case = fresh(case)
    assert case.status == "accepted" and case.promise_clock_id
    assert act(client, case, "step", {"step": "1", "handler": "王经办"}).status_code == 302
    assert case.steps.get(step__name="审查").handler == "王经办"
    assert act(client, case, "suspend", {"reason": "专家评审", "legal_basis": "《行政许可法》第四十五条",
                                         "announced_days": "5"}).status_code == 302
    assert fresh(case).status == "suspended"
    assert act(client, case, "resume").status_code == 302
    # The handler asks; the organ's leader approves with their own account (xiaoneng.inbox), then it is extended.
    assert act(client, case, "extend", {"days": "5", "reasons": "需现场核查"}).status_code == 302
    assert not fresh(case).extended
    from xiaoneng.inbox.actions import do_decide_extension
    do_decide_extension(case.extension_requests.get(), approver=world.county_leader, approved=True)
    assert fresh(case).extended
    assert act(client, case, "step", {"step": "2", "handler": ""}).status_code == 302
    assert act(client, case, "decide", {"outcome": "granted", "reasons": ""}).status_code == 302
    assert act(client, case, "certificate").status_code == 302
    assert act(client, case, "close").status_code == 302
    case = fresh(case)
    assert case.status == "closed" and case.outcome == "granted"
    page = client.get(reverse("approvals:case", args=[case.pk]))
    assert page.context["action_forms"] == []
    assert "当前状态下没有可办理的操作" in text(page)


def test_refusal_denial_withdrawal_and_fees_through_the_page(world, cases, login):
    client = login(world.county_handler)
    assert act(client, cases.th1, "refuse", {"reasons": "不属于本机关职权范围"}).status_code == 302
    assert fresh(cases.th1).status == "refused"
    assert act(client, cases.th2, "accept").status_code == 302
    refused = act(client, cases.th2, "fee", {"amount": "12.50"})  # a free matter: refused at entry
    assert refused.status_code == 200 and "不收费事项" in text(refused)
    assert fresh(cases.th2).fee_charged == Decimal("0")
    for _step in ("审查", "决定"):  # no decision while a step is open
        assert act(client, cases.th2, "step", {"step": str(fresh(cases.th2).steps.get(completed_at=None).step.order),
                                               "handler": "王五"}).status_code == 302
    assert act(client, cases.th2, "decide", {"outcome": "denied", "reasons": "经营场所不符合要求"}).status_code == 302
    assert fresh(cases.th2).outcome == "denied"
    assert act(client, cases.station, "withdraw", {"reason": ""}).status_code == 302
    assert fresh(cases.station).status == "withdrawn"


@pytest.mark.parametrize(
    "action, data, field, words",
    [
        ("refuse", {"reasons": "  "}, "reasons", "不予受理理由"),
        ("correction", {"items": "\n \n"}, "items", "需补正的材料"),
        ("suspend", {"reason": "听证", "legal_basis": "x"}, "announced_days", "书面告知所需天数"),
        ("suspend", {"reason": "听证", "legal_basis": "x", "announced_days": "abc"}, "announced_days", "书面告知所需天数"),
        ("suspend", {"reason": "听证", "legal_basis": "x", "announced_days": "0"}, "announced_days", "书面告知所需天数"),
        ("suspend", {"reason": "喝茶", "legal_basis": "x", "announced_days": "3"}, "reason", "特别程序"),
        ("extend", {"days": "11", "reasons": "复杂"}, "days", "延长工作日数"),
        ("extend", {"days": "-1", "reasons": "复杂"}, "days", "延长工作日数"),
        ("extend", {"days": "5", "reasons": " "}, "reasons", "延长理由"),
        ("decide", {"outcome": "denied", "reasons": ""}, "reasons", "理由"),
        ("decide", {"outcome": "maybe"}, "outcome", "决定"),
        ("fee", {"amount": "abc"}, "amount", "收费金额"),
        ("fee", {"amount": "-5"}, "amount", "收费金额"),
        ("fee", {"amount": "1.005"}, "amount", "收费金额"),
    ],
)
def test_bad_input_comes_back_as_a_form_error_naming_the_field(world, matters, login, action, data, field, words):
    case = submit(matters.licence, "TH-BAD")
    if action not in ("refuse", "correction"):
        actions.do_accept_case(case)
    before = revision(case)
    response = act(login(world.county_handler), case, action, data)
    assert response.status_code == 200
    failed = response.context["failed"]
    assert failed.action == action and field in failed.errors
    html = text(response)
    assert words in html and 'data-testid="field-error"' in html
    assert revision(case) == before  # nothing happened


def test_it_refuses_an_extension_after_the_legal_period_ended_with_a_form_error(world, matters, login):
    case = submit(matters.licence, "TH-LATE-EXT", when=ago(days=60))
    actions.do_accept_case(case, at=ago(days=59))  # the legal 20 working days have run out since
    legal = Case.objects.select_related("legal_clock").get(pk=case.pk).legal_clock
    before = revision(case)
    response = act(login(world.county_handler), case, "extend", {"days": "10", "reasons": "需现场核查"})
    assert response.status_code == 200  # the request is refused: no leader may approve it any more
    errors = response.context["failed"].non_field_errors()
    assert any("届满" in e and "第四十二条" in e for e in errors), errors
    assert "不能再延长" in text(response)
    assert revision(case) == before and not fresh(case).extended
    assert Clock.objects.get(pk=legal.pk).due_at == legal.due_at



def test_the_case_page_marks_an_extension_a_system_reported_after_the_period(world, matters, login):
    case = submit(matters.licence, "TH-LATE-EXT2", when=ago(days=60))
    actions.do_accept_case(case, at=ago(days=59))
    actions.do_extend_case(case, days=10, reasons="需现场核查", approver_name="李局长", at=ago(days=1), record_late=True)
    html = text(login(world.county_handler).get(reverse("approvals:case", args=[case.pk])))
    assert "期限届满后延长" in html and "不产生效力" in html


def test_errors_raised_by_the_action_itself_name_the_field_in_words(world, matters, login):
    client = login(world.county_handler)
    case = submit(matters.licence, "TH-STEP")
    actions.do_accept_case(case)
    response = act(client, case, "step", {"step": "2", "handler": "x"})  # not the current step
    assert response.status_code == 200 and "办理环节：" in text(response) and "审查" in text(response)
    parallel = submit(matters.parallel, "GZ-BL-DEC")
    lead = User.objects.create_user("gz_lead_handler", password="x" * 12)
    Grant.objects.create(user=lead, role=Role.HANDLER, organ=world.gz_bureau)
    actions.do_accept_case(parallel)
    response = act(login(lead), parallel, "decide", {"outcome": "granted"})
    assert response.status_code == 200 and "协办" in response.context["failed"].errors["outcome"][0]


def test_a_double_submit_or_replay_does_not_act_twice(world, cases, matters, login):
    client = login(world.county_handler)
    case = cases.th1
    rev = revision(case)
    assert act(client, case, "accept", rev=rev).status_code == 302
    replay = act(client, case, "accept", rev=rev)
    assert replay.status_code == 200 and "不能执行" in text(replay)
    assert StatusChange.objects.filter(case=case, to_status="accepted").count() == 1
    case = submit(matters.paid, "TH-PAID-1")  # a fee needs a matter that charges one
    rev = revision(case)
    assert act(client, case, "fee", {"amount": "10"}, rev=rev).status_code == 302
    again = act(client, case, "fee", {"amount": "10"}, rev=rev)
    assert again.status_code == 200 and "重复提交" in text(again)
    assert fresh(case).fee_charged == Decimal("10")
    missing = client.post(reverse("approvals:act", args=[case.pk, "fee"]), {"amount": "10"})
    assert missing.status_code == 200 and "页面版本" in text(missing)


def test_actions_need_post_a_known_action_and_a_handler_of_the_organ(world, cases, login, client):
    handler = login(world.county_handler)
    reload = handler.get(reverse("approvals:act", args=[cases.th1.pk, "accept"]))
    assert reload.status_code == 302 and reload["Location"] == reverse("approvals:case", args=[cases.th1.pk])
    assert handler.put(reverse("approvals:act", args=[cases.th1.pk, "accept"])).status_code == 405
    assert act(handler, cases.th1, "explode").status_code == 404
    assert act(handler, cases.ft, "accept").status_code == 404  # out of scope: not even 403
    client.logout()
    for reader in (world.city_supervisor, world.county_supervisor, world.county_leader):
        c = login(reader)
        assert act(c, cases.th1, "accept").status_code == 403
        page = c.get(reverse("approvals:case", args=[cases.th1.pk]))
        assert page.status_code == 200 and not page.context["can_act"]
        assert 'data-testid="actions"' not in text(page)
        c.logout()
    assert fresh(cases.th1).status == "submitted"


def test_the_case_page_runs_a_bounded_number_of_queries(world, matters, login, django_assert_max_num_queries):
    case = submit(matters.licence, "TH-QC")
    actions.do_accept_case(case)
    for _i in range(5):
        actions.do_charge_fee(case, amount="1")
    client = login(world.county_handler)
    client.get(reverse("approvals:case", args=[case.pk]))
    with django_assert_max_num_queries(25):
        client.get(reverse("approvals:case", args=[case.pk]))


# --- the matter catalogue ----------------------------------------------------------------------
def test_the_matter_catalogue_is_scoped_filtered_and_exported(world, cases, matters, login):
    client = login(world.city_supervisor)
    url = reverse("approvals:matters")
    codes = {m.code for m in client.get(url).context["rows"]}
    assert codes == {"440106-SP-001", "440106-SP-002", "4401-SP-003", "4401-BL-001", "440104-SP-001"}
    assert {m.code for m in client.get(url, {"parallel": "yes"}).context["rows"]} == {"4401-BL-001"}
    assert {m.code for m in client.get(url, {"q": "特种"}).context["rows"]} == {"440106-SP-002"}
    assert {m.code for m in client.get(url, {"organ": world.yuexiu_bureau.pk}).context["rows"]} == {"440104-SP-001"}
    assert list(client.get(url, {"organ": world.futian_bureau.pk}).context["rows"]) == []
    assert {m.code for m in client.get(url, {"kind": "licence", "sort": "-code"}).context["rows"]} == codes
    export = client.get(url, {"parallel": "yes", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == "4401-BL-001"
    assert "广州市天河区市场监督管理局" in rows[1][rows[0].index("协办机关")]
    handler = login(world.county_handler)
    assert {m.code for m in handler.get(url).context["rows"]} == {"440106-SP-001", "440106-SP-002"}


def test_the_matter_page_shows_rules_steps_materials_fee_co_organs_and_versions(world, matters, login):
    from xiaoneng.approvals.catalogue import do_publish_version

    do_publish_version(matters.licence, Rules(legal_basis="修订后的依据", legal_limit=20, promised_limit=8,
                                              steps=[StepSpec("审查", 4), StepSpec("决定", 2)],
                                              materials=["申请书"], effective_from=ago(days=1)))
    client = login(world.city_supervisor)
    html = text(client.get(reverse("approvals:matter", args=[matters.licence.pk])))
    assert "修订后的依据" in html and "第 2 版" in html and "第 1 版" in html and "申请书" in html
    assert html.count("现行") >= 1 and "审查（5）" in html and "审查（4）" in html
    paid = text(client.get(reverse("approvals:matter", args=[matters.paid.pk])))
    assert "100.00" in paid and "省物价局批复" in paid
    parallel = text(client.get(reverse("approvals:matter", args=[matters.parallel.pk])))
    assert "广州市越秀区市场监督管理局" in parallel and "45" in parallel
    assert login(world.shenzhen_handler).get(reverse("approvals:matter", args=[matters.licence.pk])).status_code == 404


def test_navigation_offers_cases_and_the_catalogue_to_case_roles_only(world, login, client):
    import xiaoneng.approvals.nav  # noqa: F401  (the app imports it in ready())

    html = text(login(world.county_handler).get(reverse("approvals:cases")))
    assert 'data-nav="cases"' in html and 'data-nav="matters"' in html
    client.logout()
    html = text(login(world.auditor).get(reverse("home")))
    assert 'data-nav="cases"' not in html


def test_phones_names_and_deadlines_are_shown_the_way_people_read_them():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from xiaoneng.approvals.views import deadline_label, mask_name, mask_phone

    assert mask_phone("13800001234") == "138****1234" and mask_phone("") == "" and mask_phone("12345") == "***45"
    assert mask_name("张三") == "张*" and mask_name("张三丰") == "张*丰" and mask_name("欧阳娜娜") == "欧**娜"
    sh = ZoneInfo("Asia/Shanghai")
    assert deadline_label(datetime(2026, 10, 31, 0, 0, tzinfo=sh)) == "2026-10-30 24:00"
    assert deadline_label(datetime(2026, 10, 30, 15, 5, tzinfo=sh)) == "2026-10-30 15:05"
    assert deadline_label(None) == ""


def test_a_leader_reads_the_cases_of_the_organ(world, cases, login):
    client = login(world.county_leader)
    assert case_nos(client.get(reverse("approvals:cases"))) == {"TH-0001", "TH-0002", "SP-0001", "GZ-BL-0001-02"}
    assert client.get(reverse("approvals:case", args=[cases.yx.pk])).status_code == 404


def test_in_english_a_refused_case_reads_not_accepted_and_the_action_reads_refuse_to_accept():
    """不予受理 is both a status and an action; English needs two words for it."""
    from django.utils import translation

    from xiaoneng.approvals.forms import RefuseForm
    from xiaoneng.approvals.models import Status

    with translation.override("en"):
        assert (str(Status.REFUSED.label), str(RefuseForm.title)) == ("Not accepted", "Refuse to accept")
    assert str(Status.REFUSED.label) == str(RefuseForm.title) == "不予受理"
