"""Overdue: against the promised limit (承诺时限), and separately against the legal
limit (法定时限, or the joint limit of a parallel application) — two findings, since the
legal limit is the hard ceiling and the promise is what supervision measures."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks.models import ClockEvent

from . import OVERDUE, Finding, Rule, register
from ._common import due_text, evidence, organ_of, working_days_late

KINDS = {
    "case.promise": ("overdue_promise", _l("超过承诺时限")),
    "case.subcase": ("overdue_promise", _l("超过承诺时限")),
    "case.legal": ("overdue_legal", _l("超过法定时限")),
    "case.joint": ("overdue_legal", _l("超过法定时限")),
}


def check(event, clock, case):
    if event.kind != ClockEvent.Kind.OVERDUE or clock.kind not in KINDS:
        return []
    code, what = KINDS[clock.kind]
    rule = RULES[code]
    organ = organ_of(clock, case)
    late = working_days_late(clock, event.at)
    message = _("%(label)s %(what)s：应于 %(due)s 前办结，现已超期（时限 %(limit)d %(unit)s，延长 %(ext)d 日）。") % {
        "label": clock.label or clock.kind, "what": what, "due": due_text(clock), "limit": clock.limit,
        "unit": clock.get_unit_display(), "ext": clock.extension_days,
    }
    return [Finding(rule.code, rule.level, organ, case or clock, message, rule.legal_basis,
                    evidence(clock, working_days_late=late), clock, key=f"clock{clock.pk}")]


RULES = {
    "overdue_promise": register(Rule("overdue_promise", _l("超过承诺时限"), "yellow", "本机关公开承诺", on_clock_event=check,
                                     clock_events=OVERDUE)),
    "overdue_legal": register(Rule("overdue_legal", _l("超过法定时限"), "yellow", "《行政许可法》第四十二条")),
}
