"""POST requests: an Open311 client files a complaint.

1. Read the body ourselves: at most `MAX_BODY_BYTES` (413), form-encoded, UTF-8 both
   as bytes and inside its percent-escapes (400 otherwise).
2. The API key (403 when missing, wrong or revoked), the jurisdiction (404 when it
   names another), the service (400), the location (lat+long, address_string or
   address_id — the spec asks for one of them), the description (required here: it
   becomes the complaint's content; its first 30 characters the title).
3. The service's attributes, `attribute[code]=…` (and `attribute[code][]=…` for a
   multivaluelist): required ones enforced, values checked against the datatype and
   the list keys; an attribute the service does not define is refused. The answers
   are appended to the content so the office reads them, and kept with media_url and
   address_id in the registration step's data (`open311`).
4. The region: `attribute[region]` may give a region code (12 digits, or the 6-digit
   GB/T 2260 code) inside the jurisdiction; otherwise the complaint belongs to the
   province (the root region) and the provincial office routes it.
5. `actions.do_register_complaint(channel="open311")`. The complainant is anonymous
   when no name, phone or e-mail is given; the reply goes by e-mail if one is given,
   else by SMS if a phone is given, else on the web.

Open311 has no idempotency key, so a replayed POST files a second complaint; the
action flags it as a possible duplicate of the first (same text) for the office.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from xiaoneng.lib.moments import offset_in_range

from .. import actions
from ..identity import Identity
from ..models import Category, Complaint, ComplaintStep
from ..validation import email_error, phone_error
from . import config, keys
from .services import LISTS, attributes

MAX_FIELDS = 200
SCALARS = ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "email",
           "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url")
ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# The action's field names in the terms of the request.
FIELD_NAMES = {"title": "description", "content": "description", "category": "service_code", "name": "first_name",
               "reply_channel": "email", "received_at": "requested_datetime", "address": "address_string",
               "channel": "service_code", "number": "service_request_id"}


class Open311Error(Exception):
    """A refused request: HTTP status and a description that names the field."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def bad(name: str, message: str) -> Open311Error:
    return Open311Error(400, f"{name}: {message}")


@dataclass
class Filing:
    """A parsed POST body."""

    values: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str:
        found = self.values.get(name) or [""]
        if len(found) > 1:
            raise bad(name, _("只能出现一次"))
        return found[0].strip()


# --- 1. the body ------------------------------------------------------------------------
def read_body(request) -> Filing:
    limit = config.limit("MAX_BODY_BYTES")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Open311Error(400, _("Content-Length 无效")) from None
    if length > limit:
        raise Open311Error(413, _("请求体过大：最多 %(n)d 字节") % {"n": limit})
    media_type, _sep, params = (request.META.get("CONTENT_TYPE") or "").partition(";")
    if media_type.strip().lower() != "application/x-www-form-urlencoded":
        raise Open311Error(400, _("Content-Type 必须是 application/x-www-form-urlencoded"))
    charset = dict(p.strip().lower().partition("=")[::2] for p in params.split(";") if "=" in p).get("charset", "utf-8")
    if charset.strip('"') not in ("utf-8", "utf8"):
        raise Open311Error(400, _("请求体必须使用 UTF-8 编码"))
    body = request.read(limit + 1)
    if len(body) > limit:
        raise Open311Error(413, _("请求体过大：最多 %(n)d 字节") % {"n": limit})
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise Open311Error(400, _("请求体不是有效的 UTF-8 编码")) from None
    except ValueError:
        raise Open311Error(400, _("字段过多：最多 %(n)d 个") % {"n": MAX_FIELDS}) from None
    filing = Filing()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise bad(name.replace("\x00", ""), _("含有不允许的字符"))
        match = ATTRIBUTE_RE.match(name)
        if match:
            filing.answers.setdefault(match.group(1), []).append(value.strip())
        else:
            filing.values.setdefault(name, []).append(value)
    return filing


