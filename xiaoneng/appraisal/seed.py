"""Demo data for the appraisal, made through the actions on top of the demo's platform data.

Seed step ``appraisal`` (order 95: after the cases, complaints, accountability and roll-ups it
reads; registry: xiaoneng.orgs.seed):

1. Two classes: 广州市市直单位 (the city's government departments, region 广州市) and
   天河区区直单位 (the district's, region 天河区, with tianhe_leader's 市场监督管理局).
2. For each, last year's scheme (`SCHEME`: on-time rate, cards, substantiated complaints,
   accountability, the annual-goal attainment entered by hand) and this year's, copied from it.
3. Last year's period taken through the whole process at moments early in this year: manual
   values with evidence (one organ per class left out), closed, computed from the platform data
   (whatever of the demo's year of cases, complaints and decisions falls in that year),
   provisional; the organ left out objects (upheld: its value is entered and the period
   recomputed), another objects against its on-time rate (rejected with reasons); published once
   the objection window has run.
4. Staff grades of last year for six organs of the 天河 class, at the 优秀 quota (the higher one
   when the organ's published grade is 优秀), nobody barred by an accountability measure.
5. This year's period open, with about two thirds of the manual values entered.

"Last year" is the year before the one that started at least 60 days ago, so every moment of step
3 lies in the past (on 7 December 2026: 2025 published, 2026 open). Idempotent: a class, scheme,
value, objection or grade that exists is left as it is (the office may have changed it) and a
period only moves on from the status it has; deterministic (one generator per organ and year).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from xiaoneng.orgs.models import Organ, Region, Staff
from xiaoneng.orgs.seed import TEMPLATE_BY_KEY, organ_credit_code, register_seed_step

from . import actions, staff
from .models import (
    ManualValue,
    Objection,
    ObjectionStatus,
    OrganClass,
    Period,
    PeriodStatus,
    Result,
    Scheme,
    SchemeStatus,
    Source,
    StaffGrade,
    StaffGradeValue,
)

P = PeriodStatus
GOVERNMENT_KEYS = range(1, 20)  # xiaoneng.orgs.seed: the government departments of every place
# (region code, class name, the organ that forgets its manual value, the organ that objects in vain,
# the organs whose staff get last year's grades — a few are enough to show them, and grading every
# person through the action, audited, is most of this step's time)
CLASSES = (
    ("440100000000", "广州市市直单位", 11, 3, ()),  # 交通运输局, 公安局
    # 市场监督管理局 (tianhe_leader's), 自然资源局; grades in 市场监管, 自然资源, 人社, 政数, 民政, 住建
    ("440106000000", "天河区区直单位", 18, 8, (18, 8, 7, 19, 4, 10)),
)
SCHEME = [
    {"code": "1", "parent": "", "name": "办件效能", "weight": 50, "source": "", "method": "", "params": {}},
    {"code": "1.1", "parent": "1", "name": "承诺时限按时办结率", "weight": 60, "source": "on_time", "method": "linear",
     "params": {"worst": 80, "best": 100}},
    {"code": "1.2", "parent": "1", "name": "每百件办件红黄牌", "weight": 40, "source": "cards", "method": "linear",
     "params": {"worst": 10, "best": 0}},
    {"code": "2", "parent": "", "name": "群众满意", "weight": 25, "source": "", "method": "", "params": {}},
    {"code": "2.1", "parent": "2", "name": "效能投诉查实", "weight": 100, "source": "complaints", "method": "deduction",
     "params": {"per_event": 5, "floor": 40}},
    {"code": "3", "parent": "", "name": "作风与目标", "weight": 25, "source": "", "method": "", "params": {}},
    {"code": "3.1", "parent": "3", "name": "效能问责人次", "weight": 40, "source": "accountability",
     "method": "deduction", "params": {"per_event": 10}},
    {"code": "3.2", "parent": "3", "name": "年度工作目标完成率", "weight": 60, "source": "manual", "method": "attainment",
     "params": {"target": 100, "cap": 100}},
]
OFFICE = "考评办（演示）"
CURRENT_SHARE = 0.65  # of this year's manual values entered so far


def years(now: datetime) -> tuple[int, int]:
    """(the year published, the year open)."""
    base = timezone.localdate(now - timedelta(days=60)).year
    return base - 1, base


def _moment(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def _organs(region_code: str) -> list[Organ]:
    codes = [organ_credit_code(k, TEMPLATE_BY_KEY[k].legal, region_code) for k in GOVERNMENT_KEYS]
    return list(Organ.objects.filter(credit_code__in=codes, is_active=True).order_by("credit_code"))


def _organ(region_code: str, key: int) -> Organ | None:
    return Organ.objects.filter(credit_code=organ_credit_code(key, TEMPLATE_BY_KEY[key].legal, region_code)).first()


def _class(region_code: str, name: str) -> OrganClass | None:
    region = Region.objects.filter(code=region_code).first()
    organs = _organs(region_code)
    if region is None or not organs:
        return None
    found = OrganClass.objects.filter(region=region, name=name).first()
    return found or actions.do_create_class(name=name, region=region, organs=organs)


def _scheme(organ_class: OrganClass, year: int, source: Scheme | None) -> Scheme:
    scheme = (Scheme.objects.filter(organ_class=organ_class, year=year, status=SchemeStatus.ACTIVE).first()
              or Scheme.objects.filter(organ_class=organ_class, year=year).order_by("-version").first())
    if scheme is None:
        if source is not None:
            scheme = actions.do_copy_scheme(source, year=year)
        else:
            scheme = actions.do_create_scheme(organ_class=organ_class, year=year,
                                              title=f"{year}年度{organ_class.name}绩效考评方案",
                                              rows=[dict(r) for r in SCHEME])
    if scheme.status == SchemeStatus.DRAFT:
        actions.do_activate_scheme(scheme)
        scheme.refresh_from_db()
    return scheme


def _goal(organ: Organ, year: int) -> tuple[Decimal, str]:
    rng = random.Random(f"{organ.credit_code}-{year}-goals")
    total = rng.randint(8, 14)
    done = total - rng.choice((0, 0, 0, 1, 1, 2))
    value = (Decimal(done * 100) / total).quantize(Decimal("0.1"))
    return value, (f"{year}年度工作目标责任书及考核表：{total} 项目标完成 {done} 项"
                   f"（{organ.short_name or organ.name}报送，经核对原件）")


def _enter(period: Period, organ: Organ, at: datetime) -> bool:
    indicator = period.scheme.indicators.get(source=Source.MANUAL)
    if ManualValue.objects.filter(period=period, indicator=indicator, organ=organ).exists():
        return False
    value, evidence = _goal(organ, period.scheme.year)
    actions.do_enter_manual_value(period, indicator=indicator, organ=organ, value=value, evidence=evidence,
                                  entered_by=OFFICE, at=at)
    return True


def _published_year(organ_class: OrganClass, scheme: Scheme, forgets: Organ | None, objects: Organ | None,
                    now: datetime) -> str:
    """Take last year's period as far as `now` allows (each stage only from the status before it)."""
    period = Period.objects.get(scheme=scheme)
    y = scheme.year + 1  # the process runs early in the next year

    def due(moment):
        return moment < now

    if period.status == P.OPEN and due(_moment(y, 1, 5, 9)):
        actions.do_close_period(period, at=_moment(y, 1, 5, 9))
        period.refresh_from_db()
    if period.status == P.CLOSED:
        for organ in organ_class.organs.filter(is_active=True).order_by("name"):
            if organ != forgets:
                _enter(period, organ, _moment(y, 1, 6, 10))
        if due(_moment(y, 1, 8, 9, 30)):
            actions.do_compute_period(period, at=_moment(y, 1, 8, 9, 30))
            period.refresh_from_db()
    if period.status == P.COMPUTED and due(_moment(y, 1, 9, 10)):
        actions.do_announce_provisional(period, at=_moment(y, 1, 9, 10))
        period.refresh_from_db()
    if period.status == P.PROVISIONAL and not Objection.objects.filter(result__period=period).exists():
        _objections(period, forgets, objects, y, now)
        period.refresh_from_db()
    if period.status == P.PROVISIONAL:
        publish = period.objection_clock.due_at + timedelta(hours=10)
        pending = Objection.objects.filter(result__period=period, status=ObjectionStatus.PENDING).exists()
        if due(publish) and not pending:
            actions.do_publish_results(period, at=publish)
            period.refresh_from_db()
    if period.status == P.PUBLISHED and not period.on_public_site:
        # The demo shows its published rankings on the public site (each office chooses; off by default).
        from .public_site import do_set_public_site

        do_set_public_site(period, public=True)
    return period.status


