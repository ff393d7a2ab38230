"""A supervision order not done by its deadline: red card and a proposal for accountability."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks.models import ClockEvent

from . import OVERDUE, Finding, Rule, register
from ._common import due_text, evidence


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.OVERDUE or clock.kind != "supervision.order":
        return []
    from xiaoneng.supervision.models import OrderStatus, SupervisionOrder

    order = SupervisionOrder.objects.filter(clock=clock).select_related("organ").first()
    if order is None or order.status == OrderStatus.CLOSED:
        return []
    message = _("督办 %(no)s（%(title)s）逾期未办结（应于 %(due)s 前），亮红牌并建议问责。") % {
        "no": order.number, "title": order.title, "due": due_text(clock)
    }
    return [Finding(RULE.code, RULE.level, order.organ, order, message, RULE.legal_basis, evidence(clock, order=order.number),
                    clock, key=f"order{order.pk}")]


RULE = register(Rule("order_overdue", _l("督办逾期"), "red", "效能督办制度", on_clock_event=check, clock_events=OVERDUE))
