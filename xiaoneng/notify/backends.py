"""Pluggable delivery: console and file for development, an HTTP SMS gateway for production.

Chosen by the XIAONENG_NOTIFY_BACKEND setting (dotted path); the HTTP gateway reads
XIAONENG_SMS_URL and XIAONENG_SMS_TOKEN and posts JSON `{"to", "text", "ref"}` with a
bearer token, treating any non-2xx answer as a failure.
"""
import json
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.utils import timezone


class DeliveryError(Exception):
    pass


class ConsoleBackend:
    def send(self, message) -> None:
        sys.stdout.write(f"[notify {message.channel} → {message.to}] {message.text}\n")


class FileBackend:
    """Appends one JSON line per message to XIAONENG_NOTIFY_FILE (default var/notifications.jsonl)."""

    def send(self, message) -> None:
        path = getattr(settings, "XIAONENG_NOTIFY_FILE", settings.VAR_DIR / "notifications.jsonl")
        line = {"at": timezone.now().isoformat(), "channel": message.channel, "to": message.to, "kind": message.kind,
                "ref": message.ref, "text": message.text}
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


class HttpSmsBackend:
    def send(self, message) -> None:
        url = getattr(settings, "XIAONENG_SMS_URL", "")
        if not url:
            raise DeliveryError("XIAONENG_SMS_URL is not set")
        body = json.dumps({"to": message.to, "text": message.text, "ref": message.ref}).encode()
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {getattr(settings, 'XIAONENG_SMS_TOKEN', '')}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=getattr(settings, "XIAONENG_SMS_TIMEOUT", 10)) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"gateway answered {response.status}")
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"gateway answered {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise DeliveryError(f"gateway unreachable: {exc}") from exc
