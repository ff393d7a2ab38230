"""Staff appraisal (公务员年度考核): grades per person, the 优秀 quota, and who may not be 优秀.

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
from xiaoneng.conf import rule

from .actions import AppraisalError, _at
from .models import Grade, PeriodStatus, Result, StaffGrade, StaffGradeValue

EXCELLENT = StaffGradeValue.EXCELLENT
ADMONISH = "admonish"  # 诫勉 (accountability/measures.py)


def quota_for(organ, year: int) -> float:
    organ_excellent = Result.objects.filter(organ=organ, period__scheme__year=year, grade=Grade.EXCELLENT,
                                            period__status=PeriodStatus.PUBLISHED).exists()
    return float(rule("appraisal_excellent_quota_when_organ_excellent" if organ_excellent
                      else "appraisal_excellent_quota"))


def barred_from_excellent(staff_ids, year: int, on: date) -> dict[int, str]:
    """{staff_id: why} for the persons who may not be 优秀 in `year` (one query)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    day = min(last, on)
    labels = M.all_measures()
    out: dict[int, str] = {}
    # In force on some day of the year: in force on its last day (the accountability query), or started
    # by then and its effect ended within the year; a measure revoked by the day of submission is void.
    ended_within = (Q(case__status__in=DECIDED_STATES, starts_on__lte=last, effect_ends_on__gt=first,
                      effect_ends_on__lte=last) & ~Q(measure=""))
    rows = (Party.objects.filter(staff_id__in=staff_ids)
            .filter(in_force_q(day) | ended_within)
            .exclude(revoked_on__lte=on)
            .values_list("staff_id", "measure", "case__number"))
    for sid, code, number in rows:
        out.setdefault(sid, _("%(m)s 年度内处于影响期（%(no)s）") % {"m": labels[code].label if code in labels else code,
                                                             "no": number})
    admonished = (Party.objects.filter(staff_id__in=staff_ids, case__status__in=DECIDED_STATES, measure=ADMONISH,
                                       starts_on__gte=first, starts_on__lte=last)
                  .exclude(revoked_on__lte=on)  # a revoked 诫勉 is void like any other measure
                  .values_list("staff_id", "case__number"))
    for sid, number in admonished:
        out.setdefault(sid, _("年度内受到诫勉（%(no)s）") % {"no": number})
    return out


@transaction.atomic
def do_submit_staff_grades(organ, year: int, grades: dict, *, by: str = "",
                           at: datetime | None = None) -> list[StaffGrade]:
    """Submit (or resubmit) grades {staff: grade} of `organ`'s persons for `year`; all or nothing."""
    at = _at(at)
    if not grades:
        raise AppraisalError(_("请至少填写一人的等次"), "grades")
    for staff, grade in grades.items():
        if staff.organ_id != organ.pk:
            raise AppraisalError(_("%(n)s 不是本机关人员") % {"n": staff.name}, "grades")
        if grade not in StaffGradeValue.values:
            raise AppraisalError(_("%(n)s 的等次无效：%(g)s") % {"n": staff.name, "g": grade}, "grades")
    ids = [s.pk for s in grades]
    barred = barred_from_excellent([s.pk for s, g in grades.items() if g == EXCELLENT], year, timezone.localdate(at))
    if barred:
        names = {s.pk: s.name for s in grades}
        raise AppraisalError(_("以下人员不得确定为优秀：%(who)s") % {
            "who": "；".join(f"{names[sid]}：{why}" for sid, why in barred.items())}, "grades")
    after = dict(StaffGrade.objects.filter(organ=organ, year=year).exclude(staff_id__in=ids)
                 .values_list("staff_id", "grade"))
    after.update({s.pk: g for s, g in grades.items()})
    n, excellent = len(after), sum(1 for g in after.values() if g == EXCELLENT)
    quota = quota_for(organ, year)
    allowed = floor(n * quota + 1e-9)
    if excellent > allowed:
        raise AppraisalError(_("优秀等次超出比例：%(n)s 人参加考核，优秀比例上限 %(q)s%%，最多 %(a)s 人，现报 %(e)s 人") % {
            "n": n, "q": f"{quota * 100:g}", "a": allowed, "e": excellent}, "grades")
    out = []
    for staff, grade in grades.items():
        sg, _created = StaffGrade.objects.update_or_create(
            staff=staff, year=year, defaults={"organ": organ, "grade": grade, "submitted_at": at,
                                              "submitted_by": by[:150]})
        out.append(sg)
    record("appraisal.staff_grades", organ, changes={"year": year, "grades": {s.name: g for s, g in grades.items()},
                                                     "excellent": excellent, "of": n, "quota": quota})
    return out
