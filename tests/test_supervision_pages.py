"""Supervision pages: the alert board and each alert's life, supervision orders, attachments, scope."""
import io
import zipfile
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path, reverse
from openpyxl import Workbook, load_workbook

import xiaoneng.urls
from xiaoneng.approvals import actions as cases
from xiaoneng.approvals.catalogue import Rules, do_create_matter
from xiaoneng.clocks import monitor
from xiaoneng.supervision import actions
from xiaoneng.supervision.models import Alert, AlertStep, OrderStep, SupervisionOrder

# Until the project routes these pages itself, the tests route them the way it will.
urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    path("supervision/", include("xiaoneng.supervision.urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def accepted_case(matter, no, when="2026-09-28T10:00", accept="2026-09-28T11:00"):
    case, _code = cases.do_submit_case(matter=matter, case_no=no, applicant_name="张三", received_at=at(when))
    cases.do_accept_case(case, at=at(accept))
    return case


@pytest.fixture
def board(world, matters):
    """A case in 天河 and one in 福田, both past their promise: warnings, yellow cards and orders in each."""
    futian = do_create_matter(
        code="440304-SP-001", name="食品经营许可", kind="licence", organ=world.futian_bureau,
        rules=Rules(legal_basis="《食品安全法》", legal_limit=20, promised_limit=10, effective_from=at("2025-01-01T00:00")),
    )
    b = SimpleNamespace()
    b.th_case = accepted_case(matters.licence, "TH-S-1")
    b.ft_case = accepted_case(futian, "FT-S-1")
    monitor.run_pass(at("2026-10-15T09:00"))
    monitor.run_pass(at("2026-10-17T09:00"))
    b.yellow = Alert.objects.get(rule="overdue_promise", organ=world.tianhe_bureau)
    b.warning = Alert.objects.get(rule="near_deadline", organ=world.tianhe_bureau)
    b.ft_yellow = Alert.objects.get(rule="overdue_promise", organ=world.futian_bureau)
    b.order = SupervisionOrder.objects.get(organ=world.tianhe_bureau)
    b.ft_order = SupervisionOrder.objects.get(organ=world.futian_bureau)
    b.futian_matter = futian
    return b


def ids(response):
    return {row.pk for row in response.context["rows"]}


def text(response):
    return response.content.decode()


def alert_rev(alert):
    return str(AlertStep.objects.filter(alert=alert).count())


def order_rev(order):
    return str(OrderStep.objects.filter(order=order).count())


def act(client, alert, action, data=None, rev=None, **files):
    payload = {"rev": rev if rev is not None else alert_rev(alert), **(data or {}), **files}
    return client.post(reverse("supervision:alert-act", args=[alert.pk, action]), payload)


def order_act(client, order, action, data=None, rev=None, **files):
    payload = {"rev": rev if rev is not None else order_rev(order), **(data or {}), **files}
    return client.post(reverse("supervision:order-act", args=[order.pk, action]), payload)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def xlsx_rows(response):
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def field_errors(response, form_action):
    form = next(f for f in response.context["action_forms"] if f.action == form_action)
    return form.errors


# --- files ------------------------------------------------------------------------------------
def pdf(name="说明.pdf", size=None):
    body = b"%PDF-1.4\n%test\n" + (b"0" * (size - 15) if size else b"1 0 obj\n<<>>\nendobj\n%%EOF\n")
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def png(name="现场照片.png"):
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")


def docx(name="整改报告.docx"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="application/octet-stream")


def xlsx(name="台账.xlsx"):
    buf = io.BytesIO()
    Workbook().save(buf)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="application/octet-stream")


# --- scope -----------------------------------------------------------------------------------
def test_a_county_supervisor_sees_only_his_countys_alerts_and_gets_404_elsewhere(world, board, login):
    client = login(world.county_supervisor)
    page = client.get(reverse("supervision:alerts"))
    assert page.status_code == 200
    assert ids(page) == set(Alert.objects.filter(organ=world.tianhe_bureau).values_list("pk", flat=True))
    assert board.ft_yellow.pk not in ids(page)
    assert client.get(reverse("supervision:alert", args=[board.ft_yellow.pk])).status_code == 404
    assert client.get(reverse("supervision:order", args=[board.ft_order.pk])).status_code == 404
    assert client.get(reverse("supervision:alert", args=[999999])).status_code == 404
    assert client.get(reverse("supervision:alert", args=[board.yellow.pk])).status_code == 200
    assert client.get(reverse("supervision:order", args=[board.order.pk])).status_code == 200
    orders = client.get(reverse("supervision:orders"))
    assert ids(orders) == {board.order.pk}
    # Acting on another county's records is a 404 too, not a 403: existence does not leak.
    assert act(client, board.ft_yellow, "close", {"note": "x"}).status_code == 404
    assert order_act(client, board.ft_order, "take_over").status_code == 404


def test_each_level_sees_its_subtree_and_organs_their_own(world, board, login, client):
    every = set(Alert.objects.values_list("pk", flat=True))
    tianhe = set(Alert.objects.filter(organ=world.tianhe_bureau).values_list("pk", flat=True))
    futian = set(Alert.objects.filter(organ=world.futian_bureau).values_list("pk", flat=True))
    assert ids(login(world.province_supervisor).get(reverse("supervision:alerts"))) == every
    client.logout()
    assert ids(login(world.city_supervisor).get(reverse("supervision:alerts"))) == tianhe
    client.logout()
    assert ids(login(world.county_handler).get(reverse("supervision:alerts"))) == tianhe
    client.logout()
    assert ids(login(world.county_leader).get(reverse("supervision:alerts"))) == tianhe
    client.logout()
    handler = login(world.shenzhen_handler)
    assert ids(handler.get(reverse("supervision:alerts"))) == futian
    assert handler.get(reverse("supervision:alert", args=[board.yellow.pk])).status_code == 404


def test_an_outsider_sees_nothing_anywhere(world, board, login):
    client = login(world.outsider)
    page = client.get(reverse("supervision:alerts"))
    assert page.status_code == 200 and ids(page) == set()
    assert ids(client.get(reverse("supervision:orders"))) == set()
    assert client.get(reverse("supervision:alert", args=[board.yellow.pk])).status_code == 404
    assert client.get(reverse("supervision:order", args=[board.order.pk])).status_code == 404
    assert act(client, board.yellow, "explain", {"text": "x"}).status_code == 404
    assert client.get(reverse("supervision:order-new")).status_code == 403
    assert len(xlsx_rows(client.get(reverse("supervision:alerts"), {"export": "xlsx"}))) == 1  # the header only
    assert len(xlsx_rows(client.get(reverse("supervision:orders"), {"export": "xlsx"}))) == 1
    for role_without_supervision in (world.complaint_officer, world.appraisal_officer, world.auditor):
        client.logout()
        other = login(role_without_supervision)
        assert ids(other.get(reverse("supervision:alerts"))) == set()
        assert other.get(reverse("supervision:alert", args=[board.yellow.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(board, client):
    for url in (reverse("supervision:alerts"), reverse("supervision:alert", args=[board.yellow.pk]),
                reverse("supervision:orders"), reverse("supervision:order-new")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


def test_the_navigation_shows_alerts_and_orders_to_supervisors_and_organs_only(world, board, login, client):
    import xiaoneng.supervision.nav  # noqa: F401  (the app imports it in ready())

    assert 'data-nav="alerts"' in text(login(world.county_supervisor).get(reverse("supervision:alerts")))
    client.logout()
    page = text(login(world.county_handler).get(reverse("supervision:orders")))
    assert 'data-nav="alerts"' in page and 'data-nav="orders"' in page
    client.logout()
    assert 'data-nav="alerts"' not in text(login(world.outsider).get("/"))


# --- the list: filters, sort, paging, export, queries ---------------------------------------------
def test_filters_narrow_the_alert_list_within_scope(world, board, login):
    client = login(world.province_supervisor)
    url = reverse("supervision:alerts")
    yellows = {board.yellow.pk, board.ft_yellow.pk}
    assert ids(client.get(url, {"level": "yellow"})) == yellows
    assert ids(client.get(url, {"rule": "overdue_promise"})) == yellows
    assert ids(client.get(url, {"region": "440106000000"})) == set(
        Alert.objects.filter(organ=world.tianhe_bureau).values_list("pk", flat=True))
    assert ids(client.get(url, {"organ": world.futian_bureau.pk})) == set(
        Alert.objects.filter(organ=world.futian_bureau).values_list("pk", flat=True))
    assert ids(client.get(url, {"date_from": "2026-10-16", "date_to": "2026-10-17"})) == yellows
    assert ids(client.get(url, {"date_to": "2026-10-14"})) == set()
    assert ids(client.get(url, {"q": "临近到期"})) == set(Alert.objects.filter(rule="near_deadline").values_list("pk", flat=True))
    actions.do_dismiss_alert(board.warning, reasons="误报")
    assert ids(client.get(url, {"status": "dismissed"})) == {board.warning.pk}
    assert board.warning.pk not in ids(client.get(url, {"open": "on"}))
    assert len(ids(client.get(url, {"open": "on"}))) == Alert.objects.count() - 1


def test_filters_outside_the_scope_or_malformed_show_nothing_and_say_why(world, board, login):
    client = login(world.county_supervisor)
    url = reverse("supervision:alerts")
    for params in ({"organ": world.futian_bureau.pk}, {"region": "440304000000"}, {"level": "purple"},
                   {"rule": "no_such_rule"}, {"date_from": "2026-13-01"},
                   {"date_from": "2026-10-10", "date_to": "2026-10-01"}):
        page = client.get(url, params)
        assert page.status_code == 200 and ids(page) == set(), params
        assert page.context["form"].errors, params
        assert 'data-testid="filter-error"' in text(page)


def test_the_board_counts_levels_and_a_sort_by_level_puts_red_cards_first(world, board, login):
    monitor.run_pass(board.order.clock.due_at + timedelta(hours=1))  # the order runs out: a red card
    red = Alert.objects.get(rule="order_overdue", organ=world.tianhe_bureau)
    client = login(world.county_supervisor)
    page = client.get(reverse("supervision:alerts"), {"sort": "-level"})
    assert page.context["rows"][0].pk == red.pk
    assert [row.level for row in page.context["rows"]][-1] == "warning"
    counts = {tile["level"]: tile["count"] for tile in page.context["board"]}
    mine = Alert.objects.filter(organ=world.tianhe_bureau)
    assert counts == {level: mine.filter(level=level).count() for level in ("red", "yellow", "warning")}
    assert counts["red"] == 1 and counts["yellow"] == 1
    html = text(page)
    assert 'class="level level-red"' in html and 'class="level level-yellow"' in html
    assert client.get(reverse("supervision:alerts"), {"sort": "level"}).context["rows"][0].level == "warning"
    # The tiles work as tabs: a level filter narrows the rows, not the board.
    yellow_only = client.get(reverse("supervision:alerts"), {"level": "yellow"})
    assert {row.level for row in yellow_only.context["rows"]} == {"yellow"}
    assert {tile["level"]: tile["count"] for tile in yellow_only.context["board"]} == counts
    # A red card's subject is the order that ran out; its page links there and notes the accountability proposal.
    red_page = client.get(reverse("supervision:alert", args=[red.pk]))
    assert red_page.context["subject_url"] == reverse("supervision:order", args=[board.order.pk])
    assert 'data-testid="proposal"' in text(red_page)


def test_paging_sorting_and_the_htmx_fragment(world, matters, login):
    for i in range(10):
        accepted_case(matters.licence, f"TH-P-{i:02d}")
    monitor.run_pass(at("2026-10-15T09:00"))
    monitor.run_pass(at("2026-10-17T09:00"))
    client = login(world.county_supervisor)
    url = reverse("supervision:alerts")
    first = client.get(url)
    total = first.context["page"].paginator.count
    assert total == Alert.objects.count() > 25 and len(first.context["rows"]) == 25
    second = client.get(url, {"page": 2})
    assert not ids(first) & ids(second)
    assert client.get(url, {"sort": "no-such-key"}).status_code == 200
    assert client.get(url, {"page": "9999"}).status_code == 200
    partial = client.get(url, {"level": "yellow"}, HTTP_HX_REQUEST="true")
    assert "<html" not in text(partial) and 'data-testid="alert-table"' in text(partial)


def test_the_alert_export_holds_exactly_the_filtered_rows(world, board, login):
    client = login(world.province_supervisor)
    response = client.get(reverse("supervision:alerts"), {"level": "yellow", "export": "xlsx"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_rows(response)
    header, body = rows[0], rows[1:]
    assert sorted(r[0] for r in body) == sorted([board.yellow.pk, board.ft_yellow.pk])
    assert {r[header.index("等级")] for r in body} == {"黄牌"}
    assert {r[header.index("规则")] for r in body} == {"超过承诺时限"}
    county = login(world.county_supervisor).get(reverse("supervision:alerts"), {"export": "xlsx"})
    organs = {r[xlsx_rows(county)[0].index("责任机关")] for r in xlsx_rows(county)[1:]}
    assert organs == {"广州市天河区市场监督管理局"}


def test_the_alert_list_runs_a_bounded_number_of_queries(world, matters, login, django_assert_max_num_queries):
    accepted_case(matters.licence, "TH-Q-0")
    monitor.run_pass(at("2026-10-15T09:00"))
    client = login(world.city_supervisor)
    url = reverse("supervision:alerts")
    client.get(url)  # warm up (session, calendar)
    with django_assert_max_num_queries(12) as small:
        client.get(url)
    for i in range(1, 15):
        accepted_case(matters.licence, f"TH-Q-{i}")
    monitor.run_pass(at("2026-10-17T09:00"))
    assert Alert.objects.count() > 15
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("supervision:orders"))
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url, {"export": "xlsx"})


def test_the_alert_page_runs_a_bounded_number_of_queries(world, board, login, django_assert_max_num_queries):
    client = login(world.county_supervisor)
    url = reverse("supervision:alert", args=[board.yellow.pk])
    client.get(url)
    with django_assert_max_num_queries(16):
        client.get(url)


# --- the alert page ----------------------------------------------------------------------------
def test_the_alert_page_shows_the_finding_its_basis_evidence_clock_and_timeline(world, board, login):
    client = login(world.county_handler)
    page = client.get(reverse("supervision:alert", args=[board.yellow.pk]))
    html = text(page)
    assert board.yellow.message in html and "本机关公开承诺" in html
    evidence = dict(page.context["evidence"])
    assert evidence["时限类型"] == "承诺时限" and evidence["到期时间"] == "2026-10-16 24:00"
    assert evidence["计时单位"] == "工作日" and evidence["按临时日历计算"] == "否"
    assert "工作日" in page.context["clock"].explanation and "国庆节" in page.context["clock"].explanation
    assert page.context["subject_url"] == reverse("approvals:case", args=[board.th_case.pk])
    assert [e.kind for e in page.context["timeline"]] == ["raise"]
    assert [o.pk for o in page.context["orders"]] == [board.order.pk]
    # The organ explains or appeals; it does not verify its own alert.
    assert {f.action for f in page.context["action_forms"]} == {"explain", "appeal"}
    supervisor = login(world.county_supervisor).get(reverse("supervision:alert", args=[board.yellow.pk]))
    # A yellow card has its order already: no second escalation.
    assert {f.action for f in supervisor.context["action_forms"]} == {"close", "dismiss"}
    warning = login(world.county_supervisor).get(reverse("supervision:alert", args=[board.warning.pk]))
    assert {f.action for f in warning.context["action_forms"]} == {"close", "dismiss", "escalate"}


def test_the_case_link_shows_only_when_the_case_pages_are_reachable(world, board, login):
    page = login(world.county_supervisor).get(reverse("supervision:alert", args=[board.yellow.pk]))
    assert f'href="{reverse("approvals:case", args=[board.th_case.pk])}"' in text(page)


# --- alert actions -----------------------------------------------------------------------------
def test_the_organ_explains_with_an_attachment_and_a_replay_does_nothing(world, board, login):
    client = login(world.county_handler)
    rev = alert_rev(board.yellow)
    response = act(client, board.yellow, "explain", {"text": "申请人补交材料延误，已于当日办结"}, rev=rev,
                   attachment=pdf())
    assert response.status_code == 302
    alert = fresh(board.yellow)
    assert alert.status == "explained"
    step = alert.steps.get(kind="explain")
    assert step.actor == world.county_handler and step.attachment.name.endswith(".pdf")
    page = client.get(reverse("supervision:alert", args=[alert.pk]))
    assert "已完成：情况说明" in text(page)
    assert reverse("supervision:alert-file", args=[alert.pk, step.pk]) in text(page)
    # The same form sent again (double click, back button) does nothing twice.
    replay = act(client, board.yellow, "explain", {"text": "申请人补交材料延误，已于当日办结"}, rev=rev, attachment=pdf())
    assert replay.status_code == 200
    assert alert.steps.filter(kind="explain").count() == 1
    assert "当前状态为“已说明”" in text(replay)


def test_bad_input_comes_back_as_a_field_error_in_chinese_not_a_500(world, board, login):
    client = login(world.county_handler)
    blank = act(client, board.yellow, "explain", {"text": "   "})
    assert blank.status_code == 200 and field_errors(blank, "explain")["text"]
    assert 'data-testid="field-error"' in text(blank) and "情况说明" in text(blank)
    no_rev = client.post(reverse("supervision:alert-act", args=[board.yellow.pk, "explain"]), {"text": "x"})
    assert no_rev.status_code == 200 and "页面版本" in text(no_rev)
    stale = act(client, board.yellow, "explain", {"text": "说明"}, rev=str(int(alert_rev(board.yellow)) + 1))
    assert stale.status_code == 200 and "重复提交" in text(stale)
    assert fresh(board.yellow).status == "raised"
    assert client.post(reverse("supervision:alert-act", args=[board.yellow.pk, "nonsense"]), {}).status_code == 404
    get = client.get(reverse("supervision:alert-act", args=[board.yellow.pk, "explain"]))
    assert get.status_code == 302 and get["Location"] == reverse("supervision:alert", args=[board.yellow.pk])


def test_each_side_may_take_only_its_own_actions(world, board, login, client):
    handler = login(world.county_handler)
    for action in ("close", "dismiss", "escalate", "decide"):
        assert act(handler, board.warning, action, {"note": "x", "reasons": "x", "demand": "x", "days": 3}).status_code == 403
    client.logout()
    supervisor = login(world.county_supervisor)
    for action in ("explain", "appeal"):
        assert act(supervisor, board.warning, action, {"text": "x", "reasons": "x"}).status_code == 403
    assert fresh(board.warning).status == "raised" and not board.warning.steps.exists()


def test_a_supervisor_verifies_and_closes_an_explained_alert(world, board, login, client):
    actions.do_explain_alert(board.yellow, text="已整改", actor=world.county_handler)
    supervisor = login(world.county_supervisor)
    blank = act(supervisor, board.yellow, "close", {"note": ""})
    assert blank.status_code == 200 and "核实意见" in text(blank)
    done = act(supervisor, board.yellow, "close", {"note": "核实属实，已整改"})
    assert done.status_code == 302
    alert = fresh(board.yellow)
    assert alert.status == "closed" and alert.closed_at is not None
    assert [s.kind for s in alert.steps.all()] == ["explain", "close"]
    page = supervisor.get(reverse("supervision:alert", args=[alert.pk]))
    assert page.context["action_forms"] == [] and "当前状态下没有可办理的操作" in text(page)
    assert [e.kind for e in page.context["timeline"]] == ["raise", "explain", "close"]  # the raising opens it
    again = act(supervisor, board.yellow, "dismiss", {"reasons": "x"})
    assert again.status_code == 200 and "不能执行" in text(again)


def test_dismissing_needs_reasons(world, board, login):
    supervisor = login(world.county_supervisor)
    response = act(supervisor, board.warning, "dismiss", {"reasons": " "})
    assert response.status_code == 200 and field_errors(response, "dismiss")["reasons"]
    assert act(supervisor, board.warning, "dismiss", {"reasons": "系统误报"}).status_code == 302
    assert fresh(board.warning).status == "dismissed"


def test_escalating_opens_one_order_with_the_days_asked(world, board, login):
    supervisor = login(world.county_supervisor)
    bad = act(supervisor, board.warning, "escalate", {"demand": "限期办结", "days": 90})
    assert bad.status_code == 200 and field_errors(bad, "escalate")["days"]
    missing = act(supervisor, board.warning, "escalate", {"demand": "", "days": 3})
    assert missing.status_code == 200 and field_errors(missing, "escalate")["demand"]
    rev = alert_rev(board.warning)
    done = act(supervisor, board.warning, "escalate", {"demand": "请于3个工作日内办结", "days": 3}, rev=rev)
    assert done.status_code == 302
    order = SupervisionOrder.objects.get(alert=board.warning)
    assert order.clock.limit == 3 and fresh(board.warning).status == "escalated"
    assert order.number in text(supervisor.get(done["Location"]))
    replay = act(supervisor, board.warning, "escalate", {"demand": "请于3个工作日内办结", "days": 3}, rev=rev)
    assert replay.status_code == 200 and SupervisionOrder.objects.filter(alert=board.warning).count() == 1


def test_a_yellow_card_with_an_open_order_is_not_escalated_twice(world, board, login):
    response = act(login(world.county_supervisor), board.yellow, "escalate", {"demand": "再督办", "days": 3})
    assert response.status_code == 200 and "已有未办结的督办" in text(response)
    assert SupervisionOrder.objects.filter(alert=board.yellow).count() == 1


def test_an_appeal_and_its_decision_through_the_pages(world, board, login, client):
    handler = login(world.county_leader)
    assert act(handler, board.yellow, "appeal", {"reasons": ""}).status_code == 200
    assert act(handler, board.yellow, "appeal", {"reasons": "系统时间有误"}, attachment=png()).status_code == 302
    assert fresh(board.yellow).status == "appealed"
    client.logout()
    supervisor = login(world.county_supervisor)
    page = supervisor.get(reverse("supervision:alert", args=[board.yellow.pk]))
    assert {f.action for f in page.context["action_forms"]} == {"decide"}
    no_choice = act(supervisor, board.yellow, "decide", {"reasons": "x"})
    assert no_choice.status_code == 200 and field_errors(no_choice, "decide")["decision"]
    assert act(supervisor, board.yellow, "decide", {"decision": "uphold", "reasons": "经核查时间无误"}).status_code == 302
    assert fresh(board.yellow).status == "raised"
    assert act(login(world.county_handler), board.yellow, "appeal", {"reasons": "补充证据"}).status_code == 302
    assert act(login(world.county_supervisor), board.yellow, "decide",
               {"decision": "accept", "reasons": "申诉成立"}).status_code == 302
    alert = fresh(board.yellow)
    assert alert.status == "dismissed"
    assert [s.kind for s in alert.steps.all()] == ["appeal", "uphold", "appeal", "accept_appeal"]


# --- attachments ----------------------------------------------------------------------------------
@pytest.mark.parametrize("upload", [pdf, png, docx, xlsx, lambda: SimpleUploadedFile("照片.JPG", b"\xff\xd8\xff\xe0" + b"0" * 32)])
def test_allowed_attachment_types_are_accepted(world, board, login, upload):
    response = act(login(world.county_handler), board.yellow, "explain", {"text": "说明"}, attachment=upload())
    assert response.status_code == 302
    assert fresh(board.yellow).steps.get(kind="explain").attachment


@pytest.mark.parametrize("upload, words", [
    (lambda: SimpleUploadedFile("run.exe", b"MZ\x90\x00"), "只能上传"),
    (lambda: SimpleUploadedFile("notes.txt", b"hello"), "只能上传"),
    (lambda: SimpleUploadedFile("noext", b"%PDF-1.4"), "只能上传"),
    (lambda: SimpleUploadedFile("fake.pdf", b"MZ\x90\x00this is not a pdf"), "不符"),
    (lambda: SimpleUploadedFile("fake.docx", b"PK\x03\x04broken zip"), "不符"),
    (lambda: SimpleUploadedFile("sheet.docx", xlsx().read()), "不符"),  # a workbook named as a document
    (lambda: SimpleUploadedFile("empty.pdf", b""), "空"),
    (lambda: pdf("大文件.pdf", size=10 * 1024 * 1024 + 1), "超过了 10 MB 的上限（本文件 10.00 MB）"),
])
def test_bad_attachments_are_refused_with_a_clear_error(world, board, login, upload, words):
    response = act(login(world.county_handler), board.yellow, "explain", {"text": "说明"}, attachment=upload())
    assert response.status_code == 200
    errors = field_errors(response, "explain")
    assert "attachment" in errors and words in " ".join(errors["attachment"]), errors
    assert "附件：" in text(response)
    assert fresh(board.yellow).status == "raised"


def test_a_ten_megabyte_file_is_still_accepted(world, board, login):
    response = act(login(world.county_handler), board.yellow, "explain", {"text": "说明"},
                   attachment=pdf("刚好.pdf", size=10 * 1024 * 1024))
    assert response.status_code == 302


def test_attachments_are_served_only_inside_the_scope(world, board, login, client, media):
    act(login(world.county_handler), board.yellow, "explain", {"text": "说明"}, attachment=pdf("情况说明.pdf"))
    step = fresh(board.yellow).steps.get(kind="explain")
    url = reverse("supervision:alert-file", args=[board.yellow.pk, step.pk])
    assert not url.startswith("/media")
    for user in (world.county_handler, world.county_supervisor, world.city_supervisor, world.province_supervisor):
        client.logout()
        response = login(user).get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert "attachment" in response["Content-Disposition"]
    for user in (world.shenzhen_handler, world.outsider, world.auditor):
        client.logout()
        assert login(user).get(url).status_code == 404, user
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    # A step of another alert, or a step without a file, is not reachable through this alert.
    other = login(world.county_handler)
    act(other, board.warning, "explain", {"text": "已加快办理"})
    plain = fresh(board.warning).steps.get(kind="explain")
    assert other.get(reverse("supervision:alert-file", args=[board.warning.pk, plain.pk])).status_code == 404
    assert other.get(reverse("supervision:alert-file", args=[board.warning.pk, step.pk])).status_code == 404


# --- orders ------------------------------------------------------------------------------------
def test_the_order_list_filters_and_exports(world, board, login):
    hand = actions.do_open_order(organ=world.yuexiu_bureau, source="media", title="窗口推诿扯皮", demand="核查整改",
                                 issuer=world.gz)
    client = login(world.city_supervisor)
    url = reverse("supervision:orders")
    assert ids(client.get(url)) == {board.order.pk, hand.pk}
    assert ids(client.get(url, {"source": "media"})) == {hand.pk}
    assert ids(client.get(url, {"source": "alert"})) == {board.order.pk}
    assert ids(client.get(url, {"overdue": "yes"})) == {board.order.pk}  # due 2026-10-23, long past
    assert ids(client.get(url, {"overdue": "no"})) == {hand.pk}
    assert ids(client.get(url, {"q": "推诿"})) == {hand.pk}
    assert ids(client.get(url, {"organ": world.futian_bureau.pk})) == set()
    actions.do_take_over_order(board.order, issuer=world.gz)
    assert ids(client.get(url, {"taken_over": "yes"})) == {board.order.pk}
    actions.do_report_order(hand, text="已整改")
    assert ids(client.get(url, {"status": "reported"})) == {hand.pk}
    assert ids(client.get(url, {"sort": "-due"})) == {board.order.pk, hand.pk}
    rows = xlsx_rows(client.get(url, {"source": "media", "export": "xlsx"}))
    assert [r[0] for r in rows[1:]] == [hand.number]
    assert rows[1][rows[0].index("来源")] == "媒体报道"
    page = text(client.get(url))
    assert 'data-testid="badge-overdue"' in page


def test_the_organ_reports_back_and_the_supervisor_returns_then_verifies(world, board, login, client):
    handler = login(world.county_handler)
    page = handler.get(reverse("supervision:order", args=[board.order.pk]))
    assert {f.action for f in page.context["action_forms"]} == {"report"}
    assert "工作日" in page.context["clock"].explanation
    assert page.context["issuer"] == world.tianhe
    blank = order_act(handler, board.order, "report", {"text": ""})
    assert blank.status_code == 200 and field_errors(blank, "report")["text"]
    rev = order_rev(board.order)
    assert order_act(handler, board.order, "report", {"text": "已办结并致歉"}, rev=rev, attachment=docx()).status_code == 302
    replay = order_act(handler, board.order, "report", {"text": "已办结并致歉"}, rev=rev, attachment=docx())
    assert replay.status_code == 200 and OrderStep.objects.filter(order=board.order, kind="feedback").count() == 1
    assert order_act(handler, board.order, "verify", {"decision": "accept", "note": "x"}).status_code == 403
    client.logout()
    supervisor = login(world.county_supervisor)
    page = supervisor.get(reverse("supervision:order", args=[board.order.pk]))
    assert {f.action for f in page.context["action_forms"]} == {"verify"}  # no level above the county to take over
    feedback = OrderStep.objects.get(order=board.order, kind="feedback")
    file_url = reverse("supervision:order-file", args=[board.order.pk, feedback.pk])
    assert file_url in text(page) and supervisor.get(file_url).status_code == 200
    assert order_act(supervisor, board.order, "verify", {"decision": "return", "note": "整改不到位"}).status_code == 302
    assert fresh(board.order).status == "open"
    assert order_act(login(world.county_handler), board.order, "report", {"text": "已重新整改"}).status_code == 302
    assert order_act(login(world.county_supervisor), board.order, "verify",
                     {"decision": "accept", "note": "核实属实"}).status_code == 302
    order = fresh(board.order)
    assert order.status == "closed" and order.clock.state == "stopped"
    assert [s.kind for s in order.steps.all()] == ["open", "feedback", "return", "feedback", "verify"]
    client.logout()
    assert login(world.shenzhen_handler).get(file_url).status_code == 404


def test_a_higher_level_takes_an_order_over_and_then_verifies_it(world, board, login, client):
    county = login(world.county_supervisor)
    assert order_act(county, board.order, "take_over", {"note": "x"}).status_code == 403
    client.logout()
    city = login(world.city_supervisor)
    page = city.get(reverse("supervision:order", args=[board.order.pk]))
    take_over = next(f for f in page.context["action_forms"] if f.action == "take_over")
    assert "广州市" in str(take_over.title)
    assert order_act(city, board.order, "take_over", {"note": "群众反映强烈"}).status_code == 302
    order = fresh(board.order)
    assert order.taken_over and order.issuer_region_code == "4401"
    # Already at the city: no second take-over by the city.
    assert order_act(city, board.order, "take_over", {"note": "again"}).status_code == 403
    actions.do_report_order(order, text="已整改")
    client.logout()
    county = login(world.county_supervisor)
    page = county.get(reverse("supervision:order", args=[order.pk]))
    assert page.context["action_forms"] == [] and 'data-testid="issuer-note"' in text(page)
    assert order_act(county, order, "verify", {"decision": "accept", "note": "x"}).status_code == 403
    client.logout()
    assert order_act(login(world.province_supervisor), order, "take_over", {"note": "省级督办"}).status_code == 302
    assert fresh(order).issuer_region_code == "44"
    assert order_act(login(world.province_supervisor), order, "verify",
                     {"decision": "accept", "note": "核实属实"}).status_code == 302
    assert fresh(order).status == "closed"


def test_a_supervisor_opens_an_order_by_hand_for_an_organ_in_his_scope_only(world, board, login):
    client = login(world.county_supervisor)
    form = client.get(reverse("supervision:order-new"))
    assert form.status_code == 200
    organs = set(form.context["form"].fields["organ"].queryset)
    assert organs == {world.tianhe_bureau, world.tianhe_station}
    token = form.context["form"]["token"].value()
    data = {"organ": world.tianhe_bureau.pk, "source": "inspection", "title": "暗访发现窗口无人",
            "demand": "立即整改并书面报告", "days": 5, "token": token}
    outside = client.post(reverse("supervision:order-new"), {**data, "organ": world.futian_bureau.pk})
    assert outside.status_code == 200 and outside.context["form"].errors["organ"]
    for bad in ({"days": 0}, {"days": 61}, {"title": ""}, {"source": "alert"}, {"source": "rumour"}):
        response = client.post(reverse("supervision:order-new"), {**data, **bad})
        assert response.status_code == 200 and response.context["form"].errors, bad
        assert 'data-testid="field-error"' in text(response)
    created = client.post(reverse("supervision:order-new"), data)
    assert created.status_code == 302
    order = SupervisionOrder.objects.get(title="暗访发现窗口无人")
    assert created["Location"] == reverse("supervision:order", args=[order.pk])
    assert order.issuer_region_code == "440106" and order.source == "inspection" and order.clock.limit == 5
    # The same form sent again opens nothing new and lands on the first order.
    replay = client.post(reverse("supervision:order-new"), data)
    assert replay.status_code == 302 and replay["Location"] == created["Location"]
    assert SupervisionOrder.objects.filter(title="暗访发现窗口无人").count() == 1
    forged = client.post(reverse("supervision:order-new"), {**data, "token": "forged"})
    assert forged.status_code == 200 and "页面已过期" in text(forged)


def test_a_city_supervisor_issues_orders_at_the_city_level(world, login):
    client = login(world.city_supervisor)
    token = client.get(reverse("supervision:order-new")).context["form"]["token"].value()
    client.post(reverse("supervision:order-new"), {"organ": world.yuexiu_bureau.pk, "source": "leader",
                                                   "title": "领导批示事项", "demand": "落实批示", "days": 10,
                                                   "token": token})
    assert SupervisionOrder.objects.get(title="领导批示事项").issuer_region_code == "4401"


def test_organ_users_cannot_open_orders(world, login, client):
    for user in (world.county_handler, world.county_leader):
        client.logout()
        assert login(user).get(reverse("supervision:order-new")).status_code == 403
        assert login(user).post(reverse("supervision:order-new"), {}).status_code == 403


def test_a_token_of_another_user_is_refused(world, login, client):
    other_token = login(world.city_supervisor).get(reverse("supervision:order-new")).context["form"]["token"].value()
    client.logout()
    response = login(world.county_supervisor).post(reverse("supervision:order-new"), {
        "organ": world.tianhe_bureau.pk, "source": "inspection", "title": "x", "demand": "y", "days": 5,
        "token": other_token,
    })
    assert response.status_code == 200 and not SupervisionOrder.objects.exists()
