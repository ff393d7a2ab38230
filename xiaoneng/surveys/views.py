"""Staff pages of the surveys, at /surveys/ (namespace "surveys").

The appraisal office ("appraise", in its region) designs surveys, opens and closes them, generates
invitation codes (Excel with a QR code per code) and reads the results (Excel too) with the
screened comments. An organ's leader ("appraisal.own", on the organ's grant) reads his own organ's
results of closed surveys — never another organ's answers. Everyone else: 404, exactly like a
survey that does not exist.
"""
from __future__ import annotations

import io

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.appraisal.models import Period
from xiaoneng.lib.xlsx import XLSX_MIME, xlsx_response
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.web.lists import Column, FilterForm, ListPage

from . import actions, codes, design
from .models import Answer, Invitation, QuestionKind, Survey, SurveyStatus
from .stats import organ_stats, survey_stats

APPRAISE, OWN = "appraise", "appraisal.own"

DEFAULT_SCALE = "总体满意度\n服务态度\n办事效率\n依法行政"
DEFAULT_OPEN = "意见和建议"
DEFAULT_GROUPS = "服务对象, 40, 手机\n企业, 30\n人大代表、政协委员, 20\n上级机关, 10"


def _office(user):
    if not access.has_perm(user, APPRAISE):
        raise Http404


def _survey_or_404(user, pk) -> Survey:
    return access.get_scoped_or_404(Survey.objects.select_related("region", "period__scheme"), user, APPRAISE, pk=pk)


