"""Every state change of accountability: proposals, cases, persons concerned, appeals.

Clocks (limits in xiaoneng.conf, all configuration, see the README):

* accountability.decision   — from 立案, `accountability_decision_months` (6) calendar months,
  extended once up to `accountability_decision_extended_months` (12);
* accountability.adjustment — from the decision, `accountability_adjustment_months` (1) for an
  organisational measure (组织调整) to be carried out;
* accountability.filing     — from the decision, `accountability_filing_working_days` (15)
  working days to file (备案) with the same-level supervisory organ, and one more such clock
  for the level above where a decided measure's rule requires it (`accountability_filing_above`);
* accountability.review / accountability.appeal — from receipt of a 复核 / 申诉, the limits
  `accountability_review_decision_days` (30) / `accountability_appeal_decision_days` (60,
  +`accountability_appeal_extension_days` for a complex case).

Month limits become calendar days from the start date (6 months from 15 January are the days
to 15 July), so the clock's explanation and its holiday roll-over are the clocks' own.

Every function runs in one transaction, re-reads what it changes with a row lock and changes
the case's status only through `workflow.set_status`. Permission checks belong to the pages
and APIs; these functions check the law and the state.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.engine import explain_clock, local_date
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule
from xiaoneng.lib.workdays import CALENDAR, OutOfRange, index_day
from xiaoneng.supervision.models import AccountabilityProposal

from . import measures as M
from . import notices
from .errors import AccountabilityError
from .models import (
    Appeal,
    Case,
    CaseStep,
    Evidence,
    Filing,
    FilingLevel,
    Party,
    Proposal,
    ProposalStatus,
    Responsibility,
    Source,
    Status,
    Tolerance,
)
from .workflow import set_status, step

K = CaseStep.Kind
SERVED_STATES = {Status.SERVED, Status.ANNOUNCED, Status.FILED}


# --- helpers ---------------------------------------------------------------------------
_at = AccountabilityError.moment
_need = AccountabilityError.text


def _not_before(at: datetime, earlier: datetime | None, field: str, message: str) -> None:
    """A step dated before the one it follows would put the timeline, and the clocks counted from
    it, out of order: refused, naming the earlier moment."""
    if earlier is not None and at < earlier:
        raise AccountabilityError(message % {"t": local_date(earlier).isoformat()}, field)


def months_in_days(start: date, months: int) -> int:
    """Calendar days from `start` to the same day `months` later."""
    return (M.add_months(start, months) - start).days


def calendar_deadline(start: date, days: int) -> date:
    """The last day of a period of `days` calendar days after `start` (the day itself not
    counted), moved to the next working day when it falls on a rest day (民法典第二百零三条) —
    the same computation as a clock's."""
    result = calendar_engine.current(check=False).compute(start, days, CALENDAR)
    return index_day(result.due_index)


def _start_clock(kind: str, case: Case, subject, start_at: datetime, limit: int, unit: str, label: str,
                 basis: str) -> Clock:
    return clocks.do_start_clock(kind=kind, start_at=start_at, limit=limit, unit=unit, subject=subject,
                                 organ=case.deciding_organ, label=label, legal_basis=basis)


def _stop(clock_id: int | None, at: datetime) -> None:
    if clock_id:
        clocks.do_stop_clock(Clock.objects.get(pk=clock_id), at=at)


