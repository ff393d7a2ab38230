"""Query parameters of the list endpoints, declared as serializers.

Each list view names one of these; it is validated before any query runs, so a bad
value (`?level=abc`, `?due_before=notadate`) is a 400 naming the parameter instead of a
500 or a silently ignored filter, and drf-spectacular documents the same fields as
query parameters.
"""
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from xiaoneng.clocks.models import Clock
from xiaoneng.clocks.models import Unit as ClockUnit
from xiaoneng.lib.workdays import FIRST_DAY, LAST_DAY
from xiaoneng.orgs.models import PREFIX_LENGTH, OrganKind, RegionLevel

PREFIX_LENGTHS = sorted(PREFIX_LENGTH.values())  # 2, 4, 6, 9, 12


def region_prefix(value: str) -> str:
    """The scoping prefix of a region given by its code or by a prefix.

    12-digit statistical codes and 6- or 9-digit codes (GB/T 2260, padded as
    xiaoneng.lib.codes does) lose their trailing zero levels: `440100000000` and
    `440100` → `4401`, `440106` → `440106`; 2- and 4-digit values are prefixes already.
    Pure arithmetic on the code, no query, so naming a region outside one's scope
    reveals nothing.
    """
    text = value
    if not (text.isascii() and text.isdigit()) or len(text) not in PREFIX_LENGTHS:
        raise serializers.ValidationError(
            _("应为行政区划代码（6、9或12位）或其前缀（2、4位），而不是“%(value)s”") % {"value": value}
        )
    if len(text) in (6, 9, 12):
        text = text.ljust(12, "0")
        for n in PREFIX_LENGTHS:
            if text[n:].strip("0") == "":
                return text[:n]
    return text


# What `region_prefix` accepts, published as the parameter's pattern (ASCII digits: str.isdigit()
# also takes "４４" and "²", which are no codes; no surrounding spaces).
REGION_PATTERN = r"^(?:[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12})$"


# Free text may hold anything but NUL, which NulGuardMiddleware refuses before any view (PostgreSQL
# cannot compare with it); the pattern puts that in the schema.
NO_NUL = r"^[^\x00]*$"


def text_field(**kwargs) -> serializers.CharField:
    """A free-text parameter: spaces kept as sent (a blank search matches everything, as an empty one
    would; "" itself is refused as empty), NUL refused, as the schema says."""
    return serializers.CharField(required=False, trim_whitespace=False, validators=[RegexValidator(NO_NUL)], **kwargs)


class RegionCodeField(serializers.CharField):
    """A region code or prefix, returned as the prefix (see `region_prefix`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("validators", [RegexValidator(REGION_PATTERN)])  # documents the pattern
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return region_prefix(super().to_internal_value(data))


ID_MAX = 2**63 - 1  # the largest id a database column holds (bigint)


def id_field(help_text) -> serializers.IntegerField:
    """An id filter; one too large for the database is a 400, not an overflow inside the query."""
    return serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX, help_text=help_text)


def day_field(help_text) -> serializers.DateField:
    """A date filter within the calendar's span: the day before 0001-01-01 or after 9999-12-31
    does not exist, and the bounds of a day are computed from it."""
    return serializers.DateField(required=False, help_text=help_text, validators=[_within_calendar])


def _within_calendar(day) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise serializers.ValidationError(_("日期须在 %(first)s 至 %(last)s 之间") % {
            "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})


def ordering_field(choices: list[str], default: str, help_text: str):
    return serializers.ChoiceField(
        choices=choices, required=False, default=default, help_text=help_text
    )


class RegionParams(serializers.Serializer):
    under = RegionCodeField(
        required=False,
        help_text=gettext_lazy("只列出此区划（代码或前缀）及其下级 / only this region and below, e.g. 4401"),
    )
    level = serializers.ChoiceField(
        choices=RegionLevel.choices, required=False, help_text="1 省 province … 5 村 village"
    )
    q = text_field(max_length=100, help_text=gettext_lazy("名称包含 / name contains"))


class OrganParams(serializers.Serializer):
    ORDERING = ["name", "-name", "credit_code", "-credit_code", "region_code", "-region_code", "kind", "-kind", "id", "-id"]

    q = text_field(max_length=100, help_text=gettext_lazy("名称或统一社会信用代码 / name or credit code"))
    region = RegionCodeField(
        required=False, help_text=gettext_lazy("区划（代码或前缀）及其下级 / region subtree, e.g. 440100000000")
    )
    kind = serializers.ChoiceField(choices=OrganKind.choices, required=False)
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = ordering_field(ORDERING, "region_code", "排序 / ordering")


class StaffParams(serializers.Serializer):
    ORDERING = ["name", "-name", "staff_no", "-staff_no", "organ", "-organ", "id", "-id"]

    q = text_field(max_length=100, help_text=gettext_lazy("姓名或工号 / name or staff no."))
    organ = id_field(gettext_lazy("机关 id / organ id"))
    unit = id_field(gettext_lazy("内设机构 id / unit id"))
    region = RegionCodeField(required=False, help_text=gettext_lazy("区划及其下级 / region subtree"))
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = ordering_field(ORDERING, "organ", "排序 / ordering")


class ClockParams(serializers.Serializer):
    ORDERING = ["due_at", "-due_at", "start_at", "-start_at", "id", "-id"]

    state = serializers.ChoiceField(choices=Clock.State.choices, required=False)
    kind = text_field(max_length=40)
    unit = serializers.ChoiceField(choices=ClockUnit.choices, required=False)
    organ = id_field(gettext_lazy("责任机关 id / organ id"))
    region = RegionCodeField(required=False, help_text=gettext_lazy("区划及其下级 / region subtree"))
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("true 已超期 / false 未超期")
    )
    due_before = day_field(gettext_lazy("到期日不晚于此日（含）/ due on or before this date"))
    due_after = day_field(gettext_lazy("到期日不早于此日（含）/ due on or after this date"))
    ordering = ordering_field(ORDERING, "due_at", "排序 / ordering (no deadline last)")

    def validate(self, attrs):
        before, after = attrs.get("due_before"), attrs.get("due_after")
        if before and after and after > before:
            raise serializers.ValidationError({"due_after": [_("不能晚于 due_before")]})
        return attrs


class CalendarParams(serializers.Serializer):
    year = serializers.IntegerField(
        min_value=FIRST_DAY.year, max_value=LAST_DAY.year, help_text=gettext_lazy("年份 / year, e.g. 2026")
    )
    month = serializers.IntegerField(required=False, min_value=1, max_value=12)
    is_working = serializers.BooleanField(required=False, allow_null=True, default=None)


class DeadlineParams(serializers.Serializer):
    """Only presence is checked here; the calculator checks values, with its own words."""

    start = serializers.CharField(help_text=gettext_lazy("起算日（当日不计入）/ start date, YYYY-MM-DD"))
    days = serializers.CharField(help_text=gettext_lazy("时限天数 / limit in days"))
    unit = serializers.CharField(required=False, default="working", help_text="working | calendar")
    pause = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=gettext_lazy("暂停（含首尾）/ stand-still dates A:B inclusive; repeatable"),
    )
    extend = serializers.CharField(required=False, default="0", help_text=gettext_lazy("延长工作日 / extension"))
