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
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule
from xiaoneng.lib.actions import ActionError

from . import schemes, teams
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
    Target,
)
from .workflow import set_status

P = PeriodStatus
OBJECTION_CLOCK = "appraisal.objection"
MANUAL_LIMIT = Decimal(10) ** 9


class AppraisalError(ActionError):
    """A request the rules or the record's state do not allow; `field` names the input."""


_at = AppraisalError.moment
_need = AppraisalError.text


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
    # The row's own audit entry comes from track(); the organs (many-to-many) are not in it.
    record("appraisal.class_organs", cls, changes={"added": sorted(o.pk for o in organs), "removed": []})
    return cls


@transaction.atomic
def do_create_scheme(*, organ_class: OrganClass, year: int, title: str, rows: list[dict],
                     target: str = Target.ORGAN) -> Scheme:
    """A new scheme (version 1, or the next version of the class's year and target), as a draft. `target`:
    the organs of the class, or their leadership teams (领导班子) — each its own line of versions."""
    title = _need(title, "title", _("请填写方案名称"), 200)
    if target not in Target.values:
        raise AppraisalError(_("考评对象无效：应为机关或领导班子"), "target")
    tree = schemes.validate(rows)
    last = Scheme.objects.filter(organ_class=organ_class, year=year, target=target).order_by("-version").first()
    scheme = Scheme.objects.create(organ_class=organ_class, year=year, title=title, target=target,
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
def do_edit_scheme(scheme: Scheme, *, rows: list[dict], reason: str) -> Scheme:
    """Replace a draft's tree, saying why (weights are what the appraisal is argued about). An active
    scheme is never edited in place: make a new version."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if scheme.status != SchemeStatus.DRAFT:
        raise AppraisalError(_("方案已启用，不能修改；请另建新版本"), "status")
    reason = _need(reason, "reason", _("请写明修改方案（权重）的理由"), 1000)
    tree = schemes.validate(rows)
    before = schemes.rows_of(scheme)
    scheme.indicators.all().delete()
    _write_tree(scheme, tree)
    record("appraisal.scheme_edit", scheme, changes={"before": _plain(before), "after": _plain(schemes.rows_of(scheme)),
                                                     "reason": reason, "year": scheme.year,
                                                     "organ_class": scheme.organ_class_id})
    return scheme


def _plain(rows: list[dict]) -> list[dict]:
    """Rows for the audit log (weights as text, exactly as entered)."""
    return [{**r, "weight": format(r["weight"].normalize(), "f")} for r in rows]


@transaction.atomic
def do_new_version(scheme: Scheme, *, title: str = "") -> Scheme:
    return do_create_scheme(organ_class=scheme.organ_class, year=scheme.year, title=title or scheme.title,
                            rows=schemes.rows_of(scheme), target=scheme.target)


@transaction.atomic
def do_copy_scheme(scheme: Scheme, *, year: int, title: str = "") -> Scheme:
    """Copy last year's scheme (its tree, weights and methods) into a draft for `year`."""
    if year <= scheme.year:
        raise AppraisalError(_("只能复制到以后的年度"), "year")
    new = do_create_scheme(organ_class=scheme.organ_class, year=year,
                           title=title or scheme.title.replace(str(scheme.year), str(year)),
                           rows=schemes.rows_of(scheme), target=scheme.target)
    new.copied_from = scheme
    new.save(update_fields=["copied_from"])
    return new


@transaction.atomic
def do_import_scheme(*, organ_class: OrganClass, year: int, title: str, data: bytes,
                     target: str = Target.ORGAN) -> Scheme:
    """A scheme from an Excel file (the export's columns); nothing is saved when a row is wrong."""
    return do_create_scheme(organ_class=organ_class, year=year, title=title, rows=schemes.read_xlsx(data),
                            target=target)


@transaction.atomic
def do_activate_scheme(scheme: Scheme, *, first: date | None = None, last: date | None = None,
                       reason: str = "") -> Period:
    """Put a draft in force for its year (the earlier active version is superseded; its period, if
    not yet computed, moves to the new version) and open the appraisal period. Replacing a version
    in force changes the weights an appraisal runs on, so it needs a reason."""
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    if scheme.status != SchemeStatus.DRAFT:
        raise AppraisalError(_("只有草稿方案可以启用"), "status")
    old = Scheme.objects.select_for_update().filter(organ_class=scheme.organ_class, year=scheme.year,
                                                    target=scheme.target, status=SchemeStatus.ACTIVE).first()
    period = None
    if old is not None:
        reason = _need(reason, "reason", _("请写明更换已启用方案（权重）的理由"), 1000)
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
    if old is not None:
        record("appraisal.scheme_replace", scheme, changes={
            "period": period.pk if period else None, "before": _plain(schemes.rows_of(old)),
            "after": _plain(schemes.rows_of(scheme)), "superseded": old.pk, "reason": reason,
            "year": scheme.year, "organ_class": scheme.organ_class_id})
    if period is not None:
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
                          entered_by: str = "", reason: str = "", at: datetime | None = None) -> ManualValue:
    """Enter (or change) a manual value with its evidence. Changing a value already entered needs a
    reason; both are audited with the value before and after."""
    at = _at(at)
    period = _locked(period)
    if period.status not in (P.OPEN, P.CLOSED) and not _correction_allowed(period, organ):
        raise AppraisalError(_("结果已计算，不能再填报；请通过异议更正"), "value")
    if indicator.scheme_id != period.scheme_id or indicator.source != Source.MANUAL:
        raise AppraisalError(_("该指标不是本方案的人工填报指标"), "indicator")
    if not period.scheme.organ_class.organs.filter(pk=organ.pk).exists():
        raise AppraisalError(_("该机关不在本考评类别中"), "organ")
    if value is None or not str(value).strip():
        raise AppraisalError(_("请填写数值"), "value")
    evidence = _need(evidence, "evidence", _("请附佐证材料说明"))
    try:
        value = Decimal(str(value).strip())
        if not value.is_finite():
            raise ArithmeticError
    except ArithmeticError:
        raise AppraisalError(_("“%(v)s”不是数字") % {"v": str(value)[:20]}, "value") from None
    # The column holds 14 digits, 4 after the point: say so rather than let the database refuse.
    if abs(value) >= MANUAL_LIMIT or value != value.quantize(Decimal("0.0001")):
        raise AppraisalError(_("数值超出范围：绝对值小于 10 亿，最多 4 位小数"), "value")
    old = ManualValue.objects.filter(period=period, indicator=indicator, organ=organ).first()
    if old is not None and old.value != value:
        reason = _need(reason, "reason", _("修改已填报的数值，请写明理由"), 1000)
    mv, _created = ManualValue.objects.update_or_create(
        period=period, indicator=indicator, organ=organ,
        defaults={"value": value, "evidence": evidence, "entered_by": entered_by[:150], "entered_at": at})
    record("appraisal.manual_value", mv, changes={
        "period": period.pk, "organ": organ.pk, "indicator": indicator.code,
        "value": [format(old.value.normalize(), "f") if old else None, format(value.normalize(), "f")], "reason": (reason or "").strip()[:1000] or evidence[:1000]})
    return mv