def _objections(period: Period, forgets: Organ | None, objects: Organ | None, y: int, now: datetime) -> None:
    """The organ that forgot its value objects and is upheld (its value entered, the period recomputed);
    another objects to its on-time rate and is rejected with reasons."""
    moments = [_moment(y, 1, 12, 10), _moment(y, 1, 13, 15), _moment(y, 1, 14, 10), _moment(y, 1, 14, 16)]
    if moments[-1] >= now or moments[-1] >= period.objection_clock.due_at:
        return  # too early in the year to have happened (the window is five working days)
    first = second = None
    if forgets is not None:
        result = Result.objects.get(period=period, organ=forgets)
        first = actions.do_object(
            result, line=result.lines.get(indicator__source=Source.MANUAL), at=moments[0],
            by=f"{forgets.short_name or forgets.name}（演示）",
            grounds="本单位年度工作目标考核表已于考评期截止前报送考评办，系统未录入，“年度工作目标完成率”计为 0 分有误。",
            evidence="年度工作目标考核表（盖章扫描件）及报送登记单")
    if objects is not None:
        result = Result.objects.get(period=period, organ=objects)
        second = actions.do_object(
            result, line=result.lines.get(indicator__source=Source.ON_TIME), at=moments[1],
            by=f"{objects.short_name or objects.name}（演示）",
            grounds="部分逾期办件系申请人书面要求暂停办理，不应计为逾期。", evidence="申请人书面暂停申请（复印件）")
    if second is not None:
        actions.do_decide_objection(second, upheld=False, at=moments[2], by=OFFICE,
                                    reasons="所称暂停未在系统中登记，亦无法定依据，承诺时限未中止；异议不成立，维持原结果。")
    if first is not None:
        actions.do_decide_objection(first, upheld=True, at=moments[2] + timedelta(minutes=15), by=OFFICE,
                                    reasons="经核对报送登记单，该单位已按时报送，异议成立；补录填报值后重新计算。")
        _enter(period, forgets, moments[2] + timedelta(minutes=30))
        actions.do_compute_period(period, at=moments[3], reason="异议成立，补录填报值后重新计算")


