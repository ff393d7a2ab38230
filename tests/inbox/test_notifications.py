"""Staff notifications: made after commit for each trigger, once per event, delivered as each user chose."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from xiaoneng.approvals import actions as cases
from xiaoneng.clocks import monitor
from xiaoneng.complaints import actions as complaints
from xiaoneng.inbox import actions
from xiaoneng.inbox.actions import InboxError, Note, do_notify_staff, do_save_preferences
from xiaoneng.inbox.models import Notification
from xiaoneng.notify.models import Message
from xiaoneng.supervision import actions as supervision
from xiaoneng.supervision.engine import raise_findings
from xiaoneng.supervision.rules import Finding

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def accepted(matters, no="TH-N-1", when=None):
    case, _code = cases.do_submit_case(matter=matters.licence, case_no=no, applicant_name="张三",
                                       received_at=when or timezone.now() - timedelta(hours=3))
    cases.do_accept_case(case, at=(when + timedelta(hours=1)) if when else None)
    return case


def yellow(world, case, key=""):
    return raise_findings([Finding(rule="overdue_promise", level="yellow", organ=world.tianhe_bureau, subject=case,
                                   message="超过承诺时限", key=key)])


def of(user, kind=None):
    qs = Notification.objects.filter(recipient=user)
    return list(qs.filter(kind=kind) if kind else qs)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run an action and then what it left for after its commit (as a real commit would)."""
    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)
    return _run


def test_a_yellow_card_tells_the_organs_handlers_and_leaders_after_commit(world, matters, run,
                                                                          django_capture_on_commit_callbacks):
    case = accepted(matters)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        (pk,) = yellow(world, case)
    assert not Notification.objects.exists() and pending  # nothing before the commit
    for callback in pending:
        callback()
    for user in (world.county_handler, world.county_leader):
        (note,) = of(user, "card")
        assert note.title.startswith("黄牌") and note.link == reverse("supervision:alert", args=[pk])
    # the yellow card's automatic order is an order notification of its own
    assert len(of(world.county_handler, "order")) == 1
    assert of(world.shenzhen_handler) == [] and of(world.city_supervisor) == []


def test_an_order_by_hand_tells_the_organ_with_its_deadline(world, run):
    order = run(supervision.do_open_order, organ=world.tianhe_station, source="media", title="窗口推诿", demand="整改")
    # the station is below the 天河 bureau: the bureau's staff's grants cover it
    (note,) = of(world.county_handler, "order")
    assert order.number in note.title and "前反馈" in note.body and note.link.endswith(f"/orders/{order.pk}/")


def test_a_complaint_routed_to_the_organ_tells_its_staff_and_a_second_routing_tells_them_again(world, desk, run):
    complaint, _secret = desk.file()
    complaints.do_accept(complaint)
    run(complaints.do_route, complaint, organ=world.tianhe_bureau)
    (note,) = of(world.county_handler, "complaint")
    assert complaint.number in note.title and "办理期限" in note.body
    complaints.do_send_back(complaint, reasons="不属于本机关")
    run(complaints.do_route, complaint, organ=world.tianhe_bureau)
    assert len(of(world.county_handler, "complaint")) == 2


def test_a_deadline_about_to_pass_warns_the_handler(world, matters, run):
    accepted(matters, when=at("2026-09-28T10:00"))
    run(monitor.run_pass, at("2026-10-15T09:00"))
    notes = of(world.county_handler, "deadline")
    assert notes and any("2026-10-16 24:00" in n.title for n in notes)
    assert of(world.county_leader, "deadline") == []  # the handler's deadline, not the leader's


def test_a_replayed_event_notifies_nobody_twice_and_sends_no_second_message(world, run):
    do_save_preferences(world.county_handler, phone="13800001111", channels={"order": ["sms"]})
    note = Note(kind="order", title="督办 DB1", key="order:replay", organ_id=world.tianhe_bureau.pk)
    run(do_notify_staff, [note])
    run(do_notify_staff, [note, note])
    assert len(of(world.county_handler, "order")) == 1
    assert Message.objects.filter(kind="inbox.order", to="13800001111").count() == 1


def test_each_user_gets_the_copies_they_chose_queued_in_the_same_transaction(world, run):
    world.county_leader.email = "leader@tianhe.example"
    world.county_leader.save()
    do_save_preferences(world.county_handler, phone="13800001111", channels={"card": ["sms"], "order": []})
    do_save_preferences(world.county_leader, phone="", channels={"card": ["email"]})
    run(do_notify_staff, [Note(kind="card", title="黄牌：x", key="card:1", organ_id=world.tianhe_bureau.pk),
                          Note(kind="order", title="督办", key="order:1", organ_id=world.tianhe_bureau.pk)])
    sent = sorted(Message.objects.filter(kind__startswith="inbox.").values_list("kind", "channel", "to"))
    assert sent == [("inbox.card", "email", "leader@tianhe.example"), ("inbox.card", "sms", "13800001111")]
    card = Notification.objects.get(recipient=world.county_handler, kind="card")
    assert Message.objects.get(channel="sms").ref == f"inbox:{card.pk}:sms"


@pytest.mark.parametrize("phone, channels, field", [
    ("", {"card": ["sms"]}, "phone"),
    ("12345", {}, "phone"),
    ("13800001111", {"card": ["email"]}, "channels"),  # the handler has no e-mail address
])
def test_bad_preferences_are_refused_with_the_field(world, phone, channels, field):
    with pytest.raises(InboxError) as exc:
        do_save_preferences(world.county_handler, phone=phone, channels=channels)
    assert exc.value.field == field


