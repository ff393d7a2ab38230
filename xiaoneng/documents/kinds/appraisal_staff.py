"""The written notices of staff appraisal (公务员考核): the notice of a grade to the person (考核结果通知书,
公务员考核规定: the result is told to the person in writing) and the notice of a 复核 decision
(复核决定通知书).

They are personnel documents: read by the appraisal office ("appraise") and the organ's leader
("appraisal.own") in scope, and by the person through their own record page (appraisal.views_staff);
issued in the name of the person's organ. One notice per grade as submitted: a grade changed by a
resubmission or a 复核 is a new decision and gets a new notice.
"""
from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import SUBJECTS, Content, DocumentKind, Subject, register
from .approvals import _day

PERMS = ("appraise", "appraisal.own")


def _load_grade(user, pk):
    from django.http import Http404

    from xiaoneng.appraisal.views_staff import grades_seen_by

    grade = grades_seen_by(user).select_related("staff", "organ").filter(pk=pk).first()
    if grade is None:
        raise Http404
    return grade


def _may_issue(user, grade) -> bool:
    from xiaoneng.appraisal.views_staff import may_grade

    return may_grade(user, grade.organ)


SUBJECTS["staffgrade"] = Subject(load=_load_grade, may_issue=_may_issue,
                                 url=lambda grade: reverse("appraisal:staff-record", args=[grade.staff_id]))


def _date(day) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def _window_words(grade) -> str:
    from xiaoneng.clocks.engine import local_date

    days = grade.review_window.limit if grade.review_window_id else 30
    text = _("如对考核结果不服，可自收到本通知之日起 %(n)d 日内向本机关书面申请复核") % {"n": days}
    if grade.review_window_id and grade.review_window.due_at:
        # due_at is 24:00 of the last day, stored as 00:00 of the next: the last day is the day before.
        last = local_date(grade.review_window.due_at - timedelta(seconds=1))
        text += _("（最后一日为 %(d)s，遇法定节假日顺延）") % {"d": _date(last)}
    return text + _("；也可按照规定提出申诉。")


@register
class StaffGradeNotice(DocumentKind):
    code = "appraisal.staff_grade"
    title = gettext_lazy("公务员考核结果通知书")
    word = "考"
    subject_type = "staffgrade"
    perms = PERMS
    legal_basis = gettext_lazy("《公务员考核规定》；《中华人民共和国公务员法》第九十五条")

    def applies(self, grade) -> bool:
        return bool(grade.grade)

    def subject_key(self, grade) -> str:
        return f"staffgrade:{grade.pk}:{int(grade.submitted_at.timestamp())}"

    def subject_label(self, grade) -> str:
        return _("%(name)s %(period)s结果") % {"name": grade.staff.name, "period": grade.period_label}

    def content(self, grade) -> Content:
        return Content(
            addressee=_("%(name)s同志：") % {"name": grade.staff.name},
            paragraphs=[
                _("经考核，你的%(period)s等次确定为“%(grade)s”。") % {"period": grade.period_label,
                                                          "grade": grade.get_grade_display()},
                _window_words(grade),
            ],
            facts=[(_("姓名"), grade.staff.name), (_("机关"), grade.organ.name),
                   (_("考核期"), grade.period_label), (_("等次"), str(grade.get_grade_display())),
                   (_("确定时间"), _day(grade.submitted_at))],
        )


def _load_review(user, pk):
    from django.http import Http404

    from xiaoneng.appraisal.views_staff import reviews_seen_by

    review = reviews_seen_by(user).select_related("grade__staff", "grade__organ").filter(pk=pk).first()
    if review is None:
        raise Http404
    return review


def _may_issue_review(user, review) -> bool:
    from xiaoneng.appraisal.views_staff import may_decide

    return may_decide(user, review)


SUBJECTS["staffreview"] = Subject(load=_load_review, may_issue=_may_issue_review,
                                  url=lambda review: reverse("appraisal:review", args=[review.pk]))


@register
class StaffReviewDecision(DocumentKind):
    code = "appraisal.staff_review"
    title = gettext_lazy("考核结果复核决定通知书")
    word = "考复"
    subject_type = "staffreview"
    perms = PERMS
    legal_basis = gettext_lazy("《公务员考核规定》；《中华人民共和国公务员法》第九十五条")

    def applies(self, review) -> bool:
        return review.decided_at is not None

    def organ(self, review):
        return review.grade.organ

    def subject_label(self, review) -> str:
        return _("%(name)s %(period)s复核") % {"name": review.grade.staff.name, "period": review.grade.period_label}

    def content(self, review) -> Content:
        from xiaoneng.appraisal.models import ReviewStatus, StaffGrade

        labels = dict(StaffGrade._meta.get_field("grade").choices)
        original = str(labels.get(review.original_grade, review.original_grade))
        if review.status == ReviewStatus.CHANGED:
            outcome = _("经复核，你的%(period)s等次由“%(old)s”变更为“%(new)s”。") % {
                "period": review.grade.period_label, "old": original, "new": str(labels.get(review.new_grade))}
        else:
            outcome = _("经复核，维持你的%(period)s等次“%(old)s”。") % {"period": review.grade.period_label,
                                                                "old": original}
        return Content(
            addressee=_("%(name)s同志：") % {"name": review.grade.staff.name},
            paragraphs=[
                _("你于 %(d)s 提出的考核结果复核申请收悉。") % {"d": _day(review.requested_at)},
                outcome,
                _("复核意见：%(r)s") % {"r": review.reasons},
                _("如对复核决定不服，可自接到本决定之日起 15 日内按照规定提出申诉。"),
            ],
            facts=[(_("姓名"), review.grade.staff.name), (_("机关"), review.grade.organ.name),
                   (_("考核期"), review.grade.period_label), (_("决定时间"), _day(review.decided_at))],
        )