def _staff_grades(organ: Organ, year: int, at: datetime) -> int:
    """Grades of every person of the organ: 优秀 up to the quota (nobody barred), the others 称职,
    one 基本称职 in some organs."""
    if StaffGrade.objects.filter(organ=organ, year=year).exists():
        return 0
    people = list(Staff.objects.filter(organ=organ, is_active=True).order_by("staff_no"))
    if not people:
        return 0
    rng = random.Random(f"{organ.credit_code}-{year}-grades")
    barred = staff.barred_from_excellent([s.pk for s in people], year, timezone.localdate(at))
    allowed = int(len(people) * staff.quota_for(organ, year) + 1e-9)
    eligible = [s for s in people if s.pk not in barred]
    excellent = set(rng.sample(eligible, min(allowed, len(eligible))))
    grades = {s: StaffGradeValue.EXCELLENT if s in excellent else StaffGradeValue.COMPETENT for s in people}
    rest = [s for s in people if s not in excellent]
    if rest and rng.random() < 0.3:
        grades[rng.choice(rest)] = StaffGradeValue.BASIC
    staff.do_submit_staff_grades(organ, year, grades, by=f"{organ.short_name or organ.name}人事（演示）", at=at)
    return len(grades)


def seed_appraisal(scale: str, progress=None, now: datetime | None = None) -> str:
    now = now or timezone.now()
    last, current = years(now)
    done = []
    for n, (region_code, name, forgets_key, objects_key, graded_keys) in enumerate(CLASSES, start=1):
        organ_class = _class(region_code, name)
        if organ_class is None:
            continue  # the organisation steps have not run
        previous = _scheme(organ_class, last, None)
        status = _published_year(organ_class, previous, _organ(region_code, forgets_key),
                                 _organ(region_code, objects_key), now)
        graded = 0
        grading = _moment(last + 1, 2, 2, 10)
        if status == P.PUBLISHED and grading < now:
            for key in graded_keys:
                organ = _organ(region_code, key)
                if organ is not None and organ_class.organs.filter(pk=organ.pk).exists():
                    graded += _staff_grades(organ, last, grading)
        this = Period.objects.get(scheme=_scheme(organ_class, current, previous))
        entered = 0
        if this.status == P.OPEN:
            organs = list(organ_class.organs.filter(is_active=True).order_by("credit_code"))
            at = min(now - timedelta(days=1), _moment(current, 12, 1, 10))
            for organ in organs:
                if random.Random(f"{organ.credit_code}-{current}-entered").random() < CURRENT_SHARE:
                    entered += _enter(this, organ, at)
        done.append(f"{name} {last} {P(status).label} / {current} {P(this.status).label}"
                    f"（{graded} staff graded, {entered} values entered）")
        if progress:
            progress(n, len(CLASSES), name)
    return "; ".join(done) or "no seeded organs: run the organisation steps first"


register_seed_step("appraisal", 95, seed_appraisal)
