"""Supervision rules: one module per rule, each registering itself here.

A rule looks at what happened — clock events from the monitoring pass (warned,
overdue), case events as they are recorded, or the events an organ's own system
reported through the exchange inbox — and returns `Finding`s: the level, the
organ, the subject, a message that explains the finding with its numbers, the
evidence and the legal basis. `xiaoneng.supervision.engine` turns findings into alerts
(once each) and applies the escalation ladder.

A rule's level is configuration: `supervision_rule_levels` in xiaoneng.conf maps a rule
code to "warning", "yellow" or "red" and overrides the rule's default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from pkgutil import iter_modules

from xiaoneng.conf import rule as conf_rule


@dataclass
class Finding:
    rule: str
    level: str
    organ: object
    subject: object
    message: str
    legal_basis: str = ""
    evidence: dict = field(default_factory=dict)
    clock: object = None
    key: str = ""  # distinguishes several findings of one rule on one subject
    at: object = None  # when it was found, if not the moment `raise_findings` is given (a batch of events)


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    default_level: str
    legal_basis: str
    on_clock_event: object = None  # fn(event, clock, case_or_none) -> list[Finding]
    # the same for a monitoring batch at once (what is the same for all of them worked out once):
    # fn([(event, clock, case_or_none), ...]) -> list[Finding]
    on_clock_events: object = None
    on_case_event: object = None  # fn(case, kind, data) -> list[Finding]
    # the same for many case events at once (set-based queries): fn(events) -> list[Finding], each at its
    # event's moment; an event has case_id, kind, at and data (a CaseEvent or a bulk writer's row)
    on_case_events: object = None
    on_exchange: object = None  # fn(list[ExchangeEvent]) -> list[Finding]
    case_kinds: frozenset | None = None  # the case event kinds on_case_event looks at (None: all)
    clock_events: frozenset | None = None  # the clock event kinds on_clock_event looks at (None: all)

    @property
    def level(self) -> str:
        return (conf_rule("supervision_rule_levels") or {}).get(self.code, self.default_level)


WARNED, OVERDUE = frozenset({"warned"}), frozenset({"overdue"})  # ClockEvent.Kind values, for `clock_events`
RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    RULES[rule.code] = rule
    return rule


@cache
def load_all() -> dict[str, Rule]:
    """Import every rule module of this package (each registers itself); once per process."""
    for info in iter_modules(__path__):
        import_module(f"{__name__}.{info.name}")
    return RULES