def check_jurisdiction(value: str) -> None:
    if value and value != config.jurisdiction():
        raise Open311Error(404, _("jurisdiction_id not found：本接口只服务 %(j)s") % {"j": config.jurisdiction()})


# --- 2.-4. what the body says -----------------------------------------------------------
def _decimal(name: str, value: str, bound: int) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise bad(name, _("必须是数字")) from None
    # The exponent is looked at before any arithmetic: `abs(Decimal("1e1000000"))` overflows the
    # decimal context (decimal.Overflow, a 500) where the string itself parsed fine.
    if not number.is_finite() or number.adjusted() > len(str(bound)) or abs(number) > bound:
        raise bad(name, _("超出范围（±%(n)d）") % {"n": bound})
    return number


def location(filing: Filing) -> dict:
    lat, long = filing.get("lat"), filing.get("long")
    address, address_id = filing.get("address_string"), filing.get("address_id")
    if bool(lat) != bool(long):
        raise bad("long" if lat else "lat", _("lat 和 long 必须同时提供"))
    if not (lat or address or address_id):
        raise bad("lat", _("请提供位置：lat 和 long，或 address_string，或 address_id"))
    if len(address) > 200:
        raise bad("address_string", _("过长：最多 200 个字符"))
    if len(address_id) > 100:
        raise bad("address_id", _("过长：最多 100 个字符"))
    return {"lat": _decimal("lat", lat, 90) if lat else None, "long": _decimal("long", long, 180) if long else None,
            "address_string": address, "address_id": address_id}


def _answer(spec: dict, given: list[str]) -> tuple[list[str], str]:
    """Checked values of one attribute and how the office reads them."""
    name, datatype = f"attribute[{spec['code']}]", spec["datatype"]
    if datatype != "multivaluelist" and len(given) > 1:
        raise bad(name, _("只能有一个值"))
    if datatype in LISTS:
        names = {v["key"]: v["name"] for v in spec.get("values", [])}
        wrong = [g for g in given if g not in names]
        if wrong:
            raise bad(name, _("取值 %(v)s 无效，可选：%(keys)s") % {"v": "、".join(wrong), "keys": "、".join(names)})
        return given, "、".join(names[g] for g in given)
    value = given[0]
    if datatype == "number":
        _decimal(name, value, 10**12)
    elif datatype == "datetime":
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is None:
            raise bad(name, _("必须是 W3C 日期时间，例如 2026-11-02T09:00:00+08:00"))
        if moment.tzinfo is None:
            raise bad(name, _("日期时间缺少时区"))
        if not offset_in_range(moment):
            raise bad(name, _("时区偏移超出范围（最多 ±15:59）"))
    if len(value) > (2000 if datatype == "text" else 200):
        raise bad(name, _("过长"))
    return given, value


def answers(filing: Filing, category: Category) -> tuple[dict[str, list[str]], list[str]]:
    """The attribute answers ({code: values}) and the lines the office reads."""
    specs = {a["code"]: a for a in attributes(category) if a["variable"]}
    unknown = [code for code in filing.answers if code not in specs and code != "region"]
    if unknown:
        raise bad(f"attribute[{unknown[0]}]", _("服务 %(s)s 没有这个字段") % {"s": category.code})
    kept, lines = {}, []
    for code, spec in specs.items():
        given = [g for g in filing.answers.get(code, []) if g]
        if not given:
            if spec["required"]:
                raise bad(f"attribute[{code}]", _("必填：%(d)s") % {"d": spec["description"]})
            continue
        kept[code], shown = _answer(spec, given)
        lines.append(f"{spec['description'] or code}：{shown}")
    return kept, lines


