"""A person's appraisal record (人事考核档案): where promotion, reward and adjustment decisions look.

`record_of(staff, on)` gathers, in a handful of queries: the yearly grades (年度考核), the quarterly
grades (平时考核), the results of the leadership teams the person was a leading cadre of, the
accountability measures in force on `on` (`accountability.queries.measures_in_force`) and the 复核 asked;
and derives flags with their reasons, each from the record alone (nothing stored):

* 不可晋升 while a measure is in force (its promotion bar, 影响期), when the latest yearly grade is
  基本称职 or 不称职, or while that grade is under 复核; otherwise 可晋升 as far as the appraisal record
  goes (years in post and the other conditions are outside the platform);
* 嘉奖 for a yearly 优秀, 记三等功 for three consecutive years of 优秀 (公务员考核规定);
* 调整: one year 不称职 — lower by one post or rank (降低一个职务或者职级层次任职); two consecutive
  years 不称职 — dismissal (辞退, 公务员法).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from xiaoneng.accountability.queries import measures_in_force

from .models import ANNUAL, LeadingCadre, ReviewStatus, StaffGrade, StaffGradeValue, StaffReview

G = StaffGradeValue


@dataclass
class Flag:
    code: str  # promotable / not_promotable / reward / merit / demote / dismiss
    label: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class Record:
    annual: list
    quarterly: list
    teams: list
    measures: list
    reviews: list
    promotable: bool
    flags: list[Flag]

    @property
    def notified(self) -> bool:
        return any(g.notice_number for g in self.annual + self.quarterly)


def record_of(staff, *, on: date) -> Record:
    grades = list(StaffGrade.objects.filter(staff=staff).select_related("organ", "review_window")
                  .order_by("-year", "-quarter"))
    annual = [g for g in grades if g.quarter == ANNUAL]
    quarterly = [g for g in grades if g.quarter != ANNUAL]
    teams = list(LeadingCadre.objects.filter(staff=staff).select_related("result__organ", "result__period__scheme")
                 .order_by("-result__period__scheme__year"))
    measures = measures_in_force(staff, on)
    reviews = list(StaffReview.objects.filter(grade__staff=staff).select_related("grade", "clock"))
    flags: list[Flag] = []

    bars = [_("%(m)s影响期内（%(no)s，%(start)s 起）") % {"m": m.measure.label, "no": m.party.case.number,
                                                     "start": m.starts_on.isoformat()}
            for m in measures if m.blocks_promotion]
    latest = annual[0] if annual else None
    if latest is not None and latest.grade in (G.BASIC, G.INCOMPETENT):
        bars.append(_("%(y)s 年度考核为%(g)s") % {"y": latest.year, "g": latest.get_grade_display()})
    pending = [r for r in reviews if r.status == ReviewStatus.PENDING and r.grade.quarter == ANNUAL]
    if pending:
        bars.append(_("%(y)s 年度考核结果正在复核") % {"y": pending[0].grade.year})
    if bars:
        flags.append(Flag("not_promotable", _("不可晋升"), bars))
    else:
        basis = [_("%(y)s 年度考核为%(g)s") % {"y": latest.year, "g": latest.get_grade_display()}] if latest else [
            _("尚无年度考核等次")]
        flags.append(Flag("promotable", _("可晋升"), [*basis, _("无影响期内的问责或处分")]))

    if latest is not None and latest.grade == G.EXCELLENT:
        years = _consecutive(annual, G.EXCELLENT)
        if years >= 3:
            flags.append(Flag("merit", _("记三等功"), [_("连续三年年度考核为优秀（%(y)s）") % {
                "y": "、".join(str(latest.year - i) for i in range(2, -1, -1))}]))
        else:
            flags.append(Flag("reward", _("嘉奖"), [_("%(y)s 年度考核为优秀") % {"y": latest.year}]))
    if latest is not None and latest.grade == G.INCOMPETENT:
        if _consecutive(annual, G.INCOMPETENT) >= 2:
            flags.append(Flag("dismiss", _("辞退"), [_("连续两年年度考核为不称职（%(a)s、%(b)s）") % {
                "a": latest.year - 1, "b": latest.year}]))
        else:
            flags.append(Flag("demote", _("降低一个职务或者职级层次任职"),
                              [_("%(y)s 年度考核为不称职") % {"y": latest.year}]))
    return Record(annual=annual, quarterly=quarterly, teams=teams, measures=measures, reviews=reviews,
                  promotable=not bars, flags=flags)


def _consecutive(annual: list, grade: str) -> int:
    """How many years in a row, back from the latest yearly grade, the grade was `grade` (no gap years)."""
    n, year = 0, None
    for g in annual:  # newest first
        if g.grade != grade or (year is not None and g.year != year - 1):
            break
        n, year = n + 1, g.year
    return n
