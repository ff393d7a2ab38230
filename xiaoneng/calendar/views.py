"""Calendar pages: a year at a glance, one-day corrections and the notice import."""
from __future__ import annotations

import calendar as pycalendar
from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xiaoneng.lib.xlsx import xlsx_response
from xiaoneng.orgs import access

from . import actions
from .models import CalendarDay, CalendarYear
from .sources import NoticeError, statutory_holidays

MAX_NOTICE_BYTES = 256 * 1024


class DayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    is_working = forms.TypedChoiceField(
        label=gettext_lazy("类型"),
        choices=[("1", gettext_lazy("工作日")), ("0", gettext_lazy("休息日/节假日"))],
        coerce=lambda v: v == "1",
    )
    name = forms.CharField(label=gettext_lazy("说明（如节日名称）"), required=False, max_length=60)
    reason = forms.CharField(label=gettext_lazy("修改原因"), max_length=150)

    def clean_date(self):
        d = self.cleaned_data["date"]
        if not 2000 <= d.year <= 2060:
            raise forms.ValidationError(gettext_lazy("日期须在 2000 年至 2060 年之间"))
        return d


class NoticeForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("通知文件（UTF-8 文本）"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_NOTICE_BYTES:
            raise forms.ValidationError(
                gettext_lazy("文件过大（%(size)d 字节），上限 %(limit)d 字节"), params={"size": f.size, "limit": MAX_NOTICE_BYTES}
            )
        return f


def _require(user, perm):
    if not access.has_perm(user, perm):
        raise Http404


def _require_manage(user):
    """The calendar is the province's: a city or county administrator may read it, not change it."""
    _require(user, "calendar.manage")
    if not access.may_manage_province_settings(user, "calendar.manage"):
        raise PermissionDenied


def _months(year: int, days: dict[date, CalendarDay], statutory: dict[date, str]):
    """`statutory`: the law's holidays of the years not loaded (the grid shows neighbouring months' days)."""
    cal = pycalendar.Calendar(firstweekday=0)
    months = []
    for month in range(1, 13):
        weeks = []
        for week in cal.monthdatescalendar(year, month):
            cells = []
            for d in week:
                row = days.get(d)
                if row:
                    kind, name = row.kind, row.name
                elif d in statutory:
                    kind, name = "holiday", statutory[d]
                else:
                    kind, name = ("weekend" if d.weekday() >= 5 else "workday"), ""
                cells.append({"date": d, "in_month": d.month == month, "kind": kind, "name": name})
            weeks.append(cells)
        months.append({"number": month, "weeks": weeks})
    return months


@login_required
def year_view(request):
    _require(request.user, "calendar.view")
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2060)
    days = {d.date: d for d in CalendarDay.objects.filter(date__year=year)}
    loaded = CalendarYear.objects.filter(year=year).first()
    loaded_years = set(CalendarYear.objects.filter(year__in=(year - 1, year, year + 1)).values_list("year", flat=True))
    statutory = {d: name for y in (year - 1, year, year + 1) if y not in loaded_years and 2000 <= y <= 2060
                 for d, name in statutory_holidays(y).items()}
    if request.GET.get("export") == "xlsx":
        rows = ((d.date, _("是") if d.is_working else _("否"), d.get_kind_display(), d.name, d.source) for d in days.values())
        return xlsx_response(
            f"calendar-{year}.xlsx", str(year), [_("日期"), _("工作日"), _("类型"), _("说明"), _("来源")], sorted(rows)
        )
    can_manage = access.may_manage_province_settings(request.user, "calendar.manage")
    return render(
        request,
        "calendar/year.html",
        {
            "year": year,
            "loaded": loaded,
            "years": CalendarYear.objects.all(),
            "months": _months(year, days, statutory),
            "holidays": sorted([d for d in days.values() if d.kind in ("holiday", "makeup")] + [
                CalendarDay(date=d, is_working=False, kind="holiday", name=name) for d, name in statutory.items()
                if d.year == year and d not in days], key=lambda d: d.date),
            "can_manage": can_manage,
            "day_form": DayForm() if can_manage else None,
            "notice_form": NoticeForm() if can_manage else None,
            "weekdays": [_("一"), _("二"), _("三"), _("四"), _("五"), _("六"), _("日")],
        },
    )


@login_required
@require_POST
def set_day(request):
    _require_manage(request.user)
    form = DayForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}：{error}" if label else error)
        return redirect("calendar:year")
    data = form.cleaned_data
    outcome = actions.do_set_day(data["date"], is_working=data["is_working"], name=data["name"], reason=data["reason"])
    if outcome.changed:
        messages.success(
            request,
            _("已修改 %(date)s；重新计算了 %(n)d 个时限。") % {"date": data["date"], "n": outcome.clocks_recomputed},
        )
    else:
        messages.info(request, _("%(date)s 本来就是这样，没有改变。") % {"date": data["date"]})
    return redirect(f"{reverse('calendar:year')}?year={data['date'].year}")


@login_required
@require_POST
def import_notice(request):
    _require_manage(request.user)
    form = NoticeForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, _("通知文件：%(error)s") % {"error": error})
        return redirect("calendar:year")
    try:
        outcome = actions.do_import_notice(form.cleaned_data["file"].read())
    except NoticeError as exc:
        for line in exc.errors[:50]:
            messages.error(request, line)
        messages.error(request, _("共 %(n)d 处错误，未导入任何内容。") % {"n": len(exc.errors)})
        return redirect("calendar:year")
    year = outcome.years[0] if outcome.years else timezone.localdate().year
    messages.success(
        request,
        _("已导入：改变 %(days)d 天，重新计算 %(clocks)d 个时限。") % {"days": len(outcome.changed), "clocks": outcome.clocks_recomputed},
    )
    return redirect(f"{reverse('calendar:year')}?year={year}")
