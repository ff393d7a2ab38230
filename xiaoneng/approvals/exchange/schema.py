"""The exchange event: its fields, strict validation, and its OpenAPI description.

One table (`FIELDS`, `TYPE_FIELDS`) is the single source of truth: `validate()` checks
an event against it, and `EventSerializer` (used only for the OpenAPI document) is
built from it, so the published schema cannot drift from what the inbox accepts.

Validation is hand-written rather than a DRF serializer because it runs for every
event of every batch (thousands a second): it checks JSON types strictly (no "12" for
a number, no true for a number, no unknown keys), lengths, control characters, the
unified social credit code's check character, and that `occurred_at` carries a UTC
offset and is not in the future. It does not touch the database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from xiaoneng.lib.codes import credit_code_error
from xiaoneng.lib.moments import offset_in_range

from ..models import Outcome

EVENT_TYPES = (
    "submitted", "correction_requested", "corrected", "accepted", "refused", "step_completed", "suspended",
    "resumed", "extended", "decided", "certificate_issued", "fee_charged", "withdrawn",
)
EVENT_TYPE_CHOICES = [(t, t) for t in EVENT_TYPES]
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SKEW = timedelta(minutes=5)  # sources' clocks drift; more than this is a bad timestamp
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON may write "\ud800" alone; UTF-8 and the database cannot hold it
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(obj, name: str = "") -> str | None:
    """The first field whose name or text holds a lone surrogate ("" for the event itself), else None.

    Walked with a stack, not by recursion: a value nested a few hundred lists deep (which JSON
    parsing allows) raised RecursionError here, and that failed the whole batch every time it
    was processed again."""
    stack = [(obj, name)]
    while stack:
        item, field = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return field
        elif isinstance(item, dict):
            found = []
            for key, value in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return field or "event"
                found.append((value, field or str(key)))
            stack.extend(reversed(found))  # first field first, as the recursive walk named it
        elif isinstance(item, list):
            stack.extend((value, field) for value in reversed(item))
    return None


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # str | text | credit | datetime | enum | int | amount | items | step
    max_length: int = 0
    help: str = ""
    minimum: int | None = None
    maximum: int | None = None


COMMON = (
    Field("event_id", "str", 100, "事件编号，在本来源内唯一；重发同一事件不会重复应用 / unique within the source"),
    Field("type", "enum", 30, "事件类型 / event type"),
    Field("occurred_at", "datetime", 40, "发生时间，ISO 8601，必须带时区 / ISO 8601 with UTC offset"),
    Field("case_no", "str", 64, "办件编号（全省唯一）/ case number"),
    Field("matter_code", "str", 40, "事项编码 / matter code in the catalogue"),
    Field("organ_code", "credit", 18, "办理机关统一社会信用代码 / unified social credit code of the organ"),
)
SPECIFIC = {
    f.name: f
    for f in (
        Field("applicant_name", "str", 100, "申请人 / applicant (submitted)"),
        Field("applicant_phone", "str", 30, "申请人联系电话 / applicant's phone (submitted, optional)"),
        Field("first_review_organ_code", "credit", 18, "下级初审机关统一社会信用代码（submitted，可选）"),
        Field("items", "items", 200, "一次性告知补正的全部材料 / everything to correct (correction_requested)"),
        Field("reasons", "text", 500, "理由 / reasons (refused, suspended, extended, decided-denied, withdrawn)"),
        Field("legal_basis", "str", 200, "特别程序的法律依据 / legal basis of the special procedure (suspended)"),
        Field("announced_days", "int", 0, "书面告知申请人的特别程序天数 / days announced (suspended)", 1, 3650),
        Field("days", "int", 0, "延长的工作日数 / working days of the extension (extended)", 1, 60),
        Field("approver", "str", 100, "批准延长的负责人 / who approved the extension (extended)"),
        Field("outcome", "enum", 10, "决定结果 granted | denied (decided)"),
        Field("amount", "amount", 0, "收费金额（元，最多两位小数）/ fee in yuan (fee_charged)"),
        Field("step", "step", 60, "办结的环节：名称或顺序号 / step completed: name or order (step_completed)"),
        Field("handler", "str", 100, "经办人 / handler (step_completed, optional)"),
    )
}
# type → (required, optional) specific fields
TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "submitted": (("applicant_name",), ("applicant_phone", "first_review_organ_code")),
    "correction_requested": (("items",), ()),
    "corrected": ((), ()),
    "accepted": ((), ()),
    "refused": (("reasons",), ()),
    "step_completed": (("step",), ("handler",)),
    "suspended": (("reasons", "announced_days"), ("legal_basis",)),
    "resumed": ((), ()),
    "extended": (("days", "reasons", "approver"), ()),
    "decided": (("outcome",), ("reasons",)),
    "certificate_issued": ((), ()),
    "fee_charged": (("amount",), ()),
    "withdrawn": ((), ("reasons",)),
}
# Reasons longer than the column that keeps them are refused, never cut.
REASONS_MAX = {"refused": 2000, "decided": 2000, "withdrawn": 2000, "suspended": 200, "extended": 500}
MAX_ITEMS = 50
AMOUNT_MAX = Decimal("9999999999.99")  # as approvals.actions.FEE_TOTAL_MAX: what Case.fee_charged holds


class Invalid(Exception):
    def __init__(self, field: str, reason: str):
        # Both may quote what was sent; PostgreSQL text and jsonb cannot hold NUL.
        field, reason = field.replace("\x00", ""), reason.replace("\x00", "")
        super().__init__(reason)
        self.field, self.reason = field, reason


def _text(name: str, value, max_length: int, required: bool) -> str:
    if not isinstance(value, str):
        raise Invalid(name, _("%(field)s 必须是字符串") % {"field": name})
    value = value.strip()
    if required and not value:
        raise Invalid(name, _("%(field)s 不能为空") % {"field": name})
    if len(value) > max_length:
        raise Invalid(name, _("%(field)s 过长（最多 %(max)d 个字符，实际 %(n)d 个）") % {
            "field": name, "max": max_length, "n": len(value)})
    if _CONTROL.search(value):
        raise Invalid(name, _("%(field)s 含有不允许的控制字符") % {"field": name})
    return value


def _int(field: Field, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(field.name, _("%(field)s 必须是整数") % {"field": field.name})
    if field.minimum is not None and value < field.minimum or field.maximum is not None and value > field.maximum:
        raise Invalid(field.name, _("%(field)s 须在 %(lo)d 至 %(hi)d 之间") % {
            "field": field.name, "lo": field.minimum, "hi": field.maximum})
    return value


def _amount(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid("amount", _("amount 必须是数字或数字字符串"))
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid("amount", _("amount 必须是数字或数字字符串")) from None
    if not amount.is_finite() or amount < 0 or amount > AMOUNT_MAX or amount != amount.quantize(Decimal("0.01")):
        raise Invalid("amount", _("收费金额必须为非负数，最多两位小数"))
    return amount


def parse_time(value, now: datetime) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid("occurred_at", _("occurred_at 必须是 ISO 8601 时间字符串"))
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("occurred_at", _("occurred_at 不是有效的 ISO 8601 时间：%(value)s") % {"value": value}) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid("occurred_at", _("occurred_at 缺少时区（例如 2026-09-28T10:00:00+08:00）"))
    if not offset_in_range(moment):  # PostgreSQL refuses it when the time is compared or stored
        raise Invalid("occurred_at", _("occurred_at 的时区偏移超出范围（最多 ±15:59）"))
    if moment > now + FUTURE_SKEW:
        raise Invalid("occurred_at", _("occurred_at 晚于当前时间（%(now)s）") % {"now": now.isoformat(timespec="seconds")})
    if moment < EARLIEST:
        raise Invalid("occurred_at", _("occurred_at 早于 2000 年"))
    return moment


@dataclass
class Event:
    """A valid event: common fields plus `data`, the type-specific fields, normalised."""

    event_id: str
    type: str
    occurred_at: datetime
    case_no: str
    matter_code: str
    organ_code: str
    data: dict
    raw: dict
    index: int = 0
    pos: int | None = None  # position among the batch's results (None: held from an earlier batch)
    stored_id: int | None = None  # its ExchangeEvent row, when it was held from an earlier batch
    stored_state: str = ""
    stored_error: tuple[str, str] = ("", "")
    source_id: int | None = None


def may_hold_surrogates(text: str) -> bool:
    """Whether a batch's text could give lone surrogates: only a JSON escape (\\ud800) writes one, so a
    batch without such an escape skips the per-event search (`validate(…, surrogates=False)`)."""
    return _ESCAPED_SURROGATE.search(text) is not None


def validate(raw, now: datetime, index: int = 0, *, surrogates: bool = True) -> Event:
    """A valid `Event`, or `Invalid(field, reason)` naming the first problem found."""
    if not isinstance(raw, dict):
        raise Invalid("", _("事件必须是 JSON 对象"))
    broken = _lone_surrogate(raw) if surrogates else None
    if broken is not None:
        raise Invalid(broken, _("%(field)s 含有无效的 Unicode 字符（单独的代理项，如 \\ud800）") % {"field": broken})
    event_id = raw.get("event_id")
    if event_id is None:
        raise Invalid("event_id", _("缺少字段 event_id"))
    event_id = _text("event_id", event_id, 100, True)
    if not event_id.isprintable():  # the duplicate check (pipeline._event_id) knows only printable ids
        raise Invalid("event_id", _("event_id 含有不可打印的字符（如不间断空格、换行符）"))
    etype = raw.get("type")
    if etype is None:
        raise Invalid("type", _("缺少字段 type"))
    if not isinstance(etype, str) or etype not in TYPE_FIELDS:
        raise Invalid("type", _("未知的事件类型：%(type)s") % {"type": str(etype)[:40]})
    required, optional = TYPE_FIELDS[etype]
    for name, value in raw.items():
        if name not in SPECIFIC and name not in _COMMON_NAMES:
            raise Invalid(str(name)[:60], _("未知字段：%(field)s") % {"field": str(name)[:60]})
        if value is not None and name in SPECIFIC and name not in required and name not in optional:
            raise Invalid(name, _("字段 %(field)s 不适用于事件类型 %(type)s") % {"field": name, "type": etype})
    for name in ("occurred_at", "case_no", "matter_code", "organ_code", *required):
        if raw.get(name) is None:
            raise Invalid(name, _("缺少字段 %(field)s") % {"field": name})
    occurred_at = parse_time(raw["occurred_at"], now)
    case_no = _text("case_no", raw["case_no"], 64, True)
    matter_code = _text("matter_code", raw["matter_code"], 40, True)
    organ_code = _credit("organ_code", raw["organ_code"])
    data = {}
    for name in (*required, *optional):
        if raw.get(name) is None:
            continue
        data[name] = _specific(SPECIFIC[name], raw[name], name in required, etype)
    if etype == "decided" and data["outcome"] == Outcome.DENIED and not data.get("reasons"):
        raise Invalid("reasons", _("不予许可必须说明理由"))
    return Event(event_id, etype, occurred_at, case_no, matter_code, organ_code, data, raw, index)


_COMMON_NAMES = {f.name for f in COMMON}


_VALID_CODES: set[str] = set()  # codes already checked: a batch names the same few organs a thousand times


def _credit(name: str, value) -> str:
    if not isinstance(value, str):
        raise Invalid(name, _("%(field)s 必须是字符串") % {"field": name})
    code = value.strip()
    if code in _VALID_CODES:
        return code
    error = credit_code_error(code)
    if error:
        raise Invalid(name, error)
    if len(_VALID_CODES) > 100_000:
        _VALID_CODES.clear()
    _VALID_CODES.add(code)
    return code


def _specific(field: Field, value, required: bool, etype: str):
    kind = field.kind
    if kind == "str":
        return _text(field.name, value, field.max_length, required)
    if kind == "text":
        return _text(field.name, value, REASONS_MAX.get(etype, field.max_length), required)
    if kind == "credit":
        return _credit(field.name, value)
    if kind == "int":
        return _int(field, value)
    if kind == "amount":
        return _amount(value)
    if kind == "enum":  # outcome
        if value not in Outcome.values:
            raise Invalid(field.name, _("决定结果应为 granted 或 denied"))
        return value
    if kind == "step":
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise Invalid("step", _("环节顺序号必须是正整数"))
            return str(value)
        return _text("step", value, field.max_length, True)
    if kind == "items":
        if not isinstance(value, list):
            raise Invalid("items", _("items 必须是字符串数组"))
        if len(value) > MAX_ITEMS:
            raise Invalid("items", _("items 最多 %(max)d 项") % {"max": MAX_ITEMS})
        items = [_text("items", v, field.max_length, False) for v in value]
        items = [i for i in items if i]
        if not items:
            raise Invalid("items", _("补正告知必须一次性列明全部需要补正的材料"))
        return items
    raise AssertionError(kind)


# --- OpenAPI ------------------------------------------------------------------------------
def _serializer_field(field: Field, required: bool):
    common = {"required": required, "help_text": field.help}
    if field.name == "type":
        return serializers.ChoiceField(choices=EVENT_TYPE_CHOICES, **common)
    if field.name == "outcome":
        return serializers.ChoiceField(choices=Outcome.choices, **common)
    if field.kind == "datetime":
        return serializers.DateTimeField(**common)
    if field.kind in ("str", "text", "credit"):
        length = REASONS_MAX["refused"] if field.kind == "text" else field.max_length
        extra = {"min_length": 18} if field.kind == "credit" else {}
        return serializers.CharField(max_length=length, **extra, **common)
    if field.kind == "int":
        return serializers.IntegerField(min_value=field.minimum, max_value=field.maximum, **common)
    if field.kind == "amount":
        return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal(0), coerce_to_string=False,
                                        **common)
    if field.kind == "items":
        return serializers.ListField(child=serializers.CharField(max_length=field.max_length), min_length=1,
                                     max_length=MAX_ITEMS, **common)
    if field.kind == "step":
        return serializers.CharField(max_length=field.max_length, **common)
    raise AssertionError(field.kind)


def _type_notes() -> str:
    lines = []
    for etype, (required, optional) in TYPE_FIELDS.items():
        parts = [", ".join(required) or "—"]
        if optional:
            parts.append(_("可选 optional: %(f)s") % {"f": ", ".join(optional)})
        lines.append(f"* `{etype}`: {'; '.join(parts)}")
    return "\n".join(lines)


EventSerializer = type(
    "ExchangeEventSerializer",
    (serializers.Serializer,),
    {
        **{f.name: _serializer_field(f, True) for f in COMMON},
        **{name: _serializer_field(f, False) for name, f in SPECIFIC.items()},
        "__doc__": "一条办件事件。各类型必填的字段 / fields each type requires:\n\n" + _type_notes(),
    },
)


# The states of a stored event (models.ExchangeEvent.State), as a duplicate's answer names them.
EVENT_STATE_CHOICES = [(c, c) for c in ("applied", "held", "expired", "rejected")]


class SubCaseSerializer(serializers.Serializer):
    organ_code = serializers.CharField(help_text="机关统一社会信用代码 / the organ's credit code")
    case_no = serializers.CharField(help_text="该机关报送子办件事件时用的办件编号 / the case number its events use")


class EventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="在请求数组中的位置（从0起）/ position in the request array")
    event_id = serializers.CharField(allow_null=True)
    result = serializers.ChoiceField(choices=[(c, c) for c in ("accepted", "held", "duplicate", "rejected")])
    field = serializers.CharField(allow_null=True, help_text="出错的字段 / offending field")
    reason = serializers.CharField(allow_null=True, help_text="原因（中文，或按 Accept-Language）/ reason")
    state = serializers.ChoiceField(
        choices=EVENT_STATE_CHOICES, allow_null=True,
        help_text="仅 duplicate：先前收到的同一事件现在的状态（本批处理之后）；其余为 null"
                  " / duplicate only: the state the event received before is in now (after this batch)")
    sub_cases = SubCaseSerializer(
        many=True, allow_null=True,
        help_text="仅并联审批申请的 submitted 事件（已应用，或其 duplicate）：各机关的子办件编号，按机关 id 顺序编为"
                  " <case_no>-01、-02…；其余为 null / a parallel application's applied submission (or a duplicate of it):"
                  " each organ's sub-case, numbered <case_no>-01, -02… in the order of the organs' ids; otherwise null")


class BatchResultSerializer(serializers.Serializer):
    batch = serializers.IntegerField(help_text="原始批次编号（已先保存）/ id of the stored raw batch")
    received = serializers.IntegerField()
    accepted = serializers.IntegerField()
    held = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()
    late = serializers.IntegerField(help_text="迟报的事件数 / events reported later than the late threshold")
    released = serializers.IntegerField(help_text="本批放行的此前等待中的事件数 / held events this batch let through")
    results = EventResultSerializer(many=True)


class BatchErrorSerializer(serializers.Serializer):
    batch = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField())


EXAMPLE_BATCH = [
    {"event_id": "TH-20260928-0001", "type": "submitted", "occurred_at": "2026-09-28T10:00:00+08:00",
     "case_no": "TH-2026-000123", "matter_code": "440106-SP-001", "organ_code": "11440106MB2C33445X",
     "applicant_name": "张三", "applicant_phone": "13800000000"},
    {"event_id": "TH-20260929-0002", "type": "accepted", "occurred_at": "2026-09-29T09:00:00+08:00",
     "case_no": "TH-2026-000123", "matter_code": "440106-SP-001", "organ_code": "11440106MB2C33445X"},
    {"event_id": "TH-20261009-0003", "type": "step_completed", "occurred_at": "2026-10-09T16:30:00+08:00",
     "case_no": "TH-2026-000123", "matter_code": "440106-SP-001", "organ_code": "11440106MB2C33445X",
     "step": "审查", "handler": "王五"},
]
EXAMPLE_RESULT = {
    "batch": 41, "received": 3, "accepted": 2, "held": 0, "duplicate": 0, "rejected": 1, "late": 0, "released": 0,
    "results": [
        {"index": 0, "event_id": "TH-20260928-0001", "result": "accepted", "field": None, "reason": None,
         "state": None, "sub_cases": None},
        {"index": 1, "event_id": "TH-20260929-0002", "result": "accepted", "field": None, "reason": None,
         "state": None, "sub_cases": None},
        {"index": 2, "event_id": "TH-20261009-0003", "result": "rejected", "field": "step",
         "reason": "环节顺序不符：当前环节是“受理审查”，收到“审查”", "state": None, "sub_cases": None},
    ],
}
EXAMPLE_PARALLEL = {
    "batch": 44, "received": 2, "accepted": 1, "held": 0, "duplicate": 1, "rejected": 0, "late": 0, "released": 0,
    "results": [
        {"index": 0, "event_id": "GZ-20261102-0001", "result": "accepted", "field": None, "reason": None,
         "state": None, "sub_cases": [
             {"organ_code": "11440100MB2C11223X", "case_no": "GZ-BL-2026-000045-01"},
             {"organ_code": "11440106MB2C33445X", "case_no": "GZ-BL-2026-000045-02"},
             {"organ_code": "11440104MB2C55667X", "case_no": "GZ-BL-2026-000045-03"}]},
        {"index": 1, "event_id": "GZ-20261101-0009", "result": "duplicate", "field": "event_id",
         "reason": "该事件已收到过（等待前序事件），未重复应用", "state": "held", "sub_cases": None},
    ],
}
EXAMPLES = [
    OpenApiExample("一批事件 A batch", value=EXAMPLE_BATCH, request_only=True),
    OpenApiExample("逐条结果 Per-event results", value=EXAMPLE_RESULT, response_only=True, status_codes=["200"]),
    OpenApiExample("并联审批与重复 Sub-cases and a duplicate", value=EXAMPLE_PARALLEL, response_only=True,
                   status_codes=["200"]),
    OpenApiExample(
        "格式错误 Malformed body", response_only=True, status_codes=["400"],
        value={"batch": 42, "detail": "请求体不是有效的 JSON：第 1 行第 2 列",
               "errors": [{"field": None, "message": "请求体不是有效的 JSON：第 1 行第 2 列", "code": "malformed"}]},
    ),
    OpenApiExample(
        "密钥错误 Wrong key", response_only=True, status_codes=["401"],
        value={"detail": "API 密钥无效或来源已停用", "errors": [{"field": None, "message": "API 密钥无效或来源已停用",
                                                           "code": "authentication_failed"}]},
    ),
    OpenApiExample(
        "批次过大 Too many events", response_only=True, status_codes=["413"],
        value={"batch": 43, "detail": "一批最多 1000 条事件，收到 1200 条", "errors": [
            {"field": None, "message": "一批最多 1000 条事件，收到 1200 条", "code": "too_large"}]},
    ),
]