# --- the list -----------------------------------------------------------------------------
class SurveyFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("评议名称"),
                                                      "autocomplete": "off"}))
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *SurveyStatus.choices])

    def filter(self, queryset):
        data = self.cleaned_data
        if data["q"].strip():
            queryset = queryset.filter(title__icontains=data["q"].strip())
        if data["year"]:
            queryset = queryset.filter(year=data["year"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        return queryset


class SurveyList(ListPage):
    template_name = "surveys/list.html"
    partial_template_name = "surveys/_list_results.html"
    form_class = SurveyFilterForm
    results_id = "survey-results"
    sorts = {"year": ("year", "title", "pk"), "title": ("title", "pk"), "responses": ("n_responses", "pk")}
    default_sort = "-year"
    export_name = _("群众评议")
    columns = [
        Column(_("年度"), lambda s: s.year),
        Column(_("评议名称"), lambda s: s.title),
        Column(_("所属区划"), lambda s: s.region.name),
        Column(_("状态"), lambda s: str(s.get_status_display())),
        Column(_("被评议机关数"), lambda s: s.n_organs),
        Column(_("答卷数"), lambda s: s.n_responses),
    ]

    def get(self, request, *args, **kwargs):
        _office(request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = Survey.objects.select_related("region").annotate(
            n_organs=Count("organs", distinct=True), n_responses=Count("responses", distinct=True))
        return access.scoped(qs, self.request.user, APPRAISE)


survey_list = SurveyList.as_view()


# --- design -------------------------------------------------------------------------------
class SurveyForm(forms.Form):
    title = forms.CharField(label=_("评议名称"), max_length=200)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    region = forms.ModelChoiceField(label=_("所属区划"), queryset=Region.objects.none())
    period = forms.ModelChoiceField(label=_("考评期（可选）"), queryset=Period.objects.none(), required=False,
                                    help_text=_("选定考评期后，结果计入该考评期的“群众评议满意度”指标；未选机关时评议该考评类别的全部机关。"))
    organs = forms.ModelMultipleChoiceField(label=_("被评议机关"), queryset=Organ.objects.none(), required=False,
                                            widget=forms.SelectMultiple(attrs={"size": 10}))
    scale_questions = forms.CharField(label=_("满意度题目（五级：非常满意至非常不满意；每行一题）"),
                                      widget=forms.Textarea(attrs={"rows": 4}), initial=DEFAULT_SCALE)
    open_questions = forms.CharField(label=_("开放题（每行一题，可不填）"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 2}), initial=DEFAULT_OPEN)
    groups = forms.CharField(label=_("评议主体及权重（每行：名称, 权重[, 手机]；权重合计 100）"),
                             widget=forms.Textarea(attrs={"rows": 4}), initial=DEFAULT_GROUPS,
                             help_text=_("第三项写“手机”的评议主体，群众可凭手机号验证参与；其他主体凭邀请码参与。"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if getattr(user, "is_superuser", False):
            regions = Region.objects.all()
        else:
            ids = [g.region_id for g in access.grants(user)
                   if g.region_id and APPRAISE in access.PERMISSIONS.get(g.role, ())]
            regions = Region.objects.filter(pk__in=ids)
        self.fields["region"].queryset = regions.order_by("code")
        self.fields["period"].queryset = access.scoped(
            Period.objects.select_related("scheme__organ_class"), user, APPRAISE).order_by("-starts_on")
        self.fields["organs"].queryset = access.scoped(Organ.objects.filter(is_active=True), user, APPRAISE
                                                       ).order_by("region_code", "name")


@login_required
@require_http_methods(["GET", "POST"])
def survey_new(request):
    _office(request.user)
    form = SurveyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            survey = actions.do_create_survey(
                title=d["title"], year=d["year"], region=d["region"], period=d["period"], organs=d["organs"],
                questions=design.parse_questions(d["scale_questions"], d["open_questions"]),
                groups=design.parse_groups(d["groups"]))
        except actions.SurveyError as exc:
            field = {"questions": "scale_questions"}.get(exc.field, exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("评议已创建（草稿）"))
            return redirect("surveys:detail", survey.pk)
    return render(request, "surveys/new.html", {"form": form}, status=400 if form.errors else 200)


class CodesForm(forms.Form):
    group = forms.ModelChoiceField(label=_("评议主体"), queryset=None)
    count = forms.IntegerField(label=_("生成数量"), min_value=1, max_value=100000, initial=50)

    def __init__(self, *args, survey, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = survey.groups.all()


def public_url(request, survey: Survey, code: str = "") -> str:
    url = request.build_absolute_uri(reverse("surveys-public:entry", args=[survey.slug]))
    return f"{url}?code={codes.shown(code)}" if code else url


@login_required
@require_http_methods(["GET", "POST"])
def survey_detail(request, pk):
    survey = _survey_or_404(request.user, pk)
    codes_form = CodesForm(survey=survey)
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "open":
                actions.do_open_survey(survey)
                messages.success(request, gettext("评议已开始"))
            elif op == "close":
                actions.do_close_survey(survey)
                messages.success(request, gettext("评议已结束"))
            elif op == "public_site":
                from .public_results import do_set_survey_public_site

                do_set_survey_public_site(survey, public=request.POST.get("public") == "1")
            elif op == "codes":
                codes_form = CodesForm(request.POST, survey=survey)
                if not codes_form.is_valid():
                    raise actions.SurveyError(gettext("请选择评议主体并填写 1 以上的生成数量"), "count")
                made = actions.do_generate_invitations(survey, group=codes_form.cleaned_data["group"],
                                                       count=codes_form.cleaned_data["count"])
                messages.success(request, gettext("已生成 %(n)d 个邀请码（第 %(b)d 批）") % {
                    "n": len(made), "b": made[0].batch})
            else:
                raise actions.SurveyError(gettext("未知操作"), "op")
        except actions.SurveyError as exc:
            messages.error(request, exc.message)
        return redirect("surveys:detail", survey.pk)
    groups = list(survey.groups.annotate(
        n_codes=Count("invitations", distinct=True),
        n_used=Count("invitations", filter=Q(invitations__used=True), distinct=True),
        n_responses=Count("responses", distinct=True)))
    batches = list(Invitation.objects.filter(survey=survey).values("batch", "group__name")
                   .annotate(n=Count("pk")).order_by("batch"))
    url = public_url(request, survey)
    return render(request, "surveys/detail.html", {
        "survey": survey, "groups": groups, "batches": batches, "codes_form": codes_form,
        "questions": list(survey.questions.all()), "organs": list(survey.organs.order_by("name")),
        "url": url, "qr_svg": segno.make(url, error="m").svg_inline(scale=5, dark="#111", omitsize=True),
        "open": survey.status == SurveyStatus.OPEN})


@login_required
def codes_export(request, pk):
    """One batch of codes (or all) as Excel: group, code, the personal link, and its QR code."""
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image

    survey = _survey_or_404(request.user, pk)
    rows = Invitation.objects.filter(survey=survey).select_related("group").order_by("batch", "group__order", "pk")
    batch = request.GET.get("batch", "")
    if batch:
        if not batch.isdigit():
            raise Http404
        rows = rows.filter(batch=int(batch))
    wb = Workbook()
    ws = wb.active
    ws.title = gettext("邀请码")[:31]
    ws.append([gettext("批次"), gettext("评议主体"), gettext("邀请码"), gettext("评议链接"), gettext("是否已使用"),
               gettext("二维码")])
    ws.column_dimensions["D"].width = 60
    ws.column_dimensions["F"].width = 16
    for i, inv in enumerate(rows, start=2):
        link = public_url(request, survey, inv.code)
        ws.append([inv.batch, inv.group.name, codes.shown(inv.code), link,
                   gettext("已使用") if inv.used else gettext("未使用")])
        png = io.BytesIO()
        segno.make(link, error="m").save(png, kind="png", scale=2, border=2)
        png.seek(0)
        image = Image(png)
        ws.add_image(image, f"F{i}")
        ws.row_dimensions[i].height = max(60, image.height * 0.75)
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_MIME)
    name = f"survey-{survey.pk}-codes{'-' + batch if batch else ''}.xlsx"
    response["Content-Disposition"] = f"attachment; filename={name}"
    return response


# --- results ------------------------------------------------------------------------------
def _comments(answers) -> dict[int, list]:
    out: dict[int, list] = {}
    for a in (answers.filter(question__kind=QuestionKind.TEXT).exclude(screened_text="")
              .select_related("question", "response__group").order_by("response__submitted_on", "pk")):
        out.setdefault(a.organ_id, []).append(a)
    return out


def _number(x):
    return None if x is None else float(x)  # a number in Excel, not the text of a Decimal


@login_required
def results(request, pk):
    survey = _survey_or_404(request.user, pk)
    stats = survey_stats(survey)
    organs = {o.pk: o for o in survey.organs.all()}
    rows = sorted(stats.values(), key=lambda s: (s.value is None, -(s.value or 0), organs[s.organ_id].name))
    for s in rows:
        s.organ = organs[s.organ_id]
    groups = list(survey.groups.all())
    if request.GET.get("export") == "xlsx":
        headers = [gettext("机关"), gettext("加权满意度"), gettext("95% 置信区间下限"), gettext("95% 置信区间上限"),
                   gettext("评议人数")]
        for g in groups:
            headers += [gettext("%(g)s 人数") % {"g": g.name}, gettext("%(g)s 平均分") % {"g": g.name}]
        table = []
        for s in rows:
            line = [s.organ.name, _number(s.value), _number(s.low), _number(s.high), s.n]
            for gs in s.groups:
                line += [gs.n, _number(gs.mean)]
            table.append(line)
        return xlsx_response(f"{survey.title}-{gettext('评议结果')}.xlsx", gettext("评议结果"), headers, table)
    answers = access.scoped(Answer.objects.filter(response__survey=survey), request.user, APPRAISE)
    comments = _comments(answers)
    for s in rows:
        s.comments = comments.get(s.organ_id, [])
    rated = [s for s in rows if s.value is not None]
    chart = {"title": gettext("加权满意度"), "labels": [s.organ.name for s in rated],
             "values": [float(s.value) for s in rated]}  # web/js/charts.js; the table holds the same figures
    return render(request, "surveys/results.html", {"survey": survey, "rows": rows, "groups": groups, "chart": chart,
                                                    "has_data": bool(rated), "n_responses": survey.responses.count()})


@login_required
def mine(request):
    """An organ's own results in closed surveys: its figures and its screened comments, nothing else."""
    if not access.has_perm(request.user, OWN):
        raise Http404
    own_answers = access.scoped(Answer.objects.filter(response__survey__status=SurveyStatus.CLOSED), request.user, OWN)
    pairs = sorted(set(own_answers.values_list("response__survey_id", "organ_id")))
    surveys = {s.pk: s for s in Survey.objects.filter(pk__in={p[0] for p in pairs})}
    organs = {o.pk: o for o in Organ.objects.filter(pk__in={p[1] for p in pairs})}
    items = []
    for survey_id, organ_id in pairs:
        survey = surveys[survey_id]
        stat = organ_stats(Answer.objects.filter(response__survey=survey), list(survey.groups.all()), [organ_id])[organ_id]
        stat.organ, stat.survey = organs[organ_id], survey
        stat.comments = _comments(own_answers.filter(response__survey=survey, organ_id=organ_id)).get(organ_id, [])
        items.append(stat)
    items.sort(key=lambda s: (-s.survey.year, s.survey.title, s.organ.name))
    return render(request, "surveys/mine.html", {"items": items})
