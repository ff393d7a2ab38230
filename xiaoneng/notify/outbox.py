"""Queue a message inside the caller's transaction; deliver it after commit."""
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Message

log = logging.getLogger(__name__)


def backend():
    return import_string(getattr(settings, "XIAONENG_NOTIFY_BACKEND", "xiaoneng.notify.backends.ConsoleBackend"))()


def deliver(message: Message) -> bool:
    message.attempts += 1
    try:
        backend().send(message)
    except Exception as exc:  # a gateway error must never undo the state change that caused it
        message.state, message.error = Message.State.FAILED, str(exc)[:500]
        log.warning("notification %s failed: %s", message.pk, exc)
    else:
        message.state, message.error, message.sent_at = Message.State.SENT, "", timezone.now()
    message.save(update_fields=["state", "error", "attempts", "sent_at"])
    return message.state == Message.State.SENT


def queue(*, to: str, text: str, kind: str, ref: str = "", channel: str = "sms") -> Message | None:
    if not to:
        return None
    message = Message.objects.create(channel=channel, to=to, text=text, kind=kind, ref=ref)
    transaction.on_commit(lambda: deliver(message))
    return message


def retry_failed(limit: int = 1000) -> tuple[int, int]:
    sent = failed = 0
    for message in Message.objects.filter(state__in=[Message.State.FAILED, Message.State.PENDING])[:limit]:
        if deliver(message):
            sent += 1
        else:
            failed += 1
    return sent, failed
