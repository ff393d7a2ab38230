"""Approaching a deadline — every clock the platform has (cases, steps, corrections,
certificates, parallel sub-cases, orders, complaints …). The moment is the clock's
stored `warn_at` (clock_warn_remaining_working_days / clock_warn_share / clock_warn_max_share
in conf).

The warning cites the clock kind's own legal basis (xiaoneng.clocks.bases: Art. 42 for the
decision, 43 for a first review, 32 for a correction notice, the province's complaint rules
for a complaint, the order's own basis for a supervision order …), and its numbers are the
clock's: what is left is counted in the clock's unit from now (today counts while it lasts,
the start day and a day the clock stood still do not), the limit is shown in its unit with
any extension. A clock that a pause holds (no deadline) is not warned about while it is held."""
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _l

from xiaoneng.clocks import bases
from xiaoneng.clocks.models import ClockEvent

from . import WARNED, Finding, Rule, register
from ._common import due_text, evidence, left_in_unit, organ_of, resumed_today, tr

MESSAGE = gettext_noop("%(label)s 临近到期：还剩 %(left)s，将于 %(due)s 到期（时限 %(limit)s%(extension)s）。")
AMOUNT = {
    "working": gettext_noop("%(n)d 个工作日"),
    "calendar": gettext_noop("%(n)d 个自然日"),
    "hours": gettext_noop("%(n)d 小时"),
}
EXTENSION = gettext_noop("，延长 %(n)d 日")
LEFT_KEY = {"working": "working_days_left", "calendar": "calendar_days_left", "hours": "hours_left"}


def check(event, clock, case):
    return check_many([(event, clock, case)])


def check_many(items):
    """The findings of a monitoring batch's warnings. What is the same for many of them is worked out
    once: the language, the templates, the level, the configured bases, the clocks resumed today (one
    query) and per deadline and counting floor the amount left and the deadline's text — a pass warns
    about thousands of clocks."""
    language, level, per_deadline, found = get_language(), RULE.level, {}, []
    template, extension = tr(MESSAGE, language), tr(EXTENSION, language)
    amount = {unit: tr(text, language) for unit, text in AMOUNT.items()}
    overrides = bases.configured()
    items = [(e, c, k) for e, c, k in items if e.kind == ClockEvent.Kind.WARNED and c.due_at is not None]
    resumed = resumed_today([c for _e, c, _k in items], min(e.at for e, _c, _k in items)) if items else {}
    for event, clock, case in items:
        organ = organ_of(clock, case)
        if organ is None:
            continue
        unit = clock.unit if clock.unit in AMOUNT else "working"
        moment = (clock.due_at, event.at, unit, clock.start_at, resumed.get(clock.pk))
        if moment not in per_deadline:
            per_deadline[moment] = (left_in_unit(clock, event.at, resumed.get(clock.pk)), due_text(clock))
        left, due = per_deadline[moment]
        message = template % {
            "label": clock.label or clock.kind, "left": amount[unit] % {"n": left}, "due": due,
            "limit": amount[unit] % {"n": clock.limit},
            "extension": extension % {"n": clock.extension_days} if clock.extension_days else "",
        }
        found.append(Finding(RULE.code, level, organ, case or clock, message, bases.basis_of(clock, overrides),
                             evidence(clock, **{LEFT_KEY[unit]: left}), clock, key=f"clock{clock.pk}"))
    return found


RULE = register(Rule("near_deadline", _l("临近到期"), "warning", "", on_clock_event=check,
                     on_clock_events=check_many, clock_events=WARNED))