def region_of(filing: Filing):
    """The region named by attribute[region], or the province (root) region."""
    from xiaoneng.orgs.models import Region

    root = Region.objects.filter(parent__isnull=True).order_by("code").first()
    given = [g for g in filing.answers.get("region", []) if g]
    if not given:
        if root is None:
            raise Open311Error(400, _("区划尚未配置，暂不能受理"))
        return root
    code = given[0]
    if len(given) > 1 or not re.fullmatch(r"\d{6}|\d{12}", code):
        raise bad("attribute[region]", _("应为 6 位或 12 位行政区划代码"))
    region = Region.objects.filter(code=code.ljust(12, "0")).first()
    if region is None or (root is not None and not region.prefix.startswith(root.prefix)):
        raise bad("attribute[region]", _("没有这个行政区划代码"))
    return region


def complainant(filing: Filing) -> tuple[Identity, bool, str]:
    first, last = filing.get("first_name"), filing.get("last_name")
    phone, email, device = filing.get("phone"), filing.get("email"), filing.get("device_id")
    for name, value, most in (("first_name", first, 50), ("last_name", last, 50), ("email", email, 190),
                              ("phone", phone, 30), ("device_id", device, 100), ("account_id", filing.get("account_id"), 100)):
        if len(value) > most:
            raise bad(name, _("过长：最多 %(n)d 个字符") % {"n": most})
    for name, error in (("phone", phone_error(phone)), ("email", email_error(email))):
        if error:
            raise bad(name, error)
    who = Identity.of(name=f"{first} {last}".strip(), phone=phone, email=email, device_id=device)
    anonymous = not (who.name or who.phone or who.email)
    reply = "email" if email else ("sms" if phone else "web")
    return who, anonymous, reply


def media_url(filing: Filing) -> str:
    url = filing.get("media_url")
    if url:
        try:
            # urlsplit refuses an unbalanced or invalid bracketed host ("http://[::1", "http://[abc]/")
            # with ValueError, and reading the port refuses one that is not a number.
            parts = urlsplit(url)
            parts.port  # noqa: B018 - read for its check
        except ValueError:
            parts = None
        if len(url) > 500 or parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad("media_url", _("必须是 http 或 https 地址（最多 500 个字符）"))
    return url


def title_of(description: str, category: Category) -> str:
    line = " ".join(description.split())
    return line[:30] or category.name


# --- 5. filing --------------------------------------------------------------------------
def file(filing: Filing, api_key) -> tuple[Complaint, str]:
    """Check everything, then register; returns the complaint and the complainant's secret."""
    code = filing.get("service_code")
    if not code:
        raise bad("service_code", _("必填"))
    category = Category.objects.filter(code=code, is_active=True).first()
    if category is None:
        raise bad("service_code", _("没有这个服务：%(code)s") % {"code": code[:40]})
    where = location(filing)
    kept, lines = answers(filing, category)
    region = region_of(filing)
    description = filing.get("description")
    if not description:
        raise bad("description", _("请填写投诉内容"))
    who, anonymous, reply = complainant(filing)
    url = media_url(filing)
    content = description
    if lines or url:
        extra = [*lines, *([_("图片或附件：%(url)s") % {"url": url}] if url else [])]
        content += "\n\n" + _("附加信息：") + "\n" + "\n".join(extra)
    try:
        with transaction.atomic():
            complaint, secret = actions.do_register_complaint(
                channel="open311", category=category, title=title_of(description, category), content=content,
                region=region, complainant=who, anonymous=anonymous, reply_channel=reply, api_key=api_key,
                address_string=where["address_string"], lat=where["lat"], long=where["long"],
            )
            step = ComplaintStep.objects.get(complaint=complaint, kind=ComplaintStep.Kind.REGISTER)
            step.data = {**step.data, "open311": {"attributes": kept, "media_url": url, "address_id": where["address_id"],
                                                  "api_key": api_key.name}}
            step.save(update_fields=["data"])
    except actions.ComplaintError as exc:
        raise bad(FIELD_NAMES.get(exc.field, exc.field or "service_request"), exc.message) from None
    return complaint, secret


def authenticate(filing: Filing, request):
    given = filing.get("api_key") or request.GET.get("api_key", "")
    api_key = keys.authenticate(given)
    if api_key is None:
        raise Open311Error(403, _("api_key 缺失、无效或已停用"))
    return api_key