def test_the_preference_page_saves_the_choices(world, login):
    client = login(world.county_handler)
    response = client.post(reverse("inbox:preferences"), {"phone": "13800001111", "kind_reminder": ["sms"]})
    assert response.status_code == 302
    assert world.county_handler.inbox_preference.wants("reminder") == ["sms"]
    bad = client.post(reverse("inbox:preferences"), {"phone": "", "kind_card": ["sms"]})
    assert bad.status_code == 200 and "选择短信通知时必须填写手机号" in bad.content.decode()


# --- reminders ---------------------------------------------------------------------------------
def test_a_supervisor_in_scope_sends_a_reminder_from_the_case_page_once(world, matters, login, run):
    case = accepted(matters)
    client = login(world.city_supervisor)
    page = client.get(reverse("approvals:case", args=[case.pk])).content.decode()
    assert 'data-testid="reminder"' in page
    data = {"text": "请尽快办结", "token": "t-1"}
    url = reverse("inbox:remind", args=["case", case.pk])
    for _ in range(2):  # a double submit
        response = run(client.post, url, data)
        assert response.status_code == 302
    (note,) = of(world.county_handler, "reminder")
    assert note.body == "请尽快办结" and note.sender == world.city_supervisor and "TH-N-1" in note.title
    assert len(of(world.county_leader, "reminder")) == 1


@pytest.mark.parametrize("persona", ["county_handler", "county_leader", "shenzhen_handler", "outsider"])
def test_only_supervisors_in_scope_may_send_a_reminder(world, matters, login, persona):
    case = accepted(matters)
    client = login(getattr(world, persona))
    assert 'data-testid="reminder"' not in client.get(reverse("approvals:case", args=[case.pk])).content.decode()
    response = client.post(reverse("inbox:remind", args=["case", case.pk]), {"text": "催", "token": "t"})
    assert response.status_code == 404 and not Notification.objects.exists()


def test_a_supervisor_of_another_region_cannot_remind(world, matters):
    from conftest import make_user

    from xiaoneng.orgs.models import Role

    sz = make_user("sz_supervisor", Role.SUPERVISOR, region=world.sz)
    case = accepted(matters)
    with pytest.raises(InboxError):
        actions.do_send_reminder(sender=sz, target=case, text="催", link="/", label="x", token="t")


def test_a_reminder_from_an_order_page_and_an_empty_one_refused(world, login, run):
    order = supervision.do_open_order(organ=world.tianhe_bureau, source="media", title="窗口推诿", demand="整改")
    client = login(world.county_supervisor)
    url = reverse("inbox:remind", args=["order", order.pk])
    run(client.post, url, {"text": "  ", "token": "t-2"})
    assert not of(world.county_handler, "reminder")
    run(client.post, url, {"text": "明日前反馈", "token": "t-3"})
    assert [n.body for n in of(world.county_handler, "reminder")] == ["明日前反馈"]


# --- the notification pages ------------------------------------------------------------------------
def test_the_list_marks_read_one_and_all_and_shows_only_ones_own(world, login, run):
    client = login(world.county_handler)
    assert 'data-testid="badge-unread">0<' in client.get(reverse("inbox:badge")).content.decode()  # now cached
    run(do_notify_staff, [Note(kind="card", title=f"黄牌 {i}", key=f"card:{i}", organ_id=world.tianhe_bureau.pk)
                          for i in range(3)])
    assert 'data-testid="badge-unread">3<' in client.get(reverse("inbox:badge")).content.decode()
    page = client.get(reverse("inbox:notifications"))
    assert page.context["unread"] == 3 and len(page.context["rows"]) == 3
    first = of(world.county_handler)[0]
    assert client.post(reverse("inbox:read", args=[first.pk])).status_code == 302
    assert Notification.objects.filter(recipient=world.county_handler, read_at__isnull=True).count() == 2
    other = of(world.county_leader)[0]
    assert client.post(reverse("inbox:read", args=[other.pk])).status_code == 404
    assert run(client.post, reverse("inbox:read-all")).status_code == 302
    assert not Notification.objects.filter(recipient=world.county_handler, read_at__isnull=True).exists()
    assert 'data-testid="badge-unread">0<' in client.get(reverse("inbox:badge")).content.decode()
    assert Notification.objects.filter(recipient=world.county_leader, read_at__isnull=True).count() == 3


def test_a_failing_notification_never_undoes_the_event_that_caused_it(world, run, monkeypatch):
    from xiaoneng.inbox import receivers
    from xiaoneng.supervision.models import SupervisionOrder

    def broken(*args, **kwargs):
        raise RuntimeError("notification store down")

    monkeypatch.setattr(receivers, "notify_after_commit", broken)
    order = run(supervision.do_open_order, organ=world.tianhe_bureau, source="media", title="窗口推诿", demand="整改")
    assert SupervisionOrder.objects.filter(pk=order.pk).exists() and not Notification.objects.exists()
    monkeypatch.setattr(receivers, "notify_after_commit", actions.notify_after_commit)
    monkeypatch.setattr(actions, "do_notify_staff", broken)  # failing after the commit: logged, not raised
    run(supervision.do_open_order, organ=world.tianhe_bureau, source="media", title="再次推诿", demand="整改")
    assert SupervisionOrder.objects.count() == 2
