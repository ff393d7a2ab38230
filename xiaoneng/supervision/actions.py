"""The life of an alert and of a supervision order. Nothing is ever deleted.

Alert: raised → explained by the organ (情况说明, with an attachment) → verified by a
supervisor → closed, dismissed with reasons, or escalated into a supervision order.
The organ may appeal (申诉) at any open stage; a supervisor upholds the alert (back to
raised) or accepts the appeal (dismissed).

Order (督办): opened from an alert or by hand, with a deadline clock → the organ reports
back (反馈) → a supervisor verifies: closed, or returned to be done again. A higher
level may take the order over (提级督办).
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record
from xiaoneng.clocks import actions as clocks
from xiaoneng.conf import rule
from xiaoneng.lib.actions import ActionError
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.web import names

from .models import Alert, AlertStatus, AlertStep, OrderSource, OrderStatus, OrderStep, SupervisionOrder
from .signals import order_opened

S = AlertStatus
TRANSITIONS = {
    S.RAISED: {S.EXPLAINED, S.APPEALED, S.CLOSED, S.DISMISSED, S.ESCALATED},
    S.EXPLAINED: {S.RAISED, S.APPEALED, S.CLOSED, S.DISMISSED, S.ESCALATED},
    S.APPEALED: {S.RAISED, S.DISMISSED},
    S.CLOSED: set(),
    S.DISMISSED: set(),
    S.ESCALATED: set(),
}


class SupervisionError(ActionError):
    """A request the supervision rules or the alert's state do not allow; `field` names the input."""


def _now(at: datetime | None) -> datetime:
    return at or timezone.now()


def _step(alert: Alert, kind: str, to: str, at: datetime, actor=None, text: str = "", attachment=None) -> AlertStep:
    """The guarded status change of an alert, with its step row and audit entry."""
    if to not in TRANSITIONS[alert.status]:
        raise SupervisionError(
            _("预警当前为“%(now)s”，不能变为“%(to)s”") % {"now": AlertStatus(alert.status).label, "to": AlertStatus(to).label},
            "status",
        )
    step = AlertStep.objects.create(
        alert=alert, kind=kind, from_status=alert.status, to_status=to, at=at, actor=actor,
        actor_label=getattr(actor, "username", "") or audit_context().label, text=text, attachment=attachment or "",
    )
    before, alert.status = alert.status, to
    fields = ["status"]
    if to in (S.CLOSED, S.DISMISSED, S.ESCALATED):
        alert.closed_at = at
        fields.append("closed_at")
    alert.save(update_fields=fields)
    record(f"alert.{kind}", alert, changes={"status": [before, to], "text": text[:500]})
    return step


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().select_related("organ").get(pk=alert.pk)


def _need(text: str, field: str, message: str) -> str:
    if not (text or "").strip():
        raise SupervisionError(message, field)
    return text.strip()


@transaction.atomic
def do_explain_alert(alert: Alert, *, text: str, actor=None, attachment=None, at=None) -> Alert:
    alert = _locked(alert)
    _step(alert, AlertStep.Kind.EXPLAIN, S.EXPLAINED, _now(at), actor,
          _need(text, "text", _("情况说明不能为空")), attachment)
    return alert


@transaction.atomic
def do_close_alert(alert: Alert, *, note: str, actor=None, at=None) -> Alert:
    """A supervisor has verified the explanation or the rectification."""
    alert = _locked(alert)
    _step(alert, AlertStep.Kind.CLOSE, S.CLOSED, _now(at), actor, _need(note, "note", _("核实意见不能为空")))
    return alert


@transaction.atomic
def do_dismiss_alert(alert: Alert, *, reasons: str, actor=None, at=None) -> Alert:
    alert = _locked(alert)
    _step(alert, AlertStep.Kind.DISMISS, S.DISMISSED, _now(at), actor, _need(reasons, "reasons", _("撤销预警必须说明理由")))
    return alert


@transaction.atomic
def do_appeal_alert(alert: Alert, *, reasons: str, actor=None, attachment=None, at=None) -> Alert:
    alert = _locked(alert)
    _step(alert, AlertStep.Kind.APPEAL, S.APPEALED, _now(at), actor,
          _need(reasons, "reasons", _("申诉必须说明理由")), attachment)
    return alert


@transaction.atomic
def do_decide_appeal(alert: Alert, *, accepted: bool, reasons: str, actor=None, at=None) -> Alert:
    alert = _locked(alert)
    if alert.status != S.APPEALED:
        raise SupervisionError(_("该预警没有待处理的申诉"), "status")
    reasons = _need(reasons, "reasons", _("申诉处理意见不能为空"))
    if accepted:
        _step(alert, AlertStep.Kind.ACCEPT_APPEAL, S.DISMISSED, _now(at), actor, reasons)
    else:
        _step(alert, AlertStep.Kind.UPHOLD, S.RAISED, _now(at), actor, reasons)
    return alert


@transaction.atomic
def do_escalate_alert(alert: Alert, *, demand: str, actor=None, days: int | None = None, issuer: Region | None = None,
                      at=None) -> SupervisionOrder:
    alert = _locked(alert)
    at = _now(at)
    _step(alert, AlertStep.Kind.ESCALATE, S.ESCALATED, at, actor, _need(demand, "demand", _("督办要求不能为空")))
    return do_open_order(
        organ=alert.organ, source=OrderSource.ALERT, title=alert.subject_label or names.rule_title(alert.rule), demand=demand,
        alert=alert, days=days, issuer=issuer, at=at,
    )


