"""Complaint and bad-review deadlines missed: acceptance by the office, handling by the
organ (a hotline work order or a routed complaint), rectification of a bad review.
Near-deadline warnings for these clocks come from `near_deadline` like every other."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks import bases
from xiaoneng.clocks.models import ClockEvent

from . import OVERDUE, Finding, Rule, register
from ._common import due_text, evidence, working_days_late

KINDS = {
    "complaint.acceptance": ("complaint_acceptance_overdue", _l("投诉逾期未受理")),
    "complaint.handling": ("complaint_handling_overdue", _l("投诉逾期未办结")),
    "rating.rectification": ("bad_review_rectification_overdue", _l("差评逾期未整改")),
}


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.OVERDUE or clock.kind not in KINDS or clock.organ_id is None:
        return []
    code, what = KINDS[clock.kind]
    rule = RULES[code]
    late = working_days_late(clock, event.at)
    message = _("%(label)s %(what)s：应于 %(due)s 前完成，现已超期（时限 %(limit)d %(unit)s，延长 %(ext)d 日）。") % {
        "label": clock.label or clock.kind, "what": what, "due": due_text(clock), "limit": clock.limit,
        "unit": clock.get_unit_display(), "ext": clock.extension_days,
    }
    # The province's complaint rules as configured (clock_legal_basis), like the warning's.
    return [Finding(rule.code, rule.level, clock.organ, clock, message, bases.basis_of(clock) or rule.legal_basis,
                    evidence(clock, working_days_late=late), clock, key=f"clock{clock.pk}")]


RULES = {
    "complaint_acceptance_overdue": register(Rule("complaint_acceptance_overdue", _l("投诉逾期未受理"), "yellow",
                                                  "效能投诉受理规定", on_clock_event=check,
                                                  clock_events=OVERDUE)),
    "complaint_handling_overdue": register(Rule("complaint_handling_overdue", _l("投诉逾期未办结"), "yellow",
                                                "效能投诉办理规定")),
    "bad_review_rectification_overdue": register(Rule("bad_review_rectification_overdue", _l("差评逾期未整改"),
                                                      "yellow", "政务服务“好差评”制度")),
}
