"""The notification outbox keeps a failed message and sends it again on request."""
from io import StringIO

from django.core.management import call_command
from django.db import transaction

from xiaoneng.notify.models import Message
from xiaoneng.notify.outbox import queue


def test_a_failed_message_stays_in_the_outbox_and_is_sent_by_the_retry_command(db, settings, tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.HttpSmsBackend"
    settings.XIAONENG_SMS_URL = ""  # the gateway is not configured: delivery fails
    with transaction.atomic():
        message = queue(to="13800000000", text="测试", kind="test")
    # on_commit does not fire inside the test transaction; deliver as the hook would
    from xiaoneng.notify.outbox import deliver

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
