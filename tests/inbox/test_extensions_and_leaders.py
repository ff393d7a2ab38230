"""Extensions approved by the organ leader in the platform; the leader's own dashboard."""
from datetime import timedelta

import pytest
from django.urls import include, path, reverse
from django.utils import timezone

import xiaoneng.urls
from xiaoneng.approvals import actions as cases
from xiaoneng.approvals.models import Case, CaseEvent
from xiaoneng.clocks.models import ClockExtension
from xiaoneng.inbox.actions import InboxError, do_decide_extension, do_request_extension
from xiaoneng.inbox.models import ExtensionRequest, Notification
from xiaoneng.supervision.engine import raise_findings
from xiaoneng.supervision.rules import Finding

urlpatterns = [path("cases/", include("xiaoneng.approvals.urls")), *xiaoneng.urls.urlpatterns]
pytestmark = pytest.mark.urls(__name__)


def accepted(matters, no="TH-E-1", organ=None, ago=timedelta(hours=3)):
    case, _code = cases.do_submit_case(matter=matters.licence, case_no=no, applicant_name="张三",
                                       received_at=timezone.now() - ago, organ=organ)
    cases.do_accept_case(case, at=case.received_at + timedelta(hours=1))
    return Case.objects.get(pk=case.pk)


def revision(case):
    from xiaoneng.approvals.views import revision as rev

    return rev(case)


