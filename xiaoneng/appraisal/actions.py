"""Every state change of the appraisal: classes, schemes, periods, results, objections, staff grades.

Every function runs in one transaction and re-reads what it changes with a row lock; a period's
status changes only through `workflow.set_status`. Permission checks belong to the pages; these
functions check the rules and the state. Configuration (xiaoneng.conf, see the README):
`appraisal_objection_working_days`, `appraisal_grade_thresholds`, `appraisal_excellent_quota`,
`appraisal_excellent_quota_when_organ_excellent`.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule

from . import schemes
from .compute import compute_period
from .models import (
    Indicator,
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
)
from .workflow import set_status

P = PeriodStatus
OBJECTION_CLOCK = "appraisal.objection"


class AppraisalError(ValueError):
    """A request the rules or the record's state do not allow; `field` names the input."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


def _at(at: datetime | None, field: str = "at") -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise AppraisalError(_("时间缺少时区"), field)
    return at


def _need(text: str, field: str, message: str, limit: int = 5000) -> str:
    text = (text or "").strip()
    if not text:
        raise AppraisalError(message, field)
    if len(text) > limit:
        raise AppraisalError(_("内容过长：最多 %(n)d 字") % {"n": limit}, field)
    return text


# --- classes and schemes ------------------------------------------------------------------
@transaction.atomic
def do_create_class(*, name: str, region, organs) -> OrganClass:
    name = _need(name, "name", _("请填写类别名称"), 60)
    if OrganClass.objects.filter(region=region, name=name).exists():
        raise AppraisalError(_("本区划已有名为“%(n)s”的考评类别") % {"n": name}, "name")
    organs = list(organs)
    outside = [o.name for o in organs if not o.region_code.startswith(region.prefix)]
    if outside:
        raise AppraisalError(_("机关不在本区划内：%(n)s") % {"n": "、".join(outside)}, "organs")
    cls = OrganClass.objects.create(name=name, region=region)
    cls.organs.set(organs)
    return cls


@transaction.atomic
def do_create_scheme(*, organ_class: OrganClass, year: int, title: str, rows: list[dict]) -> Scheme:
    """A new scheme (version 1, or the next version of the class's year), as a draft."""
    title = _need(title, "title", _("请填写方案名称"), 200)
    tree = schemes.validate(rows)
    last = Scheme.objects.filter(organ_class=organ_class, year=year).order_by("-version").first()
    scheme = Scheme.objects.create(organ_class=organ_class, year=year, title=title,
                                   version=(last.version + 1) if last else 1)
    _write_tree(scheme, tree)
    return scheme


def _write_tree(scheme: Scheme, tree: list[dict]) -> None:
    made: dict[str, Indicator] = {}
    # Parents first: sort by level, keeping the given order within a level.
    for order, r in sorted(enumerate(tree), key=lambda x: (x[1]["level"], x[0])):
        made[r["code"]] = Indicator.objects.create(
            scheme=scheme, parent=made.get(r["parent"]), code=r["code"], name=r["name"], weight=r["weight"],
            order=order, source=r["source"], method=r["method"], params=r["params"])


@transaction.atomic
def do_edit_scheme(scheme: Scheme, *, rows: list[dict]) -> Scheme:
    """Replace a draft's tree. An active scheme is never edited in place: make a new version."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if scheme.status != SchemeStatus.DRAFT:
        raise AppraisalError(_("方案已启用，不能修改；请另建新版本"), "status")
    tree = schemes.validate(rows)
    before = schemes.rows_of(scheme)
    scheme.indicators.all().delete()
    _write_tree(scheme, tree)
    record("appraisal.scheme_edit", scheme, changes={"before": _plain(before), "after": _plain(schemes.rows_of(scheme))})
    return scheme


def _plain(rows: list[dict]) -> list[dict]:
    """Rows for the audit log (weights as text, exactly as entered)."""
    return [{**r, "weight": format(r["weight"].normalize(), "f")} for r in rows]


@transaction.atomic
def do_new_version(scheme: Scheme, *, title: str = "") -> Scheme:
    return do_create_scheme(organ_class=scheme.organ_class, year=scheme.year, title=title or scheme.title,
                            rows=schemes.rows_of(scheme))


@transaction.atomic
def do_copy_scheme(scheme: Scheme, *, year: int, title: str = "") -> Scheme:
    """Copy last year's scheme (its tree, weights and methods) into a draft for `year`."""
    if year <= scheme.year:
        raise AppraisalError(_("只能复制到以后的年度"), "year")
    new = do_create_scheme(organ_class=scheme.organ_class, year=year,
                           title=title or scheme.title.replace(str(scheme.year), str(year)),
                           rows=schemes.rows_of(scheme))
    new.copied_from = scheme
    new.save(update_fields=["copied_from"])
    return new


