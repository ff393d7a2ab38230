"""Accountability deadlines missed (xiaoneng/accountability/): the decision after 立案, an
organisational measure carried out, the filing (备案), a 复核 or 申诉 decided. The efficiency
office is watched like any other organ; near-deadline warnings come from `near_deadline`."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks.models import ClockEvent

from . import OVERDUE, Finding, Rule, register
from ._common import due_text, evidence, working_days_late

KINDS = {
    "accountability.decision": _l("问责逾期未作出决定"),
    "accountability.adjustment": _l("组织调整逾期未落实"),
    "accountability.filing": _l("问责决定逾期未备案"),
    "accountability.review": _l("复核逾期未决定"),
    "accountability.appeal": _l("申诉逾期未决定"),
}


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.OVERDUE or clock.kind not in KINDS or clock.organ_id is None:
        return []
    rule = RULE
    message = _("%(label)s %(what)s：应于 %(due)s 前完成，现已超期。") % {
        "label": clock.label or clock.kind, "what": KINDS[clock.kind], "due": due_text(clock)}
    return [Finding(rule.code, rule.level, clock.organ, clock, message, clock.legal_basis or rule.legal_basis,
                    evidence(clock, working_days_late=working_days_late(clock, event.at)), clock,
                    key=f"clock{clock.pk}")]


RULE = register(Rule("accountability_overdue", _l("问责期限逾期"), "yellow", "效能问责办理规定",
                     on_clock_event=check, clock_events=OVERDUE))
