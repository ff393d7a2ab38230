"""The notification outbox keeps a failed message and sends it again on request."""
from io import StringIO

from django.core.management import call_command
from django.db import transaction

from xiaoneng.notify.models import Message
from xiaoneng.notify.outbox import deferred, deliver, queue


def test_a_failed_message_stays_in_the_outbox_and_is_sent_by_the_retry_command(db, settings, tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.HttpSmsBackend"
    settings.XIAONENG_SMS_URL = ""  # the gateway is not configured: delivery fails
    with transaction.atomic():
        message = queue(to="13800000000", text="测试", kind="test")
    # on_commit does not fire inside the test transaction; deliver as the hook would
    assert deliver(message) is False
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and "XIAONENG_SMS_URL" in message.error
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    out = StringIO()
    call_command("notify", "retry", stdout=out)
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.attempts == 2
    assert "sent 1" in out.getvalue() and "测试" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")


def test_messages_queued_while_deferred_wait_for_the_sender_which_sends_each_once(db, settings, tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    with deferred(), transaction.atomic():
        first = queue(to="13800000001", text="一", kind="test")
        second = queue(to="13800000002", text="二", kind="test")
    assert set(Message.objects.values_list("state", flat=True)) == {Message.State.PENDING}
    out = StringIO()
    call_command("notify", "send", stdout=out)
    assert "sent 2" in out.getvalue()
    for message in (first, second):
        message.refresh_from_db()
        assert message.state == Message.State.SENT and message.attempts == 1
    call_command("notify", "send", stdout=StringIO())
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def test_an_after_commit_delivery_does_not_send_a_message_the_sender_already_sent(db, settings, tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    with transaction.atomic():
        message = queue(to="13800000000", text="测试", kind="test")
    call_command("notify", "send", stdout=StringIO())  # the sender came first
    assert deliver(message) is False  # the after-commit hook, late, finds it sent
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 1
