"""The written notice of a staff grade and its 复核 (review), each on a clock.

* The notice (`do_issue_staff_notice`): the grade is told to the person in writing (公务员考核规定) — a
  PDF notice (documents kind `appraisal.staff_grade`), and a platform notification when the person has an
  account. It opens the window to ask for 复核: a clock `appraisal.staff_review_request` of
  `appraisal_staff_review_request_days` (30) calendar days from receipt of the notice (公务员法第九十五条:
  the day of receipt not counted; a last day that is a rest day moves to the next working day, the clocks'
  calendar-day rule).
* The request (`do_request_staff_review`): before the window's deadline, once per notice; a late request is
  refused with the deadline it missed. The window stops; the decision clock `appraisal.staff_review` starts
  (`appraisal_staff_review_decision_days` in `appraisal_staff_review_decision_unit`, 30 calendar days).
* The decision (`do_decide_staff_review`): upheld, or changed to another grade of the same period — a change
  passes the same rules as a submission (the quota with the change counted, the accountability disqualifiers).
  The person is told in writing (`appraisal.staff_review`) and in the platform.

The clocks carry the region but no organ: the window is the person's right and the decision the appraisal
office's duty, so neither raises a deadline warning against the organ's handlers. A window nobody used
closes itself: when the monitoring pass finds it past its deadline, `close_lapsed_windows` stops it at the
deadline, so a lapsed right does not sit among the running clocks.
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule
from xiaoneng.documents.actions import do_issue_document

from .actions import AppraisalError, _at, _need
from .models import ReviewStatus, StaffGrade, StaffReview
from .staff import check_grades, choices_for

WINDOW_CLOCK = "appraisal.staff_review_request"
DECISION_CLOCK = "appraisal.staff_review"
NOTICE = "appraisal.staff_grade"
DECISION = "appraisal.staff_review"
BASIS_WINDOW = "《公务员考核规定》；《中华人民共和国公务员法》第九十五条"
BASIS_DECISION = "《公务员考核规定》；《公务员申诉规定》"


def _locked(grade: StaffGrade) -> StaffGrade:
    return (StaffGrade.objects.select_for_update(of=("self",)).select_related("staff", "organ", "review_window")
            .get(pk=grade.pk))


def _tell(staff, *, title: str, key: str) -> None:
    """A platform notification to the person, if they have an account (after commit)."""
    from xiaoneng.inbox.actions import Note, notify_after_commit

    if staff.user_id is None:
        return
    notify_after_commit([Note(kind="appraisal", title=title, key=key, users=[staff.user], roles=(),
                              link=reverse("appraisal:staff-record", args=[staff.pk]))])


@transaction.atomic
def do_issue_staff_notice(grade: StaffGrade, *, actor=None, at: datetime | None = None) -> StaffGrade:
    """1. Once per grade as submitted: a grade already told returns as it is.
    2. Open the 复核 window (a calendar-day clock from now; an earlier window of the same grade stops).
    3. Issue the PDF notice, which states the window's last day; record its number and time.
    4. Tell the person in the platform."""
    at = _at(at)
    grade = _locked(grade)
    if grade.notified_at is not None:
        return grade
    if grade.review_window_id and grade.review_window.state != Clock.State.STOPPED:
        clocks.do_stop_clock(grade.review_window, at=max(at, grade.review_window.start_at))
    days = int(rule("appraisal_staff_review_request_days"))
    grade.review_window = clocks.do_start_clock(
        kind=WINDOW_CLOCK, start_at=at, limit=days, unit="calendar", subject=grade,
        region_code=grade.organ.region_code, legal_basis=BASIS_WINDOW,
        label=_("复核申请期限：%(name)s %(period)s") % {"name": grade.staff.name, "period": grade.period_label})
    document = do_issue_document(NOTICE, grade, actor=actor, at=at)
    grade.notified_at, grade.notice_number = at, document.number
    grade.save(update_fields=["review_window", "notified_at", "notice_number"])
    record("appraisal.staff_notice", grade, changes={"number": document.number, "grade": grade.grade,
                                                     "review_until": deadline_label(grade.review_window.due_at)})
    _tell(grade.staff, key=f"appraisal.notice:{grade.pk}:{document.pk}",
          title=_("%(period)s结果：%(grade)s（通知书 %(no)s）") % {
              "period": grade.period_label, "grade": grade.get_grade_display(), "no": document.number})
    return grade


@transaction.atomic
def do_request_staff_review(grade: StaffGrade, *, grounds: str, by: str = "",
                            at: datetime | None = None) -> StaffReview:
    """The person asks for 复核 of the grade they were told, within the window."""
    at = _at(at)
    grade = _locked(grade)
    if grade.notified_at is None or grade.review_window is None:
        raise AppraisalError(_("考核结果尚未书面通知本人，暂不能申请复核"), "grounds")
    if grade.reviews.filter(requested_at__gte=grade.notified_at).exists():
        raise AppraisalError(_("已对该考核结果申请过复核"), "grounds")
    window = grade.review_window
    if window.due_at is None or at >= window.due_at:
        raise AppraisalError(_("复核申请期限已于 %(due)s 届满（自收到考核结果通知之日起 %(n)d 日），不予受理") % {
            "due": deadline_label(window.due_at), "n": window.limit}, "grounds")
    grounds = _need(grounds, "grounds", _("请写明申请复核的理由"))
    clocks.do_stop_clock(window, at=at)
    limit = int(rule("appraisal_staff_review_decision_days"))
    unit = str(rule("appraisal_staff_review_decision_unit"))
    review = StaffReview.objects.create(grade=grade, grounds=grounds, requested_at=at, requested_by=by[:150],
                                        original_grade=grade.grade)
    review.clock = clocks.do_start_clock(
        kind=DECISION_CLOCK, start_at=at, limit=limit, unit=unit, subject=review, region_code=grade.organ.region_code,
        legal_basis=BASIS_DECISION,
        label=_("考核结果复核：%(name)s %(period)s") % {"name": grade.staff.name, "period": grade.period_label})
    review.save(update_fields=["clock"])
    record("appraisal.staff_review", review, changes={"grade": grade.grade, "due": deadline_label(review.clock.due_at)})
    return review


@transaction.atomic
def do_decide_staff_review(review: StaffReview, *, outcome: str, reasons: str, new_grade: str = "", by: str = "",
                           actor=None, at: datetime | None = None) -> StaffReview:
    """Uphold the grade or change it. A change is checked like a submission (quota, disqualifiers)."""
    at = _at(at)
    review = StaffReview.objects.select_for_update(of=("self",)).select_related("clock").get(pk=review.pk)
    grade = _locked(review.grade)
    if review.status != ReviewStatus.PENDING:
        raise AppraisalError(_("该复核已决定"), "outcome")
    if outcome not in (ReviewStatus.UPHELD, ReviewStatus.CHANGED):
        raise AppraisalError(_("请选择维持原等次或变更等次"), "outcome")
    review.reasons = _need(reasons, "reasons", _("请写明复核意见"))
    if outcome == ReviewStatus.CHANGED:
        labels = dict(choices_for(grade.quarter))
        if new_grade not in labels:
            raise AppraisalError(_("请选择变更后的等次"), "new_grade")
        if new_grade == grade.grade:
            raise AppraisalError(_("变更后的等次与原等次相同；如维持原等次请选择“维持原等次”"), "new_grade")
        try:
            check_grades(grade.organ, grade.year, grade.quarter, {grade.staff_id: new_grade},
                         {grade.staff_id: grade.staff.name}, timezone.localdate(at))
        except AppraisalError as exc:
            raise AppraisalError(exc.message, "new_grade") from None
        review.new_grade = new_grade
        grade.grade = new_grade
        grade.save(update_fields=["grade"])
    review.status, review.decided_at, review.decided_by = outcome, at, by[:150]
    review.save(update_fields=["status", "new_grade", "reasons", "decided_at", "decided_by"])
    if review.clock_id and review.clock.state != Clock.State.STOPPED:
        clocks.do_stop_clock(review.clock, at=max(at, review.clock.start_at))
    record("appraisal.staff_review_decide", review, changes={"outcome": outcome, "from": review.original_grade,
                                                             "to": review.new_grade or review.original_grade})
    document = do_issue_document(DECISION, review, actor=actor, at=at)
    _tell(grade.staff, key=f"appraisal.review:{review.pk}",
          title=_("%(period)s复核决定：%(outcome)s（%(no)s）") % {
              "period": grade.period_label, "outcome": review.get_status_display(), "no": document.number})
    return review


def close_lapsed_windows(events) -> None:
    """Monitoring listener: stop each 复核 window the pass found past its deadline, at the deadline."""
    from xiaoneng.clocks.models import ClockEvent

    for event in events:
        clock = event.clock
        if event.kind == ClockEvent.Kind.OVERDUE and clock.kind == WINDOW_CLOCK and clock.due_at is not None:
            clocks.do_stop_clock(clock, at=clock.due_at)
