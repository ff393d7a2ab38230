"""Whether the calendar in force is ready for what is coming."""
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.conf import rule
from xiaoneng.orgs import access

from .models import CalendarYear


def missing_next_year(today: date | None = None) -> int | None:
    """Next year's number if it is not loaded and we are past the warning date, else None."""
    today = today or timezone.localdate()
    month, day = (int(x) for x in str(rule("calendar_next_year_warning_from")).split("-"))
    if (today.month, today.day) < (month, day):
        return None
    nxt = today.year + 1
    return None if CalendarYear.objects.filter(year=nxt).exists() else nxt


def next_year_warning(user, today: date | None = None) -> str | None:
    """The banner text for deadline watchers (supervisors, administrators), or None."""
    if not (access.roles(user) & access.DEADLINE_WATCHERS or getattr(user, "is_superuser", False)):
        return None
    year = missing_next_year(today)
    if year is None:
        return None
    return _(
        "%(year)d 年的节假日安排尚未载入工作日历：跨入 %(year)d 年的时限暂按法定节假日推算（调休未计入）并标为“临时”。"
        "请管理员在国务院办公厅通知发布后导入。"
    ) % {"year": year}
