"""The case's transition table: which status may follow which, and nothing else.

`set_status()` is the only writer of `Case.status`; it refuses a transition the table
does not list and writes a `StatusChange` row for every change.
"""
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record

from .models import Case, Status, StatusChange

S = Status
TRANSITIONS: dict[str, set[str]] = {
    S.SUBMITTED: {S.CORRECTION_REQUESTED, S.ACCEPTED, S.REFUSED, S.WITHDRAWN},
    S.CORRECTION_REQUESTED: {S.CORRECTED, S.REFUSED, S.WITHDRAWN},
    S.CORRECTED: {S.ACCEPTED, S.REFUSED, S.WITHDRAWN},
    S.ACCEPTED: {S.SUSPENDED, S.DECIDED, S.WITHDRAWN},
    S.SUSPENDED: {S.ACCEPTED, S.WITHDRAWN},
    S.DECIDED: {S.CERTIFIED, S.CLOSED},
    S.CERTIFIED: {S.CLOSED},
    S.REFUSED: set(),
    S.CLOSED: set(),
    S.WITHDRAWN: set(),
}


class TransitionError(ValueError):
    field = "status"

    def __init__(self, case: Case, to: str):
        self.case, self.to = case, to
        super().__init__(
            _("办件 %(no)s 当前为“%(now)s”，不能变为“%(to)s”")
            % {"no": case.case_no, "now": Status(case.status).label, "to": Status(to).label}
        )


def can_change(case: Case, to: str) -> bool:
    return to in TRANSITIONS[case.status]


def set_status(case: Case, to: str, *, at=None, actor=None, note: str = "") -> StatusChange:
    """Move the case to `to` (guarded) and record the change; caller holds the transaction."""
    if not can_change(case, to):
        raise TransitionError(case, to)
    at = at or timezone.now()
    ctx = audit_context()
    change = StatusChange.objects.create(
        case=case, from_status=case.status, to_status=to, at=at, actor=actor or ctx.actor, actor_label=ctx.label, note=note
    )
    before = case.status
    case.status = to
    case.save(update_fields=["status"])
    record("case.status", case, changes={"status": [before, to], "note": note})
    return change
