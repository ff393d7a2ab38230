"""加减分 pages: the list of a period's items (filter, sort, page, Excel), the entry form, and the
approve / reject buttons. The appraisal office of the period's region only (perm "appraise");
everyone else gets 404. The four-eyes rule itself lives in the action: the page shows the buttons
to everyone in the office and the action refuses the person who entered the item, with the reason."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.web.lists import Column, FilterForm, ListPage

from . import actions
from .models import Adjustment, AdjustmentStatus, Period

APPRAISE = "appraise"


def office_period(user, pk) -> Period:
    return access.get_scoped_or_404(Period.objects.select_related("scheme__organ_class"), user, APPRAISE, pk=pk)


class AdjustmentFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("机关或事由"),
                                                      "autocomplete": "off"}))
    status = forms.ChoiceField(label=_("状态"), required=False,
                               choices=[("", _("全部状态")), *AdjustmentStatus.choices])
    side = forms.ChoiceField(label=_("类型"), required=False,
                             choices=[("", _("加分和减分")), ("plus", _("加分")), ("minus", _("减分"))])

    def filter(self, queryset):
        data = self.cleaned_data
        if data["q"].strip():
            t = data["q"].strip()
            queryset = queryset.filter(Q(organ__name__icontains=t) | Q(reason__icontains=t))
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["side"] == "plus":
            queryset = queryset.filter(points__gt=0)
        elif data["side"] == "minus":
            queryset = queryset.filter(points__lt=0)
        return queryset


class EntryForm(forms.Form):
    organ = forms.ModelChoiceField(label=_("机关"), queryset=None)
    points = forms.CharField(label=_("分值（加分为正，减分为负）"), max_length=12)
    occurred_on = forms.DateField(label=_("发生日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("加减分事由"), max_length=200)
    evidence = forms.CharField(label=_("佐证材料"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, period: Period, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ"].queryset = period.scheme.organ_class.organs.order_by("name")


class DecisionForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(label=_("审核"), coerce=lambda v: v == "yes",
                                     choices=[("yes", _("通过")), ("no", _("驳回"))],
                                     widget=forms.Select(attrs={"aria-label": _("审核")}))
    note = forms.CharField(label=_("审核意见"), required=False, max_length=5000,
                           widget=forms.TextInput(attrs={"aria-label": _("审核意见"), "placeholder": _("审核意见")}))


class AdjustmentList(ListPage):
    template_name = "appraisal/adjustments.html"
    partial_template_name = "appraisal/_adjustment_results.html"
    form_class = AdjustmentFilterForm
    results_id = "adjustment-results"
    sorts = {"entered": ("entered_at", "pk"), "organ": ("organ__name", "pk"), "points": ("points", "pk"),
             "occurred": ("occurred_on", "pk")}
    default_sort = "-entered"
    export_name = _("加减分")
    columns = [
        Column(_("机关"), lambda a: a.organ.name),
        Column(_("分值"), lambda a: float(a.points)),
        Column(_("发生日期"), lambda a: a.occurred_on),
        Column(_("加减分事由"), lambda a: a.reason),
        Column(_("佐证材料"), lambda a: a.evidence),
        Column(_("状态"), lambda a: str(a.get_status_display())),
        Column(_("录入人"), lambda a: a.entered_by_label),
        Column(_("审核人"), lambda a: a.decided_by_label),
        Column(_("审核意见"), lambda a: a.decision_note),
    ]

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.period = office_period(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        qs = Adjustment.objects.filter(period=self.period).select_related("organ")
        return access.scoped(qs, self.request.user, APPRAISE)

    def get_extra_context(self, page, form) -> dict:
        return {"period": self.period, "entry_form": getattr(self, "entry_form", None) or EntryForm(period=self.period),
                "decision_form": DecisionForm(auto_id=False), "user_id": self.request.user.pk}

    def post(self, request, *args, **kwargs):
        op = request.POST.get("op")
        try:
            if op == "enter":
                form = EntryForm(request.POST, period=self.period)
                if not form.is_valid():
                    self.entry_form = form
                    response = self.get(request, *args, **kwargs)
                    response.status_code = 400
                    return response
                d = form.cleaned_data
                actions.do_enter_adjustment(self.period, organ=d["organ"], points=d["points"],
                                            occurred_on=d["occurred_on"], reason=d["reason"],
                                            evidence=d["evidence"], by=request.user)
                messages.success(request, gettext("已录入，待另一名考评员审核"))
            elif op == "decide":
                form = DecisionForm(request.POST)
                if not form.is_valid():
                    raise actions.AppraisalError(gettext("请选择审核结果"), "approve")
                item = self.get_queryset().filter(pk=form.cleaned_data["item"]).first()
                if item is None:
                    raise Http404
                actions.do_decide_adjustment(item, approve=form.cleaned_data["approve"],
                                             note=form.cleaned_data["note"], by=request.user)
                messages.success(request, gettext("已审核"))
        except actions.AppraisalError as exc:
            if op == "enter":
                self.entry_form = EntryForm(request.POST, period=self.period)
                self.entry_form.is_valid()
                self.entry_form.add_error(exc.field if exc.field in self.entry_form.fields else None, exc.message)
                response = self.get(request, *args, **kwargs)
                response.status_code = 400
                return response
            messages.error(request, exc.message)
        return redirect("appraisal:adjustments", self.period.pk)


adjustment_list = AdjustmentList.as_view()