def test_the_handler_requests_and_the_leader_approves_then_the_case_is_extended_with_the_leader_as_approver(
        world, matters, login, django_capture_on_commit_callbacks):
    case = accepted(matters)
    due_before = case.promise_clock.due_at
    handler = login(world.county_handler)
    with django_capture_on_commit_callbacks(execute=True):
        response = handler.post(reverse("approvals:act", args=[case.pk, "extend"]),
                                {"days": "5", "reasons": "需现场核查", "rev": revision(case)})
    assert response.status_code == 302
    case.refresh_from_db()
    assert not case.extended  # asked, not yet extended
    request = ExtensionRequest.objects.get(case=case)
    assert request.state == "pending" and request.requested_by == world.county_handler
    (note,) = Notification.objects.filter(recipient=world.county_leader, kind="extension")
    assert note.link == reverse("inbox:extension", args=[request.pk])
    assert not Notification.objects.filter(recipient=world.county_handler, kind="extension").exists()
    # a second request while one waits is not offered
    page = handler.get(reverse("approvals:case", args=[case.pk]))
    assert "extend" not in {f.action for f in page.context["action_forms"]}

    leader = login(world.county_leader)
    assert 'data-testid="decide-link"' in leader.get(reverse("approvals:case", args=[case.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = leader.post(reverse("inbox:extension", args=[request.pk]), {"decision": "approve", "note": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    request.refresh_from_db()
    assert case.extended and request.state == "approved" and request.decided_by == world.county_leader
    assert case.promise_clock.due_at > due_before
    ext = ClockExtension.objects.get(clock=case.promise_clock)
    assert ext.approver == world.county_leader and ext.days == 5
    assert CaseEvent.objects.get(case=case, kind="extend").data["approver"] == str(world.county_leader)
    assert Notification.objects.filter(recipient=world.county_handler, kind="extension", title__contains="已批准").exists()


def test_a_refusal_needs_reasons_and_leaves_the_case_as_it_was(world, matters, login):
    case = accepted(matters)
    request = do_request_extension(case, days=5, reasons="需现场核查", requested_by=world.county_handler)
    leader = login(world.county_leader)
    bad = leader.post(reverse("inbox:extension", args=[request.pk]), {"decision": "refuse", "note": " "})
    assert bad.status_code == 200 and "不予批准须说明理由" in bad.content.decode()
    assert leader.post(reverse("inbox:extension", args=[request.pk]),
                       {"decision": "refuse", "note": "理由不充分"}).status_code == 302
    case.refresh_from_db()
    request.refresh_from_db()
    assert request.state == "refused" and not case.extended and not ClockExtension.objects.exists()
    with pytest.raises(InboxError):  # decided once
        do_decide_extension(request, approver=world.county_leader, approved=True)


@pytest.mark.parametrize("persona", ["county_handler", "city_supervisor", "shenzhen_handler", "outsider"])
def test_only_a_leader_of_the_organ_decides(world, matters, login, persona):
    case = accepted(matters)
    request = do_request_extension(case, days=5, reasons="需现场核查", requested_by=world.county_handler)
    client = login(getattr(world, persona))
    response = client.post(reverse("inbox:extension", args=[request.pk]), {"decision": "approve"})
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.state == "pending"


def test_a_leader_elsewhere_cannot_decide(world, matters):
    from conftest import make_user

    from xiaoneng.orgs.models import Role

    other = make_user("yuexiu_leader", Role.LEADER, organ=world.yuexiu_bureau)
    request = do_request_extension(accepted(matters), days=5, reasons="需现场核查", requested_by=world.county_handler)
    with pytest.raises(InboxError) as exc:
        do_decide_extension(request, approver=other, approved=True)
    assert exc.value.field == "approver"


def test_the_case_rules_still_apply_at_approval(world, matters, login):
    case = accepted(matters)
    request = do_request_extension(case, days=5, reasons="需现场核查", requested_by=world.county_handler)
    cases.do_decide_case(case, outcome="granted")  # decided meanwhile: nothing left to extend
    leader = login(world.county_leader)
    response = leader.post(reverse("inbox:extension", args=[request.pk]), {"decision": "approve", "note": ""})
    assert response.status_code == 200 and "不能批准" in response.content.decode()
    request.refresh_from_db()
    assert request.state == "pending" and not Case.objects.get(pk=case.pk).extended


@pytest.mark.parametrize("days, reasons, field", [(11, "x", "days"), (0, "x", "days"), ("ten", "x", "days"),
                                                  (5, " ", "reasons")])
def test_a_bad_request_is_refused_with_the_field(world, matters, days, reasons, field):
    with pytest.raises(InboxError) as exc:
        do_request_extension(accepted(matters), days=days, reasons=reasons, requested_by=world.county_handler)
    assert exc.value.field == field and not ExtensionRequest.objects.exists()


def test_the_extend_form_no_longer_takes_a_typed_approver_name(world, matters, login):
    case = accepted(matters)
    page = login(world.county_handler).get(reverse("approvals:case", args=[case.pk])).content.decode()
    assert 'name="approver_name"' not in page


# --- the leader's dashboard --------------------------------------------------------------------------
def test_the_dashboard_link_takes_a_leader_to_their_organs_dashboard_instead_of_a_404(world, login):
    response = login(world.county_leader).get(reverse("dashboard:index"))
    assert response.status_code == 302 and response["Location"] == reverse("inbox:leader")


def test_the_leader_dashboard_shows_the_organ_and_its_units_and_nothing_else(world, matters, login):
    from xiaoneng.supervision import stats

    month = timedelta(days=30)  # past their promise: at risk this week (already late)
    mine = accepted(matters, "TH-L-1", ago=month)
    station = accepted(matters, "TH-L-2", organ=world.tianhe_station, ago=month)
    other = accepted(matters, "YX-L-1", organ=world.yuexiu_bureau, ago=month)
    for case, key in ((mine, "m"), (station, "s"), (other, "o")):
        raise_findings([Finding(rule="overdue_promise", level="yellow", organ=case.organ, subject=case,
                                message="超过承诺时限", key=key)])
    stats.refresh(full=True)
    page = login(world.county_leader).get(reverse("inbox:leader"))
    assert page.status_code == 200
    ctx = page.context
    assert ctx["organ"] == world.tianhe_bureau and ctx["yellows"] == 2 and len(ctx["orders"]) == 2
    assert {a.organ_id for a in ctx["board"]} == {world.tianhe_bureau.pk, world.tianhe_station.pk}
    assert {f.key for f in ctx["units"]} == {world.tianhe_bureau.pk, world.tianhe_station.pk}
    assert ctx["totals"].received == 2 and ctx["at_risk_count"] == 2
    assert "YX-L-1" not in page.content.decode()


@pytest.mark.parametrize("persona", ["county_handler", "city_supervisor", "outsider"])
def test_the_leader_dashboard_is_only_for_leaders(world, login, persona):
    assert login(getattr(world, persona)).get(reverse("inbox:leader")).status_code == 404


@pytest.mark.parametrize("persona", ["admin", "province_supervisor", "city_supervisor", "county_handler",
                                     "county_leader", "complaint_officer", "appraisal_officer", "auditor"])
def test_every_role_has_a_home_page_with_something_on_it(world, login, persona):
    page = login(getattr(world, persona)).get(reverse("home"))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="todo"' in html and 'data-testid="stat-organs"' in html
