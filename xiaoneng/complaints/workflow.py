"""The complaint's transition table and its one guarded status writer.

`set_status()` is the only writer of `Complaint.status`: it refuses what the table does
not list and writes one timeline step (with from/to) and one audit entry per change. A
step's text is stored with its masked copy (masking.py).
"""
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record

from .identity import masker_for
from .models import Complaint, ComplaintStep, Status

S = Status
TRANSITIONS: dict[str, set[str]] = {
    S.REGISTERED: {S.ACCEPTED, S.NOT_ACCEPTED, S.MERGED},
    # The office may answer a simple complaint itself (HANDLED) instead of routing it.
    S.ACCEPTED: {S.ROUTED, S.HANDLED, S.MERGED},
    S.ROUTED: {S.SENT_BACK, S.HANDLED, S.MERGED},
    S.SENT_BACK: {S.ROUTED, S.HANDLED},
    # The office checks the organ's report: reply, or return it to be handled again.
    S.HANDLED: {S.REPLIED, S.ROUTED},
    # After the reply: the complainant rates (or the rating window passes) → closed;
    # dissatisfied, they may ask for a review (复核).
    S.REPLIED: {S.CLOSED, S.REVIEW},
    S.REVIEW: {S.CLOSED, S.ROUTED},
    S.NOT_ACCEPTED: set(),
    S.CLOSED: set(),
    S.MERGED: set(),
}

# Steps of these kinds are shown to the complainant on the public follow-up page.
PUBLIC_KINDS = {
    ComplaintStep.Kind.REGISTER, ComplaintStep.Kind.ACCEPT, ComplaintStep.Kind.NOT_ACCEPT, ComplaintStep.Kind.ROUTE,
    ComplaintStep.Kind.REPLY, ComplaintStep.Kind.RATE, ComplaintStep.Kind.APPEAL, ComplaintStep.Kind.REVIEW,
    ComplaintStep.Kind.CLOSE, ComplaintStep.Kind.MERGE,
}


class TransitionError(ValueError):
    def __init__(self, complaint: Complaint, to: str):
        self.complaint, self.to = complaint, to
        self.field = "status"
        self.message = _("投诉 %(no)s 当前为“%(now)s”，不能变为“%(to)s”") % {
            "no": complaint.number, "now": Status(complaint.status).label, "to": Status(to).label,
        }
        super().__init__(self.message)


def can_change(complaint: Complaint, to: str) -> bool:
    return to in TRANSITIONS[complaint.status]


def step(complaint: Complaint, kind: str, at, *, text: str = "", organ=None, data: dict | None = None,
         from_status: str = "", to_status: str = "") -> ComplaintStep:
    ctx = audit_context()
    return ComplaintStep.objects.create(
        complaint=complaint, kind=kind, at=at, actor=ctx.actor, actor_label=ctx.label[:150], organ=organ,
        text=text, text_masked=masker_for(complaint)(text), data=data or {}, from_status=from_status,
        to_status=to_status, public=kind in PUBLIC_KINDS,
    )


def set_status(complaint: Complaint, to: str, kind: str, at, *, text: str = "", organ=None,
               data: dict | None = None, fields: tuple[str, ...] = ()) -> ComplaintStep:
    """Move the complaint to `to` (guarded); also saves `fields` the caller changed."""
    if not can_change(complaint, to):
        raise TransitionError(complaint, to)
    before = complaint.status
    complaint.status = to
    complaint.save(update_fields=["status", *fields])
    record("complaint.status", complaint, changes={"status": [before, to], "step": kind})
    return step(complaint, kind, at, text=text, organ=organ, data=data, from_status=before, to_status=to)
