"""Open311 API keys: created, checked and revoked here (admin and `xiaoneng open311-key` call these).

The approach of the exchange inbox (xiaoneng/approvals/exchange/keys.py): a key looks
like `o311_<prefix>_<secret>`; the prefix (10 hex characters) is stored in clear in
`ApiKey.key_prefix` so a request's key is found with one indexed lookup, and only the
SHA-256 of the whole key is stored (`key_hash`), compared in constant time. The secret
is 256 random bits, so a plain SHA-256 is enough. The key is shown once, when it is
created, and never again; a lost key is revoked and a new one created.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record

from ..models import ApiKey

KEY_RE = re.compile(r"^o311_([0-9a-f]{10})_([A-Za-z0-9_-]{20,100})$")
# Hashed when no key has the presented prefix, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"xiaoneng-open311-no-such-key").hexdigest()


class ApiKeyError(ValueError):
    """A refused key operation; `field` names the input."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def new_key() -> tuple[str, str, str]:
    """A fresh key: (key, prefix, hash)."""
    prefix = secrets.token_hex(5)
    key = f"o311_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def authenticate(key: str | None) -> ApiKey | None:
    """The active client whose key this is, or None (wrong, malformed or revoked)."""
    key = (key or "").strip()
    match = KEY_RE.match(key)
    presented = hash_key(key)
    if match is None:
        hmac.compare_digest(presented, _DUMMY_HASH)
        return None
    found = None
    for api_key in list(ApiKey.objects.filter(key_prefix=match.group(1))) or [None]:
        stored = api_key.key_hash if api_key is not None else _DUMMY_HASH
        if hmac.compare_digest(presented, stored) and api_key is not None:
            found = api_key
    if found is None or not found.is_active:
        return None
    now = timezone.now()
    ApiKey.objects.filter(pk=found.pk).update(last_used_at=now)
    found.last_used_at = now
    return found


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApiKeyError(_("请填写接口密钥的名称（使用该密钥的客户端）"), "name")
    if len(name) > 100:
        raise ApiKeyError(_("名称过长：最多 100 个字符"), "name")
    return name


@transaction.atomic
def do_create_key(name: str) -> tuple[ApiKey, str]:
    """A new client key; returns the row and the key (shown once, only its hash is kept)."""
    name = _name(name)
    if ApiKey.objects.filter(name=name).exists():
        raise ApiKeyError(_("名称为 %(name)s 的接口密钥已存在") % {"name": name}, "name")
    key, prefix, digest = new_key()
    api_key = ApiKey.objects.create(name=name, key_prefix=prefix, key_hash=digest)
    record("open311.key.create", api_key, changes={"key_prefix": prefix})
    return api_key, key


@transaction.atomic
def do_revoke_key(api_key: ApiKey) -> ApiKey:
    """The key stops working at once; the row stays (complaints filed with it refer to it)."""
    ApiKey.objects.filter(pk=api_key.pk).update(is_active=False)
    api_key.is_active = False
    record("open311.key.revoke", api_key)
    return api_key
