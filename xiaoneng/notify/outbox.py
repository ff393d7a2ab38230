"""The outbox: every message is stored first and sent only after the transaction commits.

A message queued by a person's action is delivered right after commit (one gateway call
for the request that caused it). A message queued inside `deferred()` — what the
exchange inbox queues for a whole batch, hundreds at a time — stays `pending` and is
sent by the background sender (`xiaoneng notify send --every SECONDS`), so a system
pushing data never waits for the SMS gateway.

If sending fails the row stays `failed` with the error and can be sent again
(`xiaoneng notify retry`), so no notification is lost to a gateway outage. Whoever
sends a message first locks its row (SKIP LOCKED on PostgreSQL), so the sender, the
retry command and an after-commit delivery never send one message twice.
"""
import contextvars
import logging
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Message

log = logging.getLogger(__name__)
State = Message.State
CHUNK = 100  # messages claimed (and their rows locked) per transaction by the sender

_deferred: contextvars.ContextVar[bool] = contextvars.ContextVar("notify_deferred", default=False)


def backend():
    return import_string(getattr(settings, "XIAONENG_NOTIFY_BACKEND", "xiaoneng.notify.backends.ConsoleBackend"))()


@contextmanager
def deferred():
    """Messages queued inside are left `pending` for the background sender instead of sent after commit."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def _claimed(qs):
    """The rows of `qs` nobody else is sending right now, locked until the transaction ends."""
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True)
    return qs  # SQLite: one writer at a time


def _attempt(sender, message: Message) -> bool:
    message.attempts += 1
    try:
        sender.send(message)
    except Exception as exc:  # a gateway error must never undo the state change that caused it
        message.state, message.error = State.FAILED, str(exc)[:500]
        log.warning("notification %s failed: %s", message.pk, exc)
        return False
    message.state, message.error, message.sent_at = State.SENT, "", timezone.now()
    return True


def deliver(message: Message) -> bool:
    """Send one message now (after commit); False if it failed or someone else is sending or sent it."""
    with transaction.atomic():
        row = _claimed(Message.objects.filter(pk=message.pk, state=message.state)).first()
        if row is None:
            return False
        sent = _attempt(backend(), row)
        row.save(update_fields=["state", "error", "attempts", "sent_at"])
    message.state, message.error, message.attempts, message.sent_at = row.state, row.error, row.attempts, row.sent_at
    return sent


def queue(*, to: str, text: str, kind: str, ref: str = "", channel: str = "sms") -> Message | None:
    if not to:
        return None
    message = Message.objects.create(channel=channel, to=to, text=text, kind=kind, ref=ref)
    if not _deferred.get():
        transaction.on_commit(lambda: deliver(message))
    return message


def queue_all(messages: list[Message]) -> list[Message]:
    """Store many messages at once; delivered after commit like `queue`'s, unless deferred."""
    if not messages:
        return messages
    if connection.features.can_return_rows_from_bulk_insert:
        Message.objects.bulk_create(messages)
    else:
        for m in messages:
            m.save(force_insert=True)
    if not _deferred.get():
        transaction.on_commit(lambda: [deliver(m) for m in messages])
    return messages


def send(states=(State.PENDING,), limit: int = 1000) -> tuple[int, int]:
    """Send up to `limit` messages in `states`, oldest first, `CHUNK` per transaction; (sent, failed)."""
    sender = backend()
    sent = failed = 0
    last = 0
    while sent + failed < limit:
        with transaction.atomic():
            qs = Message.objects.filter(state__in=list(states), pk__gt=last).order_by("pk")
            chunk = list(_claimed(qs)[: min(CHUNK, limit - sent - failed)])
            if not chunk:
                break
            for message in chunk:
                if _attempt(sender, message):
                    sent += 1
                else:
                    failed += 1
            Message.objects.bulk_update(chunk, ["state", "error", "attempts", "sent_at"])
            last = chunk[-1].pk
    return sent, failed


def retry_failed(limit: int = 1000) -> tuple[int, int]:
    return send((State.FAILED, State.PENDING), limit)
