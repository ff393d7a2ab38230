"""Every state change of an approval case, with the clocks the law attaches to it.

Clocks (行政许可法; limits from the matter version, defaults in xiaoneng.conf):

* correction  — from receipt, `correction_limit` (5) working days to tell the applicant
  everything to correct at once (Art. 32). If the organ is later than that (with a
  correction notice or with its acceptance), the case counts as accepted from receipt:
  every clock that counts from acceptance (decision clocks, the first step's, the
  sub-cases') starts at receipt and its `start_reason` says why.
* promise / legal — from acceptance, the promised and the legal limit for the decision
  (Art. 42); paused during special procedures (Art. 45); extended once, within the
  legal maximum, with an approver and reasons, and only while the period runs: an
  extension approved after the legal clock's deadline is refused (or, reported by an
  organ's system, recorded without effect); a clock whose own period ended (the
  promise) is not extended. A parallel application's legal clock is the joint limit (45 + 15).
* step        — each handling step of the matter; a first review by a lower organ has
  `first_review_limit` (20) working days (Art. 43).
* certificate — from a grant, `certificate_limit` (10) working days to issue (Art. 44).

Every function runs in one transaction, re-reads the case with a row lock, changes
status only through `workflow.set_status`, and tells the applicant after commit.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.lib.actions import ActionError
from xiaoneng.orgs.models import Organ

from . import notices
from .models import Case, CaseEvent, CaseStep, Matter, MatterVersion, Outcome, Status
from .signals import case_event
from .workflow import set_status

FEE_TOTAL_MAX = Decimal("9999999999.99")  # Case.fee_charged: 12 digits, 2 after the point
DEEMED_LATE_CORRECTION = Clock.StartReason.DEEMED_LATE_CORRECTION.value
DEEMED_LATE_ACCEPTANCE = Clock.StartReason.DEEMED_LATE_ACCEPTANCE.value


class CaseError(ActionError):
    """A request the law or the case's state does not allow; `field` names the input."""


# --- helpers ---------------------------------------------------------------------------
def _aware(at: datetime | None, field: str = "at") -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise CaseError(_("时间缺少时区"), field)
    return at


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update().select_related("matter_version__matter", "organ").get(pk=case.pk)


def _event(case: Case, kind: str, at: datetime, **data) -> CaseEvent:
    data = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in data.items()}
    event = CaseEvent.objects.create(case=case, kind=kind, at=at, data=data, actor_label=audit_context().label)
    case_event.send(sender=Case, case=case, event=event)
    return event


