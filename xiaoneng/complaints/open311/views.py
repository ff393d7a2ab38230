"""GeoReport v2 endpoints under /open311/v2/, each in JSON and XML.

Every answer, error or not, is in the format the URL asks for (`.json` or `.xml`; an
unknown format is a 404 in JSON) and every error uses the spec's error format with
the matching HTTP status. Reading is public, as the spec makes it (only the public
fields of complaints filed through the open channels, see public.py); filing needs an
API key (keys.py) sent as `api_key`, so POST is CSRF-exempt. Each client address is
throttled on every call and each key on filings (throttle.py, config.py).
"""
from __future__ import annotations

import functools
import uuid
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from xiaoneng.lib.moments import offset_in_range

from . import config, discovery, formats, intake, public, services, throttle
from .intake import Open311Error, bad

# Path parts in the spec's terms, for error descriptions.
PATH_NAMES = {"number": "service_request_id", "code": "service_code"}


def endpoint(*methods: str):
    """Format check, method check, address throttle, jurisdiction, errors in the spec's format."""

    def wrap(view):
        @functools.wraps(view)
        @csrf_exempt
        @never_cache
        def run(request, fmt: str, **kwargs):
            if fmt not in formats.FORMATS:
                return formats.error("json", 404, _("不支持的格式 %(fmt)s：请用 json 或 xml") % {"fmt": fmt[:10]})
            allowed = (*methods, "HEAD") if "GET" in methods else methods
            if request.method not in allowed:
                response = formats.error(fmt, 405, _("不支持 %(m)s 请求") % {"m": request.method[:10]})
                response["Allow"] = ", ".join(allowed)
                return response
            if not throttle.address_allowed(request, config.limit("PER_ADDRESS_MINUTE")):
                return _too_many(fmt, _("请求过于频繁，请稍后再试"))
            try:
                nul = next((k for k, v in [*request.GET.lists(), *kwargs.items()] if "\x00" in k + "".join(v)), None)
                if nul is not None:
                    name = nul.replace("\x00", "")
                    raise bad(PATH_NAMES.get(name, name), _("含有不允许的字符"))
                if request.method != "POST":
                    intake.check_jurisdiction(request.GET.get("jurisdiction_id", "").strip())
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                if exc.status == 429:
                    return _too_many(fmt, exc.description)
                return formats.error(fmt, exc.status, exc.description)

        return run

    return wrap


def _too_many(fmt: str, description: str):
    """A 429 with Retry-After: when this minute's window ends (RFC 6585 suggests it, clients back off by it)."""
    response = formats.error(fmt, 429, description)
    response["Retry-After"] = str(throttle.retry_after())
    return response


@endpoint("GET")
def discovery_view(request, fmt):
    return formats.render(fmt, "discovery", discovery.document(request))


@endpoint("GET")
def services_view(request, fmt):
    return formats.render(fmt, "services", [services.service(c) for c in services.active()])


@endpoint("GET")
def service_definition(request, fmt, code):
    category = services.active().filter(code=code).first()
    if category is None:
        raise Open311Error(404, _("service_code not found：没有这个服务 %(code)s") % {"code": code[:40]})
    return formats.render(fmt, "service_definition", services.definition(category))


@endpoint("GET", "POST")
def requests_view(request, fmt):
    if request.method == "POST":
        return _file(request, fmt)
    return formats.render(fmt, "service_requests", [public.as_request(c) for c in _search(request.GET)])


def _file(request, fmt):
    filing = intake.read_body(request)
    intake.check_jurisdiction(filing.get("jurisdiction_id"))
    api_key = intake.authenticate(filing, request)
    if not throttle.key_allowed(api_key, config.limit("POSTS_PER_KEY_MINUTE")):
        raise Open311Error(429, _("该 api_key 提交过于频繁，请稍后再试"))
    complaint, secret = intake.file(filing, api_key)
    notice = public.service_notice() + " " + _(
        "投诉编号 %(no)s，查询码 %(secret)s（只显示这一次），可凭此在网上查询办理结果和评价。") % {
        "no": complaint.number, "secret": secret}
    account = filing.get("account_id")
    return formats.render(fmt, "service_requests", [
        {"service_request_id": complaint.number, "service_notice": notice, "account_id": account or None}])


@endpoint("GET")
def request_view(request, fmt, number):
    complaint = public.listed().filter(number=number).first()
    if complaint is None:
        raise Open311Error(404, _("service_request_id not found：没有这个投诉 %(no)s") % {"no": number[:30]})
    return formats.render(fmt, "service_requests", [public.as_request(complaint)])


@endpoint("GET")
def token_view(request, fmt, token):
    try:
        value = uuid.UUID(token)
    except ValueError:
        value = None
    complaint = public.listed().filter(token=value).first() if value else None
    if complaint is None:
        raise Open311Error(404, _("token not found：没有这个受理凭据"))
    return formats.render(fmt, "service_requests", [{"service_request_id": complaint.number, "token": str(value)}])


def not_found(request, path=""):
    fmt = "xml" if path.lower().endswith(".xml") else "json"  # an unknown path asked for XML gets XML
    return formats.error(fmt, 404, _("没有这个接口：请从 discovery.json 开始"))


# --- GET requests' filters --------------------------------------------------------------
def _moment(params, name: str):
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise bad(name, _("必须是 W3C 日期时间，例如 2026-11-02T09:00:00+08:00"))
    if moment.tzinfo is None:
        raise bad(name, _("日期时间缺少时区（例如 +08:00 或 Z）"))
    if not offset_in_range(moment):  # PostgreSQL refuses the comparison: a 500 there
        raise bad(name, _("时区偏移超出范围（最多 ±15:59）"))
    return moment


def _list(params, name: str, most: int) -> list[str]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    if len(values) > most:
        raise bad(name, _("最多 %(n)d 个") % {"n": most})
    return values


def _search(params):
    """1. service_request_id (comma-separated) overrides every other filter, as the spec says.
    2. Otherwise a requested_datetime range: start_date/end_date (aware W3C datetimes),
       at most LIST_DAYS long, defaulting to the last LIST_DAYS days.
    3. service_code and status (open|closed), each comma-separated.
    At most LIST_MAX requests, newest first."""
    most, days = config.limit("LIST_MAX"), config.limit("LIST_DAYS")
    found = public.listed()
    numbers = _list(params, "service_request_id", most)
    if numbers:
        return list(found.filter(number__in=numbers)[:most])
    start, end = _moment(params, "start_date"), _moment(params, "end_date")
    if start and end and end < start:
        raise bad("end_date", _("不能早于 start_date"))
    if start and end and end - start > timedelta(days=days):
        raise bad("end_date", _("日期范围不能超过 %(n)d 天") % {"n": days})
    if start is None and end is None:
        end = timezone.now()
    try:
        if start is None:
            start = end - timedelta(days=days)
        if end is None:
            end = start + timedelta(days=days)
    except OverflowError:
        raise bad("start_date" if end is None else "end_date", _("日期超出范围")) from None
    found = found.filter(received_at__gte=start, received_at__lte=end)
    codes = _list(params, "service_code", 100)
    if codes:
        found = found.filter(category__code__in=codes)
    statuses = set(_list(params, "status", 2))
    if statuses - {"open", "closed"}:
        raise bad("status", _("只能是 open 或 closed"))
    if statuses == {"open"}:
        found = found.filter(~Q(status__in=public.CLOSED))
    elif statuses == {"closed"}:
        found = found.filter(status__in=public.CLOSED)
    return list(found[:most])
