"""Staff appraisal pages: the grade entry of an organ, the personnel appraisal record of a person, the
person's 复核 request, and the appraisal office's list and decision of 复核.

Who sees what, through `access` only:

* the appraisal office ("appraise", in its region) and an organ's leader ("appraisal.own", on the
  organ's grant: the organ and those below it) grade the organ's staff and read their records;
* only the office decides a 复核;
* a person reads their own record (their account is the staff record's `user`), downloads their own
  notices and asks for 复核 — nobody else's;
* everyone else: 404, as for a record that does not exist.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.documents.actions import DocumentError, read_document
from xiaoneng.documents.models import Document
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ, Staff
from xiaoneng.web.lists import Column, FilterForm, ListPage

from . import personnel, reviews
from .actions import AppraisalError
from .models import ANNUAL, ReviewStatus, StaffGrade, StaffReview, period_label
from .staff import choices_for, do_submit_staff_grades

APPRAISE, OWN = "appraise", "appraisal.own"


def _name(user) -> str:
    return getattr(user, "display_name", "") or user.get_username()


def _union(qs, user):
    """Rows of `qs` the user reaches as the office or as an organ's leader."""
    parts = [access.scoped(qs, user, perm).values("pk") for perm in (APPRAISE, OWN) if access.has_perm(user, perm)]
    if not parts:
        return qs.none()
    q = Q(pk__in=parts[0])
    for part in parts[1:]:
        q |= Q(pk__in=part)
    return qs.filter(q)


def may_grade(user, organ) -> bool:
    return _union(Organ.objects.filter(pk=organ.pk), user).exists()