def _correction_allowed(period: Period, organ) -> bool:
    """After computation a manual value is corrected only to act on the organ's upheld objection,
    while the results are provisional (then the office recomputes)."""
    return period.status == P.PROVISIONAL and Objection.objects.filter(
        result__period=period, result__organ=organ, status=ObjectionStatus.UPHELD).exists()


@transaction.atomic
def do_compute_period(period: Period, *, at: datetime | None = None, reason: str = "") -> Period:
    """Compute (or recompute) every organ's result. A published period is frozen.

    1. Note every organ's total, rank and grade before.
    2. Compute.
    3. A recomputation that changed a total, a rank or a grade needs a reason (otherwise the whole
       recomputation is refused and rolled back) and is audited with each change, before and after.
    """
    at = _at(at)
    period = _locked(period)
    if period.status == P.PUBLISHED:
        raise AppraisalError(_("结果已公布，不再重新计算"), "status")
    if period.status == P.OPEN:
        raise AppraisalError(_("考评期尚未截止"), "status")
    before = {oid: (total, rank, grade) for oid, total, rank, grade in
              Result.objects.filter(period=period).values_list("organ_id", "total", "rank", "grade")}
    # Formulas are stored in the record language (Chinese), whoever computes: a recomputation by an
    # English-speaking user gives the same rows.
    with translation.override("zh-hans"):
        results = compute_period(period)
    changed = []
    for r in sorted(results, key=lambda r: r.organ_id):
        old = before.get(r.organ_id)
        if old is not None and old != (r.total, r.rank, r.grade):
            changed.append({"organ": r.organ_id, "name": r.organ.name, "total": [str(old[0]), str(r.total)],
                            "rank": [old[1], r.rank], "grade": [old[2], r.grade]})
    if period.scheme.target == Target.TEAM:
        teams.record_cadres(period)
    period.computed_at = at
    if period.status == P.CLOSED:
        set_status(period, P.COMPUTED, fields=("computed_at",))
    else:
        if changed:
            reason = _need(reason, "reason", _("重新计算改变了总分、排名或等次，请写明理由"), 1000)
        period.save(update_fields=["computed_at"])
        record("appraisal.recompute", period, changes={"at": at, "period": period.pk, "changed": changed,
                                                       "reason": (reason or "").strip()[:1000]})
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
            "d": deadline_label(period.objection_clock.due_at)}, "grounds")
    if line is not None and line.result_id != result.pk:
        raise AppraisalError(_("所选指标不属于本结果"), "line")
    grounds = _need(grounds, "grounds", _("请写明异议理由"))
    evidence = _need(evidence, "evidence", _("请提供佐证材料"))
    # A double click or a replayed form would otherwise file the same objection twice; the period row
    # lock above serialises two submissions.
    if Objection.objects.filter(result=result, line=line, status=ObjectionStatus.PENDING).exists():
        raise AppraisalError(_("已就该指标提出异议，尚待决定") if line is not None
                             else _("已就总体结果提出异议，尚待决定"), "line" if line is not None else "grounds")
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
    record("appraisal.objection_decide", objection, changes={
        "period": objection.result.period_id, "organ": objection.result.organ_id, "status": objection.status,
        "reason": objection.reasons})
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


