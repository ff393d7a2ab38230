"""The outbox: every message is stored first and sent only after the transaction commits.

A message queued by a person's action is delivered right after commit (one gateway call
for the request that caused it). A message queued inside `deferred()` — what the
exchange inbox queues for a whole batch, hundreds at a time — stays `pending` and is
sent by the background sender (`xiaoneng notify send --every SECONDS`), so a system
pushing data never waits for the SMS gateway.

If sending fails the row stays `failed` with the error and can be sent again
(`xiaoneng notify retry`), so no notification is lost to a gateway outage.

A crash (SIGKILL, power) may stop a sender at any moment, so each message is sent in three
steps, the first and the last committed on their own:

1. take it: lock the row (SKIP LOCKED on PostgreSQL, so several senders take different
   messages), mark it `sending`, count the attempt, stamp `attempted_at`, commit;
2. hand it to the backend with its idempotency id (`Message.key`, the same on every attempt);
3. record the outcome (`sent`, `failed`, or `unknown` when the backend cannot tell), commit.

No lock is held while the gateway is called, and no message is sent twice by the platform: a
sender killed between 1 and 3 leaves that one message `sending`. Once that attempt is older than
XIAONENG_NOTIFY_STALE_SECONDS (no live sender takes that long over one message), the next round
either sends it again with the same idempotency id — only when the backend says its receiving
end drops repeats (`idempotent`) — or marks it `unknown` for a person to check and decide
(`xiaoneng notify unknown`, `notify resend ID…`, `notify mark-sent ID…`).
"""
import contextvars
import logging
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .backends import DeliveryUnknown
from .models import Message

log = logging.getLogger(__name__)
State = Message.State
STALE_SECONDS = 300  # default XIAONENG_NOTIFY_STALE_SECONDS: 30 times the gateway's default timeout

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


def _take(states, *, after: int = 0, pk: int | None = None) -> Message | None:
    """Take the next message in `states` (or message `pk`) for sending and commit the attempt (step 1).

    Must run outside any transaction of the caller's, or the attempt would not be on record before the
    message leaves."""
    with transaction.atomic():
        qs = Message.objects.filter(state__in=list(states))
        qs = qs.filter(pk=pk) if pk is not None else qs.filter(pk__gt=after).order_by("pk")
        row = _claimed(qs).first()
        if row is None:
            return None
        row.state, row.attempts, row.attempted_at, row.error = State.SENDING, row.attempts + 1, timezone.now(), ""
        row.save(update_fields=["state", "attempts", "attempted_at", "error"])
    return row


def _attempt(sender, message: Message) -> bool:
    """Hand a taken message to the backend (step 2) and record the outcome (step 3)."""
    try:
        sender.send(message)
    except Exception as exc:  # a gateway error must never undo the state change that caused it
        unknown = isinstance(exc, DeliveryUnknown) and not getattr(sender, "idempotent", False)
        message.state, message.error = (State.UNKNOWN if unknown else State.FAILED), str(exc)[:500]
        log.warning("notification %s %s: %s", message.pk, "outcome unknown" if unknown else "failed", exc)
    else:
        message.state, message.error, message.sent_at = State.SENT, "", timezone.now()
    # Only over this attempt: a later attempt (the message went stale and was taken again) records its own.
    Message.objects.filter(pk=message.pk, attempts=message.attempts,
                           state__in=[State.SENDING, State.UNKNOWN, State.PENDING]).update(
        state=message.state, error=message.error, sent_at=message.sent_at)
    return message.state == State.SENT


def stale_seconds() -> float:
    return float(getattr(settings, "XIAONENG_NOTIFY_STALE_SECONDS", STALE_SECONDS))


def recover_stale(sender=None) -> int:
    """Settle the attempts of senders that died between taking a message and recording its outcome.

    Such a message may or may not have reached the gateway. If the backend's receiving end drops
    repeats of an idempotency id it goes back to `pending` and is sent again with the same id;
    otherwise it becomes `unknown` and waits for a person (sending it again could deliver it twice)."""
    sender = sender or backend()
    cutoff = timezone.now() - timezone.timedelta(seconds=stale_seconds())
    stale = Message.objects.filter(state=State.SENDING, attempted_at__lte=cutoff)
    if getattr(sender, "idempotent", False):
        return stale.update(state=State.PENDING,
                            error="发送中断，结果不明：将以同一幂等键重发 (sender stopped; resent with the same key)")
    return stale.update(state=State.UNKNOWN,
                        error="发送中断，结果不明：请核实后处理 (sender stopped mid-send; outcome unknown, check it)")


def deliver(message: Message) -> bool:
    """Send one message now (after commit); False if it failed or someone else is sending or sent it."""
    row = _take([message.state], pk=message.pk)
    if row is None:
        return False
    sent = _attempt(backend(), row)
    message.state, message.error, message.attempts, message.sent_at = row.state, row.error, row.attempts, row.sent_at
    message.attempted_at = row.attempted_at
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
    """Send up to `limit` messages in `states`, oldest first, each taken and settled in its own commits;
    (sent, not sent). Stale attempts of dead senders are settled first (`recover_stale`)."""
    sender = backend()
    recover_stale(sender)
    sent = failed = 0
    last = 0
    while sent + failed < limit:
        message = _take(states, after=last)
        if message is None:
            break
        last = message.pk
        if _attempt(sender, message):
            sent += 1
        else:
            failed += 1
    return sent, failed


def retry_failed(limit: int = 1000) -> tuple[int, int]:
    return send((State.FAILED, State.PENDING), limit)


def unknown(limit: int = 200) -> list[Message]:
    """Messages whose last attempt has an unknown outcome, oldest first: for a person to check."""
    return list(Message.objects.filter(state=State.UNKNOWN).order_by("pk")[:limit])


def settle_unknown(ids: list[int], *, sent: bool) -> int:
    """A person's decision on messages of unknown outcome: they were delivered (`sent=True`, marked sent) or
    were not (back to pending, sent by the next round with the same idempotency id). Audited."""
    from xiaoneng.audit.log import record

    with transaction.atomic():
        rows = list(_claimed(Message.objects.filter(pk__in=ids, state=State.UNKNOWN)).order_by("pk"))
        if not rows:
            return 0
        changes = {"state": State.SENT, "sent_at": timezone.now(), "error": ""} if sent else \
            {"state": State.PENDING, "error": ""}
        Message.objects.filter(pk__in=[m.pk for m in rows]).update(**changes)
        record("notify.mark_sent" if sent else "notify.resend", object_type="notify.message",
               object_id=",".join(str(m.pk) for m in rows)[:100],
               object_repr=f"{len(rows)} message(s) of unknown outcome", changes={"ids": [m.pk for m in rows]})
    return len(rows)
