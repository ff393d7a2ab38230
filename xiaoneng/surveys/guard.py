"""Keeping scripts and repeat voters off the public survey, with the project's own means.

* a honeypot field people do not see (and bots fill in);
* a signed "form issued at" stamp: a form sent back faster than a person reads it
  (`survey_min_fill_seconds`) or older than MAX_FORM_AGE is refused;
* counters per client address in the shared cache, the mechanism of the public case look-up and
  the complaint form (`xiaoneng.approvals.public`, `xiaoneng.complaints.antibot`): submissions
  (`survey_per_address_hour`) and one-time SMS codes (`survey_sms_per_address_hour`, and per
  phone `survey_sms_per_phone_day`). Wrong invitation codes count in the look-up's own failure
  counter (`public_lookup_max_failures`), so guessing codes here or guessing case codes there
  uses up the same allowance;
* the one-time SMS code: six digits, kept in the cache only as an HMAC, good for
  `survey_sms_code_minutes` and `survey_sms_code_attempts` wrong tries, then gone.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import unicodedata

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from xiaoneng.conf import rule

MAX_FORM_AGE = 2 * 3600
STAMP_SALT = "xiaoneng.surveys.form-issued"
WINDOWS = {"submit": 3600, "sms-address": 3600, "sms-phone": 86400}
RULES = {"submit": "survey_per_address_hour", "sms-address": "survey_sms_per_address_hour",
         "sms-phone": "survey_sms_per_phone_day"}


class Refused(Exception):
    def __init__(self, message: str, field: str = "", status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


# --- the form stamp and the honeypot ------------------------------------------------------
def issue_stamp(at: float | None = None) -> str:
    return signing.dumps({"at": round(at if at is not None else time.time(), 3)}, salt=STAMP_SALT, compress=True)


def check_stamp(stamp: str, now: float | None = None) -> None:
    now = now if now is not None else time.time()
    try:
        at = float(signing.loads(stamp or "", salt=STAMP_SALT)["at"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise Refused(_("表单已失效，请刷新页面后重新填写")) from None
    age = now - at
    if age < float(rule("survey_min_fill_seconds")):
        raise Refused(_("提交过快，请逐项阅读并确认评价后再提交"))
    if age > MAX_FORM_AGE:
        raise Refused(_("表单已超过 2 小时未提交，请刷新页面后重新填写"))


def check_honeypot(value: str) -> None:
    if (value or "").strip():
        raise Refused(_("提交未通过校验，请刷新页面后重试"))


# --- counters -----------------------------------------------------------------------------
def _key(kind: str, value: str) -> str:
    return f"xn:survey:{kind}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def over_limit(kind: str, value: str) -> bool:
    return int(cache.get(_key(kind, value), 0)) >= int(rule(RULES[kind]))


def count(kind: str, value: str) -> None:
    key = _key(kind, value)
    cache.add(key, 0, timeout=WINDOWS[kind])  # the window starts with the first one
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOWS[kind])


# --- one-time SMS codes -------------------------------------------------------------------
def _otp_key(survey_id: int, phone_digest: str) -> str:
    return f"xn:survey-otp:{survey_id}:{phone_digest[:40]}"


def _mac(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"survey-otp:" + code.encode(), hashlib.sha256).hexdigest()


def send_code(survey, *, phone: str, phone_digest: str, address: str) -> None:
    """Text a fresh one-time code to `phone` (through the notify outbox, after commit)."""
    from xiaoneng.notify.outbox import queue

    if over_limit("sms-address", address) or over_limit("sms-phone", phone_digest):
        raise Refused(_("验证码发送次数过多，请稍后再试"), "phone", status=429)
    count("sms-address", address)
    count("sms-phone", phone_digest)
    code = f"{secrets.randbelow(1_000_000):06d}"
    minutes = int(rule("survey_sms_code_minutes"))
    cache.set(_otp_key(survey.pk, phone_digest), {"mac": _mac(code), "tries": 0}, timeout=minutes * 60)
    with transaction.atomic():
        queue(to=phone, kind="survey.code", ref=f"survey:{survey.pk}",
              text=_("【群众评议】您的验证码为 %(code)s，%(m)d 分钟内有效。如非本人操作请忽略。") % {
                  "code": code, "m": minutes})


def check_code(survey, *, phone_digest: str, code: str) -> bool:
    """True once for the right code; a wrong one uses up a try, the last wrong try the code."""
    key = _otp_key(survey.pk, phone_digest)
    held = cache.get(key)
    if not held:
        return False
    code = "".join(ch for ch in unicodedata.normalize("NFKC", code or "") if ch in "0123456789")[:6]
    if len(code) == 6 and hmac.compare_digest(held["mac"], _mac(code)):
        cache.delete(key)
        return True
    held["tries"] += 1
    if held["tries"] >= int(rule("survey_sms_code_attempts")):
        cache.delete(key)
    else:
        cache.set(key, held, timeout=int(rule("survey_sms_code_minutes")) * 60)
    return False