def _locked_case(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("organ", "deciding_organ").get(pk=case.pk)


def _locked_party(party: Party) -> Party:
    return Party.objects.select_for_update(of=("self",)).select_related("case__deciding_organ", "staff__user").get(
        pk=party.pk)


def _new_number(at: datetime) -> str:
    day = local_date(at).strftime("%Y%m%d")
    while True:  # random, not sequential: numbers do not tell how many cases there are
        number = f"WZ{day}{secrets.randbelow(10**5):05d}"
        if not Case.objects.filter(number=number).exists():
            return number


# --- proposals --------------------------------------------------------------------------
@transaction.atomic
def do_take_up_proposal(origin: AccountabilityProposal, *, at: datetime | None = None) -> Proposal:
    """Make the accountability proposal for a red card or a founded complaint, with its evidence:
    the alert and its clock's explanation, or the complaint. Taking it up twice returns the first."""
    existing = Proposal.objects.filter(origin=origin).first()
    if existing:
        return existing
    at = _at(at)
    alert, complaint = origin.alert, origin.complaint
    source = Source.RED_CARD if alert is not None else Source.COMPLAINT
    # A complaint is named by its masked title, not its number alone: the 案由 must say what happened,
    # and the unmasked title may name the complainant.
    title = (alert.subject_label or alert.message[:100]) if alert is not None else \
        _("效能投诉属实：%(title)s（%(number)s）") % {"title": complaint.masked.get("title", ""), "number": complaint.number}
    proposal = Proposal.objects.create(source=source, organ=origin.organ, title=title[:200], reason=origin.reason,
                                       proposed_at=origin.proposed_at, proposed_by="system", origin=origin)
    if alert is not None:
        _link(proposal, Evidence.Kind.ALERT, alert, str(alert), alert.message)
        if alert.clock_id:
            _link(proposal, Evidence.Kind.CLOCK, alert.clock, str(alert.clock), _explained(alert.clock))
    else:
        _link(proposal, Evidence.Kind.COMPLAINT, complaint, complaint.number, complaint.content[:2000])
    record("accountability.proposal", proposal, changes={"source": source, "origin": origin.pk, "at": at})
    return proposal


def _explained(clock: Clock) -> str:
    """The clock's own explanation; a clock beyond the loaded calendar is linked without it."""
    try:
        return explain_clock(clock)
    except OutOfRange:
        return ""


def on_proposal_saved(sender, instance, created, raw=False, **kwargs):
    """A red card or a founded complaint proposed accountability in supervision: take it up here,
    in the same transaction, so no proposal is ever left outside the accountability lists."""
    if created and not raw:
        do_take_up_proposal(instance)


def _link(proposal: Proposal, kind: str, target, label: str, text: str = "") -> Evidence:
    from django.contrib.contenttypes.models import ContentType

    return Evidence.objects.create(proposal=proposal, kind=kind, label=label[:200], text=text,
                                   target_type=ContentType.objects.get_for_model(target), target_id=target.pk)


@transaction.atomic
def do_propose_accountability(*, source: str, organ, title: str, reason: str, order=None,
                              documents: list[tuple[str, str]] = (), at: datetime | None = None,
                              proposed_by: str = "", files: list = (), files_label: str = "",
                              files_text: str = "", submission_key: str = "") -> Proposal:
    """A proposal from a source other than a red card or a complaint (those come from supervision).

    `submission_key`: the page form's random key; the same form sent again returns the proposal it
    made the first time, unchanged.

    `files`: evidence files already judged by `evidence.check`, stored with the proposal under
    `files_label` (else each file's name)."""
    at = _at(at)
    submission_key = (submission_key or "").strip()[:64] if isinstance(submission_key, str) else ""
    if submission_key:
        first = Proposal.objects.filter(submission_key=submission_key).first()
        if first is not None:
            return first
    if source not in Source.values or source in (Source.RED_CARD, Source.COMPLAINT):
        raise AccountabilityError(_("请选择来源（红牌和投诉由电子监察自动提出）"), "source")
    if organ is None:
        raise AccountabilityError(_("请选择涉及机关"), "organ")
    title = _need(title, "title", _("请填写事由"), 200)
    reason = _need(reason, "reason", _("请写明问责建议理由"))
    if source == Source.ORDER_FAILED:
        if order is None:
            raise AccountabilityError(_("督办未落实须指明督办"), "order")
        if order.organ_id != organ.pk:
            raise AccountabilityError(_("督办的被督办机关与涉及机关不一致"), "order")
    try:
        with transaction.atomic():
            proposal = Proposal.objects.create(source=source, organ=organ, title=title, reason=reason, proposed_at=at,
                                               proposed_by=proposed_by[:150], order=order,
                                               submission_key=submission_key)
    except IntegrityError:  # the same form, sent twice at once: the other request made it
        return Proposal.objects.get(submission_key=submission_key)
    if order is not None:
        _link(proposal, Evidence.Kind.ORDER, order, str(order), order.demand)
    for label, text in documents:
        Evidence.objects.create(proposal=proposal, kind=Evidence.Kind.DOCUMENT, label=label[:200], text=text)
    _store_evidence(files, at=at, by=proposed_by, label=files_label, text=files_text, proposal=proposal)
    return proposal


def _store_evidence(files, **kwargs) -> list[Evidence]:
    from . import evidence

    try:
        return evidence.store(list(files or []), **kwargs)
    except evidence.EvidenceError as exc:
        raise AccountabilityError(exc.message, "files") from None


@transaction.atomic
def do_decline_proposal(proposal: Proposal, *, reason: str, at: datetime | None = None) -> Proposal:
    at = _at(at)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.OPEN:
        raise AccountabilityError(_("该问责线索已处理"), "status")
    proposal.decline_reason = _need(reason, "reason", _("不予立案须写明理由"))
    proposal.status, proposal.handled_at = ProposalStatus.DECLINED, at
    proposal.save(update_fields=["decline_reason", "status", "handled_at"])
    return proposal


@transaction.atomic
def do_register_case(proposal: Proposal, *, deciding_organ, title: str = "", at: datetime | None = None) -> Case:
    """立案: accept the proposal into a case and start the decision clock."""
    at = _at(at)
    proposal = Proposal.objects.select_for_update().select_related("organ").get(pk=proposal.pk)
    if proposal.status != ProposalStatus.OPEN:
        raise AccountabilityError(_("该问责线索已处理"), "status")
    if deciding_organ is None:
        raise AccountabilityError(_("请选择问责机关"), "deciding_organ")
    title = _need(title or proposal.title, "title", _("请填写案由"), 200)
    case = Case.objects.create(number=_new_number(at), title=title, organ=proposal.organ,
                               deciding_organ=deciding_organ, registered_at=at)
    months = int(rule("accountability_decision_months"))
    case.decision_clock = _start_clock(
        "accountability.decision", case, case, at, months_in_days(local_date(at), months), CALENDAR,
        _("问责决定期限"), _("自立案之日起 %(n)d 个月内作出决定（可延长一次）") % {"n": months})
    case.save(update_fields=["decision_clock"])
    proposal.status, proposal.handled_at, proposal.case = ProposalStatus.ACCEPTED, at, case
    proposal.save(update_fields=["status", "handled_at", "case"])
    step(case, K.REGISTER, at, text=proposal.reason, data={"proposal": proposal.pk}, to_status=Status.REGISTERED)
    record("accountability.register", case, changes={"proposal": proposal.pk, "due_at": case.decision_clock.due_at})
    return case


@transaction.atomic
def do_extend_decision(case: Case, *, reason: str, approver_name: str, at: datetime | None = None) -> Case:
    """Extend the decision limit once, to `accountability_decision_extended_months` after 立案."""
    at = _at(at)
    case = _locked_case(case)
    if case.decision_extended:
        raise AccountabilityError(_("办理期限只能延长一次"), "reason")
    if case.status in (Status.DECIDED, *SERVED_STATES, Status.CLOSED) or not case.decision_clock_id:
        raise AccountabilityError(_("案件已作出决定，无需延长"), "status")
    reason = _need(reason, "reason", _("延长须说明理由"), 500)
    approver_name = _need(approver_name, "approver_name", _("延长须有批准人"), 100)
    start = local_date(case.registered_at)
    total = months_in_days(start, int(rule("accountability_decision_extended_months")))
    clock = case.decision_clock
    days = total - clock.limit
    try:
        # 行政机关公务员处分条例: the extension is approved while the six months still run (the clock
        # refuses a late one, which would otherwise make a missed limit vanish).
        clocks.do_extend_clock(clock, days=days, reason=reason, approver_name=approver_name, at=at, max_total=days)
    except clocks.ClockError as exc:
        raise AccountabilityError(str(exc), "reason") from None
    case.decision_extended = True
    case.save(update_fields=["decision_extended"])
    step(case, K.EXTEND, at, text=reason, data={"days": days, "approver": approver_name})
    return case


# --- investigation ---------------------------------------------------------------------------
@transaction.atomic
def do_add_party(case: Case, *, responsibility: str, staff=None, organ=None) -> Party:
    case = _locked_case(case)
    if case.status != Status.REGISTERED:
        raise AccountabilityError(_("调查认定后不能再增加责任人"), "status")
    if responsibility not in Responsibility.values:
        raise AccountabilityError(_("请选择责任类型"), "responsibility")
    if (staff is None) == (organ is None):
        raise AccountabilityError(_("请选择一名责任人或一个责任单位"), "staff")
    if organ is not None and responsibility != Responsibility.ORGAN:
        raise AccountabilityError(_("责任单位的责任类型应为单位责任"), "responsibility")
    if staff is not None and responsibility == Responsibility.ORGAN:
        raise AccountabilityError(_("个人的责任类型应为直接责任、主要领导责任或重要领导责任"), "responsibility")
    if staff is not None and case.parties.filter(staff=staff).exists():
        raise AccountabilityError(_("%(name)s 已是本案责任人") % {"name": staff.name}, "staff")
    party = Party.objects.create(case=case, staff=staff, organ=organ, responsibility=responsibility,
                                 name=staff.name if staff else organ.name, rank=staff.rank if staff else "")
    step(case, K.PARTY, timezone.now(), text=f"{party.name}（{party.get_responsibility_display()}）",
         data={"party": party.pk, "name": party.name, "responsibility": responsibility})
    return party


@transaction.atomic
def do_record_findings(case: Case, *, findings: str, at: datetime | None = None, files: list = (),
                       uploaded_by: str = "") -> Case:
    """调查认定: the facts found, with the evidence files gathered for them (judged by `evidence.check`)."""
    at = _at(at)
    case = _locked_case(case)
    case.findings = _need(findings, "findings", _("请写明调查认定的事实"), 20000)
    if case.status == Status.REGISTERED and not case.parties.exists():
        raise AccountabilityError(_("调查认定前须至少确定一名责任人或责任单位"), "findings")
    set_status(case, Status.INVESTIGATED, K.INVESTIGATE, at, text=case.findings, fields=("findings",))
    _store_evidence(files, at=at, by=uploaded_by, case=case)
    return case


def _check_measure(party: Party, code: str, field: str) -> M.Measure:
    table = M.all_measures()
    if code not in table:
        raise AccountabilityError(_("请选择问责方式"), field)
    measure = table[code]
    if measure.for_organs != (party.organ_id is not None):
        raise AccountabilityError(
            _("“%(m)s”不适用于%(who)s") % {"m": measure.label, "who": _("单位") if party.organ_id else _("个人")}, field)
    return measure


def _advance_when_all(case: Case, done, to: str, kind: str, at: datetime) -> None:
    """Move the case on once every party has passed the stage (`done(party)`)."""
    if all(done(p) for p in case.parties.all()):
        set_status(case, to, kind, at)


@transaction.atomic
def do_notify_party(party: Party, *, measure: str, months: int | None = None, at: datetime | None = None) -> Party:
    """告知: tell the person the facts and the measure intended; the decision may not be heavier."""
    at = _at(at)
    party = _locked_party(party)
    case = _locked_case(party.case)
    if case.status != Status.INVESTIGATED:
        raise AccountabilityError(_("调查认定后、作出决定前才能告知"), "status")
    if party.notified_at:
        raise AccountabilityError(_("已告知 %(name)s") % {"name": party.name}, "measure")
    m = _check_measure(party, measure, "measure")
    if m.months and months is not None and not (m.months <= months <= M.COMBINED_CAP_MONTHS):
        raise AccountabilityError(_("处分期应在 %(a)d 至 %(b)d 个月之间") % {"a": m.months, "b": M.COMBINED_CAP_MONTHS}, "months")
    # A period belongs to sanctions only; for any other measure the months typed are not part of the notice.
    party.notified_measure, party.notified_months, party.notified_at = measure, (months or m.months) if m.months else m.months, at
    party.save(update_fields=["notified_measure", "notified_months", "notified_at"])
    step(case, K.NOTIFY, at, text=f"{party.name}：{m.label}", data={"party": party.pk, "name": party.name, "measure": measure,
                                                                   "months": party.notified_months})
    _advance_when_all(case, lambda p: p.notified_at is not None, Status.NOTIFIED, K.NOTIFY, at)
    notices.notified(party)
    return party


@transaction.atomic
def do_record_statement(party: Party, *, statement: str = "", waived: bool = False,
                        at: datetime | None = None) -> Party:
    """陈述申辩: the person's statement and defence, or their waiver of it, recorded."""
    at = _at(at)
    party = _locked_party(party)
    case = _locked_case(party.case)
    if case.status not in (Status.INVESTIGATED, Status.NOTIFIED) or not party.notified_at:
        raise AccountabilityError(_("告知后才能记录陈述申辩"), "statement")
    if party.heard_at:
        raise AccountabilityError(_("已记录 %(name)s 的陈述申辩") % {"name": party.name}, "statement")
    if waived:
        party.statement = (statement or "").strip()[:5000]
    else:
        party.statement = _need(statement, "statement", _("请记录陈述申辩的内容，或记录其放弃陈述申辩"))
    party.heard_at, party.hearing_waived = at, waived
    party.save(update_fields=["statement", "heard_at", "hearing_waived"])
    step(case, K.WAIVE if waived else K.HEAR, at, text=f"{party.name}：{party.statement}".rstrip("："),
         data={"party": party.pk})
    if case.status == Status.NOTIFIED:
        _advance_when_all(case, lambda p: p.heard_at is not None, Status.HEARD, K.HEAR, at)
    return party


@transaction.atomic
def do_review_tolerance(party: Party, *, situations: list[str], outcome: str, reason: str = "",
                        at: datetime | None = None) -> Party:
    """容错纠错: which situations apply, with reasons, and the outcome for this person."""
    at = _at(at)
    party = _locked_party(party)
    case = _locked_case(party.case)
    if case.status != Status.HEARD:
        raise AccountabilityError(_("陈述申辩后、作出决定前进行容错纠错审查"), "outcome")
    known = dict(M.tolerance_situations())
    unknown = [s for s in situations if s not in known]
    if unknown:
        raise AccountabilityError(_("未知的容错情形：%(x)s") % {"x": "、".join(unknown)}, "situations")
    if outcome not in Tolerance.values:
        raise AccountabilityError(_("请选择容错结论"), "outcome")
    if outcome != Tolerance.NONE and not situations:
        raise AccountabilityError(_("不予、免予或从轻问责须勾选适用的容错情形"), "situations")
    if outcome != Tolerance.NONE:
        reason = _need(reason, "reason", _("请写明容错的理由"))
    party.tolerance_situations, party.tolerance_outcome = list(situations), outcome
    party.tolerance_reason = (reason or "").strip()
    party.save(update_fields=["tolerance_situations", "tolerance_outcome", "tolerance_reason"])
    step(case, K.TOLERANCE, at, text=f"{party.name}：{Tolerance(outcome).label}",
         data={"party": party.pk, "name": party.name, "situations": list(situations), "outcome": outcome, "reason": party.tolerance_reason})
    _advance_when_all(case, lambda p: bool(p.tolerance_outcome), Status.REVIEWED, K.TOLERANCE, at)
    return party


@transaction.atomic
def do_close_case(case: Case, *, reason: str, at: datetime | None = None) -> Case:
    """结案 without a decision: the facts did not hold, or the review left nobody to hold accountable."""
    at = _at(at)
    case = _locked_case(case)
    reason = _need(reason, "reason", _("结案须写明理由"))
    if case.status == Status.REVIEWED and case.parties.exclude(tolerance_outcome__in=[Tolerance.NOT, Tolerance.EXEMPT]).exists():
        raise AccountabilityError(_("尚有应予问责的责任人，应作出决定"), "reason")
    set_status(case, Status.CLOSED, K.CLOSE, at, text=reason)
    _stop(case.decision_clock_id, at)
    return case


# --- the decision ---------------------------------------------------------------------------
@transaction.atomic
def do_decide_case(case: Case, *, decider: str, decision_number: str, measures: dict[int, tuple[list[str], int | None]],
                   at: datetime | None = None, catch_all: bool = False) -> Case:
    """Sign the decision: a measure for each person held accountable.

    Refused: a person not heard (陈述申辩 recorded or waived — no decision without it); a
    measure heavier than the one notified (政务处分法第四十三条); a measure for a person the
    error-tolerance review spared (不予/免予问责); a period outside what the law allows for
    the measures (several equal sanctions: between one period and their sum, at most 48 months).
    `measures` maps a party's id to (the measure of each violation, the period chosen or None).
    """
    at = _at(at)
    case = _locked_case(case)
    decider = _need(decider, "decider", _("请填写决定人"), 100)
    decision_number = _need(decision_number, "decision_number", _("请填写决定书文号"), 60)
    parties = list(case.parties.select_for_update(of=("self",)).all())
    unheard = [p.name for p in parties if not p.hearing_done]
    if unheard:
        raise AccountabilityError(_("未记录陈述申辩（或其放弃）的，不得作出决定：%(names)s") % {"names": "、".join(unheard)},
                                  "measures")
    if case.status != Status.REVIEWED:
        raise AccountabilityError(_("容错纠错审查后才能作出决定"), "status")
    _not_before(at, case.registered_at, "at", _("决定时间早于立案时间（%(t)s）"))
    year = local_date(at).year
    if Case.objects.filter(deciding_organ=case.deciding_organ, decision_year=year,
                           decision_number=decision_number).exclude(pk=case.pk).exists():
        raise AccountabilityError(_("文号 %(no)s 本机关本年度已使用") % {"no": decision_number}, "decision_number")
    start = local_date(at)
    decided = []
    for party in parties:
        codes, months = measures.get(party.pk, ([], None))
        spared = party.tolerance_outcome in (Tolerance.NOT, Tolerance.EXEMPT)
        if spared:
            if codes:
                raise AccountabilityError(_("%(name)s 经容错审查%(o)s，不得给予问责") % {
                    "name": party.name, "o": Tolerance(party.tolerance_outcome).label}, "measures")
            continue
        if not codes:
            raise AccountabilityError(_("请为 %(name)s 选择问责方式") % {"name": party.name}, "measures")
        for code in codes:
            _check_measure(party, code, "measures")
        code, least, most = M.period_range(list(codes))
        if months is not None and not most:
            raise AccountabilityError(_("%(name)s：“%(m)s”没有处分期，请勿填写") % {"name": party.name, "m": M.get(code).label},
                                      "measures")
        if months is None:
            months = least
        elif least is None or not (least <= months <= most):
            raise AccountabilityError(_("%(name)s 的处分期应在 %(a)s 至 %(b)s 个月之间") % {
                "name": party.name, "a": least if least is not None else "—", "b": most if most is not None else "—"},
                "measures")
        if M.heavier((code, months), (party.notified_measure, party.notified_months)):
            raise AccountabilityError(_("%(name)s 的问责方式重于告知的“%(m)s”，须重新告知并听取陈述申辩（政务处分法第四十三条）") % {
                "name": party.name, "m": M.get(party.notified_measure).label}, "measures")
        measure = M.get(code)
        party.measure, party.measure_codes, party.months = code, list(codes), months
        party.starts_on = start  # 政务处分法第八条: in effect from the day it is made
        party.ends_on = M.add_months(start, months) if months else None
        party.effect_ends_on = _effect_end(measure, start, months)
        party.save(update_fields=["measure", "measure_codes", "months", "starts_on", "ends_on", "effect_ends_on"])
        decided.append(party)
    if not decided:
        raise AccountabilityError(_("没有应予问责的责任人，应结案而不是作出决定"), "measures")
    case.decider, case.decision_number, case.decision_year, case.decided_at = decider, decision_number, year, at
    case.catch_all = bool(catch_all)
    try:
        with transaction.atomic():
            set_status(case, Status.DECIDED, K.DECIDE, at, text=decision_number,
                       data={"measures": {p.name: [p.measure, p.months] for p in decided}},
                       fields=("decider", "decision_number", "decision_year", "decided_at", "catch_all"))
    except IntegrityError as exc:  # another decision took the number meanwhile
        raise AccountabilityError(_("文号 %(no)s 本机关本年度已使用") % {"no": decision_number}, "decision_number") from exc
    _stop(case.decision_clock_id, at)
    case.filing_clock = _open_filing(case, FilingLevel.SAME, at).clock
    case.save(update_fields=["filing_clock"])
    above = M.filing_above_reasons(decided)
    if above:
        _open_filing(case, FilingLevel.ABOVE, at, reasons="；".join(above))
    _escalate(case, decided, at)
    adjust = int(rule("accountability_adjustment_months"))
    for party in decided:
        if M.get(party.measure).family == M.ORGANISATIONAL:
            party.adjustment_clock = _start_clock(
                "accountability.adjustment", case, party, at, months_in_days(start, adjust), CALENDAR,
                _("组织调整落实期限：%(name)s") % {"name": party.name},
                _("组织调整在作出决定后 %(n)d 个月内落实（问责条例）") % {"n": adjust})
            party.save(update_fields=["adjustment_clock"])
    notices.decided(case, parties)
    return case


def _escalate(case: Case, decided: list[Party], at: datetime) -> list[Proposal]:
    """Escalation rules (`accountability_escalation`): when this decision gives a person the n-th measure
    of a kind within the calendar year, propose the next measure for them — and, where the rule says
    so, one for the leadership of their unit. Exactly at the n-th, so a rule fires once per count."""
    raised = []
    for esc in rule("accountability_escalation") or []:
        for party in decided:
            if party.staff_id is None or party.measure != esc["measure"]:
                continue
            year = party.starts_on.year
            same = (Party.objects.filter(staff_id=party.staff_id, measure=esc["measure"], revoked_on__isnull=True,
                                         starts_on__year=year, case__status__in=[Status.DECIDED, *SERVED_STATES])
                    .exclude(pk=party.pk).select_related("case").order_by("starts_on", "pk"))
            earlier = list(same)
            if len(earlier) + 1 != int(esc["count"]):
                continue
            label, proposed = M.get(esc["measure"]).label, M.get(esc["propose"]).label
            reason = _("%(name)s 本年度第 %(n)d 次受到“%(m)s”（%(cases)s），依累计升级规则建议给予“%(p)s”") % {
                "name": party.name, "n": int(esc["count"]), "m": label, "p": proposed,
                "cases": "、".join([*(p.case.decision_number for p in earlier), case.decision_number])}
            staff = party.staff
            targets = [(staff, esc["propose"], reason)]
            if esc.get("leader"):
                targets.append((None, "", _("%(organ)s 工作人员 %(name)s 本年度第 %(n)d 次受到“%(m)s”，建议追究单位领导责任") % {
                    "organ": staff.organ.name, "name": party.name, "n": int(esc["count"]), "m": label}))
            for who, measure, text in targets:
                proposal = Proposal.objects.create(
                    source=Source.ESCALATION, organ=staff.organ, staff=who, proposed_measure=measure,
                    title=(_("累计问责升级：%(name)s") % {"name": party.name})[:200] if who else
                    (_("累计问责升级：%(organ)s 领导责任") % {"organ": staff.organ.name})[:200],
                    reason=text, proposed_at=at, proposed_by="system")
                for p in [*earlier, party]:
                    _link(proposal, Evidence.Kind.CASE, p.case, p.case.decision_number or p.case.number,
                          f"{p.name}：{M.get(p.measure).label}")
                raised.append(proposal)
    return raised


def _effect_end(measure: M.Measure, start: date, months: int | None) -> date | None:
    """When the measure stops affecting promotion, pay and appraisal; None = never (开除)."""
    if measure.months is None or measure.effect_months is None:
        return None
    return M.add_months(start, max(months or 0, measure.effect_months or 0))


@transaction.atomic
def do_serve_case(case: Case, *, at: datetime | None = None) -> Case:
    at = _at(at)
    case = _locked_case(case)
    if case.decided_at and at < case.decided_at:
        raise AccountabilityError(_("送达时间早于决定时间"), "at")
    case.served_at = at
    set_status(case, Status.SERVED, K.SERVE, at, fields=("served_at",))
    notices.served(case, list(case.parties.select_related("staff__user")))
    return case


@transaction.atomic
def do_announce_case(case: Case, *, scope: str, public: bool = False, at: datetime | None = None) -> Case:
    """公布 within a stated scope; `public` (向社会公开) puts it on the public 通报 page as well."""
    at = _at(at)
    case = _locked_case(case)
    case.announcement_scope = _need(scope, "scope", _("请写明公布范围"), 200)
    _not_before(at, case.served_at, "at", _("公布时间早于送达时间（%(t)s）"))
    case.announcement_public = bool(public)
    case.announced_at = at
    set_status(case, Status.ANNOUNCED, K.ANNOUNCE, at, text=case.announcement_scope, data={"public": case.announcement_public},
               fields=("announcement_scope", "announcement_public", "announced_at"))
    return case


def _open_filing(case: Case, level: str, at: datetime, reasons: str = "") -> Filing:
    """A filing the decision needs, with its own clock of `accountability_filing_working_days`."""
    days = int(rule("accountability_filing_working_days"))
    filing = Filing.objects.create(case=case, level=level, reasons=reasons)
    if level == FilingLevel.SAME:
        label, basis = _("备案期限"), _("作出决定后 %(n)d 个工作日内报送同级监察部门备案") % {"n": days}
    else:
        label = _("报上一级备案期限")
        basis = _("作出决定后 %(n)d 个工作日内报上一级机关备案（%(why)s）") % {"n": days, "why": reasons}
    filing.clock = _start_clock("accountability.filing", case, case, at, days, "working", label, basis[:200])
    filing.save(update_fields=["clock"])
    return filing


@transaction.atomic
def do_file_case(case: Case, *, filed_with: str, level: str = FilingLevel.SAME, at: datetime | None = None) -> Case:
    """备案 of the decision at one level (the same-level supervisory organ, or the level above where a
    measure's rule requires it); stops that filing's clock (late shows on it). The case becomes filed
    once every filing it needs is recorded."""
    at = _at(at)
    case = _locked_case(case)
    if case.status not in (Status.SERVED, Status.ANNOUNCED):
        raise AccountabilityError(_("决定送达后才能登记备案"), "status")
    _not_before(at, case.served_at, "at", _("备案时间早于送达时间（%(t)s）"))
    if level not in FilingLevel.values:
        raise AccountabilityError(_("请选择备案层级"), "level")
    filing = Filing.objects.select_for_update().filter(case=case, level=level).first()
    if filing is None:
        raise AccountabilityError(_("本案无需向%(level)s备案") % {"level": FilingLevel(level).label}, "level")
    if filing.filed_at:
        raise AccountabilityError(_("已登记向%(level)s的备案") % {"level": FilingLevel(level).label}, "level")
    filing.filed_with = _need(filed_with, "filed_with", _("请填写备案机关"), 200)
    filing.filed_at = at
    filing.save(update_fields=["filed_with", "filed_at"])
    _stop(filing.clock_id, at)
    text = f"{filing.get_level_display()}：{filing.filed_with}"
    data = {"filing": filing.pk, "level": level, "filed_with": filing.filed_with}
    if Filing.objects.filter(case=case, filed_at__isnull=True).exists():
        step(case, K.FILE, at, text=text, data=data)
        return case
    case.filed_with = "；".join(Filing.objects.filter(case=case).values_list("filed_with", flat=True))[:200]
    case.filed_at = at
    set_status(case, Status.FILED, K.FILE, at, text=text, data=data, fields=("filed_with", "filed_at"))
    return case


def adjustment_due(party: Party) -> bool:
    """An organisational measure decided and not yet carried out — nor revoked or changed by an appeal
    into a measure that is not organisational."""
    return (bool(party.adjustment_clock_id) and party.adjusted_at is None and party.revoked_on is None
            and bool(party.measure) and M.get(party.measure).family == M.ORGANISATIONAL)


@transaction.atomic
def do_record_adjustment(party: Party, *, at: datetime | None = None) -> Party:
    """The organisational measure was carried out (组织调整落实)."""
    at = _at(at)
    party = _locked_party(party)
    if not adjustment_due(party):
        raise AccountabilityError(_("没有待落实的组织调整"), "status")
    _not_before(at, party.case.decided_at, "at", _("落实时间早于决定时间（%(t)s）"))
    party.adjusted_at = at
    party.save(update_fields=["adjusted_at"])
    _stop(party.adjustment_clock_id, at)
    step(party.case, K.ADJUST, at, text=party.name, data={"party": party.pk})
    return party


# --- appeals ----------------------------------------------------------------------------------
@transaction.atomic
def do_lodge_appeal(party: Party, *, kind: str, grounds: str, received_at: datetime | None = None) -> Appeal:
    """复核 within 30 days of receiving the decision; 申诉 within 15 days of the 复核 result, or
    within 30 of receipt directly (公务员法第九十五条). The measure stays in force meanwhile."""
    received_at = _at(received_at, "received_at")
    party = _locked_party(party)
    case = party.case
    if case.status not in SERVED_STATES or not party.measure:
        raise AccountabilityError(_("决定送达后才能申请复核或申诉"), "kind")
    if party.revoked_on:
        raise AccountabilityError(_("该问责决定已撤销"), "kind")
    if kind not in Appeal.Kind.values:
        raise AccountabilityError(_("请选择复核或申诉"), "kind")
    if party.appeals.filter(outcome=Appeal.Outcome.PENDING).exists():
        raise AccountabilityError(_("已有办理中的复核或申诉"), "kind")
    grounds = _need(grounds, "grounds", _("请写明申请理由"))
    served = local_date(case.served_at)
    if local_date(received_at) > local_date(timezone.now()):  # a typed date: receipt is a fact, not a plan
        raise AccountabilityError(_("收到申请的日期不能晚于今天"), "received_at")
    if local_date(received_at) < served:  # by day: the page records the day of receipt only
        raise AccountabilityError(_("收到申请的日期早于送达日期（%(t)s）") % {"t": served.isoformat()}, "received_at")
    review = party.appeals.filter(kind=Appeal.Kind.REVIEW).exclude(outcome=Appeal.Outcome.PENDING).last()
    # One 申诉 per decision, whether it follows a 复核 or not: a second one inside the 15 days of the
    # 复核's result would reopen what the first one settled.
    if kind == Appeal.Kind.APPEAL and party.appeals.filter(kind=Appeal.Kind.APPEAL).exists():
        raise AccountabilityError(_("已申请过申诉"), "kind")
    if kind == Appeal.Kind.REVIEW:
        if party.appeals.exists():
            raise AccountabilityError(_("已申请过复核或申诉，不能再申请复核"), "kind")
        last = calendar_deadline(served, int(rule("accountability_review_request_days")))
    elif review is not None:
        # 自接到复核决定之日起: from the day the person received the 复核's decision. Until its service is
        # recorded the 申诉 is not refused for lateness: the law's days have not begun to run.
        if review.result_served_at is None:
            last = None
        else:
            last = calendar_deadline(local_date(review.result_served_at),
                                     int(rule("accountability_appeal_after_review_days")))
    else:
        last = calendar_deadline(served, int(rule("accountability_appeal_direct_days")))
    if last is not None and local_date(received_at) > last:
        raise AccountabilityError(_("已超过申请期限（最后一日 %(d)s）") % {"d": last.isoformat()}, "received_at")
    appeal = Appeal.objects.create(party=party, kind=kind, received_at=received_at, grounds=grounds)
    limit = int(rule("accountability_review_decision_days" if kind == Appeal.Kind.REVIEW else "accountability_appeal_decision_days"))
    appeal.clock = _start_clock(f"accountability.{kind}", case, appeal, received_at, limit, CALENDAR,
                                _("%(kind)s办理期限：%(name)s") % {"kind": appeal.get_kind_display(), "name": party.name},
                                _("自受理之日起 %(n)d 日内作出决定") % {"n": limit})
    appeal.save(update_fields=["clock"])
    step(case, K.APPEAL, received_at, text=f"{party.name}：{appeal.get_kind_display()}，{grounds}",
         data={"party": party.pk, "appeal": appeal.pk})
    return appeal


@transaction.atomic
def do_extend_appeal(appeal: Appeal, *, reason: str, approver_name: str, at: datetime | None = None) -> Appeal:
    """A complex 申诉 may take `accountability_appeal_extension_days` more (公务员法第九十六条)."""
    at = _at(at)
    appeal = Appeal.objects.select_for_update(of=("self",)).select_related("party__case").get(pk=appeal.pk)
    if appeal.kind != Appeal.Kind.APPEAL or appeal.outcome != Appeal.Outcome.PENDING or appeal.complex_case:
        raise AccountabilityError(_("只有办理中的申诉可以因案情复杂延长一次"), "reason")
    days = int(rule("accountability_appeal_extension_days"))
    reason = _need(reason, "reason", _("延长须说明理由"), 500)
    approver_name = _need(approver_name, "approver_name", _("延长须有批准人"), 100)
    try:
        # The extension must be approved while the 60 days still run (the clock refuses a late one).
        clocks.do_extend_clock(appeal.clock, days=days, reason=reason, approver_name=approver_name, at=at,
                               max_total=days)
    except clocks.ClockError as exc:
        raise AccountabilityError(str(exc), "reason") from None
    appeal.complex_case = True
    appeal.save(update_fields=["complex_case"])
    party = appeal.party
    # On the case's timeline, which also makes a second submit of the page's form a stale one.
    step(party.case, K.EXTEND, at, text=f"{party.name}：{reason}",
         data={"appeal": appeal.pk, "days": days, "approver": approver_name})
    return appeal


@transaction.atomic
def do_decide_appeal(appeal: Appeal, *, outcome: str, reasons: str, new_measure: str = "",
                     new_months: int | None = None, pay_to_restore: str = "", at: datetime | None = None) -> Appeal:
    """Uphold, change or revoke. A change is never heavier (and must differ); a change or a
    revocation ends or shortens the period from the same start; a revocation clears the person's
    name within the scope the decision was announced in (政务处分法第六十条)."""
    at = _at(at)
    appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
    party = _locked_party(appeal.party)
    if appeal.outcome != Appeal.Outcome.PENDING:
        raise AccountabilityError(_("该复核或申诉已办结"), "outcome")
    if local_date(at) < local_date(appeal.received_at):  # by day: the page records the day of receipt only
        raise AccountabilityError(_("决定时间早于收到申请的时间（%(t)s）") % {
            "t": local_date(appeal.received_at).isoformat()}, "at")
    if outcome not in (Appeal.Outcome.UPHELD, Appeal.Outcome.CHANGED, Appeal.Outcome.REVOKED):
        raise AccountabilityError(_("请选择维持、变更或撤销"), "outcome")
    appeal.reasons = _need(reasons, "reasons", _("请写明决定理由"))
    if outcome == Appeal.Outcome.CHANGED:
        m = _check_measure(party, new_measure, "new_measure")
        months = new_months if new_months is not None else (m.months or 0)
        if m.months and not (m.months <= months <= M.COMBINED_CAP_MONTHS):
            raise AccountabilityError(_("处分期应在 %(a)d 至 %(b)d 个月之间") % {"a": m.months, "b": M.COMBINED_CAP_MONTHS},
                                      "new_months")
        if not M.heavier((party.measure, party.months), (m.code, months)):
            raise AccountabilityError(_("复核、申诉不得加重问责，变更后的问责方式须轻于原决定"), "new_measure")
        appeal.new_measure, appeal.new_months = m.code, months
        # The violations' measures were those of the original decision; what stands now is the changed one.
        party.measure, party.measure_codes, party.months = m.code, [m.code], months
        party.ends_on = M.add_months(party.starts_on, months) if months else None
        party.effect_ends_on = _effect_end(m, party.starts_on, months)
        party.save(update_fields=["measure", "measure_codes", "months", "ends_on", "effect_ends_on"])
        if m.family != M.ORGANISATIONAL:
            _drop_adjustment(party, at)
    elif outcome == Appeal.Outcome.REVOKED:
        party.revoked_on = local_date(at)
        party.save(update_fields=["revoked_on"])
        appeal.pay_to_restore = (pay_to_restore or "").strip()[:5000]
        _drop_adjustment(party, at)
    appeal.outcome, appeal.decided_at = outcome, at
    appeal.save(update_fields=["outcome", "decided_at", "new_measure", "new_months", "reasons", "pay_to_restore"])
    _stop(appeal.clock_id, at)
    text = f"{party.name}：{appeal.get_kind_display()}{appeal.get_outcome_display()}，{appeal.reasons}"
    if outcome == Appeal.Outcome.REVOKED and party.case.announcement_scope:
        text += _("；在原公布范围（%(scope)s）内为其恢复名誉、消除影响") % {"scope": party.case.announcement_scope}
    step(party.case, K.APPEAL_DECIDE, at, text=text, data={"party": party.pk, "appeal": appeal.pk, "outcome": outcome})
    notices.appeal_decided(appeal, party)
    return appeal


@transaction.atomic
def do_serve_appeal_result(appeal: Appeal, *, at: datetime | None = None) -> Appeal:
    """Record the day the person received the decision on a 复核 or 申诉. A 申诉 after a 复核 runs 15
    days from it (公务员法第九十五条: 自接到复核决定之日起十五日内), not from the day it was decided."""
    at = _at(at)
    appeal = Appeal.objects.select_for_update(of=("self",)).select_related("party__case").get(pk=appeal.pk)
    if appeal.outcome == Appeal.Outcome.PENDING:
        raise AccountabilityError(_("复核或申诉尚未作出决定"), "appeal")
    if appeal.result_served_at is not None:
        raise AccountabilityError(_("已登记该决定的送达"), "appeal")
    if local_date(at) > local_date(timezone.now()):
        raise AccountabilityError(_("送达日期不能晚于今天"), "at")
    _not_before(at, appeal.decided_at, "at", _("送达时间早于决定时间（%(t)s）"))
    appeal.result_served_at = at
    appeal.save(update_fields=["result_served_at"])
    party = appeal.party
    step(party.case, K.SERVE, at, text=f"{party.name}：{appeal.get_kind_display()}决定已送达",
         data={"party": party.pk, "appeal": appeal.pk, "served": True})
    return appeal


def _drop_adjustment(party: Party, at: datetime) -> None:
    """An organisational measure revoked, or changed to one that is not, before it was carried out:
    nothing is left to carry out, so its one-month clock stops (else it would raise an overdue alert
    for a measure that no longer exists)."""
    if party.adjustment_clock_id and party.adjusted_at is None:
        _stop(party.adjustment_clock_id, at)


# --- responsibility tracing (责任倒查) -----------------------------------------------------------
@transaction.atomic
def do_add_traced_parties(case: Case, *, staff_ids: list[int], responsibility: str = Responsibility.DIRECT
                          ) -> list[Party]:
    """Add staff found by tracing the case's incidents to its persons concerned, in one step.

    Only persons the trace matched to a staff record may be added this way (anyone else goes through
    `do_add_party`); one already concerned is left as they are and named in the refusal when nobody
    is left to add."""
    from . import tracing

    case = _locked_case(case)
    if case.status != Status.REGISTERED:
        raise AccountabilityError(_("调查认定后不能再增加责任人"), "status")
    if responsibility not in (Responsibility.DIRECT, Responsibility.MAIN_LEADER, Responsibility.IMPORTANT_LEADER):
        raise AccountabilityError(_("个人的责任类型应为直接责任、主要领导责任或重要领导责任"), "responsibility")
    try:
        ids = sorted({int(i) for i in staff_ids or []})
    except (TypeError, ValueError):
        raise AccountabilityError(_("请选择倒查到的人员"), "staff") from None
    if not ids:
        raise AccountabilityError(_("请至少选择一名倒查到的人员"), "staff")
    try:
        traced = tracing.traced_staff(tracing.trace(case))
    except tracing.NothingToTrace as exc:
        raise AccountabilityError(str(exc), "staff") from None
    strangers = [i for i in ids if i not in traced]
    if strangers:
        raise AccountabilityError(_("所选人员不在倒查结果中，请通过“确定责任人”逐一增加"), "staff")
    already = set(case.parties.filter(staff_id__in=ids).values_list("staff_id", flat=True))
    fresh = [traced[i].staff for i in ids if i not in already]
    if not fresh:
        raise AccountabilityError(_("%(names)s 已是本案责任人") % {
            "names": "、".join(traced[i].staff.name for i in ids)}, "staff")
    added = [do_add_party(case, staff=staff, responsibility=responsibility) for staff in fresh]
    record("accountability.trace_parties", case, changes={
        "staff": [s.pk for s in fresh], "skipped": sorted(already), "responsibility": responsibility})
    return added
# --- the periodic report to the government ------------------------------------------------------
@transaction.atomic
def do_issue_period_report(region, period, *, cases, actor=None, at: datetime | None = None):
    """Issue the supervisory organ's report to the government for `region` and `period`
    (`report.Period`), over `cases` (already scoped to the user); once per region and period.

    1. Refuse a region without an efficiency office organ: the report is issued in its name.
    2. The report row keeps the figures as they stood when issued; a row left without its
       document (a failed issue) takes the figures of now.
    3. Issue the document (acct.report) with the office's next 问报 number; asked again, the
       document issued before is returned.
    """
    from xiaoneng.documents.actions import DocumentError, do_issue_document
    from xiaoneng.documents.kinds.accountability import report_office
    from xiaoneng.documents.models import Document

    from . import report as R
    from .models import PeriodicReport

    at = _at(at)
    if report_office(region.prefix) is None:
        raise AccountabilityError(_("%(region)s未登记效能办（简称“%(short)s”的机关），不能以监察部门名义制发报告") % {
            "region": region.name, "short": rule("complaint_office_short_name")}, "region")
    row, created = PeriodicReport.objects.select_for_update().get_or_create(
        region=region, year=period.year, quarter=period.quarter,
        defaults={"issued_at": at, "figures": {}})
    key = f"acct_report:{row.pk}"
    existing = Document.objects.filter(kind="acct.report", subject_key=key).first()
    if existing is not None:
        return existing
    # The document is in Chinese whatever language the issuer reads the pages in: so are its figures' words.
    with translation.override("zh-hans"):
        row.figures = R.snapshot(R.build(cases, region, period, now=at))
    row.issued_at = at
    row.save(update_fields=["figures", "issued_at"])
    record("accountability.report", row, changes={"period": period.code, "region": region.code})
    try:
        return do_issue_document("acct.report", row, actor=actor, at=at)
    except DocumentError as exc:
        raise AccountabilityError(str(exc), "period") from exc
