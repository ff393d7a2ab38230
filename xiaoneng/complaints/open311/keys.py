"""Open311 API keys: created, checked and revoked here (admin and `xiaoneng open311-key` call these).

A key looks like `o311_<prefix>_<secret>` (the scheme of xiaoneng.lib.apikeys, shared
with the exchange inbox). The key is shown once, when it is created, and never again; a
lost key is revoked and a new one created.
"""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.lib.apikeys import KeyScheme

from ..models import ApiKey

SCHEME = KeyScheme("o311")
new_key = SCHEME.new


class ApiKeyError(ValueError):
    """A refused key operation; `field` names the input."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def authenticate(key: str | None) -> ApiKey | None:
    """The active client whose key this is, or None (wrong, malformed or revoked)."""
    found = SCHEME.find(ApiKey.objects.all(), key)
    if found is not None:
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
