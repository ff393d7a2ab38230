"""Accountability deadlines missed (xiaoneng/accountability/): the decision after 立案, an
organisational measure carried out, the filing (备案), a 复核 or 申诉 decided. The efficiency
office is watched like any other organ; near-deadline warnings come from `near_deadline`.
Its words (and their translations) live with the accountability app."""
from xiaoneng.accountability.clock_kinds import OVERDUE_MESSAGE, OVERDUE_WHAT, RULE_BASIS, RULE_TITLE
from xiaoneng.clocks.models import ClockEvent

from . import OVERDUE, Finding, Rule, register
from ._common import due_text, evidence, working_days_late


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.OVERDUE or clock.kind not in OVERDUE_WHAT or clock.organ_id is None:
        return []
    message = str(OVERDUE_MESSAGE) % {"label": clock.label or clock.kind, "what": OVERDUE_WHAT[clock.kind],
                                      "due": due_text(clock)}
    return [Finding(RULE.code, RULE.level, clock.organ, clock, message, clock.legal_basis or RULE_BASIS,
                    evidence(clock, working_days_late=working_days_late(clock, event.at)), clock,
                    key=f"clock{clock.pk}")]


RULE = register(Rule("accountability_overdue", RULE_TITLE, "yellow", RULE_BASIS, on_clock_event=check,
                     clock_events=OVERDUE))
