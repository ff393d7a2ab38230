"""The notification outbox keeps a failed message and sends it again on request."""
import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

from django.core.management import call_command
from django.db import transaction

from xiaoneng.notify import outbox
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


# --- an attempt is on record before the message leaves (issue 11, item 14) -------------------------------------
@contextmanager
def gateway(delay: float = 0.0):
    """An SMS gateway on 127.0.0.1 that records each request's Idempotency-Key and body (answers late if asked)."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.headers.get("Idempotency-Key"), body))
            time.sleep(delay)
            try:
                self.send_response(200)
                self.end_headers()
            except OSError:  # the sender gave up waiting
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms", seen
    finally:
        server.shutdown()
        server.server_close()


def pending_message(**kw) -> Message:
    with deferred(), transaction.atomic():
        return queue(to="13800000000", text="测试", kind="test", **kw)


def test_the_sms_gateway_gets_the_message_idempotency_id_in_a_header_and_in_the_body(db, settings):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.HttpSmsBackend"
    message = pending_message(ref="case-1")
    with gateway() as (url, seen):
        settings.XIAONENG_SMS_URL = url
        assert outbox.send() == (1, 0)
    message.refresh_from_db()
    assert message.key is not None and message.attempted_at is not None
    assert seen == [(str(message.key), {"id": str(message.key), "to": "13800000000", "text": "测试", "ref": "case-1"})]


def test_an_attempt_a_dead_sender_left_unsettled_becomes_unknown_and_is_not_sent_again(db, settings, tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    message = pending_message()
    # A sender recorded its attempt and died before it recorded the outcome (tests/test_killed_workers.py kills a
    # real one); the attempt has gone stale.
    taken = outbox._take([Message.State.PENDING], pk=message.pk)
    assert taken.state == Message.State.SENDING and taken.attempts == 1
    settings.XIAONENG_NOTIFY_STALE_SECONDS = 0
    assert outbox.send() == (0, 0) and outbox.retry_failed() == (0, 0)
    message.refresh_from_db()
    assert message.state == Message.State.UNKNOWN and "结果不明" in message.error
    assert not (tmp_path / "out.jsonl").exists()
    listed = StringIO()
    call_command("notify", "unknown", stdout=listed)
    assert f"{message.pk}\ttest\t13800000000\tattempts 1" in listed.getvalue() and str(message.key) in listed.getvalue()


def test_an_attempt_still_in_flight_is_left_to_its_sender(db, settings, tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    message = pending_message()
    outbox._take([Message.State.PENDING], pk=message.pk)  # another sender is sending it right now
    assert outbox.send() == (0, 0)
    message.refresh_from_db()
    assert message.state == Message.State.SENDING and not (tmp_path / "out.jsonl").exists()


def test_a_person_resends_a_message_of_unknown_outcome_with_the_same_id_or_marks_it_sent(db, settings, tmp_path):
    from xiaoneng.audit.models import AuditEntry

    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    settings.XIAONENG_NOTIFY_STALE_SECONDS = 0
    lost, delivered = pending_message(ref="lost"), pending_message(ref="delivered")
    for m in (lost, delivered):
        outbox._take([Message.State.PENDING], pk=m.pk)
    outbox.recover_stale()
    out = StringIO()
    call_command("notify", "resend", str(lost.pk), stdout=out)
    call_command("notify", "mark-sent", str(delivered.pk), stdout=out)
    call_command("notify", "send", stdout=out)
    lost.refresh_from_db(), delivered.refresh_from_db()
    assert lost.state == delivered.state == Message.State.SENT and (lost.attempts, delivered.attempts) == (2, 1)
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(line["ref"], line["id"]) for line in lines] == [("lost", str(lost.key))]
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {"notify.resend", "notify.mark_sent"}
    call_command("notify", "resend", str(lost.pk), stdout=out)  # only a message of unknown outcome is changed
    lost.refresh_from_db()
    assert lost.state == Message.State.SENT and "resend: 0 of 1" in out.getvalue()


def test_with_a_gateway_that_drops_repeated_ids_a_stale_attempt_is_sent_again_with_the_same_id(db, settings):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.HttpSmsBackend"
    settings.XIAONENG_SMS_IDEMPOTENT = True
    settings.XIAONENG_NOTIFY_STALE_SECONDS = 0
    message = pending_message()
    outbox._take([Message.State.PENDING], pk=message.pk)  # the sender died: did the gateway get it?
    with gateway() as (url, seen):
        settings.XIAONENG_SMS_URL = url
        assert outbox.send() == (1, 0)
    message.refresh_from_db()
    assert message.state == Message.State.SENT and message.attempts == 2
    assert [key for key, _body in seen] == [str(message.key)]


def test_a_gateway_that_does_not_answer_in_time_leaves_the_message_unknown_not_failed(db, settings):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.HttpSmsBackend"
    settings.XIAONENG_SMS_TIMEOUT = 0.2
    message = pending_message()
    with gateway(delay=1.0) as (url, seen):
        settings.XIAONENG_SMS_URL = url
        assert outbox.send() == (0, 1)
        message.refresh_from_db()
        assert message.state == Message.State.UNKNOWN and len(seen) == 1
        assert outbox.retry_failed() == (0, 0)  # `retry` resends failures, never a message the gateway may have
    assert len(seen) == 1


def test_a_refusing_gateway_is_a_failure_retried_with_the_same_id(db, settings):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.HttpSmsBackend"
    with gateway() as (url, _seen):
        pass  # closed: connections are refused
    settings.XIAONENG_SMS_URL = url
    message = pending_message()
    assert outbox.send() == (0, 1)
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and "unreachable" in message.error
    with gateway() as (url, seen):
        settings.XIAONENG_SMS_URL = url
        assert outbox.retry_failed() == (1, 0)
    assert [key for key, _body in seen] == [str(message.key)]
