"""Clock pages: the scoped list of deadlines and one clock explained in words."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import F, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.exports.stream import values
from xiaoneng.orgs import access
from xiaoneng.orgs.filters import ScopedRegionFilterForm, tree_regions
from xiaoneng.web.lists import Column, ListPage
from xiaoneng.web.names import clock_kind, clock_kind_choices

from . import export_sql
from .engine import explain_clock
from .explain import deadline_label
from .models import Clock, Unit

PERM = "clock.view"

STATUS_CHOICES = [
    ("", _("全部")),
    ("open", _("计时中或暂停")),
    ("warning", _("临近到期")),
    ("overdue", _("已超期")),
    ("stopped", _("已停止")),
    ("provisional", _("临时计算")),
]


class ClockFilterForm(ScopedRegionFilterForm):
    search_placeholder = _("名称或类型")
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)
    due_from = forms.DateField(label=_("到期日自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    due_to = forms.DateField(label=_("到期日至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["q", "region", "status", "due_from", "due_to"]

    def search_q(self, text):
        return Q(label__icontains=text) | Q(kind__icontains=text)

    def clean(self):
        data = super().clean()
        if data.get("due_from") and data.get("due_to") and data["due_to"] < data["due_from"]:
            self.add_error("due_to", _("结束日期早于开始日期"))
        return data

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data, now = self.cleaned_data, timezone.now()
        status = data["status"]
        if status == "open":
            queryset = queryset.exclude(state=Clock.State.STOPPED)
        elif status == "warning":
            queryset = queryset.exclude(state=Clock.State.STOPPED).filter(warn_at__lte=now, due_at__gt=now)
        elif status == "overdue":
            queryset = queryset.filter(
                Q(state__in=[Clock.State.RUNNING, Clock.State.PAUSED], due_at__lte=now)
                | Q(state=Clock.State.STOPPED, stopped_at__gt=F("due_at"))
            )
        elif status == "stopped":
            queryset = queryset.filter(state=Clock.State.STOPPED)
        elif status == "provisional":
            queryset = queryset.filter(provisional=True)
        # A clock due "on" day D has due_at = 24:00 of D, i.e. in (D 00:00, D+1 00:00].
        zone = timezone.get_current_timezone()
        if data.get("due_from"):
            queryset = queryset.filter(due_at__gt=datetime.combine(data["due_from"], time(0), zone))
        if data.get("due_to"):
            queryset = queryset.filter(due_at__lte=datetime.combine(data["due_to"] + timedelta(days=1), time(0), zone))
        return queryset


class ClockList(ListPage):
    template_name = "clocks/index.html"
    partial_template_name = "clocks/_results.html"
    form_class = ClockFilterForm
    results_id = "clock-results"
    sorts = {
        "due": ("due_at", "pk"),
        "start": ("start_at", "pk"),
        "kind": ("kind", "due_at", "pk"),
        "organ": ("organ__name", "due_at", "pk"),
    }
    default_sort = "due"
    export_name = _("时限")

    def get_queryset(self):
        return access.scoped(Clock.objects.select_related("organ"), self.request.user, PERM)

    def get_form_kwargs(self):
        return {"user": self.request.user, "regions": tree_regions(self.request.user)}

    def get_extra_context(self, page, form):
        return {"now": timezone.now()}

    @property
    def columns(self):
        now = timezone.now()
        return [
            Column(_("名称"), lambda c: c.label or clock_kind(c.kind)),
            Column(_("类型"), lambda c: clock_kind(c.kind)),
            Column(_("责任机关"), lambda c: c.organ.name if c.organ_id else ""),
            Column(_("起算时间"), lambda c: c.start_at),
            Column(_("时限"), lambda c: f"{c.limit} {c.get_unit_display()}"),
            Column(_("延长"), lambda c: c.extension_days),
            Column(_("预警时间"), lambda c: deadline_label(c.warn_at)),
            Column(_("到期时间"), lambda c: deadline_label(c.due_at)),
            Column(_("状态"), lambda c: str(c.get_state_display())),
            Column(_("已超期"), lambda c: str(_("是") if c.is_overdue(now) else _("否"))),
            Column(_("临时计算"), lambda c: str(_("是") if c.provisional else _("否"))),
        ]

    # The kinds of the export_table columns, so that a background export formats them without dispatch.
    export_kinds = ("text", "text", "text", "datetime", "text", "int", "text", "text", "text", "text", "text")

    def export_table(self, queryset):
        """The same columns as `columns`, from `values_list` tuples: a 1,000,000-row background
        export builds no model instances, and the choice labels are looked up once. On PostgreSQL
        the database renders the texts (export_sql, twice the rows a second); elsewhere Python does."""
        labels = {"kinds": dict(clock_kind_choices()), "other_kind": clock_kind(""),
                  "units": {k: str(v) for k, v in Unit.choices},
                  "states": {k: str(v) for k, v in Clock.State.choices},
                  "yes": str(_("是")), "no": str(_("否")), "stopped": Clock.State.STOPPED, "now": timezone.now()}
        rows = (sql_rendered_rows if connection.vendor == "postgresql" else python_rendered_rows)(queryset, **labels)
        return [str(c.label) for c in self.columns], rows


def sql_rendered_rows(queryset, **labels):
    return values(export_sql.rendered(queryset, **labels), *export_sql.FIELDS)


def python_rendered_rows(queryset, *, kinds, other_kind, units, states, yes, no, stopped, now):
    fields = ("label", "kind", "organ__name", "start_at", "limit", "unit", "extension_days", "warn_at",
              "due_at", "state", "stopped_at", "provisional")

    def kind_name(kind: str) -> str:
        return kinds.get(kind, other_kind)

    return (
        (label or kind_name(kind), kind_name(kind), organ or "", start, f"{limit} {units.get(unit, unit)}", ext,
         deadline_label(warn), deadline_label(due),
         states.get(state, state),
         yes if due is not None and (stopped_at if state == stopped else now) > due else no,
         yes if provisional else no)
        for label, kind, organ, start, limit, unit, ext, warn, due, state, stopped_at, provisional
        in values(queryset, *fields)
    )


@login_required
def clock_detail(request, pk: int):
    clock = access.get_scoped_or_404(
        Clock.objects.select_related("organ").prefetch_related("pauses", "extensions", "events"),
        request.user,
        PERM,
        pk=pk,
    )
    return render(
        request,
        "clocks/detail.html",
        {"clock": clock, "explanation": explain_clock(clock), "now": timezone.now(), "overdue": clock.is_overdue(timezone.now())},
    )