def open_order_for(alert: Alert, *, at=None) -> SupervisionOrder:
    """The ladder's automatic order for a yellow card (the alert stays open for its explanation)."""
    demand = _("请于期限内纠正并书面反馈：%(message)s") % {"message": alert.message}
    return do_open_order(organ=alert.organ, source=OrderSource.ALERT, title=alert.subject_label or names.rule_title(alert.rule),
                         demand=demand, alert=alert, at=at)


def _number(at: datetime) -> str:
    today = timezone.localtime(at).strftime("%Y%m%d")
    count = SupervisionOrder.objects.filter(number__startswith=f"DB{today}").count() + 1
    return f"DB{today}-{count:05d}"


@transaction.atomic
def do_open_order(*, organ: Organ, source: str, title: str, demand: str, alert: Alert | None = None,
                  days: int | None = None, issuer: Region | None = None, at=None) -> SupervisionOrder:
    """A supervision order with its own deadline clock (supervision_order_working_days)."""
    at = _now(at)
    if source not in OrderSource.values:
        raise SupervisionError(_("督办来源无效"), "source")
    title, demand = _need(title, "title", _("督办事项不能为空")), _need(demand, "demand", _("督办要求不能为空"))
    days = int(days if days is not None else rule("supervision_order_working_days"))
    if not 0 < days <= 60:
        raise SupervisionError(_("督办期限须在 1 至 60 个工作日之间"), "days")
    issuer_code = issuer.prefix if issuer is not None else organ.region_code
    order = SupervisionOrder.objects.create(
        number=_number(at), source=source, alert=alert, organ=organ, region_code=organ.region_code,
        issuer_region_code=issuer_code, title=title[:200], demand=demand, opened_at=at,
    )
    order.clock = clocks.do_start_clock(kind="supervision.order", start_at=at, limit=days, unit="working", subject=order,
                                        organ=organ, label=f"{order.number} {title[:60]}", legal_basis=_("效能督办制度"))
    order.save(update_fields=["clock"])
    OrderStep.objects.create(order=order, kind=OrderStep.Kind.OPEN, at=at, actor_label=audit_context().label, text=demand)
    record("order.open", order, changes={"organ": organ.pk, "days": days, "source": source})
    order_opened.send(sender=SupervisionOrder, order=order)
    return order


def _locked_order(order: SupervisionOrder) -> SupervisionOrder:
    return SupervisionOrder.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def do_report_order(order: SupervisionOrder, *, text: str, attachment=None, at=None) -> SupervisionOrder:
    order = _locked_order(order)
    if order.status != OrderStatus.OPEN:
        raise SupervisionError(_("只有督办中的事项可以反馈"), "status")
    text = _need(text, "text", _("反馈内容不能为空"))
    OrderStep.objects.create(order=order, kind=OrderStep.Kind.FEEDBACK, at=_now(at), actor_label=audit_context().label,
                             text=text, attachment=attachment or "")
    order.status = OrderStatus.REPORTED
    order.save(update_fields=["status"])
    record("order.report", order, changes={"text": text[:500]})
    return order


@transaction.atomic
def do_verify_order(order: SupervisionOrder, *, accepted: bool, note: str, at=None) -> SupervisionOrder:
    order = _locked_order(order)
    if order.status != OrderStatus.REPORTED:
        raise SupervisionError(_("机关尚未反馈，不能核实"), "status")
    at, note = _now(at), _need(note, "note", _("核实意见不能为空"))
    if accepted:
        order.status, order.closed_at = OrderStatus.CLOSED, at
        if order.clock_id:
            clocks.do_stop_clock(order.clock, at=max(at, order.clock.start_at))
        OrderStep.objects.create(order=order, kind=OrderStep.Kind.VERIFY, at=at, actor_label=audit_context().label, text=note)
    else:
        order.status = OrderStatus.OPEN
        OrderStep.objects.create(order=order, kind=OrderStep.Kind.RETURN, at=at, actor_label=audit_context().label, text=note)
    order.save(update_fields=["status", "closed_at"])
    record("order.verify", order, changes={"accepted": accepted, "note": note[:500]})
    return order


@transaction.atomic
def do_take_over_order(order: SupervisionOrder, *, issuer: Region, note: str = "", at=None) -> SupervisionOrder:
    """提级督办: a higher level takes the order over; its region must be above the current issuer."""
    order = _locked_order(order)
    if not (order.issuer_region_code.startswith(issuer.prefix) and len(issuer.prefix) < len(order.issuer_region_code)):
        raise SupervisionError(_("只能由更高层级提级督办"), "issuer")
    if order.status == OrderStatus.CLOSED:
        raise SupervisionError(_("已办结的督办不能提级"), "status")
    before = order.issuer_region_code
    order.issuer_region_code, order.taken_over = issuer.prefix, True
    order.save(update_fields=["issuer_region_code", "taken_over"])
    OrderStep.objects.create(order=order, kind=OrderStep.Kind.TAKE_OVER, at=_now(at), actor_label=audit_context().label,
                             text=note or issuer.name)
    record("order.take_over", order, changes={"issuer": [before, issuer.prefix]})
    return order
