"""The accountability case's transition table and its one guarded status writer.

`set_status()` is the only writer of `Case.status`: it refuses what the table does not
list and writes one timeline step (with from/to) and one audit entry per change.

Registered (立案) → investigated (findings and the persons concerned) → notified (告知, per
person) → heard (陈述申辩 recorded or waived, per person) → reviewed (容错纠错) → decided →
served (送达) → announced (optional, within a chosen scope) → filed (备案). A case whose review
leaves nobody to hold accountable is closed instead of decided. "In force" and "expired" are
not stored statuses: each measure's period is computed from its dates (queries.case_phase).
"""
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record

from .errors import AccountabilityError
from .models import Case, CaseStep, Status

S = Status
TRANSITIONS: dict[str, set[str]] = {
    S.REGISTERED: {S.INVESTIGATED},
    S.INVESTIGATED: {S.NOTIFIED, S.CLOSED},
    S.NOTIFIED: {S.HEARD},
    S.HEARD: {S.REVIEWED},
    S.REVIEWED: {S.DECIDED, S.CLOSED},
    S.DECIDED: {S.SERVED},
    S.SERVED: {S.ANNOUNCED, S.FILED},
    S.ANNOUNCED: {S.FILED},
    S.FILED: set(),
    S.CLOSED: set(),
}


class TransitionError(AccountabilityError):
    def __init__(self, case: Case, to: str):
        self.case, self.to = case, to
        super().__init__(_("问责案件 %(no)s 当前为“%(now)s”，不能变为“%(to)s”") % {
            "no": case.number, "now": Status(case.status).label, "to": Status(to).label,
        }, "status")


def can_change(case: Case, to: str) -> bool:
    return to in TRANSITIONS[case.status]


def step(case: Case, kind: str, at, *, text: str = "", data: dict | None = None, from_status: str = "",
         to_status: str = "") -> CaseStep:
    ctx = audit_context()
    return CaseStep.objects.create(case=case, kind=kind, at=at, actor=ctx.actor, actor_label=ctx.label[:150],
                                   text=text, data=data or {}, from_status=from_status, to_status=to_status)


def set_status(case: Case, to: str, kind: str, at, *, text: str = "", data: dict | None = None,
               fields: tuple[str, ...] = ()) -> CaseStep:
    """Move the case to `to` (guarded); also saves `fields` the caller changed."""
    if not can_change(case, to):
        raise TransitionError(case, to)
    before = case.status
    case.status = to
    case.save(update_fields=["status", *fields])
    record("accountability.status", case, changes={"status": [before, to], "step": kind})
    return step(case, kind, at, text=text, data=data, from_status=before, to_status=to)
