"""Approaching a deadline — every clock the platform has (cases, steps, corrections,
certificates, parallel sub-cases, orders, complaints …). The moment is the clock's
stored `warn_at` (clock_warn_remaining_working_days / clock_warn_share in conf)."""
from django.utils.translation import gettext_lazy as _l
from django.utils.translation import gettext_noop

from xiaoneng.clocks.models import ClockEvent

from . import WARNED, Finding, Rule, register
from ._common import due_text, evidence, organ_of, tr, unit_label, working_days_left


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.WARNED:
        return []
    organ = organ_of(clock, case)
    if organ is None:
        return []
    left = working_days_left(clock, event.at)
    message = tr(gettext_noop("%(label)s 临近到期：还剩 %(left)d 个工作日，将于 %(due)s 到期（时限 %(limit)d %(unit)s）。")) % {
        "label": clock.label or clock.kind, "left": left, "due": due_text(clock), "limit": clock.limit,
        "unit": unit_label(clock),
    }
    return [Finding(RULE.code, RULE.level, organ, case or clock, message, RULE.legal_basis,
                    evidence(clock, working_days_left=left), clock, key=f"clock{clock.pk}")]


RULE = register(Rule("near_deadline", _l("临近到期"), "warning", "《行政许可法》第四十二条", on_clock_event=check,
                     clock_events=WARNED))
