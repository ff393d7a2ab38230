"""Approaching a deadline — every clock the platform has (cases, steps, corrections,
certificates, parallel sub-cases, orders, complaints …). The moment is the clock's
stored `warn_at` (clock_warn_remaining_working_days / clock_warn_share in conf)."""
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks.models import ClockEvent

from . import WARNED, Finding, Rule, register
from ._common import due_text, evidence, organ_of, tr, unit_label, working_days_left

MESSAGE = gettext_noop("%(label)s 临近到期：还剩 %(left)d 个工作日，将于 %(due)s 到期（时限 %(limit)d %(unit)s）。")


def check(event, clock, case):
    return check_many([(event, clock, case)])


def check_many(items):
    """The findings of a monitoring batch's warnings. What is the same for many of them is worked out
    once: the language, the template, the level, and per deadline (at the batch's one moment) the
    working days left and the deadline's text — a pass warns about thousands of clocks."""
    language, level, per_deadline, found = get_language(), RULE.level, {}, []
    template = tr(MESSAGE, language)
    for event, clock, case in items:
        if event.kind != ClockEvent.Kind.WARNED:
            continue
        organ = organ_of(clock, case)
        if organ is None:
            continue
        moment = (clock.due_at, event.at)
        if moment not in per_deadline:
            per_deadline[moment] = (working_days_left(clock, event.at), due_text(clock))
        left, due = per_deadline[moment]
        message = template % {"label": clock.label or clock.kind, "left": left, "due": due, "limit": clock.limit,
                              "unit": unit_label(clock, language)}
        found.append(Finding(RULE.code, level, organ, case or clock, message, RULE.legal_basis,
                             evidence(clock, working_days_left=left), clock, key=f"clock{clock.pk}"))
    return found


RULE = register(Rule("near_deadline", _l("临近到期"), "warning", "《行政许可法》第四十二条", on_clock_event=check,
                     on_clock_events=check_many, clock_events=WARNED))
