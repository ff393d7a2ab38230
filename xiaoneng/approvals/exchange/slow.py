"""The per-event path: one event, one savepoint, through the case actions.

Everything the fast path does not take (suspensions, resumptions, extensions,
withdrawals, parallel approval, events that must wait or be refused, held events
released later) comes here. The actions are the only writers of a case's state, so
this path is the reference the fast path is tested against.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from xiaoneng.audit.log import acting_as
from xiaoneng.audit.log import current as audit_context
from xiaoneng.clocks.actions import ClockError

from .. import actions
from ..models import Case
from ..workflow import TransitionError
from .rules import APPLY, HOLD, REJECT, CaseView, Context, Verdict, hold, readiness, reject
from .schema import Event

log = logging.getLogger(__name__)
APPLIED = Verdict("applied")


def applier(ctx: Context):
    """`apply_event` for `replay.CaseReplay`, attributed to the context's source."""
    label = f"exchange:{ctx.source.code}"

    def apply(ev: Event) -> Verdict:
        current = audit_context()
        if current.label == label:
            return apply_event(ev, ctx)
        with acting_as(None, channel=current.channel, label=label):
            return apply_event(ev, ctx)

    return apply


def _call(ev: Event, case: Case | None, ctx: Context) -> None:
    d, at = ev.data, ev.occurred_at
    t = ev.type
    if t == "submitted":
        fr = d.get("first_review_organ_code")
        actions.do_submit_case(
            matter=ctx.matters[ev.matter_code].obj, case_no=ev.case_no, applicant_name=d["applicant_name"],
            applicant_phone=d.get("applicant_phone", ""), received_at=at, organ=ctx.organs[ev.organ_code],
            first_review_organ=ctx.organs[fr] if fr else None, source=ctx.source,
        )
    elif t == "correction_requested":
        actions.do_request_correction(case, items=d["items"], at=at)
    elif t == "corrected":
        actions.do_mark_corrected(case, at=at)
    elif t == "accepted":
        actions.do_accept_case(case, at=at)
    elif t == "refused":
        actions.do_refuse_case(case, reasons=d["reasons"], at=at)
    elif t == "step_completed":
        actions.do_complete_step(case, step=d["step"], at=at, handler=d.get("handler", ""))
    elif t == "suspended":
        actions.do_suspend_case(case, reason=d["reasons"], announced_days=d["announced_days"],
                                legal_basis=d.get("legal_basis", ""), at=at)
    elif t == "resumed":
        actions.do_resume_case(case, at=at)
    elif t == "extended":
        # What the organ's system did is recorded even when it came too late to extend anything.
        actions.do_extend_case(case, days=d["days"], reasons=d["reasons"], approver_name=d["approver"], at=at,
                               record_late=True)
    elif t == "decided":
        actions.do_decide_case(case, outcome=d["outcome"], reasons=d.get("reasons", ""), at=at)
    elif t == "certificate_issued":
        actions.do_issue_certificate(case, at=at)
    elif t == "fee_charged":
        actions.do_charge_fee(case, amount=d["amount"], at=at)
    elif t == "withdrawn":
        actions.do_withdraw_case(case, reason=d.get("reasons", ""), at=at)
    else:  # pragma: no cover - schema.validate admits only the types above
        raise AssertionError(t)


def apply_event(ev: Event, ctx: Context) -> Verdict:
    """Decide and, when its turn has come, apply one event in its own savepoint.

    Returns APPLIED, or a hold/reject verdict with field and reason. A failure the
    actions report (CaseError, ClockError) rejects the event; a transition not yet
    allowed holds it; anything unexpected is logged and the event is held, so it is
    retried later instead of being lost or blamed on the source.
    """
    organ = ctx.organs[ev.organ_code]
    case = (
        Case.objects.select_related("matter_version__matter").filter(case_no=ev.case_no).first()
    )
    verdict = readiness(ev, CaseView(case) if case is not None else None, organ.pk)
    if verdict.action != APPLY:
        return verdict
    try:
        with transaction.atomic():
            _call(ev, case, ctx)
    except TransitionError as exc:
        return hold(str(exc), "status")
    except actions.CaseError as exc:
        if exc.field == "status":
            return hold(exc.message, "status")
        return reject(exc.field, exc.message)
    except ClockError as exc:
        return reject("", str(exc))
    except Exception as exc:  # our fault, not the source's: keep the event and try again later
        log.exception("exchange event %s (%s) failed", ev.event_id, ev.type)
        return hold(_("处理出错（%(error)s），事件已保存，稍后重试") % {"error": type(exc).__name__}, "")
    return APPLIED


__all__ = ["APPLIED", "HOLD", "REJECT", "applier", "apply_event"]
