"""Complaints that arrive by SMS: the gateway posts each received message here.

POST /public/complaints/sms/ with header `X-Gateway-Token` (compared in constant time
with settings.XIAONENG_SMS_GATEWAY_TOKEN; an empty setting turns the endpoint off: 404),
form-encoded or JSON fields:

    from         the sender's phone number
    text         the message (becomes the complaint's content; its start, the title)
    received_at  ISO 8601 with a zone offset (a naive time is refused)
    message_id   the gateway's id for the message

The gateway retries, so a message id is registered once: the complaint carries
source_ref "sms:<message_id>" and a second delivery answers with the same number. The
answer is `{"number": ...}` — never the secret, which goes to the sender by SMS through
`notices`. The region is the province (the office sorts it out on acceptance), the
category rule complaint_default_category.
"""
from __future__ import annotations

import hmac
import json
import re

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from xiaoneng.approvals.exchange.schema import FUTURE_SKEW
from xiaoneng.clocks.engine import local_date
from xiaoneng.conf import rule
from xiaoneng.lib.moments import offset_in_range
from xiaoneng.lib.text import storable
from xiaoneng.lib.workdays import FIRST_DAY, LAST_DAY
from xiaoneng.orgs.models import Region

from . import actions
from .actions import ComplaintError
from .identity import Identity
from .models import Category, Channel, Complaint, ReplyChannel
from .validation import MOBILE_RE, normalise_phone

MAX_BODY_BYTES = 32 * 1024
MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,90}$")
TITLE_CHARS = 30
# What the actions call a field → what the gateway calls it.
GATEWAY_FIELD = {"phone": "from", "content": "text", "title": "text", "received_at": "received_at"}


def _error(message: str, field: str = "", status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "field": field}, status=status, json_dumps_params={"ensure_ascii": False})


def _authorised(request) -> bool:
    expected = getattr(settings, "XIAONENG_SMS_GATEWAY_TOKEN", "") or ""
    given = request.headers.get("X-Gateway-Token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def _fields(request) -> dict:
    """The posted fields as strings; raises ValueError with a message for a bad body."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(_("请求体不是有效的 UTF-8 JSON")) from exc
        if not isinstance(data, dict):
            raise ValueError(_("请求体须为 JSON 对象"))
    else:
        data = request.POST
    out = {}
    for name in ("from", "text", "received_at", "message_id"):
        value = data.get(name, "")
        if not isinstance(value, str):
            raise ValueError(_("字段 %(field)s 须为字符串") % {"field": name}, name)
        if not storable(value):
            # PostgreSQL refuses NUL in text; a lone surrogate ("\ud800" in JSON) is not UTF-8 at all
            raise ValueError(_("字段 %(field)s 含有无法保存的字符（NUL 或单独的代理项）") % {"field": name}, name)
        out[name] = value.strip()
    return out



def _check(fields: dict):
    """The message id, phone and aware receipt time; a (message, field) error otherwise."""
    message_id = fields["message_id"]
    if not message_id:
        return _error(_("缺少 message_id"), "message_id")
    if not MESSAGE_ID_RE.match(message_id):
        return _error(_("message_id 只能含字母、数字和 ._:@-，最长 90 个字符"), "message_id")
    phone = normalise_phone(fields["from"])
    if not phone:
        return _error(_("缺少发送号码 from"), "from")
    if not MOBILE_RE.match(phone):
        return _error(_("发送号码 from 应为 11 位手机号码"), "from")
    if not fields["text"]:
        return _error(_("短信内容 text 为空"), "text")
    if not fields["received_at"]:
        return _error(_("缺少接收时间 received_at"), "received_at")
    try:
        received_at = parse_datetime(fields["received_at"])
    except ValueError:
        received_at = None
    if received_at is None:
        return _error(_("接收时间 received_at 应为 ISO 8601 格式，如 2026-10-09T08:30:00+08:00"), "received_at")
    if received_at.tzinfo is None:
        return _error(_("接收时间 received_at 缺少时区（如 +08:00）"), "received_at")
    if not offset_in_range(received_at):  # PostgreSQL refuses to store it: a 500 there
        return _error(_("接收时间 received_at 的时区偏移超出范围（最多 ±15:59）"), "received_at")
    # The complaint's clocks start then: a time the calendar does not cover, or a gateway clock far
    # ahead, is a bad timestamp, not a complaint from the future.
    try:
        day = local_date(received_at)
    except OverflowError:  # 0001-01-01T00:00+14:00 is still in year 0 in UTC
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        return _error(_("接收时间 received_at 须在 %(first)s 至 %(last)s 之间") % {
            "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}, "received_at")
    if received_at > timezone.now() + FUTURE_SKEW:
        return _error(_("接收时间 received_at 晚于当前时间"), "received_at")
    return message_id, phone, received_at


@csrf_exempt
@require_POST
def gateway_callback(request):
    if not (getattr(settings, "XIAONENG_SMS_GATEWAY_TOKEN", "") or ""):
        raise Http404
    if not _authorised(request):
        return _error(_("网关令牌无效"), "X-Gateway-Token", status=403)
    if len(request.body) > MAX_BODY_BYTES:
        return _error(_("请求体过大（最多 %(n)d 字节）") % {"n": MAX_BODY_BYTES}, "", status=413)
    try:
        fields = _fields(request)
    except ValueError as exc:
        return _error(exc.args[0], exc.args[1] if len(exc.args) > 1 else "")
    checked = _check(fields)
    if isinstance(checked, JsonResponse):
        return checked
    message_id, phone, received_at = checked
    source_ref = f"sms:{message_id}"

    existing = _registered(source_ref)
    if existing is not None:
        return existing
    # Two deliveries of one message at the same moment: the second waits for the gateway's retry (and if
    # they reach two processes, the unique constraint on SMS message ids lets only one complaint in).
    lock = "xn:sms-callback:" + source_ref
    if not cache.add(lock, 1, timeout=30):
        return _error(_("该短信正在处理，请稍后重试"), "message_id", status=409)
    try:
        category = Category.objects.filter(code=rule("complaint_default_category"), is_active=True).first()
        region = Region.objects.filter(level=1).order_by("code").first()
        if category is None or region is None:
            return _error(_("平台未配置默认投诉类别或省级区划，暂不能受理短信投诉"), "", status=503)
        text = fields["text"]
        try:
            complaint, _secret = actions.do_register_complaint(
                channel=Channel.SMS, category=category, title=text[:TITLE_CHARS], content=text, region=region,
                complainant=Identity.of(phone=phone), reply_channel=ReplyChannel.SMS, source_ref=source_ref,
                received_at=received_at,
            )
        except ComplaintError as exc:
            # A delivery racing this one from another process may have registered the message meanwhile.
            return _registered(source_ref) or _error(exc.message, GATEWAY_FIELD.get(exc.field, exc.field))
    finally:
        cache.delete(lock)
    return JsonResponse({"number": complaint.number}, status=201)


def _registered(source_ref: str) -> JsonResponse | None:
    """The answer to a message that is already a complaint: its number, marked as a duplicate."""
    existing = Complaint.objects.filter(channel=Channel.SMS, source_ref=source_ref).only("number").first()
    return None if existing is None else JsonResponse({"number": existing.number, "duplicate": True})