# --- classes edited, manual values entered as a grid ---------------------------------------------
@transaction.atomic
def do_edit_class(organ_class: OrganClass, *, name: str, organs) -> OrganClass:
    """Rename a class or change its organs. Not while a period of the class is computed or provisional:
    the announced results would no longer match the class (published results are frozen anyway)."""
    organ_class = OrganClass.objects.select_for_update().get(pk=organ_class.pk)
    name = _need(name, "name", _("请填写类别名称"), 60)
    if OrganClass.objects.filter(region_id=organ_class.region_id, name=name).exclude(pk=organ_class.pk).exists():
        raise AppraisalError(_("本区划已有名为“%(n)s”的考评类别") % {"n": name}, "name")
    organs = list(organs)
    outside = [o.name for o in organs if not o.region_code.startswith(organ_class.region.prefix)]
    if outside:
        raise AppraisalError(_("机关不在本区划内：%(n)s") % {"n": "、".join(outside)}, "organs")
    before = set(organ_class.organs.values_list("pk", flat=True))
    after = {o.pk for o in organs}
    if before != after and Period.objects.filter(scheme__organ_class=organ_class,
                                                 status__in=(P.COMPUTED, P.PROVISIONAL)).exists():
        raise AppraisalError(_("本类别有已计算或预告中的考评结果，暂不能调整参评机关"), "organs")
    if organ_class.name != name:
        organ_class.name = name
        organ_class.save(update_fields=["name", "region_code"])
    if before != after:
        organ_class.organs.set(organs)
        record("appraisal.class_organs", organ_class, changes={"added": sorted(after - before),
                                                               "removed": sorted(before - after)})
    return organ_class


class GridError(AppraisalError):
    """Some cells of a grid are wrong: `cells` maps (indicator id, organ id) to {field: message}."""

    def __init__(self, cells: dict):
        self.cells = cells
        n = sum(len(v) for v in cells.values())
        super().__init__(_("有 %(n)d 处填写有误，均未保存") % {"n": n}, "")


@transaction.atomic
def do_enter_manual_values(period: Period, entries: dict, *, entered_by: str = "", reason: str = "",
                           at: datetime | None = None) -> list[ManualValue]:
    """Enter many manual values at once, all or nothing.

    `entries` maps (indicator, organ) to (value, evidence). Every cell is checked by
    `do_enter_manual_value` in its own savepoint so that every wrong cell is reported, not only the
    first; if any is wrong the whole grid is rolled back and `GridError` names each cell.
    A cell whose value and evidence equal what is stored is left as it is (no new audit entry);
    `reason` is the one reason for every value the grid changes.
    """
    at = _at(at)
    stored = {(m.indicator_id, m.organ_id): m for m in ManualValue.objects.filter(period=period)}
    errors: dict = {}
    saved = []
    for (indicator, organ), (value, evidence) in entries.items():
        key = (indicator.pk, organ.pk)
        old = stored.get(key)
        if old is not None and (evidence or "").strip() == old.evidence:
            try:
                if Decimal(str(value).strip()) == old.value:
                    continue
            except ArithmeticError:
                pass
        try:
            with transaction.atomic():
                saved.append(do_enter_manual_value(period, indicator=indicator, organ=organ, value=value,
                                                   evidence=evidence, entered_by=entered_by, reason=reason, at=at))
        except AppraisalError as exc:
            errors.setdefault(key, {})[exc.field or "value"] = exc.message
    if errors:
        raise GridError(errors)
    return saved


# 加减分 and the quarterly interim results live in their own modules; they are actions of this app too.
from .adjustments import do_decide_adjustment, do_enter_adjustment  # noqa: E402, F401
from .interim import do_compute_interim  # noqa: E402, F401