@transaction.atomic
def do_import_scheme(*, organ_class: OrganClass, year: int, title: str, data: bytes) -> Scheme:
    """A scheme from an Excel file (the export's columns); nothing is saved when a row is wrong."""
    return do_create_scheme(organ_class=organ_class, year=year, title=title, rows=schemes.read_xlsx(data))


@transaction.atomic
def do_activate_scheme(scheme: Scheme, *, first: date | None = None, last: date | None = None) -> Period:
    """Put a draft in force for its year (the earlier active version is superseded; its period, if
    not yet computed, moves to the new version) and open the appraisal period."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if scheme.status != SchemeStatus.DRAFT:
        raise AppraisalError(_("只有草稿方案可以启用"), "status")
    old = Scheme.objects.select_for_update().filter(organ_class=scheme.organ_class, year=scheme.year,
                                                    status=SchemeStatus.ACTIVE).first()
    period = None
    if old is not None:
        period = Period.objects.filter(scheme=old).first()
        if period is not None and period.status not in (P.OPEN, P.CLOSED):
            raise AppraisalError(_("该年度结果已计算，不能更换方案"), "status")
        old.status = SchemeStatus.SUPERSEDED
        old.save(update_fields=["status"])
    scheme.status = SchemeStatus.ACTIVE
    scheme.save(update_fields=["status"])
    if period is not None:
        period.scheme = scheme
        period.save(update_fields=["scheme"])
        return period
    return Period.objects.create(scheme=scheme, starts_on=first or date(scheme.year, 1, 1),
                                 ends_on=last or date(scheme.year, 12, 31))


# --- the period ---------------------------------------------------------------------------
def _locked(period: Period) -> Period:
    return Period.objects.select_for_update(of=("self",)).select_related("scheme__organ_class").get(pk=period.pk)


@transaction.atomic
def do_close_period(period: Period, *, at: datetime | None = None) -> Period:
    at = _at(at)
    period = _locked(period)
    if timezone.localdate(at) <= period.ends_on:
        raise AppraisalError(_("考评期到 %(d)s 才结束，不能提前截止") % {"d": period.ends_on.isoformat()}, "at")
    period.closed_at = at
    set_status(period, P.CLOSED, fields=("closed_at",))
    return period


@transaction.atomic
def do_enter_manual_value(period: Period, *, indicator: Indicator, organ, value, evidence: str,
                          entered_by: str = "", at: datetime | None = None) -> ManualValue:
    at = _at(at)
    period = _locked(period)
    if period.status not in (P.OPEN, P.CLOSED):
        raise AppraisalError(_("结果已计算，不能再填报；请通过异议更正"), "value")
    if indicator.scheme_id != period.scheme_id or indicator.source != Source.MANUAL:
        raise AppraisalError(_("该指标不是本方案的人工填报指标"), "indicator")
    if not period.scheme.organ_class.organs.filter(pk=organ.pk).exists():
        raise AppraisalError(_("该机关不在本考评类别中"), "organ")
    evidence = _need(evidence, "evidence", _("请附佐证材料说明"))
    try:
        value = Decimal(str(value))
        if not value.is_finite():
            raise ArithmeticError
    except ArithmeticError:
        raise AppraisalError(_("数值无效"), "value") from None
    mv, _created = ManualValue.objects.update_or_create(
        period=period, indicator=indicator, organ=organ,
        defaults={"value": value, "evidence": evidence, "entered_by": entered_by[:150], "entered_at": at})
    return mv


@transaction.atomic
def do_compute_period(period: Period, *, at: datetime | None = None) -> Period:
    """Compute (or recompute) every organ's result. A published period is frozen."""
    at = _at(at)
    period = _locked(period)
    if period.status == P.PUBLISHED:
        raise AppraisalError(_("结果已公布，不再重新计算"), "status")
    if period.status == P.OPEN:
        raise AppraisalError(_("考评期尚未截止"), "status")
    # Formulas are stored in the record language (Chinese), whoever computes: a recomputation by an
    # English-speaking user gives the same rows.
    with translation.override("zh-hans"):
        compute_period(period)
    period.computed_at = at
    if period.status == P.CLOSED:
        set_status(period, P.COMPUTED, fields=("computed_at",))
    else:
        period.save(update_fields=["computed_at"])
        record("appraisal.recompute", period, changes={"at": at})
    return period


