"""Exchange sources and their API keys.

A key looks like `xn_<prefix>_<secret>`: the prefix (10 hex characters) is stored in
clear in `ExchangeSource.key_prefix` so a request's key is found with one indexed
lookup; only the SHA-256 of the whole key is stored (`key_hash`), and it is compared
in constant time. The secret is 256 random bits (secrets.token_urlsafe), so a plain
SHA-256 is enough: there is nothing to brute-force that a slow hash would protect.
The key is shown once, when it is created or rotated, and never again.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.lib.codes import credit_code_error
from xiaoneng.orgs.models import Organ

from ..models import ExchangeSource

KEY_RE = re.compile(r"^xn_([0-9a-f]{10})_([A-Za-z0-9_-]{20,100})$")
CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
# Hashed when no source has the presented prefix, so a miss costs what a hit costs.
_DUMMY_HASH = hashlib.sha256(b"xiaoneng-exchange-no-such-key").hexdigest()


class SourceError(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def new_key() -> tuple[str, str, str]:
    """A fresh key: (key, prefix, hash)."""
    prefix = secrets.token_hex(5)
    key = f"xn_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def authenticate(key: str | None) -> ExchangeSource | None:
    """The active source whose key this is, or None (wrong, malformed or inactive)."""
    match = KEY_RE.match((key or "").strip())
    presented = hash_key((key or "").strip())
    if match is None:
        hmac.compare_digest(presented, _DUMMY_HASH)
        return None
    candidates = list(ExchangeSource.objects.filter(key_prefix=match.group(1)))
    found = None
    for source in candidates or [None]:
        stored = source.key_hash if source is not None else _DUMMY_HASH
        if hmac.compare_digest(presented, stored) and source is not None:
            found = source
    if found is None or not found.is_active:
        return None
    return found


def _organs(codes: list[str]) -> list[Organ]:
    if not codes:
        raise SourceError(_("至少要指定一个可报送的机关（--organ 统一社会信用代码）"), "organs")
    wanted = []
    for code in codes:
        code = (code or "").strip().upper()
        error = credit_code_error(code)
        if error:
            raise SourceError(f"{code}: {error}", "organs")
        wanted.append(code)
    found = {o.credit_code: o for o in Organ.objects.filter(credit_code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise SourceError(_("没有统一社会信用代码为 %(codes)s 的机关") % {"codes": "、".join(missing)}, "organs")
    return [found[c] for c in dict.fromkeys(wanted)]


@transaction.atomic
def do_create_source(*, code: str, organ_codes: list[str], name: str = "") -> tuple[ExchangeSource, str]:
    """Register a source bound to its organs; returns the source and its key (shown once)."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise SourceError(_("来源编码只能由字母、数字、下划线和连字符组成（最多40个字符）"), "code")
    if ExchangeSource.objects.filter(code=code).exists():
        raise SourceError(_("来源编码 %(code)s 已存在") % {"code": code}, "code")
    organs = _organs(organ_codes)
    key, prefix, digest = new_key()
    source = ExchangeSource.objects.create(
        code=code, name=(name or "").strip()[:100] or code, key_prefix=prefix, key_hash=digest
    )
    source.organs.set(organs)
    record("exchange.source.create", source, changes={"organs": [o.credit_code for o in organs], "key_prefix": prefix})
    return source, key


@transaction.atomic
def do_rotate_key(source: ExchangeSource) -> str:
    """Replace the source's key; the old key stops working at once."""
    key, prefix, digest = new_key()
    ExchangeSource.objects.filter(pk=source.pk).update(key_prefix=prefix, key_hash=digest)
    source.key_prefix, source.key_hash = prefix, digest
    record("exchange.source.rotate_key", source, changes={"key_prefix": prefix})
    return key


@transaction.atomic
def do_set_source_active(source: ExchangeSource, active: bool) -> ExchangeSource:
    ExchangeSource.objects.filter(pk=source.pk).update(is_active=active)
    source.is_active = active
    record("exchange.source.activate" if active else "exchange.source.deactivate", source)
    return source


@transaction.atomic
def do_set_source_organs(source: ExchangeSource, organ_codes: list[str]) -> ExchangeSource:
    organs = _organs(organ_codes)
    source.organs.set(organs)
    record("exchange.source.organs", source, changes={"organs": [o.credit_code for o in organs]})
    return source
