"""Staff appraisal (公务员考核): 年度考核 and 平时考核 grades per person, the quotas, and who may not
have the top grade.

* Periods: the year (quarter 0: 优秀 / 称职 / 基本称职 / 不称职 / 不定等次) or a quarter 1–4 of the
  平时考核 (好 / 较好 / 一般 / 较差); the top grade of a quarter is 好, with its own quota
  `appraisal_quarter_good_quota` (0.4) and the same disqualifiers over the quarter's days.

* Quota: at most ⌊n × quota⌋ persons of an organ's n graded persons are 优秀, quota
  `appraisal_excellent_quota` (0.2), or `appraisal_excellent_quota_when_organ_excellent` (0.25)
  when the organ's own published result of that year is 优秀. Checked over the whole submission
  (the organ's grades of the year after it), with the numbers in the message.
* Disqualifiers (from accountability, one query for the whole submission): a measure in force on
  some day of the year — in force on its last day (`queries.in_force_q`, the query behind
  `measures_in_force`), or whose effect ended within the year — unless revoked by the day of
  submission; or a 诫勉 that started within the year.
"""
from __future__ import annotations

from datetime import date, datetime
from math import floor

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.accountability import measures as M
from xiaoneng.accountability.models import Party
from xiaoneng.accountability.queries import DECIDED_STATES, in_force_q
from xiaoneng.audit.log import record
from xiaoneng.clocks import actions as clocks
from xiaoneng.conf import rule

from .actions import AppraisalError, _at
from .models import (
    ANNUAL,
    Grade,
    PeriodStatus,
    QuarterGradeValue,
    Result,
    ReviewStatus,
    StaffGrade,
    StaffGradeValue,
    StaffReview,
)

EXCELLENT = StaffGradeValue.EXCELLENT
GOOD = QuarterGradeValue.GOOD
ADMONISH = "admonish"  # 诫勉 (accountability/measures.py)


def quota_for(organ, year: int, quarter: int = ANNUAL) -> float:
    if quarter != ANNUAL:
        return _share("appraisal_quarter_good_quota")
    organ_excellent = Result.objects.filter(organ=organ, period__scheme__year=year, grade=Grade.EXCELLENT,
                                            period__scheme__target="organ",
                                            period__status=PeriodStatus.PUBLISHED).exists()
    return _share("appraisal_excellent_quota_when_organ_excellent" if organ_excellent else "appraisal_excellent_quota")


def _share(name: str) -> float:
    """A quota from the configuration, a share between 0 and 1. A mistyped value (20 meant as 20 %, "abc",
    NaN) refuses the submission with a message naming the setting, rather than admitting everybody or failing."""
    value = rule(name)
    try:
        share = float(value)
    except (TypeError, ValueError):
        share = float("nan")
    if isinstance(value, bool) or not 0 <= share <= 1:  # NaN fails both comparisons
        raise AppraisalError(_("配置项 %(k)s 应为 0 至 1 之间的比例（如 0.2），现为“%(v)s”；请联系管理员") % {
            "k": name, "v": value}, "grades")
    return share


def span_of(year: int, quarter: int = ANNUAL) -> tuple[date, date]:
    """The first and last day of the year, or of its quarter."""
    if quarter == ANNUAL:
        return date(year, 1, 1), date(year, 12, 31)
    first = date(year, 3 * quarter - 2, 1)
    last = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, date.fromordinal(last.toordinal() - 1)


def top_grade(quarter: int) -> str:
    return EXCELLENT if quarter == ANNUAL else GOOD


def choices_for(quarter: int):
    return StaffGradeValue.choices if quarter == ANNUAL else QuarterGradeValue.choices


def barred_from_excellent(staff_ids, year: int, on: date, quarter: int = ANNUAL) -> dict[int, str]:
    """{staff_id: why} for the persons who may not have the top grade of the year or quarter (one query each
    for measures and 诫勉, whatever the number of persons)."""
    first, last = span_of(year, quarter)
    day = min(last, on)
    labels = M.all_measures()
    out: dict[int, str] = {}
    # In force on some day of the span: in force on its last day (the accountability query), or started
    # by then and its effect ended within the span; a measure revoked by the day of submission is void.
    ended_within = (Q(case__status__in=DECIDED_STATES, starts_on__lte=last, effect_ends_on__gt=first,
                      effect_ends_on__lte=last) & ~Q(measure=""))
    rows = (Party.objects.filter(staff_id__in=staff_ids)
            .filter(in_force_q(day) | ended_within)
            .exclude(revoked_on__lte=on)
            .values_list("staff_id", "measure", "case__number"))
    within = _("年度内") if quarter == ANNUAL else _("季度内")
    for sid, code, number in rows:
        out.setdefault(sid, _("%(m)s %(within)s处于影响期（%(no)s）") % {
            "m": labels[code].label if code in labels else code, "within": within, "no": number})
    admonished = (Party.objects.filter(staff_id__in=staff_ids, case__status__in=DECIDED_STATES, measure=ADMONISH,
                                       starts_on__gte=first, starts_on__lte=last)
                  .exclude(revoked_on__lte=on)  # a revoked 诫勉 is void like any other measure
                  .values_list("staff_id", "case__number"))
    for sid, number in admonished:
        out.setdefault(sid, _("%(within)s受到诫勉（%(no)s）") % {"within": within, "no": number})
    return out


