"""Appraisal pages: the scheme list (filter, sort, Excel) and each scheme's tree, Excel export and
import; the score board of a period with drill-down to each organ's result and each line's records
(lineage); an organ's own page with its provisional result and its objections.

Who sees what goes through `access` only. The appraisal office ("appraise", in its region) sees and
runs everything in its region. An organ's leader ("appraisal.own", on the organ's grant) sees the
organ's own result once it is provisional, may object while the window is open, and sees the
ranking of its class once published — never another organ's lines or objections. Everyone else:
404, exactly like a record that does not exist.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.lib.xlsx import XLSX_MIME
from xiaoneng.orgs import access
from xiaoneng.web.lists import Column, FilterForm, ListPage

from . import actions, charts, indicators, schemes, scope
from .models import (
    Objection,
    OrganClass,
    Period,
    PeriodStatus,
    Result,
    ResultLine,
    Scheme,
    SchemeStatus,
    Target,
)
from .workflow import TransitionError

APPRAISE, OWN = "appraise", "appraisal.own"
P = PeriodStatus
SEEN_BY_ORGAN = (P.PROVISIONAL, P.PUBLISHED)


def _name(user) -> str:
    return getattr(user, "display_name", "") or user.get_username()


# --- schemes ------------------------------------------------------------------------------
class SchemeFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("方案名称或类别"),
                                                      "autocomplete": "off"}))
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *SchemeStatus.choices])

    def filter(self, queryset):
        data = self.cleaned_data
        if data["q"].strip():
            t = data["q"].strip()
            queryset = queryset.filter(Q(title__icontains=t) | Q(organ_class__name__icontains=t))
        if data["year"]:
            queryset = queryset.filter(year=data["year"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        return queryset


class SchemeList(ListPage):
    template_name = "appraisal/schemes.html"
    partial_template_name = "appraisal/_scheme_results.html"
    form_class = SchemeFilterForm
    results_id = "scheme-results"
    sorts = {"year": ("year", "organ_class__name", "version", "pk"), "class": ("organ_class__name", "year", "pk"),
             "title": ("title", "pk")}
    default_sort = "-year"
    export_name = _("考评方案")
    columns = [
        Column(_("年度"), lambda s: s.year),
        Column(_("考评类别"), lambda s: s.organ_class.name),
        Column(_("方案名称"), lambda s: s.title),
        Column(_("考评对象"), lambda s: str(s.get_target_display())),
        Column(_("版本"), lambda s: s.version),
        Column(_("状态"), lambda s: str(s.get_status_display())),
        Column(_("指标数"), lambda s: s.n_indicators),
    ]

    def get(self, request, *args, **kwargs):
        if not access.has_perm(request.user, APPRAISE):
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = Scheme.objects.select_related("organ_class", "period").annotate(n_indicators=Count("indicators"))
        return access.scoped(qs, self.request.user, APPRAISE)


scheme_list = SchemeList.as_view()


def _tree(scheme: Scheme) -> list:
    items = list(scheme.indicators.select_related("parent").order_by("code"))
    kids: dict = {}
    for i in items:
        kids.setdefault(i.parent_id, []).append(i)
    out = []

    def walk(parent_id, level):
        for i in sorted(kids.get(parent_id, []), key=lambda x: (x.order, x.code)):
            i.level = level
            i.is_leaf = i.pk not in kids
            out.append(i)
            walk(i.pk, level + 1)

    walk(None, 1)
    return out


class CopyForm(forms.Form):
    year = forms.IntegerField(label=_("复制到年度"), min_value=2000, max_value=2100)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_detail(request, pk):
    scheme = access.get_scoped_or_404(Scheme.objects.select_related("organ_class", "copied_from"), request.user,
                                      APPRAISE, pk=pk)
    copy_form = CopyForm(initial={"year": scheme.year + 1})
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "activate":
                period = actions.do_activate_scheme(scheme, reason=request.POST.get("reason", ""))
                messages.success(request, gettext("方案已启用"))
                return redirect("appraisal:board", period.pk)
            if op == "version":
                new = actions.do_new_version(scheme)
                return redirect("appraisal:scheme", new.pk)
            if op == "copy":
                copy_form = CopyForm(request.POST)
                if copy_form.is_valid():
                    new = actions.do_copy_scheme(scheme, year=copy_form.cleaned_data["year"])
                    return redirect("appraisal:scheme", new.pk)
        except (actions.AppraisalError, schemes.SchemeError) as exc:
            messages.error(request, exc.message)
    return render(request, "appraisal/scheme.html", {
        "scheme": scheme, "tree": _tree(scheme), "copy_form": copy_form,
        "replaces": scheme.status == SchemeStatus.DRAFT and Scheme.objects.filter(
            organ_class=scheme.organ_class_id, year=scheme.year, status=SchemeStatus.ACTIVE).exists(),
        "period": Period.objects.filter(scheme=scheme).first()})


@login_required
def scheme_export(request, pk):
    scheme = access.get_scoped_or_404(Scheme.objects.all(), request.user, APPRAISE, pk=pk)
    response = HttpResponse(schemes.export_xlsx(scheme), content_type=XLSX_MIME)
    name = f"scheme-{scheme.year}-{scheme.pk}-v{scheme.version}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class ImportForm(forms.Form):
    organ_class = forms.ModelChoiceField(label=_("考评类别"), queryset=OrganClass.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("方案名称"), max_length=200)
    target = forms.ChoiceField(label=_("考评对象"), choices=Target.choices, initial=Target.ORGAN, required=False)
    file = forms.FileField(label=_("Excel 文件"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ_class"].queryset = access.scoped(OrganClass.objects.all(), user, APPRAISE)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_import(request):
    if not access.has_perm(request.user, APPRAISE):
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            scheme = actions.do_import_scheme(organ_class=d["organ_class"], year=d["year"], title=d["title"],
                                              data=d["file"].read(), target=d["target"] or Target.ORGAN)
        except (actions.AppraisalError, schemes.SchemeError) as exc:
            form.add_error("file" if exc.field in ("file", "") or getattr(exc, "row", None) else
                           (exc.field if exc.field in form.fields else None), exc.message)
        else:
            messages.success(request, gettext("已导入方案"))
            return redirect("appraisal:scheme", scheme.pk)
    return render(request, "appraisal/import.html", {"form": form}, status=400 if form.errors else 200)


# --- the board, results and lineage --------------------------------------------------------
_own_results = scope.own_results
_may_appraise = scope.may_appraise


class DecideForm(forms.Form):
    objection = forms.IntegerField(widget=forms.HiddenInput)
    upheld = forms.TypedChoiceField(label=_("决定"), coerce=lambda v: v == "yes",
                                    choices=[("yes", _("异议成立")), ("no", _("异议不成立"))])
    reasons = forms.CharField(label=_("决定理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


@login_required
@require_http_methods(["GET", "POST"])
def board(request, pk):
    """The ranking of a class. The office sees it at every stage and runs the period from here; an
    organ of the class sees it once published (totals, ranks and grades only)."""
    period = Period.objects.select_related("scheme__organ_class", "objection_clock").filter(pk=pk).first()
    if period is None:
        raise Http404
    office = _may_appraise(request.user, period)
    if not office and not scope.ranking_periods(request.user).filter(pk=period.pk).exists():
        raise Http404
    if request.method == "POST":
        if not office:
            raise Http404
        op = request.POST.get("op")
        try:
            if op == "close":
                actions.do_close_period(period)
            elif op == "compute":
                actions.do_compute_period(period, reason=request.POST.get("reason", ""))
            elif op == "announce":
                actions.do_announce_provisional(period)
            elif op == "publish":
                actions.do_publish_results(period)
            elif op == "public_site":
                from .public_site import do_set_public_site

                do_set_public_site(period, public=request.POST.get("public") == "1")
            elif op == "interim":
                actions.do_compute_interim(period, quarter=request.POST.get("quarter"))
                messages.success(request, gettext("已计算阶段性结果"))
                return redirect(f"{reverse('appraisal:board', args=[period.pk])}?quarter={request.POST['quarter']}")
            elif op == "decide":
                form = DecideForm(request.POST)
                if not form.is_valid():
                    raise actions.AppraisalError(gettext("请选择决定并写明理由"), "reasons")
                objection = Objection.objects.filter(pk=form.cleaned_data["objection"], result__period=period).first()
                if objection is None:
                    raise Http404
                actions.do_decide_objection(objection, upheld=form.cleaned_data["upheld"],
                                            reasons=form.cleaned_data["reasons"], by=_name(request.user))
        # A replayed step (publish twice, announce again) is refused by the transition table; the
        # office reads why instead of an error page.
        except (actions.AppraisalError, TransitionError) as exc:
            messages.error(request, exc.message)
        return redirect("appraisal:board", period.pk)
    results = list(period.results.select_related("organ").order_by("rank", "organ__name"))
    objections = (list(Objection.objects.filter(result__period=period).select_related("result__organ", "line__indicator"))
                  if office else [])
    scores_url = f"{reverse('appraisal:scores')}?{urlencode({'period': period.pk})}"
    classes = scope.ranking_periods(request.user).filter(scheme__organ_class=period.scheme.organ_class_id)
    context = {
        **interim_context(request, period, office),
        "period": period, "results": results, "office": office, "objections": objections,
        "decide_form": DecideForm(), "mine": set(_own_results(request.user).filter(period=period)
                                                  .values_list("pk", flat=True)),
        "scores_url": scores_url,
        "charts": {name: data for name, data in (
            ("ranking", charts.ranking(results, scores_url)),
            ("trend", charts.trend(classes.filter(results__isnull=False).distinct().select_related("scheme")))) if data},
        "may_see_changes": scope.change_report_periods(request.user).filter(pk=period.pk).exists(),
    }
    if office:
        from xiaoneng.documents.kinds.appraisal import report_documents

        context.update(report_documents(request.user, period))
    return render(request, "appraisal/board.html", context)


class ObjectionForm(forms.Form):
    line = forms.ModelChoiceField(label=_("异议指标"), queryset=ResultLine.objects.none(), required=False,
                                  empty_label=_("（总体）"))
    grounds = forms.CharField(label=_("异议理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    evidence = forms.CharField(label=_("佐证材料"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, result, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = result.lines.select_related("indicator")
        self.fields["line"].label_from_instance = lambda ln: str(ln.indicator)


def _result_for(user, pk) -> tuple[Result, bool]:
    result = Result.objects.select_related("period__scheme__organ_class", "period__objection_clock", "organ").filter(
        pk=pk).first()
    if result is None:
        raise Http404
    if _may_appraise(user, result.period):
        return result, True
    if _own_results(user).filter(pk=pk).exists():
        return result, False
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def result_detail(request, pk):
    result, office = _result_for(request.user, pk)
    form = ObjectionForm(result=result)
    if request.method == "POST":
        if office or not access.scoped(Result.objects.filter(pk=pk), request.user, OWN).exists():
            raise Http404  # objections are the organ's own act
        form = ObjectionForm(request.POST, result=result)
        if form.is_valid():
            try:
                actions.do_object(result, line=form.cleaned_data["line"], grounds=form.cleaned_data["grounds"],
                                  evidence=form.cleaned_data["evidence"], by=_name(request.user))
            except actions.AppraisalError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, gettext("异议已提交"))
                return redirect("appraisal:result", result.pk)
    lines = list(result.lines.select_related("indicator").order_by("indicator__code"))
    for ln in lines:
        ln.records_url = reverse("appraisal:line-records", args=[ln.pk])
        ln.list_url = list_url(ln.query)
    now = timezone.now()
    # The trend: the years of this organ's class whose result of this organ the user may read in full.
    years = Period.objects.filter(scheme__organ_class=result.period.scheme.organ_class_id,
                                  results__in=scope.full_results(request.user).filter(organ=result.organ_id))
    chart_data = {name: data for name, data in (
        ("radar", charts.radar(result)), ("trend", charts.trend(years.select_related("scheme"), organ=result.organ)))
        if data}
    return render(request, "appraisal/result.html", {
        "adjustments": result.period.adjustments.filter(organ=result.organ, status="approved").order_by(
            "occurred_on", "pk"),
        "result": result, "lines": lines, "office": office, "form": form, "charts": chart_data,
        "objections": result.objections.select_related("line__indicator"),
        "cadres": list(result.cadres.select_related("staff")),
        "window_open": actions.objection_window_open(result.period, now)},
        status=400 if form.errors else 200)


def list_url(query: dict) -> str:
    """The existing list page of the records behind a line, filtered as near as its filters allow."""
    source = query.get("source")
    if source == "on_time":
        return f"{reverse('approvals:cases')}?{urlencode({'organ': query['organ']})}"
    if source == "cards":
        return f"{reverse('supervision:alerts')}?{urlencode({'organ': query['organ'], 'date_from': query['from'], 'date_to': query['to']})}"
    if source == "complaints":
        return f"{reverse('complaints:list')}?{urlencode({'organ': query['organ']})}"
    if source == "accountability":
        return f"{reverse('accountability:cases')}?{urlencode({'organ': query['organ']})}"
    return more_list_urls(source, query)


@login_required
def line_records(request, pk):
    """Exactly the records a line counts (its stored query, re-run)."""
    line = ResultLine.objects.select_related("indicator", "result__organ", "result__period").filter(pk=pk).first()
    if line is None:
        raise Http404
    _result_for(request.user, line.result_id)
    query = dict(line.query)
    source = query.pop("source")
    rows = list(indicators.module(source).records(query)[:500])
    return render(request, "appraisal/records.html", {"line": line, "rows": rows, "source": source,
                                                      "list_url": list_url(line.query)})


@login_required
def mine(request):
    if not access.has_perm(request.user, OWN):
        raise Http404
    results = list(_own_results(request.user).select_related("organ", "period__scheme__organ_class")
                   .order_by("-period__starts_on", "organ__name"))
    return render(request, "appraisal/mine.html", {"results": results})


def more_list_urls(source: str, query: dict) -> str:
    """List pages for the indicators added later (handling time, orders, 好差评, complaints)."""
    organ = {"organ": query.get("organ")}
    if source == "handling_time":
        return f"{reverse('approvals:cases')}?{urlencode(organ)}"
    if source in ("complaint_rate", "complaint_on_time"):
        return f"{reverse('complaints:list')}?{urlencode(organ)}"
    return ""


def interim_context(request, period: Period, office: bool) -> dict:
    """The quarter selector of the board: the office only (interim results are never published)."""
    if not office:
        return {}
    from .models import InterimResult

    done = sorted(set(InterimResult.objects.filter(period=period).values_list("quarter", flat=True)))
    try:
        quarter = int(request.GET.get("quarter") or 0)
    except ValueError:
        quarter = 0
    quarter = quarter if quarter in (1, 2, 3, 4) else 0
    rows = (list(InterimResult.objects.filter(period=period, quarter=quarter).select_related("organ")
                 .order_by("rank", "organ__name")) if quarter else [])
    return {"quarters": [(q, q in done) for q in (1, 2, 3, 4)], "quarter": quarter, "interim": rows}
