"""Exchange sources and their API keys (`xn_<prefix>_<secret>`, see xiaoneng.lib.apikeys)."""
from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.lib.apikeys import KeyScheme
from xiaoneng.lib.codes import credit_code_error
from xiaoneng.orgs.models import Organ

from ..models import ExchangeSource

SCHEME = KeyScheme("xn")
CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
new_key = SCHEME.new


class SourceError(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def authenticate(key: str | None) -> ExchangeSource | None:
    """The active source whose key this is, or None (wrong, malformed or inactive)."""
    return SCHEME.find(ExchangeSource.objects.all(), key)


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