def check_grades(organ, year: int, quarter: int, grades: dict[int, str], names: dict[int, str], on: date) -> dict:
    """Refuse grades the rules do not allow (AppraisalError, field "grades"); `grades` {staff_id: grade} are
    this submission's (or a 复核's change). Returns the figures of the quota for the audit record."""
    top = top_grade(quarter)
    barred = barred_from_excellent([sid for sid, g in grades.items() if g == top], year, on, quarter)
    if barred:
        label = StaffGradeValue(top).label if quarter == ANNUAL else QuarterGradeValue(top).label
        raise AppraisalError(_("以下人员不得确定为%(top)s：%(who)s") % {
            "top": label, "who": "；".join(f"{names[sid]}：{why}" for sid, why in barred.items())}, "grades")
    after = dict(StaffGrade.objects.filter(organ=organ, year=year, quarter=quarter).exclude(staff_id__in=list(grades))
                 .values_list("staff_id", "grade"))
    after.update(grades)
    n, excellent = len(after), sum(1 for g in after.values() if g == top)
    quota = quota_for(organ, year, quarter)
    allowed = floor(n * quota + 1e-9)
    if excellent > allowed:
        if quarter == ANNUAL:
            message = _("优秀等次超出比例：%(n)s 人参加考核，优秀比例上限 %(q)s%%，最多 %(a)s 人，现报 %(e)s 人")
        else:
            message = _("“好”等次超出比例：%(n)s 人参加本季度平时考核，“好”等次比例上限 %(q)s%%，最多 %(a)s 人，现报 %(e)s 人")
        raise AppraisalError(message % {"n": n, "q": f"{quota * 100:g}", "a": allowed, "e": excellent}, "grades")
    return {"excellent": excellent, "of": n, "quota": quota}


@transaction.atomic
def do_submit_staff_grades(organ, year: int, grades: dict, *, quarter: int = ANNUAL, by: str = "", reason: str = "",
                           at: datetime | None = None) -> list[StaffGrade]:
    """Submit (or resubmit) grades {staff: grade} of `organ`'s persons for `year` (or its `quarter`); all or
    nothing. Changing a grade already submitted needs a reason (the audit entry holds each change), and the
    person is told again: the written notice follows (`notices.py`)."""
    at = _at(at)
    if quarter not in (ANNUAL, 1, 2, 3, 4):
        raise AppraisalError(_("考核期无效：季度应为 1 至 4"), "quarter")
    if not grades:
        raise AppraisalError(_("请至少填写一人的等次"), "grades")
    allowed = {v for v, _label in choices_for(quarter)}
    for staff, grade in grades.items():
        if staff.organ_id != organ.pk:
            raise AppraisalError(_("%(n)s 不是本机关人员") % {"n": staff.name}, "grades")
        if grade not in allowed:
            raise AppraisalError(_("%(n)s 的等次无效：%(g)s") % {"n": staff.name, "g": grade}, "grades")
    names = {s.pk: s.name for s in grades}
    figures = check_grades(organ, year, quarter, {s.pk: g for s, g in grades.items()}, names, timezone.localdate(at))
    existing = {sg.staff_id: sg for sg in StaffGrade.objects.select_for_update(of=("self",)).select_related("review_window")
                .filter(year=year, quarter=quarter, staff_id__in=list(names))}
    if StaffReview.objects.filter(grade__in=list(existing.values()), status=ReviewStatus.PENDING).exists():
        raise AppraisalError(_("有人员的等次正在复核，复核决定前不能重新报送"), "grades")
    changed = {s.name: [existing[s.pk].grade, g] for s, g in grades.items()
               if s.pk in existing and existing[s.pk].grade != g}
    reason = (reason or "").strip()
    if changed and not reason:
        raise AppraisalError(_("修改已报送的等次（%(who)s），请写明理由") % {"who": "、".join(changed)}, "reason")
    out = []
    for staff, grade in grades.items():
        sg = existing.get(staff.pk)
        if sg is None:
            sg = StaffGrade.objects.create(staff=staff, organ=organ, year=year, quarter=quarter, grade=grade,
                                           submitted_at=at, submitted_by=by[:150])
        elif sg.grade != grade or sg.organ_id != organ.pk:
            # A changed grade is a new decision: it must be told in writing again, which opens a new window.
            sg.organ, sg.grade, sg.submitted_at, sg.submitted_by = organ, grade, at, by[:150]
            sg.notified_at, sg.notice_number = None, ""
            sg.save(update_fields=["organ", "grade", "submitted_at", "submitted_by", "notified_at", "notice_number"])
            if sg.review_window_id:  # the old grade's window closes with it; the new notice opens another
                clocks.do_stop_clock(sg.review_window, at=max(at, sg.review_window.start_at))
        out.append(sg)
    record("appraisal.staff_grades", organ, changes={"year": year, "quarter": quarter,
                                                     "grades": {s.name: g for s, g in grades.items()}, **figures,
                                                     "changed": changed, "reason": reason[:1000]})
    return out
