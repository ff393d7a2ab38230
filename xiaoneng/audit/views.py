"""The audit log page: scoped, filtered, sorted, paged, exported; and the chain check.

An entry belongs to the region of the object it is about. Entries about nothing
regional (calendar changes, system events) carry no region and are shown to auditors
and administrators whose grant covers a whole province.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xiaoneng.orgs import access
from xiaoneng.web.lists import Column, FilterForm, ListPage

from .log import verify
from .models import AuditEntry

PERM = "audit.view"


class AuditFilterForm(FilterForm):
    q = forms.CharField(label=gettext_lazy("搜索"), required=False, max_length=100)
    channel = forms.ChoiceField(
        label=gettext_lazy("渠道"), required=False, choices=[("", gettext_lazy("全部渠道")), *AuditEntry.Channel.choices]
    )
    since = forms.DateField(label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", gettext_lazy("截止日期早于起始日期"))
        return data

    def filter(self, queryset):
        data = self.cleaned_data
        text = data["q"].strip()
        if text:
            queryset = queryset.filter(
                Q(action__icontains=text) | Q(object_repr__icontains=text) | Q(actor_label__icontains=text)
                | Q(object_type__icontains=text) | Q(object_id=text)
            )
        if data["channel"]:
            queryset = queryset.filter(channel=data["channel"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            queryset = queryset.filter(at__gte=datetime.combine(data["since"], time(0), zone))
        if data.get("until"):
            queryset = queryset.filter(at__lt=datetime.combine(data["until"] + timedelta(days=1), time(0), zone))
        return queryset


def visible_entries(user):
    if not access.has_perm(user, PERM):
        return AuditEntry.objects.none()
    qs = access.scoped(AuditEntry.objects.all(), user, PERM)
    prefixes = access.region_prefixes(user, PERM)
    if prefixes and any(len(p) == 2 for p in prefixes):
        qs = qs | AuditEntry.objects.filter(region_code="")
    return qs


class AuditList(ListPage):
    template_name = "audit/index.html"
    partial_template_name = "audit/_results.html"
    form_class = AuditFilterForm
    results_id = "audit-results"
    sorts = {"at": ("at", "id"), "action": ("action", "id"), "actor": ("actor_label", "id")}
    default_sort = "-at"
    export_name = gettext_lazy("审计日志")
    columns = [
        Column(gettext_lazy("编号"), lambda e: e.pk),
        Column(gettext_lazy("时间"), lambda e: e.at),
        Column(gettext_lazy("操作人"), lambda e: e.actor_label),
        Column(gettext_lazy("渠道"), lambda e: str(e.get_channel_display())),
        Column(gettext_lazy("操作"), lambda e: e.action),
        Column(gettext_lazy("对象类型"), lambda e: e.object_type),
        Column(gettext_lazy("对象编号"), lambda e: e.object_id),
        Column(gettext_lazy("对象"), lambda e: e.object_repr),
        Column(gettext_lazy("变更"), lambda e: str(e.changes)),
        Column(gettext_lazy("地址"), lambda e: e.ip or ""),
        Column(gettext_lazy("哈希"), lambda e: e.hash),
    ]

    def get(self, request, *args, **kwargs):
        if not access.has_perm(request.user, PERM):
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return visible_entries(self.request.user)


@login_required
@require_POST
def verify_chain(request):
    if not access.has_perm(request.user, PERM):
        raise Http404
    checked, broken, reason = verify()
    if reason:
        where = f"#{broken.pk}" if broken else _("链尾")
        messages.error(request, _("审计链在 %(where)s 处断裂：%(reason)s；此前 %(n)d 条完好。") % {"where": where, "reason": reason, "n": checked})
    else:
        messages.success(request, _("审计链完整：已校验 %(n)d 条记录。") % {"n": checked})
    return redirect("audit:index")
