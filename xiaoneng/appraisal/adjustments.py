"""加减分: bonus and deduction items of an organ in a period, on the four-eyes principle.

An appraisal officer enters an item with its points (+ bonus, − deduction), the day it happened,
the reason and the evidence (`do_enter_adjustment`); a SECOND officer — never the one who entered
it — approves or rejects it with a note (`do_decide_adjustment`). Only approved items count: the
computation adds them to the weighted total, each side capped per organ and period
(`appraisal_adjustment_caps`, default bonus 5 / deduction 10). An entry that would take the
organ's pending and approved items of its side past the cap is refused, naming the cap and what
is already used; an approval checks the approved items again (the cap may have been lowered).

Status changes go through `TRANSITIONS` and `_set_status` only (pending → approved | rejected),
each audited. Items may be entered and decided until the results are published; after the
results are computed the office recomputes for an approved item to count.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.conf import rule

from .actions import AppraisalError, _at, _locked, _need
from .models import Adjustment, AdjustmentStatus, Period, PeriodStatus

S = AdjustmentStatus
TRANSITIONS: dict[str, set[str]] = {S.PENDING: {S.APPROVED, S.REJECTED}, S.APPROVED: set(), S.REJECTED: set()}
EDITABLE = (PeriodStatus.OPEN, PeriodStatus.CLOSED, PeriodStatus.COMPUTED, PeriodStatus.PROVISIONAL)
LIMIT = Decimal("100")


def _label(user) -> str:
    return (getattr(user, "display_name", "") or user.get_username())[:150]


def caps() -> tuple[Decimal, Decimal]:
    c = rule("appraisal_adjustment_caps")
    return Decimal(str(c["bonus"])), Decimal(str(c["deduction"]))


def _points(value) -> Decimal:
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise AppraisalError(_("分值“%(v)s”不是数字") % {"v": value}, "points") from None
    if not points.is_finite() or points == 0:
        raise AppraisalError(_("分值应为非零数字：加分为正，减分为负"), "points")
    if points != points.quantize(Decimal("0.01")):
        raise AppraisalError(_("分值最多两位小数"), "points")
    if abs(points) > LIMIT:
        raise AppraisalError(_("分值超出范围：绝对值不超过 100"), "points")
    return points


def _side_used(period: Period, organ_id: int, positive: bool, statuses) -> Decimal:
    qs = Adjustment.objects.filter(period=period, organ_id=organ_id, status__in=statuses)
    qs = qs.filter(points__gt=0) if positive else qs.filter(points__lt=0)
    return abs(qs.aggregate(s=Sum("points"))["s"] or Decimal(0))


def _check_cap(period: Period, organ, points: Decimal, statuses) -> None:
    bonus_cap, deduction_cap = caps()
    positive = points > 0
    cap = bonus_cap if positive else deduction_cap
    qs_used = _side_used(period, organ.pk, positive, statuses)
    if qs_used + abs(points) > cap:
        side = _("加分") if positive else _("减分")
        raise AppraisalError(_("%(side)s超出上限：%(organ)s本考评期%(side)s上限 %(cap)s 分，已用 %(used)s 分，"
                               "本项 %(p)s 分") % {"side": side, "organ": organ.name, "cap": cap.normalize(),
                                                   "used": qs_used.normalize(), "p": abs(points).normalize()},
                             "points")


def _set_status(item: Adjustment, to: str, fields: tuple[str, ...]) -> None:
    if to not in TRANSITIONS[item.status]:
        raise AppraisalError(_("该加减分当前为“%(now)s”，不能改为“%(to)s”") % {
            "now": S(item.status).label, "to": S(to).label}, "status")
    before, item.status = item.status, to
    item.save(update_fields=["status", *fields])
    record("appraisal.adjustment_decide", item, changes={"status": [before, to], "note": item.decision_note[:500]})


@transaction.atomic
def do_enter_adjustment(period: Period, *, organ, points, occurred_on: date, reason: str, evidence: str, by,
                        at: datetime | None = None) -> Adjustment:
    at = _at(at)
    period = _locked(period)
    if period.status not in EDITABLE:
        raise AppraisalError(_("结果已公布，不能再录入加减分"), "points")
    if organ is None or not period.scheme.organ_class.organs.filter(pk=organ.pk).exists():
        raise AppraisalError(_("该机关不在本考评类别中"), "organ")
    points = _points(points)
    if not isinstance(occurred_on, date) or not period.starts_on <= occurred_on <= period.ends_on:
        raise AppraisalError(_("发生日期应在考评期内（%(a)s 至 %(b)s）") % {
            "a": period.starts_on.isoformat(), "b": period.ends_on.isoformat()}, "occurred_on")
    reason = _need(reason, "reason", _("请写明加减分事由"), 200)
    evidence = _need(evidence, "evidence", _("请附佐证材料说明"))
    _check_cap(period, organ, points, (S.PENDING, S.APPROVED))
    item = Adjustment.objects.create(period=period, organ=organ, points=points, occurred_on=occurred_on,
                                     reason=reason, evidence=evidence, entered_by=by, entered_by_label=_label(by),
                                     entered_at=at)
    record("appraisal.adjustment_enter", item, changes={"organ": organ.pk, "points": str(points), "reason": reason})
    return item


@transaction.atomic
def do_decide_adjustment(item: Adjustment, *, approve: bool, note: str, by, at: datetime | None = None) -> Adjustment:
    """Approve or reject; `by` must be another person than the one who entered the item."""
    at = _at(at)
    item = Adjustment.objects.select_for_update(of=("self",)).select_related("period", "organ").get(pk=item.pk)
    period = _locked(item.period)
    if period.status not in EDITABLE:
        raise AppraisalError(_("结果已公布，不能再审核加减分"), "status")
    if item.status != S.PENDING:
        raise AppraisalError(_("该加减分已审核（%(s)s）") % {"s": S(item.status).label}, "status")
    if by is None or item.entered_by_id == by.pk:
        raise AppraisalError(_("加减分须由录入人以外的另一名考评员审核：%(who)s 录入的事项不能由本人审核") % {
            "who": item.entered_by_label or _("录入人")}, "approve")
    note = (note or "").strip()
    if not approve and not note:
        raise AppraisalError(_("驳回须写明理由"), "note")
    if len(note) > 5000:
        raise AppraisalError(_("内容过长：最多 %(n)d 字") % {"n": 5000}, "note")
    if approve:
        _check_cap(period, item.organ, item.points, (S.APPROVED,))
    item.decided_by, item.decided_by_label, item.decided_at, item.decision_note = by, _label(by), at, note
    _set_status(item, S.APPROVED if approve else S.REJECTED,
                ("decided_by", "decided_by_label", "decided_at", "decision_note"))
    return item
