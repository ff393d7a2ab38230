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
from xiaoneng.orgs.filters import ScopedRegionFilterForm, tree_regions
from xiaoneng.web import names
from xiaoneng.web.lists import Column, ListPage

from .log import verify
from .models import AuditEntry
from .present import present

PERM = "audit.view"


def _object_type_choices():
    """Every model of the platform by its name (what the log's entries are about), and the non-model types."""
    from django.apps import apps

    labels = {m._meta.label_lower for m in apps.get_models() if m.__module__.startswith("xiaoneng.")}
    labels |= {label for label in names.OBJECT_TYPES if "." in label}
    found = {label: names.object_type_name(label) for label in labels}
    return [("", gettext_lazy("全部对象类型")), *sorted(found.items(), key=lambda kv: kv[1])]


def _action_choices():
    return [("", gettext_lazy("全部操作")), *((k, str(v)) for k, v in names.AUDIT_ACTIONS.items())]


class AuditFilterForm(ScopedRegionFilterForm):
    search_placeholder = gettext_lazy("对象或操作人")
    actor = forms.CharField(label=gettext_lazy("操作人"), required=False, max_length=100)
    action = forms.ChoiceField(label=gettext_lazy("操作"), required=False, choices=())
    object_type = forms.ChoiceField(label=gettext_lazy("对象类型"), required=False, choices=())
    channel = forms.ChoiceField(
        label=gettext_lazy("渠道"), required=False, choices=[("", gettext_lazy("全部渠道")), *AuditEntry.Channel.choices]
    )
    since = forms.DateField(label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    field_order = ["q", "actor", "action", "object_type", "region", "channel", "since", "until"]

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["action"].choices = _action_choices()
        self.fields["object_type"].choices = _object_type_choices()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", gettext_lazy("截止日期早于起始日期"))
        return data

    def search_q(self, text):
        return (Q(action__icontains=text) | Q(object_repr__icontains=text) | Q(actor_label__icontains=text)
                | Q(object_type__icontains=text) | Q(object_id=text))

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data = self.cleaned_data
        who = data["actor"].strip()
        if who:
            queryset = queryset.filter(Q(actor__display_name__icontains=who) | Q(actor__username__icontains=who)
                                       | Q(actor_label__icontains=who))
        if data["action"]:
            queryset = queryset.filter(action=data["action"])
        if data["object_type"]:
            queryset = queryset.filter(object_type=data["object_type"])
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


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


class AuditList(ListPage):
    """The register: each entry in words (xiaoneng.audit.present), on the page and in the export."""

    template_name = "audit/index.html"
    partial_template_name = "audit/_results.html"
    form_class = AuditFilterForm
    results_id = "audit-results"
    sorts = {"at": ("at", "id"), "action": ("action", "id"), "actor": ("actor_label", "id")}
    default_sort = "-at"
    export_name = gettext_lazy("审计日志")
    columns = [
        Column(gettext_lazy("编号"), lambda r: r.entry.pk),
        Column(gettext_lazy("时间"), lambda r: _local(r.entry.at)),
        Column(gettext_lazy("操作人"), lambda r: r.who),
        Column(gettext_lazy("角色"), lambda r: r.role),
        Column(gettext_lazy("渠道"), lambda r: str(r.entry.get_channel_display())),
        Column(gettext_lazy("操作"), lambda r: r.what),
        Column(gettext_lazy("对象类型"), lambda r: r.object_type),
        Column(gettext_lazy("对象编号"), lambda r: r.entry.object_id),
        Column(gettext_lazy("对象"), lambda r: r.object_name),
        Column(gettext_lazy("变更"), lambda r: r.changes_text),
        Column(gettext_lazy("地址"), lambda r: r.entry.ip or ""),
        Column(gettext_lazy("哈希"), lambda r: r.entry.hash),
    ]

    def get(self, request, *args, **kwargs):
        if not access.has_perm(request.user, PERM):
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return visible_entries(self.request.user)

    def get_form_kwargs(self):
        return {"user": self.request.user, "regions": tree_regions(self.request.user)}

    def get_extra_context(self, page, form):
        return {"register": present(page.object_list, self.request.user)}

    def export_rows(self, queryset):
        """Worded a chunk at a time: one lookup per kind of name per chunk, never per row."""
        chunk = []
        for entry in queryset.select_related(None).iterator(chunk_size=2000):
            chunk.append(entry)
            if len(chunk) == 1000:
                yield from present(chunk, self.request.user)
                chunk = []
        yield from present(chunk, self.request.user)


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
