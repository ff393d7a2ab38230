"""Appraisal lists with the shared list machinery (filter, sort, pages, Excel, background export):

* `/appraisal/scores/` — the score board of every period the user may read (`?period=` for one class-year);
  the office sees every result of its region, an organ its own provisional result and the published
  rankings of its class, a deputy the published rankings of the region.
* `/appraisal/changes/` — every audited change of an appraisal (weights, manual values, recomputations
  that changed a total, objection decisions, grades, status), with who and why; for the appraisal
  office and the supervisors of the class's region or above.
* `/appraisal/published/` — the home of a people's congress deputy or CPPCC member: the published
  rankings of the region.

Everything is scoped through `scope.py`; with no way in the answer is 404.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs import access
from xiaoneng.web.lists import Column, FilterForm, ListPage

from . import scope
from .models import Grade, ObjectionStatus, OrganClass, Period, PeriodStatus, Scheme

ANY_WAY_IN = (scope.APPRAISE, scope.OWN, scope.PUBLISHED)


def _period_label(p: Period) -> str:
    return f"{p.scheme.year} · {p.scheme.organ_class.name}"


# --- the score board as a list ----------------------------------------------------------------
class ScoreFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("机关或类别"),
                                                      "autocomplete": "off"}))
    period = forms.ModelChoiceField(label=_("考评期"), required=False, queryset=Period.objects.none(),
                                    empty_label=_("全部考评期"))
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    grade = forms.ChoiceField(label=_("等次"), required=False, choices=[("", _("全部等次")), *Grade.choices])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        periods = scope.ranking_periods(user) | Period.objects.filter(
            pk__in=scope.own_results(user).values("period_id"))
        self.fields["period"].queryset = (periods.distinct().select_related("scheme__organ_class")
                                          .order_by("-scheme__year", "scheme__organ_class__name"))
        self.fields["period"].label_from_instance = _period_label

    def filter(self, queryset):
        d = self.cleaned_data
        if d["q"].strip():
            t = d["q"].strip()
            queryset = queryset.filter(Q(organ__name__icontains=t) | Q(period__scheme__organ_class__name__icontains=t))
        if d["period"]:
            queryset = queryset.filter(period=d["period"])
        if d["year"]:
            queryset = queryset.filter(period__scheme__year=d["year"])
        if d["grade"]:
            queryset = queryset.filter(grade=d["grade"])
        return queryset


class ScoreList(ListPage):
    template_name = "appraisal/scores.html"
    partial_template_name = "appraisal/_score_results.html"
    form_class = ScoreFilterForm
    results_id = "score-results"
    sorts = {"rank": ("period__scheme__year", "period__scheme__organ_class__name", "rank", "organ__name", "pk"),
             "total": ("total", "pk"), "organ": ("organ__name", "pk")}
    default_sort = "rank"
    export_name = _("考评得分")
    columns = [
        Column(_("年度"), lambda r: r.period.scheme.year),
        Column(_("考评类别"), lambda r: r.period.scheme.organ_class.name),
        Column(_("机关"), lambda r: r.organ.name),
        Column(_("总分"), lambda r: float(r.total)),
        Column(_("类别内排名"), lambda r: r.rank),
        Column(_("等次"), lambda r: str(r.get_grade_display())),
        Column(_("状态"), lambda r: str(r.period.get_status_display())),
    ]

    def get(self, request, *args, **kwargs):
        if not any(access.has_perm(request.user, p) for p in ANY_WAY_IN):
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_queryset(self):
        return scope.readable_results(self.request.user).select_related("organ", "period__scheme__organ_class")

    def get_extra_context(self, page, form):
        return {"full": set(scope.full_results(self.request.user).filter(pk__in=[r.pk for r in page.object_list])
                            .values_list("pk", flat=True))}


score_list = ScoreList.as_view()


# --- the report of every appraisal change ----------------------------------------------------
ACTIONS = {
    "appraisal.scheme_edit": _("修改方案（权重）"),
    "appraisal.scheme_replace": _("更换已启用方案"),
    "appraisal.manual_value": _("填报或修改人工指标值"),
    "appraisal.recompute": _("重新计算"),
    "appraisal.objection_decide": _("决定异议"),
    "appraisal.staff_grades": _("报送或修改人员等次"),
    "appraisal.status": _("考评期状态变更"),
}


def changes_q(periods) -> Q:
    """Audit entries about these periods: the period itself, entries naming it, its class-year's schemes,
    and the staff grades of its organs for its year (three queries, however many periods)."""
    periods = list(periods.select_related("scheme"))
    classes = {p.scheme.organ_class_id for p in periods}
    schemes: dict[tuple[int, int], list[str]] = {}
    for pk, cls, year in Scheme.objects.filter(organ_class__in=classes).values_list("pk", "organ_class_id", "year"):
        schemes.setdefault((cls, year), []).append(str(pk))
    organs: dict[int, list[str]] = {}
    for cls, organ in OrganClass.organs.through.objects.filter(organclass_id__in=classes).values_list(
            "organclass_id", "organ_id"):
        organs.setdefault(cls, []).append(str(organ))
    q = Q(pk__in=[])
    for p in periods:
        cls, year = p.scheme.organ_class_id, p.scheme.year
        q |= (Q(object_type="appraisal.period", object_id=str(p.pk)) | Q(changes__period=p.pk)
              | Q(object_type="appraisal.scheme", object_id__in=schemes.get((cls, year), []))
              | Q(action="appraisal.staff_grades", object_type="orgs.organ", object_id__in=organs.get(cls, []),
                  changes__year=year))
    return q & Q(action__in=list(ACTIONS))


class ChangeFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("对象或操作人"),
                                                      "autocomplete": "off"}))
    period = forms.ModelChoiceField(label=_("考评期"), required=False, queryset=Period.objects.none(),
                                    empty_label=_("全部考评期"))
    action = forms.ChoiceField(label=_("变更类型"), required=False, choices=[("", _("全部类型")), *ACTIONS.items()])
    date_from = forms.DateField(label=_("起始日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("截止日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = (scope.change_report_periods(user).select_related("scheme__organ_class")
                                          .order_by("-scheme__year", "scheme__organ_class__name"))
        self.fields["period"].label_from_instance = _period_label

    def filter(self, queryset):
        d = self.cleaned_data
        periods = self.fields["period"].queryset
        if d["period"]:
            periods = periods.filter(pk=d["period"].pk)
        queryset = queryset.filter(changes_q(periods))
        if d["q"].strip():
            t = d["q"].strip()
            queryset = queryset.filter(Q(object_repr__icontains=t) | Q(actor_label__icontains=t))
        if d["action"]:
            queryset = queryset.filter(action=d["action"])
        # Days are local days: from the start of the first to the start of the day after the last.
        if d["date_from"]:
            queryset = queryset.filter(at__gte=timezone.make_aware(datetime.combine(d["date_from"], time.min)))
        if d["date_to"]:
            queryset = queryset.filter(at__lt=timezone.make_aware(datetime.combine(d["date_to"] + timedelta(days=1),
                                                                                   time.min)))
        return queryset


def reason_of(entry: AuditEntry) -> str:
    return str(entry.changes.get("reason") or "")


def summary_of(entry: AuditEntry) -> str:
    """The change in words: what was before and after, as the entry recorded it."""
    c = entry.changes
    if entry.action == "appraisal.recompute":
        return "；".join(f"{x['name']} {x['total'][0]}→{x['total'][1]}" for x in c.get("changed", [])) or "—"
    if entry.action == "appraisal.manual_value":
        before, after = c.get("value", [None, None])
        return f"{c.get('indicator', '')}：{before if before is not None else '—'}→{after}"
    if entry.action == "appraisal.objection_decide":
        return str(dict(ObjectionStatus.choices).get(c.get("status"), c.get("status", "")))
    if entry.action == "appraisal.status":
        before, after = c.get("status", ["", ""])
        labels = dict(PeriodStatus.choices)
        return f"{labels.get(before, before)}→{labels.get(after, after)}"
    if entry.action in ("appraisal.scheme_edit", "appraisal.scheme_replace"):
        old = {r["code"]: r["weight"] for r in c.get("before", [])}
        new = {r["code"]: r["weight"] for r in c.get("after", [])}
        diffs = [f"{k} {old.get(k, '—')}→{new.get(k, '—')}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        return "；".join(diffs) or "—"
    if entry.action == "appraisal.staff_grades":
        changed = c.get("changed") or {}
        return "；".join(f"{n} {b}→{a}" for n, (b, a) in changed.items()) or f"{len(c.get('grades', {}))}"
    return ""


class ChangeList(ListPage):
    template_name = "appraisal/changes.html"
    partial_template_name = "appraisal/_change_results.html"
    form_class = ChangeFilterForm
    results_id = "change-results"
    sorts = {"at": ("at", "pk"), "action": ("action", "at", "pk")}
    default_sort = "-at"
    export_name = _("考评变更记录")
    columns = [
        Column(_("时间"), lambda e: timezone.localtime(e.at).replace(tzinfo=None)),
        Column(_("变更类型"), lambda e: str(ACTIONS.get(e.action, e.action))),
        Column(_("对象"), lambda e: e.object_repr),
        Column(_("操作人"), lambda e: e.actor_label),
        Column(_("变更内容"), summary_of),
        Column(_("理由"), reason_of),
    ]

    def get(self, request, *args, **kwargs):
        if not scope.change_report_periods(request.user).exists():
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_queryset(self):
        return AuditEntry.objects.all()

    def get_extra_context(self, page, form):
        for e in page.object_list:
            e.label, e.summary, e.reason = ACTIONS.get(e.action, e.action), summary_of(e), reason_of(e)
        return {}


change_list = ChangeList.as_view()


# --- the deputies' page ------------------------------------------------------------------------
def published_periods(user):
    return (scope.ranking_periods(user).filter(status=PeriodStatus.PUBLISHED)
            .select_related("scheme__organ_class").order_by("-scheme__year", "scheme__organ_class__name"))


@login_required
def published(request):
    if not access.has_perm(request.user, scope.PUBLISHED):
        raise Http404
    results = list(scope.published_results(request.user).select_related("organ", "period__scheme__organ_class")
                   .order_by("-period__scheme__year", "period__scheme__organ_class__name", "rank", "organ__name"))
    return render(request, "appraisal/published.html", {"periods": list(published_periods(request.user)),
                                                         "results": results})

