"""The office's working pages: organ classes (list, create, edit), the grid of manual indicator values
of a period, and one objection with its decision.

Scope as in views.py: the appraisal office ("appraise", in its region) for classes, values and
decisions; an organ's leader ("appraisal.own") reads its own objection. Anyone else gets 404. Bad
input is answered per field (per cell in the grid) and changes nothing.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.web.lists import Column, FilterForm, ListPage

from . import actions
from .models import ManualValue, Objection, ObjectionStatus, OrganClass, Period, PeriodStatus, Source
from .views import APPRAISE, OWN, _may_appraise, _name

P = PeriodStatus


# --- classes ----------------------------------------------------------------------------------------
class ClassFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("类别名称或区划"),
                                                      "autocomplete": "off"}))

    def filter(self, queryset):
        t = self.cleaned_data["q"].strip()
        if t:
            queryset = queryset.filter(Q(name__icontains=t) | Q(region__name__icontains=t))
        return queryset


class ClassList(ListPage):
    template_name = "appraisal/classes.html"
    partial_template_name = "appraisal/_class_results.html"
    form_class = ClassFilterForm
    results_id = "class-results"
    sorts = {"name": ("name", "pk"), "region": ("region_code", "name", "pk"), "organs": ("n_organs", "name", "pk")}
    default_sort = "region"
    export_name = _("考评类别")
    columns = [
        Column(_("所属区划"), lambda c: c.region.name),
        Column(_("类别名称"), lambda c: c.name),
        Column(_("参评机关数"), lambda c: c.n_organs),
        Column(_("方案数"), lambda c: c.n_schemes),
    ]

    def get(self, request, *args, **kwargs):
        if not access.has_perm(request.user, APPRAISE):
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = OrganClass.objects.select_related("region").annotate(
            n_organs=Count("organs", distinct=True), n_schemes=Count("schemes", distinct=True))
        return access.scoped(qs, self.request.user, APPRAISE)


class_list = ClassList.as_view()


class OrganChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class ClassForm(forms.Form):
    region = forms.ModelChoiceField(label=_("所属区划"), queryset=Region.objects.none(),
                                    help_text=_("类别所在区划；参评机关须在其范围内"))
    name = forms.CharField(label=_("类别名称"), max_length=60)
    organs = OrganChoice(label=_("参评机关"), queryset=Organ.objects.none(), required=False,
                         widget=forms.SelectMultiple(attrs={"size": 16}),
                         help_text=_("按住 Ctrl（Mac 为 ⌘）可多选"))

    def __init__(self, *args, user, region=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = access.scoped(Region.objects.filter(level__lte=4), user, APPRAISE).order_by(
            "code")
        self.fields["region"].label_from_instance = lambda r: r.name
        organs = access.scoped(Organ.objects.filter(is_active=True), user, APPRAISE)
        # Organs of the chosen region only: a province office's whole scope is thousands of organs.
        organs = organs.filter(region_code__under=region.prefix) if region is not None else organs.none()
        self.fields["organs"].queryset = organs.order_by("region_code", "name")
        if editing:
            del self.fields["region"]


def _region_arg(request, user):
    pk = request.POST.get("region") or request.GET.get("region")
    if not pk or not str(pk).isdigit():
        return None
    return access.scoped(Region.objects.filter(pk=pk), user, APPRAISE).first()


@login_required
@require_http_methods(["GET", "POST"])
def class_form(request, pk=None):
    """Create (pk None) or edit a class. Choosing the region first narrows the organ list to it."""
    if not access.has_perm(request.user, APPRAISE):
        raise Http404
    organ_class = None
    if pk is not None:
        organ_class = access.get_scoped_or_404(OrganClass.objects.select_related("region"), request.user, APPRAISE,
                                               pk=pk)
    region = organ_class.region if organ_class else _region_arg(request, request.user)
    initial = ({"name": organ_class.name, "organs": list(organ_class.organs.all())} if organ_class
               else {"region": region})
    form = ClassForm(request.POST or None, initial=initial, user=request.user, region=region,
                     editing=organ_class is not None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if organ_class is None:
                organ_class = actions.do_create_class(name=d["name"], region=d["region"], organs=d["organs"])
                messages.success(request, gettext("已新建考评类别"))
            else:
                actions.do_edit_class(organ_class, name=d["name"], organs=d["organs"])
                messages.success(request, gettext("已保存考评类别"))
        except actions.AppraisalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("appraisal:class-edit", organ_class.pk)
    periods = (Period.objects.filter(scheme__organ_class=organ_class).select_related("scheme").order_by("-starts_on")
               if organ_class else [])
    return render(request, "appraisal/class_form.html", {
        "form": form, "organ_class": organ_class, "region": region, "periods": periods},
        status=400 if form.errors else 200)


# --- manual values -----------------------------------------------------------------------------------
def _office_period(user, pk) -> Period:
    period = Period.objects.select_related("scheme__organ_class").filter(pk=pk).first()
    if period is None or not _may_appraise(user, period):
        raise Http404
    return period


def _cell_name(indicator_pk, organ_pk, field) -> str:
    return f"{field}-{indicator_pk}-{organ_pk}"


@login_required
@require_http_methods(["GET", "POST"])
def manual_values(request, pk):
    """Organs × manual indicators of a period: value and evidence per cell; saved all or nothing.

    Editable while the period is open or closed; once provisional, only the rows of organs whose
    objection was upheld (the correction before recomputing)."""
    period = _office_period(request.user, pk)
    indicators = list(period.scheme.indicators.filter(source=Source.MANUAL).order_by("code"))
    organs = list(period.scheme.organ_class.organs.filter(is_active=True).order_by("name"))
    stored = {(m.indicator_id, m.organ_id): m for m in ManualValue.objects.filter(period=period)}
    if period.status in (P.OPEN, P.CLOSED):
        editable = {o.pk for o in organs}
    elif period.status == P.PROVISIONAL:
        editable = set(Objection.objects.filter(result__period=period, status=ObjectionStatus.UPHELD)
                       .values_list("result__organ_id", flat=True))
    else:
        editable = set()
    errors: dict = {}
    posted = request.POST if request.method == "POST" else None
    if posted is not None:
        if not editable:
            messages.error(request, gettext("当前阶段不能填报人工指标"))
            return redirect("appraisal:manual", period.pk)
        by_pk = {o.pk: o for o in organs}
        entries = {}
        for ind in indicators:
            for oid in editable:
                value = posted.get(_cell_name(ind.pk, oid, "value"), "").strip()
                evidence = posted.get(_cell_name(ind.pk, oid, "evidence"), "").strip()
                if not value and not evidence:
                    continue  # an untouched cell; a stored value is never cleared by leaving it blank
                entries[(ind, by_pk[oid])] = (value, evidence)
        if not entries:
            messages.error(request, gettext("没有填写任何数值"))
        else:
            try:
                saved = actions.do_enter_manual_values(period, entries, entered_by=_name(request.user),
                                                       reason=posted.get("reason", ""))
            except actions.GridError as exc:
                errors = exc.cells
                messages.error(request, exc.message)
            else:
                messages.success(request, gettext("已保存 %(n)d 项人工指标数值") % {"n": len(saved)})
                return redirect("appraisal:manual", period.pk)
    rows = []
    for organ in organs:
        cells = []
        for ind in indicators:
            m = stored.get((ind.pk, organ.pk))
            key = (ind.pk, organ.pk)
            cells.append({
                "indicator": ind, "stored": m,
                "value_name": _cell_name(ind.pk, organ.pk, "value"),
                "evidence_name": _cell_name(ind.pk, organ.pk, "evidence"),
                "value": posted.get(_cell_name(ind.pk, organ.pk, "value"), "") if posted else (
                    format(m.value.normalize(), "f") if m else ""),
                "evidence": posted.get(_cell_name(ind.pk, organ.pk, "evidence"), "") if posted else (
                    m.evidence if m else ""),
                "errors": errors.get(key, {}),
            })
        rows.append({"organ": organ, "cells": cells, "editable": organ.pk in editable})
    filled = sum(1 for k in stored if k[1] in {o.pk for o in organs})
    return render(request, "appraisal/manual.html", {
        "period": period, "indicators": indicators, "rows": rows, "any_editable": bool(editable), "reason": posted.get("reason", "") if posted else "",
        "filled": filled, "cells": len(indicators) * len(organs)}, status=400 if errors else 200)


# --- one objection -----------------------------------------------------------------------------------
class DecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(label=_("决定"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                    choices=[("yes", _("异议成立")), ("no", _("异议不成立"))],
                                    error_messages={"required": _("请选择异议是否成立")})
    reasons = forms.CharField(label=_("决定理由"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000,
                              error_messages={"required": _("请写明决定理由")})


@login_required
@require_http_methods(["GET", "POST"])
def objection_detail(request, pk):
    """The office reads an objection and decides it with reasons; the organ reads its own."""
    objection = (Objection.objects.select_related("result__organ", "result__period__scheme__organ_class",
                                                  "line__indicator").filter(pk=pk).first())
    if objection is None:
        raise Http404
    office = _may_appraise(request.user, objection.result.period)
    if not office and not access.scoped(Objection.objects.filter(pk=pk), request.user, OWN).exists():
        raise Http404
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        if not office:
            raise Http404  # deciding is the office's act
        if form.is_valid():
            try:
                actions.do_decide_objection(objection, upheld=form.cleaned_data["upheld"],
                                            reasons=form.cleaned_data["reasons"], by=_name(request.user))
            except actions.AppraisalError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, gettext("已作出决定"))
                return redirect("appraisal:objection", objection.pk)
    return render(request, "appraisal/objection.html", {
        "objection": objection, "office": office, "form": form,
        "may_decide": office and objection.status == "pending" and objection.result.period.status == P.PROVISIONAL},
        status=400 if form.errors else 200)