@transaction.atomic
def do_announce_provisional(period: Period, *, at: datetime | None = None) -> Period:
    """Each organ now sees its own provisional result; the objection window starts (a working-day clock)."""
    at = _at(at)
    period = _locked(period)
    period.provisional_at = at
    period.objection_clock = clocks.do_start_clock(
        kind=OBJECTION_CLOCK, start_at=at, limit=int(rule("appraisal_objection_working_days")), unit="working",
        subject=period, region_code=period.scheme.organ_class.region_code, label=_("考评结果异议期：%(p)s") % {"p": period},
        legal_basis=_("考评办法：结果预告后提出异议"))
    set_status(period, P.PROVISIONAL, fields=("provisional_at", "objection_clock"))
    return period


def objection_window_open(period: Period, at: datetime) -> bool:
    clock = period.objection_clock
    return period.status == P.PROVISIONAL and clock is not None and clock.due_at is not None and at < clock.due_at


@transaction.atomic
def do_object(result: Result, *, grounds: str, evidence: str, line=None, by: str = "",
              at: datetime | None = None) -> Objection:
    at = _at(at)
    period = _locked(result.period)
    if period.status != P.PROVISIONAL:
        raise AppraisalError(_("当前不在异议期内"), "grounds")
    if not objection_window_open(period, at):
        raise AppraisalError(_("异议期已于 %(d)s 届满") % {
            "d": timezone.localtime(period.objection_clock.due_at).strftime("%Y-%m-%d %H:%M")}, "grounds")
    if line is not None and line.result_id != result.pk:
        raise AppraisalError(_("所选指标不属于本结果"), "line")
    grounds = _need(grounds, "grounds", _("请写明异议理由"))
    evidence = _need(evidence, "evidence", _("请提供佐证材料"))
    return Objection.objects.create(result=result, line=line, grounds=grounds, evidence=evidence, submitted_at=at,
                                    submitted_by=by[:150])


@transaction.atomic
def do_decide_objection(objection: Objection, *, upheld: bool, reasons: str, by: str = "",
                        at: datetime | None = None) -> Objection:
    """Decide with reasons. An upheld objection is acted on by correcting the data (e.g. a manual
    value) and recomputing; the decision itself changes no score."""
    at = _at(at)
    objection = Objection.objects.select_for_update(of=("self",)).select_related("result__period").get(pk=objection.pk)
    if objection.status != ObjectionStatus.PENDING:
        raise AppraisalError(_("该异议已决定"), "status")
    if objection.result.period.status != P.PROVISIONAL:
        raise AppraisalError(_("考评期已不在异议阶段"), "status")
    objection.reasons = _need(reasons, "reasons", _("请写明决定理由"))
    objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
    objection.decided_at, objection.decided_by = at, by[:150]
    objection.save()
    return objection


@transaction.atomic
def do_publish_results(period: Period, *, at: datetime | None = None) -> Period:
    """Publish: only after the objection window and with every objection decided. Results are frozen."""
    at = _at(at)
    period = _locked(period)
    if period.status == P.PROVISIONAL:
        if objection_window_open(period, at):
            raise AppraisalError(_("异议期尚未届满"), "status")
        if Objection.objects.filter(result__period=period, status=ObjectionStatus.PENDING).exists():
            raise AppraisalError(_("仍有未决定的异议"), "status")
    period.published_at = at
    set_status(period, P.PUBLISHED, fields=("published_at",))
    if period.objection_clock_id:
        clock = Clock.objects.get(pk=period.objection_clock_id)
        if clock.state != Clock.State.STOPPED:
            clocks.do_stop_clock(clock, at=max(at, clock.start_at))
        period.objection_clock = Clock.objects.get(pk=clock.pk)
    return period


# 加减分 and the quarterly interim results live in their own modules; they are actions of this app too.
from .adjustments import do_decide_adjustment, do_enter_adjustment  # noqa: E402, F401
from .interim import do_compute_interim  # noqa: E402, F401
