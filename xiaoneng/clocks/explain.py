"""A clock explains itself in words: start, limit, days not counted, pauses, extensions, due.

Example (zh-Hans): 起算日 2026-09-28（当日不计入）；时限 20 个工作日；不计入的节假日：国庆节
10-01 至 10-07；调休上班计入：10-10（星期六）；暂停 3 个工作日（10-12 至 10-14，专家评审）；
到期 2026-11-04 24:00。
"""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from xiaoneng.lib.workdays import CALENDAR, WorkCalendar, index_day


def _d(i: int) -> str:
    return index_day(i).isoformat()


def _md(i: int) -> str:
    return index_day(i).strftime("%m-%d")


def _weekday(i: int) -> str:
    names = [_("星期一"), _("星期二"), _("星期三"), _("星期四"), _("星期五"), _("星期六"), _("星期日")]
    return names[index_day(i).weekday()]


def paused_working_days(cal: WorkCalendar, result) -> int:
    """Working days inside the pauses that fell before the due day."""
    if result.due_index is None:
        return 0
    total = 0
    for a, b in result.pauses:
        if a > result.due_index:
            break
        b = result.due_index if b is None else min(b, result.due_index)
        total += int(cal.cum[b] - cal.cum[a - 1])
    return total


def start_words(start_reason: str) -> tuple[str | None, str]:
    """(start label, why) for a clock that starts before the act it counts from (Clock.StartReason)."""
    if start_reason == "deemed.late_correction":
        return _("起算日 %(date)s（视为受理之日，当日不计入）"), _(
            "自视为受理之日起算：未在收件后法定期限内一次性告知补正（补正告知逾期），"
            "依《行政许可法》第三十二条自收到申请材料之日起即为受理")
    if start_reason == "deemed.late_acceptance":
        return _("起算日 %(date)s（视为受理之日，当日不计入）"), _(
            "自视为受理之日起算：收件后法定期限内既未受理也未一次性告知补正，"
            "依《行政许可法》第三十二条自收到申请材料之日起即为受理")
    return None, ""


def describe(cal: WorkCalendar, result, unit: str, limit: int, extension: int, pauses=(), start_label: str | None = None,
             start_note: str = "") -> str:
    """One paragraph in the active language; `start_note` says why the clock starts where it does."""
    s = result.start_index
    parts = [
        (start_label or _("起算日 %(date)s（当日不计入）")) % {"date": _d(s)},
    ]
    if start_note:
        parts.append(start_note)
    if unit == CALENDAR:
        parts.append(ngettext("时限 %(n)d 个自然日", "时限 %(n)d 个自然日", limit) % {"n": limit})
    else:
        parts.append(ngettext("时限 %(n)d 个工作日", "时限 %(n)d 个工作日", limit) % {"n": limit})
    end = result.due_index if result.due_index is not None else (result.pauses[-1][0] if result.pauses else s)
    if unit != CALENDAR:
        runs = cal.non_working_runs(s + 1, end)
        if runs:
            parts.append(
                _("不计入的节假日：%(list)s")
                % {"list": _("、").join(f"{_(n)} {_md(a)}" + ("" if a == b else _(" 至 %(d)s") % {"d": _md(b)}) for a, b, n in runs)}
            )
        makeups = cal.makeup_days(s + 1, end)
        if makeups:
            parts.append(
                _("调休上班计入：%(list)s")
                % {"list": _("、").join(_("%(date)s（%(weekday)s）") % {"date": _md(i), "weekday": _weekday(i)} for i in makeups)}
            )
    reasons = {p.first: p.reason for p in pauses}
    for a, b in result.pauses:
        if b is None:
            parts.append(_("自 %(d)s 起暂停，尚未恢复，期间时限停止计算") % {"d": _d(a)})
            continue
        if result.due_index is not None and a > result.due_index:
            continue
        days = int(cal.cum[b] - cal.cum[a - 1]) if unit != CALENDAR else b - a + 1
        reason = reasons.get(index_day(a), "")
        parts.append(
            _("暂停 %(n)d 个%(unit)s（%(a)s 至 %(b)s%(reason)s），不计入时限")
            % {
                "n": days,
                "unit": pgettext("explanation", "自然日") if unit == CALENDAR else pgettext("explanation", "工作日"),
                "a": _md(a),
                "b": _md(b),
                "reason": _("，%(reason)s") % {"reason": reason} if reason else "",
            }
        )
    if result.held_from is not None:
        parts.append(_("暂停始于时限最后一日 %(d)s，暂停期间不计超期；该日未用完的时间在恢复计时后接续，"
                       "于恢复之日（遇休息日顺延至下一工作日）24:00 到期") % {"d": _d(result.held_from)})
    if extension:
        parts.append(_("延长 %(n)d 日") % {"n": extension})
    if result.due_index is None:
        parts.append(_("到期时间待恢复计时后确定"))
    else:
        due_text = _("到期 %(date)s 24:00") % {"date": _d(result.due_index)}
        if result.rolled_from is not None:
            due_text = _("期满日 %(last)s 为休息日，顺延至其后第一个工作日（民法典第二百零三条）：") % {
                "last": _d(result.rolled_from)
            } + due_text
        parts.append(due_text)
    if result.provisional:
        last = max(end, s)
        years = cal.unofficial_years(s, last) or [index_day(last).year]
        parts.append(
            _("%(years)s 年安排未公布：按法定节假日推算，调休未计入")
            % {"years": _("、").join(str(y) for y in years)}
        )
    return _("；").join(parts) + _("。")


def describe_hours(clock) -> str:
    from django.utils import timezone

    parts = [
        _("起算 %(at)s") % {"at": timezone.localtime(clock.start_at).strftime("%Y-%m-%d %H:%M")},
        ngettext("时限 %(n)d 小时", "时限 %(n)d 小时", clock.limit) % {"n": clock.limit},
    ]
    note = start_words(getattr(clock, "start_reason", ""))[1]
    if note:
        parts.insert(1, note)
    if clock.extension_days:
        parts.append(_("延长 %(n)d 日") % {"n": clock.extension_days})
    if clock.due_at is None:
        parts.append(_("到期时间待恢复计时后确定"))
    else:
        parts.append(_("到期 %(at)s") % {"at": deadline_label(clock.due_at)})
    return _("；").join(parts) + _("。")


def deadline_label(moment: datetime | None) -> str:
    """A deadline the way the law says it: 24:00 of the last day, not 00:00 of the next."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
