"""The to-do inbox (待办) on each persona's home page: what waits, scoped, in a fixed number of queries."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from xiaoneng.approvals import actions as cases
from xiaoneng.complaints import actions as complaints
from xiaoneng.inbox import todo
from xiaoneng.inbox.actions import do_request_extension
from xiaoneng.supervision import actions as supervision
from xiaoneng.supervision.engine import raise_findings
from xiaoneng.supervision.rules import Finding


def submit(matter, no, organ=None):
    case, _code = cases.do_submit_case(matter=matter, case_no=no, applicant_name="张三丰",
                                       received_at=timezone.now() - timedelta(hours=2), organ=organ)
    return case


def accepted(matter, no):
    case = submit(matter, no)
    cases.do_accept_case(case)
    return case


def card(world, case, key="x", level="yellow"):
    (pk,) = raise_findings([Finding(rule="overdue_promise", level=level, organ=world.tianhe_bureau, subject=case,
                                    message="超过承诺时限", key=key)])
    from xiaoneng.supervision.models import Alert

    return Alert.objects.get(pk=pk)


def keyed(user):
    return {s.key: s for s in todo.sections(user)}


@pytest.fixture
def busy(world, matters, desk):
    """A day's work in 天河: cases, a yellow card (with its automatic order), an explained alert, a routed complaint,
    a complaint waiting at the desk, an extension request."""
    class B:
        pass

    b = B()
    b.new = submit(matters.licence, "TH-T-1")
    b.accepted = accepted(matters.licence, "TH-T-2")
    b.elsewhere = submit(matters.first_review, "GZ-T-1")  # the city bureau's: not the county handler's
    b.card = card(world, b.accepted, "a")
    b.explained = card(world, b.new, "b", level="warning")
    supervision.do_explain_alert(b.explained, text="系统故障，已补录")
    b.complaint, _secret = desk.file()
    complaints.do_accept(b.complaint)
    complaints.do_route(b.complaint, organ=world.tianhe_bureau)
    b.waiting, _secret = desk.file(title="另一件投诉", content="窗口人员态度生硬，推诿扯皮。")
    b.extension = do_request_extension(b.accepted, days=5, reasons="需现场核查", requested_by=world.county_handler)
    return b


def test_a_handler_sees_the_cases_alerts_orders_and_complaints_of_their_organ_nearest_deadline_first(world, busy):
    s = keyed(world.county_handler)
    assert [i.title.split(" ")[0] for i in s["cases"].items] == ["TH-T-1", "TH-T-2"]  # correction due before promise
    assert s["cases"].count == 2 and all(i.due_label for i in s["cases"].items)
    assert s["explain"].count == 1 and str(busy.card.pk) in s["explain"].items[0].link
    assert s["answer"].count == 1 and s["answer"].items[0].due_label
    assert s["routed"].count == 1 and busy.complaint.number in s["routed"].items[0].title
    assert "verify" not in s and "extensions" not in s


def test_a_leader_sees_the_extensions_waiting_for_their_approval(world, busy):
    s = keyed(world.county_leader)
    assert s["extensions"].count == 1 and "TH-T-2" in s["extensions"].items[0].title
    assert reverse("inbox:extension", args=[busy.extension.pk]) == s["extensions"].items[0].link
    assert "cases" not in s


def test_a_supervisor_sees_explanations_to_verify_and_the_desk_sees_complaints_to_process(world, busy):
    s = keyed(world.city_supervisor)
    assert s["verify"].count == 1 and str(busy.explained.pk) in s["verify"].items[0].link
    assert s["verify_orders"].count == 0 and s["objections"].count == 0
    desk = keyed(world.complaint_officer)
    assert [i.title for i in desk["intake"].items] == [f"{busy.waiting.number} · 另一件投诉"]


def test_an_outsider_and_a_handler_elsewhere_see_nothing(world, busy):
    assert todo.sections(world.outsider) == []
    elsewhere = keyed(world.shenzhen_handler)
    assert all(s.count == 0 for s in elsewhere.values())


def test_the_home_page_shows_the_to_do_and_every_page_the_badge(world, busy, login):
    client = login(world.county_handler)
    page = client.get(reverse("home"))
    html = page.content.decode()
    assert page.context["todo_total"] == 5 and 'data-testid="todo-cases"' in html and "TH-T-1" in html
    assert 'data-testid="inbox-badge-slot"' in client.get(reverse("inbox:notifications")).content.decode()
    badge = client.get(reverse("inbox:badge")).content.decode()
    assert 'data-testid="badge-todo">5<' in badge and 'data-testid="badge-unread">0<' in badge


def test_the_to_do_costs_a_fixed_number_of_queries_whatever_it_holds(world, matters, desk):
    def measure():
        user = type(world.county_handler).objects.get(pk=world.county_handler.pk)
        with CaptureQueriesContext(connection) as q:
            sections = todo.sections(user)
        return len(q.captured_queries), sum(s.count for s in sections)

    accepted(matters.licence, "TH-Q-0")
    few, n_few = measure()
    for i in range(1, 8):
        c = accepted(matters.licence, f"TH-Q-{i}")
        card(world, c, f"q{i}")
        desk_complaint, _secret = desk.file(title=f"投诉{i}", content=f"第{i}件投诉的内容，窗口推诿。")
        complaints.do_accept(desk_complaint)
        complaints.do_route(desk_complaint, organ=world.tianhe_bureau)
    many, n_many = measure()
    assert n_many > n_few
    # grants (1) + per section a count and a list: cases, explain, answer, routed
    assert few <= many == 1 + 2 * 4
