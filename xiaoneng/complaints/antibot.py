"""Keeping scripts off the public complaint form, with nothing but the project itself.

No third-party captcha service (the platform must run on a closed government network):

* proof of work (ALTCHA, https://altcha.org): the page fetches an HMAC-signed challenge
  from us, the browser's `altcha-widget` spends a moment of CPU finding a solution, and
  we verify it with the `altcha` package. A challenge is good for one submission: its
  signature is remembered in the cache until it expires, so a solved payload cannot be
  replayed by a script. The key is derived from SECRET_KEY, never stored.
* a honeypot field people do not see (and bots fill in);
* a signed "form issued at" stamp: a form sent back faster than a person can type
  (rule complaint_web_min_fill_seconds) or older than MAX_FORM_AGE is refused;
* rate limits in the cache per client address (complaint_web_per_address_hour) and
  per complainant phone digest (complaint_web_per_phone_day).

The cost knobs are module attributes so that tests (and a slow kiosk) can lower them.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import altcha
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

from xiaoneng.conf import rule

# Proof-of-work cost: PBKDF2 iterations per attempt, and the hex prefix the derived key must
# start with (each hex digit multiplies the expected attempts by 16). "00" at 5,000
# iterations is well under a second in a browser and a few milliseconds to verify here.
ALGORITHM = "PBKDF2/SHA-256"
COST = 5_000
KEY_PREFIX = "00"
CHALLENGE_SECONDS = 2 * 3600
MAX_PAYLOAD_CHARS = 4_000
MAX_FORM_AGE = 2 * 3600
STAMP_SALT = "xiaoneng.complaints.form-issued"


class Refused(Exception):
    """A submission the anti-abuse checks refuse; `field` names the form field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def _hmac_key() -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"xiaoneng:altcha", hashlib.sha256).hexdigest()


# --- proof of work ---------------------------------------------------------------------
def new_challenge() -> dict:
    """A signed challenge for the widget (JSON-serialisable)."""
    expires = datetime.now(UTC) + timedelta(seconds=CHALLENGE_SECONDS)
    challenge = altcha.create_challenge(algorithm=ALGORITHM, cost=COST, key_prefix=KEY_PREFIX,
                                        expires_at=expires, hmac_secret=_hmac_key())
    return challenge.to_dict()


def _spent_key(signature: str) -> str:
    return "xn:altcha:spent:" + hashlib.sha256(signature.encode()).hexdigest()[:40]


def check_pow(payload: str) -> None:
    """Verify a widget payload once; raise Refused (field "altcha") otherwise."""
    payload = (payload or "").strip()
    if not payload:
        raise Refused(_("请先完成人机验证（勾选“我不是机器人”并等待验证完成）"), "altcha")
    if len(payload) > MAX_PAYLOAD_CHARS or not payload.isascii():
        raise Refused(_("人机验证数据无效，请重新验证"), "altcha")
    try:
        result = altcha.verify_solution(payload, _hmac_key())
    except Exception:  # noqa: BLE001 — any malformed payload is simply not verified
        result = None
    if result is not None and result.expired:
        raise Refused(_("人机验证已过期，请重新验证"), "altcha")
    if result is None or not result.verified:
        raise Refused(_("人机验证未通过，请重新验证"), "altcha")
    signature = altcha.Payload.from_base64(payload).challenge.signature
    if not cache.add(_spent_key(signature), 1, timeout=CHALLENGE_SECONDS + 60):
        raise Refused(_("该人机验证已使用过，请重新验证"), "altcha")


# --- the form stamp --------------------------------------------------------------------
def issue_stamp(at: float | None = None) -> str:
    """A signed note of when the form was handed out (a test may backdate it)."""
    return signing.dumps({"at": round(at if at is not None else time.time(), 3)}, salt=STAMP_SALT, compress=True)


def check_stamp(stamp: str, now: float | None = None) -> None:
    now = now if now is not None else time.time()
    try:
        at = float(signing.loads(stamp or "", salt=STAMP_SALT)["at"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Refused(_("表单已失效，请刷新页面后重新填写"), "") from None
    age = now - at
    if age < float(rule("complaint_web_min_fill_seconds")):
        raise Refused(_("提交过快，请确认填写内容后再提交"), "")
    if age > MAX_FORM_AGE:
        raise Refused(_("表单已超过 2 小时未提交，请刷新页面后重新填写（已填内容仍保留在下方）"), "")


def check_honeypot(value: str) -> None:
    if (value or "").strip():
        raise Refused(_("提交未通过校验，请刷新页面后重试"), "")


# --- rate limits -----------------------------------------------------------------------
def _counter_key(kind: str, value: str) -> str:
    return f"xn:complaint-web:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _limits(kind: str) -> tuple[int, int]:
    if kind == "address":
        return int(rule("complaint_web_per_address_hour")), 3600
    return int(rule("complaint_web_per_phone_day")), 86400


def over_limit(kind: str, value: str) -> bool:
    """Has this address (or phone digest) already filed as many complaints as allowed?"""
    if not value:
        return False
    limit, _window = _limits(kind)
    return int(cache.get(_counter_key(kind, value), 0)) >= limit


def count(kind: str, value: str) -> None:
    if not value:
        return
    _limit, window = _limits(kind)
    key = _counter_key(kind, value)
    cache.add(key, 0, timeout=window)  # the window starts with the first complaint
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