def grades_seen_by(user):
    own = Q(staff__user=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    return StaffGrade.objects.filter(Q(pk__in=_union(StaffGrade.objects.all(), user).values("pk")) | own)


def reviews_seen_by(user):
    own = Q(grade__staff__user=user) if getattr(user, "is_authenticated", False) else Q(pk__in=[])
    return StaffReview.objects.filter(Q(pk__in=_union(StaffReview.objects.all(), user).values("pk")) | own)


def may_decide(user, review) -> bool:
    return access.scoped(StaffReview.objects.filter(pk=review.pk), user, APPRAISE).exists()


def _staff_for(user, pk) -> tuple[Staff, bool, bool]:
    """(the person, whether the user may read as office or leader, whether it is the user themself)."""
    staff = Staff.objects.select_related("organ", "user").filter(pk=pk).first()
    if staff is None:
        raise Http404
    official = _union(Staff.objects.filter(pk=pk), user).exists()
    itself = staff.user_id is not None and staff.user_id == user.pk
    if not (official or itself):
        raise Http404
    return staff, official, itself


# --- grade entry --------------------------------------------------------------------------------
class PeriodForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(label=_("考核类别"), coerce=int, choices=[
        (0, _("年度考核")), (1, _("第一季度平时考核")), (2, _("第二季度平时考核")), (3, _("第三季度平时考核")),
        (4, _("第四季度平时考核"))])


@login_required
def grade_organs(request):
    """The organs whose staff the user grades."""
    if not (access.has_perm(request.user, APPRAISE) or access.has_perm(request.user, OWN)):
        raise Http404
    organs = list(_union(Organ.objects.filter(is_active=True), request.user).order_by("region_code", "name")[:500])
    return render(request, "appraisal/grade_organs.html", {"organs": organs})


@login_required
@require_http_methods(["GET", "POST"])
def grade_entry(request, pk):
    """The organ's staff, each with a grade select; submitted all or nothing; the notices follow."""
    organ = _union(Organ.objects.filter(pk=pk), request.user).first()
    if organ is None:
        raise Http404
    today = timezone.localdate()
    period = PeriodForm(request.GET or None, initial={"year": today.year - (1 if today.month < 7 else 0),
                                                      "quarter": ANNUAL})
    # A bad year or quarter in the address shows its error over the default period, never another period's grades.
    year, quarter = (period.cleaned_data["year"], period.cleaned_data["quarter"]) if period.is_valid() else (
        period.initial["year"], ANNUAL)
    staff = list(Staff.objects.filter(organ=organ, is_active=True).order_by("name", "pk"))
    current = {g.staff_id: g for g in StaffGrade.objects.filter(organ=organ, year=year, quarter=quarter)}
    choices = choices_for(quarter)
    chosen = {s.pk: current[s.pk].grade if s.pk in current else "" for s in staff}
    error = ""
    status = 200
    if request.method == "POST":
        chosen = {s.pk: request.POST.get(f"grade-{s.pk}", "") for s in staff}
        grades = {s: chosen[s.pk] for s in staff if chosen[s.pk]}
        try:
            saved = do_submit_staff_grades(organ, year, grades, quarter=quarter, by=_name(request.user),
                                           reason=request.POST.get("reason", ""))
        except AppraisalError as exc:
            error, status = exc.message, 400
        else:
            told = 0
            for grade in saved:
                try:
                    if reviews.do_issue_staff_notice(grade, actor=request.user).notified_at:
                        told += 1
                except (AppraisalError, DocumentError) as exc:
                    messages.error(request, f"{grade.staff.name}：{exc}")
            messages.success(request, gettext("已报送 %(n)d 人的%(period)s等次，已书面通知 %(t)d 人") % {
                "n": len(saved), "period": period_label(year, quarter), "t": told})
            return redirect(f"{reverse('appraisal:grade-entry', args=[organ.pk])}?year={year}&quarter={quarter}")
    rows = [{"staff": s, "grade": current.get(s.pk), "chosen": chosen[s.pk]} for s in staff]
    return render(request, "appraisal/grade_entry.html", {
        "organ": organ, "period": period, "year": year, "quarter": quarter, "rows": rows, "choices": choices,
        "error": error, "label": period_label(year, quarter), "reason": request.POST.get("reason", "")}, status=status)


# --- the personnel appraisal record ---------------------------------------------------------------
class ReviewRequestForm(forms.Form):
    grade = forms.IntegerField(widget=forms.HiddenInput)
    grounds = forms.CharField(label=_("复核理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class RegisterReviewForm(ReviewRequestForm):
    """A written request the office received (by post or by hand), registered with the day it arrived."""

    received_at = forms.DateTimeField(label=_("收到申请时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now():
            raise forms.ValidationError(_("收到申请时间不能晚于现在"))
        return value


@login_required
@require_http_methods(["GET", "POST"])
def staff_record(request, pk):
    staff, official, itself = _staff_for(request.user, pk)
    office = access.scoped(Staff.objects.filter(pk=pk), request.user, APPRAISE).exists()
    form, register_form = ReviewRequestForm(), RegisterReviewForm()
    status = 200
    if request.method == "POST":
        registering = request.POST.get("op") == "register"
        if (registering and not office) or (not registering and not itself):
            raise Http404  # a 复核 is the person's own request, or one the office received in writing
        form = (RegisterReviewForm if registering else ReviewRequestForm)(request.POST)
        if form.is_valid():
            grade = StaffGrade.objects.filter(pk=form.cleaned_data["grade"], staff=staff).first()
            if grade is None:
                raise Http404
            try:
                reviews.do_request_staff_review(grade, grounds=form.cleaned_data["grounds"], by=_name(request.user),
                                                at=form.cleaned_data.get("received_at"))
            except AppraisalError as exc:
                form.add_error("grounds" if exc.field == "grounds" else None, exc.message)
            else:
                messages.success(request, gettext("复核申请已提交"))
                return redirect("appraisal:staff-record", staff.pk)
        status = 400
        if registering:
            form, register_form = ReviewRequestForm(), form
    now = timezone.now()
    record = personnel.record_of(staff, on=timezone.localdate(now))
    return render(request, "appraisal/staff_record.html", {
        "staff": staff, "record": record, "official": official, "itself": itself, "form": form,
        "office": office, "register_form": register_form,
        "may_grade": official and may_grade(request.user, staff.organ)}, status=status)


@login_required
def my_record(request):
    staff = Staff.objects.filter(user=request.user).first()
    if staff is None:
        raise Http404
    return redirect("appraisal:staff-record", staff.pk)


@login_required
def notice_download(request, pk):
    """The notice of a grade, to the person themself or to those who grade the organ."""
    grade = grades_seen_by(request.user).filter(pk=pk).first()
    if grade is None or not grade.notice_number:
        raise Http404
    document = Document.objects.filter(kind=reviews.NOTICE, number=grade.notice_number,
                                       subject_key__startswith=f"staffgrade:{grade.pk}:").first()
    return _pdf(document)


@login_required
def review_notice_download(request, pk):
    review = reviews_seen_by(request.user).filter(pk=pk).first()
    if review is None:
        raise Http404
    document = Document.objects.filter(kind=reviews.DECISION, subject_key=f"staffreview:{review.pk}").first()
    return _pdf(document)


def _pdf(document):
    if document is None:
        raise Http404
    try:
        data = read_document(document)
    except (DocumentError, OSError) as exc:
        return HttpResponse(str(exc) if isinstance(exc, DocumentError) else gettext("文书文件缺失，请联系系统管理员。"),
                            status=410, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="document-{document.pk}.pdf"'
    return response


# --- 复核: the office's list and decision --------------------------------------------------------
class ReviewFilterForm(FilterForm):
    q = forms.CharField(label=_("搜索"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("姓名或机关"),
                                                      "autocomplete": "off"}))
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部状态")), *ReviewStatus.choices])
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)

    def filter(self, queryset):
        data = self.cleaned_data
        if data["q"].strip():
            t = data["q"].strip()
            queryset = queryset.filter(Q(grade__staff__name__icontains=t) | Q(grade__organ__name__icontains=t))
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["year"]:
            queryset = queryset.filter(grade__year=data["year"])
        return queryset


def _due(review) -> str:
    from xiaoneng.clocks.explain import deadline_label

    return deadline_label(review.clock.due_at) if review.clock_id else ""


class ReviewList(ListPage):
    template_name = "appraisal/reviews.html"
    partial_template_name = "appraisal/_review_results.html"
    form_class = ReviewFilterForm
    results_id = "review-results"
    sorts = {"requested": ("requested_at", "pk"), "due": ("clock__due_at", "pk"), "name": ("grade__staff__name", "pk")}
    default_sort = "-requested"
    export_name = _("考核结果复核")
    columns = [
        Column(_("姓名"), lambda r: r.grade.staff.name),
        Column(_("机关"), lambda r: r.grade.organ.name),
        Column(_("考核期"), lambda r: r.grade.period_label),
        Column(_("原等次"), lambda r: r.original_label),
        Column(_("申请时间"), lambda r: timezone.localtime(r.requested_at).strftime("%Y-%m-%d %H:%M")),
        Column(_("决定期限"), _due),
        Column(_("状态"), lambda r: str(r.get_status_display())),
    ]

    def get(self, request, *args, **kwargs):
        if not access.has_perm(request.user, APPRAISE):
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = StaffReview.objects.select_related("grade__staff", "grade__organ", "clock")
        return access.scoped(qs, self.request.user, APPRAISE)


review_list = ReviewList.as_view()


class DecideReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("复核决定"), choices=[(ReviewStatus.UPHELD, _("维持原等次")),
                                                          (ReviewStatus.CHANGED, _("变更等次"))])
    new_grade = forms.ChoiceField(label=_("变更后等次"), required=False)
    reasons = forms.CharField(label=_("复核意见"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, quarter, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_grade"].choices = [("", _("（维持时不填）")), *choices_for(quarter)]


@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request, pk):
    review = reviews_seen_by(request.user).select_related("grade__staff", "grade__organ", "clock").filter(pk=pk).first()
    if review is None:
        raise Http404
    office = may_decide(request.user, review)
    form = DecideReviewForm(quarter=review.grade.quarter)
    status = 200
    if request.method == "POST":
        if not office:
            raise Http404
        form = DecideReviewForm(request.POST, quarter=review.grade.quarter)
        if form.is_valid():
            d = form.cleaned_data
            try:
                reviews.do_decide_staff_review(review, outcome=d["outcome"], new_grade=d["new_grade"],
                                               reasons=d["reasons"], by=_name(request.user), actor=request.user)
            except AppraisalError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, gettext("复核已决定，已书面通知本人"))
                return redirect("appraisal:review", review.pk)
        status = 400
    return render(request, "appraisal/review.html", {"review": review, "office": office, "form": form,
                                                     "due": _due(review)}, status=status)

