"""Pluggable delivery: console and file for development, an HTTP SMS gateway for production.

Chosen by the XIAONENG_NOTIFY_BACKEND setting (dotted path); the HTTP gateway reads
XIAONENG_SMS_URL and XIAONENG_SMS_TOKEN and posts JSON `{"id", "to", "text", "ref"}` with a
bearer token and an `Idempotency-Key` header (both carry the message's idempotency id, the same
on every attempt), treating any non-2xx answer as a failure.

A backend raises `DeliveryError` when the message certainly did not go out (the gateway said no,
or could not be reached) and `DeliveryUnknown` when it may have (the request went out and no
answer came). `idempotent` says whether the receiving end drops a second delivery with the same
idempotency id: only then does the outbox send a message of unknown outcome again by itself.
"""
import json
import socket
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.utils import timezone


class DeliveryError(Exception):
    pass


class DeliveryUnknown(DeliveryError):
    """The message may have been delivered: sending it again could deliver it twice."""


class ConsoleBackend:
    idempotent = False

    def send(self, message) -> None:
        sys.stdout.write(f"[notify {message.channel} → {message.to}] {message.text}\n")


class FileBackend:
    """Appends one JSON line per message to XIAONENG_NOTIFY_FILE (default var/notifications.jsonl).

    A line appended twice stays twice: not idempotent."""

    idempotent = False

    def send(self, message) -> None:
        path = getattr(settings, "XIAONENG_NOTIFY_FILE", settings.VAR_DIR / "notifications.jsonl")
        line = {"at": timezone.now().isoformat(), "id": message.idempotency_key, "channel": message.channel,
                "to": message.to, "kind": message.kind, "ref": message.ref, "text": message.text}
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


class HttpSmsBackend:
    @property
    def idempotent(self) -> bool:
        # Only the operator knows whether the gateway drops a repeated Idempotency-Key (README).
        return bool(getattr(settings, "XIAONENG_SMS_IDEMPOTENT", False))

    def send(self, message) -> None:
        url = getattr(settings, "XIAONENG_SMS_URL", "")
        if not url:
            raise DeliveryError("XIAONENG_SMS_URL is not set")
        key = message.idempotency_key
        body = json.dumps({"id": key, "to": message.to, "text": message.text, "ref": message.ref}).encode()
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": key,
                     "Authorization": f"Bearer {getattr(settings, 'XIAONENG_SMS_TOKEN', '')}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=getattr(settings, "XIAONENG_SMS_TIMEOUT", 10)) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"gateway answered {response.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"gateway answered {exc.code}") from exc
        except urllib.error.URLError as exc:
            # Refused or unresolvable: nothing reached the gateway. A timeout may have come after it took the request.
            if isinstance(exc.reason, (ConnectionRefusedError, socket.gaierror)):
                raise DeliveryError(f"gateway unreachable: {exc}") from exc
            raise DeliveryUnknown(f"gateway did not answer: {exc}") from exc
        except (TimeoutError, OSError) as exc:
            raise DeliveryUnknown(f"gateway did not answer: {exc}") from exc