def verify_digest(case_no: str, code: str) -> str:
    """Keyed digest of a case's verification code (fast enough for bulk seeding, useless without the key)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"{case_no}:{code}".encode(), hashlib.sha256).hexdigest()


def check_verify_code(case: Case, code: str) -> bool:
    return bool(case.verify_hash) and hmac.compare_digest(case.verify_hash, verify_digest(case.case_no, code.strip()))


def version_in_force(matter: Matter, at: datetime) -> MatterVersion:
    version = matter.versions.filter(effective_from__lte=at).order_by("-effective_from", "-number").first()
    if version is None:
        raise CaseError(_("事项 %(code)s 在 %(at)s 没有生效的版本") % {"code": matter.code, "at": f"{at:%Y-%m-%d}"}, "matter_code")
    return version


def _start(case: Case, kind: str, at: datetime, limit: int, unit: str, label: str, basis: str = "",
           start_reason: str = "") -> Clock:
    return clocks.do_start_clock(
        kind=kind, start_at=at, limit=limit, unit=unit, subject=case, organ=case.organ,
        label=f"{case.case_no} {label}", legal_basis=basis, start_reason=start_reason,
    )


def _open_clocks(case: Case) -> list[Clock]:
    ids = [case.correction_clock_id, case.promise_clock_id, case.legal_clock_id, case.certificate_clock_id]
    ids += list(case.steps.filter(completed_at__isnull=True).values_list("clock_id", flat=True))
    return list(Clock.objects.filter(pk__in=[i for i in ids if i]).exclude(state=Clock.State.STOPPED))


def _stop(clock_id: int | None, at: datetime) -> None:
    if clock_id:
        clock = Clock.objects.get(pk=clock_id)
        clocks.do_stop_clock(clock, at=max(at, clock.start_at))


def _family(case: Case) -> list[Case]:
    """The case and, for a parallel application, its sub-cases."""
    return [case, *case.subcases.select_for_update().all()] if case.is_parallel else [case]


# --- submission ------------------------------------------------------------------------
@transaction.atomic
def do_submit_case(*, matter: Matter, case_no: str, applicant_name: str, received_at: datetime | None = None,
                   applicant_phone: str = "", organ: Organ | None = None, first_review_organ: Organ | None = None,
                   source=None, verify_code: str | None = None) -> tuple[Case, str]:
    """Register an application; returns the case and the applicant's verification code.

    1. Take the matter version in force at receipt; the case keeps it for life.
    2. Start the 5-working-day correction clock.
    3. A parallel matter opens a sub-case with the lead organ and each co-organ.
    """
    received_at = _aware(received_at, "received_at")
    case_no = (case_no or "").strip()
    if not case_no:
        raise CaseError(_("办件编号不能为空"), "case_no")
    if len(case_no) > 64:
        raise CaseError(_("办件编号过长（最多64个字符）"), "case_no")
    if not applicant_name or not applicant_name.strip():
        raise CaseError(_("申请人不能为空"), "applicant_name")
    if Case.objects.filter(case_no=case_no).exists():
        raise CaseError(_("办件编号 %(no)s 已存在") % {"no": case_no}, "case_no")
    version = version_in_force(matter, received_at)
    organ = organ or matter.organ
    code = verify_code or f"{secrets.randbelow(10**6):06d}"
    case = Case.objects.create(
        case_no=case_no, matter_version=version, organ=organ, region_code=organ.region_code,
        first_review_organ=first_review_organ,
        applicant_name=applicant_name.strip()[:100], applicant_phone=(applicant_phone or "").strip()[:30],
        verify_hash=verify_digest(case_no, code), status=Status.SUBMITTED, received_at=received_at,
        is_parallel=version.is_parallel, source=source,
    )
    case.correction_clock = _start(case, "case.correction", received_at, version.correction_limit, "working",
                                   _("补正告知"), _("《行政许可法》第三十二条"))
    case.save(update_fields=["correction_clock"])
    if version.is_parallel:
        organs = [organ, *version.co_organs.exclude(pk=organ.pk).order_by("pk")]
        for i, member in enumerate(organs, start=1):
            Case.objects.create(
                case_no=f"{case_no}-{i:02d}", matter_version=version, organ=member, region_code=member.region_code,
                parent=case, applicant_name=case.applicant_name, applicant_phone=case.applicant_phone,
                status=Status.SUBMITTED, received_at=received_at, source=source,
            )
    record("case.submit", case, changes={"matter": matter.code, "version": version.number, "organ": organ.pk})
    notices.tell_applicant(case, "submitted", code=code)
    return case, code


# --- before acceptance -----------------------------------------------------------------
def _correction_late(case: Case, at: datetime) -> bool:
    clock = case.correction_clock
    return bool(clock and clock.due_at and at > clock.due_at)


def _start_decision_clocks(case: Case, start: datetime, reason: str = "") -> None:
    v = case.matter_version
    basis = _("《行政许可法》第四十二条")
    if case.is_parallel:
        case.legal_clock = _start(case, "case.joint", start, v.joint_limit, "working", _("联合办理时限"), basis, reason)
    else:
        case.legal_clock = _start(case, "case.legal", start, v.legal_limit, v.legal_unit, _("法定时限"), basis, reason)
    case.promise_clock = _start(case, "case.promise", start, v.promised_limit, v.promised_unit, _("承诺时限"),
                                start_reason=reason)
    case.save(update_fields=["legal_clock", "promise_clock"])


def _deem_accepted(case: Case, reason: str) -> None:
    """Art. 32: no timely correction notice, so the case counts as accepted from receipt (`reason`:
    a late correction notice or a late acceptance, Clock.StartReason)."""
    if case.deemed_accepted or case.promise_clock_id:
        return
    case.deemed_accepted = True
    case.accepted_at = case.received_at
    case.save(update_fields=["deemed_accepted", "accepted_at"])
    _start_decision_clocks(case, case.received_at, reason)


@transaction.atomic
def do_request_correction(case: Case, *, items: list[str], at: datetime | None = None) -> Case:
    """Tell the applicant everything to correct, at once (one notice only)."""
    at = _aware(at)
    case = _locked(case)
    items = [str(i).strip() for i in (items or []) if str(i).strip()]
    if not items:
        raise CaseError(_("补正告知必须一次性列明全部需要补正的材料"), "items")
    if case.status != Status.SUBMITTED:
        raise CaseError(_("补正告知只能在受理前发出一次"), "status")
    late = _correction_late(case, at)
    set_status(case, Status.CORRECTION_REQUESTED, at=at, note="；".join(items))
    _event(case, CaseEvent.Kind.CORRECTION, at, items=items, late=late)
    _stop(case.correction_clock_id, at)
    if late:
        _deem_accepted(case, DEEMED_LATE_CORRECTION)
    notices.tell_applicant(case, "correction_requested", items=items)
    return case


@transaction.atomic
def do_mark_corrected(case: Case, *, at: datetime | None = None) -> Case:
    at = _aware(at)
    case = _locked(case)
    set_status(case, Status.CORRECTED, at=at)
    return case


@transaction.atomic
def do_accept_case(case: Case, *, at: datetime | None = None) -> Case:
    """Accept (受理). Without a timely correction notice the case counts as accepted from receipt."""
    at = _aware(at)
    case = _locked(case)
    came_from = case.status
    set_status(case, Status.ACCEPTED, at=at)
    # Deemed accepted earlier by a late correction notice, or now, by this late acceptance.
    reason = DEEMED_LATE_CORRECTION if case.deemed_accepted else ""
    if came_from == Status.SUBMITTED:
        _stop(case.correction_clock_id, at)
        if _correction_late(case, at):
            _deem_accepted(case, DEEMED_LATE_ACCEPTANCE)
            reason = DEEMED_LATE_ACCEPTANCE
    if not case.promise_clock_id:
        case.accepted_at = at
        case.save(update_fields=["accepted_at"])
        _start_decision_clocks(case, at)
    # Every clock counted from acceptance counts from the (deemed) acceptance, not from this act.
    _start_next_step(case, case.accepted_at, reason)
    for sub in case.subcases.all() if case.is_parallel else []:
        if sub.status == Status.SUBMITTED:
            set_status(sub, Status.ACCEPTED, at=at)
        sub.accepted_at = case.accepted_at
        sub.save(update_fields=["accepted_at"])
        sub.promise_clock = _start(sub, "case.subcase", case.accepted_at, case.matter_version.joint_limit,
                                   "working", _("并联子件时限"), start_reason=reason)
        sub.save(update_fields=["promise_clock"])
    notices.tell_applicant(case, "accepted")
    return case


@transaction.atomic
def do_refuse_case(case: Case, *, reasons: str, at: datetime | None = None) -> Case:
    """不予受理, with reasons (Art. 32)."""
    at = _aware(at)
    case = _locked(case)
    if not (reasons or "").strip():
        raise CaseError(_("不予受理必须说明理由"), "reasons")
    set_status(case, Status.REFUSED, at=at, note=reasons.strip())
    case.reasons = reasons.strip()
    case.closed_at = at
    case.save(update_fields=["reasons", "closed_at"])
    for clock in _open_clocks(case):
        clocks.do_stop_clock(clock, at=max(at, clock.start_at))
    notices.tell_applicant(case, "refused", reasons=case.reasons)
    return case


# --- steps -------------------------------------------------------------------------------
def _start_next_step(case: Case, at: datetime, start_reason: str = "") -> CaseStep | None:
    done = set(case.steps.values_list("step_id", flat=True))
    step = case.matter_version.steps.exclude(pk__in=done).order_by("order").first()
    if step is None:
        return None
    organ = case.organ
    limit, unit = step.limit, step.unit
    if step.is_first_review:
        organ = case.first_review_organ or case.organ
        limit, unit = case.matter_version.first_review_limit, "working"
    case_step = CaseStep.objects.create(case=case, step=step, organ=organ, started_at=at)
    case_step.clock = clocks.do_start_clock(
        kind="case.first_review" if step.is_first_review else "case.step", start_at=at, limit=limit, unit=unit,
        subject=case, organ=organ, label=f"{case.case_no} {step.name}",
        legal_basis=_("《行政许可法》第四十三条") if step.is_first_review else "", start_reason=start_reason,
    )
    case_step.save(update_fields=["clock"])
    return case_step


@transaction.atomic
def do_complete_step(case: Case, *, step: str | int, at: datetime | None = None, handler: str = "") -> CaseStep:
    """Finish the current step (by name or order) and start the next one."""
    at = _aware(at)
    case = _locked(case)
    if case.status != Status.ACCEPTED:
        raise CaseError(_("只有已受理且未暂停的办件可以办结环节"), "status")
    current = case.steps.filter(completed_at__isnull=True).select_related("step").first()
    if current is None:
        raise CaseError(_("办件没有进行中的环节"), "step")
    if str(step) not in (current.step.name, str(current.step.order)):
        raise CaseError(
            _("环节顺序不符：当前环节是“%(now)s”，收到“%(got)s”") % {"now": current.step.name, "got": step}, "step"
        )
    current.completed_at = at
    current.handler = (handler or "")[:100]
    current.save(update_fields=["completed_at", "handler"])
    _stop(current.clock_id, at)
    _event(case, CaseEvent.Kind.STEP, at, step=current.step.name, handler=current.handler)
    _start_next_step(case, at)
    return current


# --- special procedures and extensions --------------------------------------------------
@transaction.atomic
def do_suspend_case(case: Case, *, reason: str, announced_days: int, legal_basis: str = "",
                    at: datetime | None = None) -> Case:
    """Hearing, testing, expert review … (Art. 45): the decision clocks stand still."""
    at = _aware(at)
    case = _locked(case)
    if not (reason or "").strip():
        raise CaseError(_("特别程序必须说明事由"), "reason")
    try:
        announced_days = int(announced_days)
    except (TypeError, ValueError):
        raise CaseError(_("告知时长必须是整数天数"), "announced_days") from None
    if announced_days <= 0:
        raise CaseError(_("必须书面告知申请人特别程序所需时间（天数大于0）"), "announced_days")
    set_status(case, Status.SUSPENDED, at=at, note=reason)
    for clock in _open_clocks(case):
        if clock.state == Clock.State.RUNNING and clock.kind != "case.certificate":
            clocks.do_pause_clock(clock, at=max(at, clock.start_at), reason=reason.strip(),
                                  legal_basis=(legal_basis or "").strip(), announced_days=announced_days)
    _event(case, CaseEvent.Kind.SUSPEND, at, reason=reason.strip(), legal_basis=(legal_basis or "").strip(),
           announced_days=announced_days)
    notices.tell_applicant(case, "suspended", reason=reason.strip(), days=announced_days)
    return case


@transaction.atomic
def do_resume_case(case: Case, *, at: datetime | None = None) -> Case:
    at = _aware(at)
    case = _locked(case)
    set_status(case, Status.ACCEPTED, at=at)
    for clock in _open_clocks(case):
        if clock.state == Clock.State.PAUSED:
            clocks.do_resume_clock(clock, at=at)
    _event(case, CaseEvent.Kind.RESUME, at)
    return case



def extension_too_late(case: Case, at: datetime) -> str:
    """Why an extension asked for or approved at `at` comes too late (Art. 42: only while the legal period
    runs), or "" while it may still be granted."""
    if not case.legal_clock_id:
        return ""
    legal = Clock.objects.get(pk=case.legal_clock_id)
    if not clocks.ended_before(legal, at):
        return ""
    return (_("法定办理期限已于 %(due)s 届满，不能再延长（《行政许可法》第四十二条：延长须在期限届满前经本机关负责人批准）")
            % {"due": deadline_label(legal.due_at)})

@transaction.atomic
def do_extend_case(case: Case, *, days: int, reasons: str, approver_name: str, approver=None,
                   at: datetime | None = None, record_late: bool = False) -> Case:
    """Extend once, within the legal maximum (10; 15 for parallel approval), with reasons told to the applicant.

    Art. 42 allows it only when the decision cannot be made within the period, so it must be
    approved before the period ends: after the legal (or joint) clock's deadline it is refused;
    with `record_late` (what an organ's system reports through the exchange, which happened
    whatever we say) it is kept on the timeline with `late` and changes no clock, so the case
    stays overdue against the original date and supervision raises an irregular-extension
    finding. A clock whose own period already ended (the promise) is left as it is either way.
    """
    at = _aware(at)
    case = _locked(case)
    if case.status not in (Status.ACCEPTED, Status.SUSPENDED):
        raise CaseError(_("只有已受理、尚未决定的办件可以延长"), "status")
    if case.extended:
        raise CaseError(_("办件已经延长过一次，不能再次延长"), "days")
    v = case.matter_version
    maximum = v.joint_extension_max if case.is_parallel else v.extension_max
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise CaseError(_("延长天数必须是整数"), "days") from None
    if not 0 < days <= maximum:
        raise CaseError(_("延长天数须在 1 至 %(max)d 个工作日之间") % {"max": maximum}, "days")
    if not (reasons or "").strip():
        raise CaseError(_("延长必须说明理由并告知申请人"), "reasons")
    if not (approver_name or "").strip() and approver is None:
        raise CaseError(_("延长须经本机关负责人批准（缺少批准人）"), "approver")
    targets = [Clock.objects.get(pk=i) for i in (case.legal_clock_id, case.promise_clock_id) if i]
    ended = [c for c in targets if clocks.ended_before(c, at)]
    record = dict(days=days, reasons=reasons.strip(), approver=approver_name or str(approver))
    legal = targets[0] if case.legal_clock_id else None
    if legal is not None and legal in ended:
        due = deadline_label(legal.due_at)
        if not record_late:
            raise CaseError(extension_too_late(case, at), "at")
        _event(case, CaseEvent.Kind.EXTEND, at, **record, late=True, due=due)
        return case
    for clock in targets:
        if clock not in ended:
            clocks.do_extend_clock(clock, days=days, reason=reasons.strip(), approver=approver,
                                   approver_name=approver_name, at=at, max_total=maximum)
    if ended:
        record["late_clocks"] = [c.kind for c in ended]
    case.extended = True
    case.save(update_fields=["extended"])
    _event(case, CaseEvent.Kind.EXTEND, at, **record)
    notices.tell_applicant(case, "extended", days=days, reasons=reasons.strip())
    return case


# --- decision and after ------------------------------------------------------------------
@transaction.atomic
def do_decide_case(case: Case, *, outcome: str, reasons: str = "", at: datetime | None = None,
                   require_steps_done: bool = False) -> Case:
    """Record the decision (准予/不予许可) and start the certificate clock for a grant.

    With `require_steps_done` — what the case page passes — a decision while a handling step is
    still open is refused, naming the open steps: a decision never skips the matter's steps. The
    exchange never gets here with an open step either: `exchange.rules.readiness` holds such an
    event until the step is reported. The default leaves histories built by tools and fixtures as
    they are written.
    """
    at = _aware(at)
    case = _locked(case)
    if outcome not in Outcome.values:
        raise CaseError(_("决定结果应为 granted 或 denied"), "outcome")
    if outcome == Outcome.DENIED and not (reasons or "").strip():
        raise CaseError(_("不予许可必须说明理由"), "reasons")
    if case.is_parallel and case.subcases.exclude(status__in=[Status.DECIDED, Status.CERTIFIED, Status.CLOSED]).exists():
        raise CaseError(_("并联审批须待各协办机关办结后方可作出决定"), "outcome")
    open_steps = require_steps_done and [
        s.step.name for s in case.steps.filter(completed_at__isnull=True).select_related("step")]
    if open_steps:
        raise CaseError(_("环节“%(steps)s”尚未办结，不能作出决定") % {"steps": "、".join(open_steps)}, "step")
    set_status(case, Status.DECIDED, at=at, note=reasons)
    case.outcome, case.decided_at, case.reasons = outcome, at, (reasons or "").strip()
    case.save(update_fields=["outcome", "decided_at", "reasons"])
    for clock in _open_clocks(case):
        clocks.do_stop_clock(clock, at=max(at, clock.start_at))
    if outcome == Outcome.GRANTED and case.parent_id is None:
        case.certificate_clock = _start(case, "case.certificate", at, case.matter_version.certificate_limit, "working",
                                        _("送达证件"), _("《行政许可法》第四十四条"))
        case.save(update_fields=["certificate_clock"])
    notices.tell_applicant(case, "decided", outcome=outcome, reasons=case.reasons)
    return case


@transaction.atomic
def do_issue_certificate(case: Case, *, at: datetime | None = None) -> Case:
    at = _aware(at)
    case = _locked(case)
    if case.outcome != Outcome.GRANTED:
        raise CaseError(_("只有准予许可的办件才发放证件"), "outcome")
    set_status(case, Status.CERTIFIED, at=at)
    case.certified_at = at
    case.save(update_fields=["certified_at"])
    _stop(case.certificate_clock_id, at)
    notices.tell_applicant(case, "certified")
    return case


@transaction.atomic
def do_close_case(case: Case, *, at: datetime | None = None) -> Case:
    at = _aware(at)
    case = _locked(case)
    set_status(case, Status.CLOSED, at=at)
    case.closed_at = at
    case.save(update_fields=["closed_at"])
    for clock in _open_clocks(case):
        clocks.do_stop_clock(clock, at=max(at, clock.start_at))
    return case


@transaction.atomic
def do_withdraw_case(case: Case, *, reason: str = "", at: datetime | None = None) -> Case:
    """The applicant withdraws before the decision; sub-cases go with the application."""
    at = _aware(at)
    case = _locked(case)
    for member in _family(case):
        if member.is_open() and member.status not in (Status.DECIDED, Status.CERTIFIED):
            set_status(member, Status.WITHDRAWN, at=at, note=reason)
            member.closed_at = at
            member.save(update_fields=["closed_at"])
            for clock in _open_clocks(member):
                clocks.do_stop_clock(clock, at=max(at, clock.start_at))
        elif member is case:
            set_status(member, Status.WITHDRAWN, at=at)  # raises the transition error
    return case


@transaction.atomic
def do_charge_fee(case: Case, *, amount, at: datetime | None = None, refuse_irregular: bool = False) -> CaseEvent:
    """Record a fee against the matter's standard.

    Entered on the pages (`refuse_irregular`), a fee on a free matter or a total above the standard
    is refused with the reason (Arts. 58, 59). Reported by an organ's system it happened whatever we
    say: it is recorded, and the excess is kept as evidence for supervision (`fee_above_standard`).
    """
    at = _aware(at)
    case = _locked(case)
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise CaseError(_("收费金额必须是数字"), "amount") from None
    # The size before quantizing: 1E+300 has no cents within the decimal context (InvalidOperation).
    too_big = amount.is_finite() and amount > FEE_TOTAL_MAX
    if not too_big and (not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01"))):
        raise CaseError(_("收费金额必须为非负数，最多两位小数"), "amount")
    if too_big or case.fee_charged + amount > FEE_TOTAL_MAX:  # the column holds 12 digits, 2 after the point
        raise CaseError(_("收费合计将超过 %(max)s 元，超出可记录的范围") % {"max": FEE_TOTAL_MAX}, "amount")
    v = case.matter_version
    standard = Decimal(0) if v.is_free else (v.fee_standard or Decimal(0))
    if refuse_irregular and amount > 0 and v.is_free:
        raise CaseError(_("本事项为不收费事项，不得收取任何费用（《行政许可法》第五十八条）"), "amount")
    if refuse_irregular and case.fee_charged + amount > standard:
        raise CaseError(_("收费合计 %(total)s 元将超过收费标准 %(standard)s 元（已收 %(charged)s 元），不予登记"
                          "（《行政许可法》第五十九条：按照法定项目和标准收费）")
                        % {"total": case.fee_charged + amount, "standard": standard, "charged": case.fee_charged},
                        "amount")
    case.fee_charged += amount
    case.save(update_fields=["fee_charged"])
    return _event(case, CaseEvent.Kind.FEE, at, amount=amount, standard=standard, total=case.fee_charged,
                  over_standard=case.fee_charged > standard, free_matter=v.is_free)


# --- registration at the counter ---------------------------------------------------------
def next_case_no(organ: Organ, year: int) -> str:
    """The organ's next case number of the year: its organisation code (within its credit code), the
    year and a serial, e.g. 000000014-2026-00012. The sequence row is locked until the transaction ends;
    a number already taken (typed by hand or reported by the exchange) is skipped."""
    from .models import CaseNumberSequence

    sequence, _created = CaseNumberSequence.objects.get_or_create(organ=organ, year=year)
    sequence = CaseNumberSequence.objects.select_for_update().get(pk=sequence.pk)
    prefix = f"{(organ.credit_code or '')[8:17] or organ.pk}-{year}-"
    while True:
        sequence.last += 1
        case_no = f"{prefix}{sequence.last:05d}"
        if not Case.objects.filter(case_no=case_no).exists():
            break
    sequence.save(update_fields=["last"])
    return case_no


def mask_id_number(number: str) -> str:
    """110105194912310021 → 110105********0021: the region and the last four, as a receipt shows it."""
    return f"{number[:6]}{'*' * 8}{number[-4:]}"


@transaction.atomic
def do_register_case(*, matter: Matter, applicant_kind: str, applicant_name: str, applicant_code: str,
                     applicant_phone: str = "", case_no: str = "", files=(), missing: list[str] | None = None,
                     accept: bool = False, by=None, at: datetime | None = None) -> tuple[Case, str]:
    """Register an application at the counter with its materials, then tell the applicant what to correct
    (`missing`: every item at once) or accept it — all in one transaction.

    `files` are checked materials (`materials.CheckedFile`); they are written under MEDIA_ROOT with
    random names, and if anything below fails the files written so far are removed, so an error
    leaves neither a case nor a file behind.
    """
    from django.core.files.base import ContentFile

    from .models import CaseApplicant, CaseMaterial

    at = _aware(at)
    if accept == bool(missing):
        raise CaseError(_("请选择受理，或列明需补正的材料后一次性告知补正"), "decision")
    if applicant_kind not in CaseApplicant.Kind.values:
        raise CaseError(_("申请人类型应为自然人或法人或其他组织"), "applicant_kind")
    if not case_no.strip():
        case_no = next_case_no(matter.organ, timezone.localtime(at).year)
    case, code = do_submit_case(matter=matter, case_no=case_no, applicant_name=applicant_name, received_at=at,
                                applicant_phone=applicant_phone)
    stored: list[str] = []
    try:
        code_kept = mask_id_number(applicant_code) if applicant_kind == CaseApplicant.Kind.PERSON else applicant_code
        CaseApplicant.objects.create(case=case, kind=applicant_kind, code=code_kept)
        for checked in files:
            material = CaseMaterial(case=case, name=checked.name[:200], original_name=checked.original_name[:200],
                                    sha256=checked.sha256, size=checked.size, content_type=checked.content_type,
                                    uploaded_by=by if getattr(by, "pk", None) else None, uploaded_at=at)
            material.file.save("material", ContentFile(checked.data), save=False)
            stored.append(material.file.name)
            material.save()
        record("case.register", case, changes={
            "applicant_kind": applicant_kind,
            "materials": [{"name": f.name, "sha256": f.sha256, "size": f.size, "type": f.content_type} for f in files]})
        if missing:
            do_request_correction(case, items=missing, at=at)
        else:
            do_accept_case(case, at=at)
    except BaseException:
        from django.core.files.storage import default_storage

        for name in stored:
            default_storage.delete(name)
        raise
    return case, code
