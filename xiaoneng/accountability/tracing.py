"""Responsibility tracing (责任倒查): from an incident back through its steps, clocks and handlers.

An incident is an approval case (办件), a supervision alert (预警, e.g. a red card), a complaint,
a supervision order, or what an accountability proposal or case stands on (its proposals'
sources). `trace(obj)` returns one `Trace` per incident: the ordered chain of what happened —

1. the record's own timeline rows (status changes, completed handling steps, alert and complaint
   steps), each with when, the organ that acted and the person as recorded (the step's handler,
   the status change's or step's actor);
2. every clock of the record attached to the row that stopped it (a handling step's clock to
   that step; otherwise the row written at the instant the clock stopped); a clock still open
   becomes a last "not yet done" row of its organ;
3. the first row (in time) one of whose own clocks overran is marked as the one that made it
   late (`Trace.culprit`).

A person is matched to a staff record by their user account, else by the name recorded within the
acting organ when exactly one staff member there has it; a name matching nobody (or several) is
shown as recorded and cannot be added to a case. Nothing here writes: the page audits the read.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks.engine import explain_clock, local_date
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock, Unit
from xiaoneng.lib.workdays import OutOfRange
from xiaoneng.orgs.models import Staff
from xiaoneng.web.names import clock_kind


class NothingToTrace(ValueError):
    """The record is no incident the platform holds steps for (a proposal by hand, say)."""


@dataclass
class TracedClock:
    clock: Clock
    kind_label: str
    due_label: str
    explanation: str
    url: str
    late: bool
    late_label: str
    pauses: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)


@dataclass
class Step:
    at: datetime
    what: str
    organ: object = None
    person: str = ""  # as recorded
    user_id: int | None = None
    staff: Staff | None = None
    clocks: list[TracedClock] = field(default_factory=list)
    pending: bool = False  # a clock still open: nobody has acted yet
    culprit: bool = False
    note: str = ""
    subject: tuple = ()  # (content type id, pk) of the record the row belongs to, to pair it with its clocks

    @property
    def late(self) -> bool:
        return any(c.late for c in self.clocks)


@dataclass
class Person:
    staff: Staff
    steps: list[str]
    late: bool


@dataclass
class Trace:
    label: str
    kind_label: str
    url: str
    steps: list[Step]

    @property
    def culprit(self) -> Step | None:
        return next((s for s in self.steps if s.culprit), None)

    @property
    def persons(self) -> list[Person]:
        """The staff matched on the chain, in the order they acted; `late` if they acted on the culprit step."""
        found: dict[int, Person] = {}
        for s in self.steps:
            if s.staff is None:
                continue
            p = found.setdefault(s.staff.pk, Person(s.staff, [], False))
            p.steps.append(s.what)
            p.late = p.late or s.culprit
        return list(found.values())


# --- clocks ---------------------------------------------------------------------------------------
def _late_label(clock: Clock, end: datetime, cal) -> str:
    if clock.unit == Unit.HOURS:
        return _("逾期 %(n)d 小时") % {"n": math.ceil((end - clock.due_at).total_seconds() / 3600)}
    last_day = local_date(clock.due_at - timedelta(microseconds=1))
    days = (local_date(end) - last_day).days
    if clock.unit == Unit.WORKING and cal is not None:
        try:
            working = cal.working_days_between(last_day, local_date(end))
        except OutOfRange:
            working = None
        if working:
            return _("逾期 %(w)d 个工作日（%(d)d 天）") % {"w": working, "d": days}
    return _("逾期 %(d)d 天") % {"d": max(days, 1)}


def _traced_clock(clock: Clock, now: datetime, cal) -> TracedClock:
    try:
        words = explain_clock(clock, cal)
    except OutOfRange:
        words = ""
    late = clock.is_overdue(now)
    end = clock.stopped_at if clock.state == Clock.State.STOPPED else now
    pauses = [_("%(a)s 至 %(b)s 暂停：%(why)s") % {
        "a": f"{timezone.localtime(p.started_at):%Y-%m-%d}",
        "b": f"{timezone.localtime(p.ended_at):%Y-%m-%d}" if p.ended_at else _("未恢复"), "why": p.reason}
        for p in clock.pauses.all()]
    extensions = [_("延长 %(n)d 天，批准人 %(who)s：%(why)s") % {"n": e.days, "who": e.approver_name, "why": e.reason}
                  for e in clock.extensions.all()]
    return TracedClock(clock, clock_kind(clock.kind), deadline_label(clock.due_at), words,
                       reverse("clocks:detail", args=[clock.pk]), late, _late_label(clock, end, cal) if late else "",
                       pauses, extensions)


def _clocks_of(*subjects) -> list[Clock]:
    ids_by_type: dict[int, list[int]] = {}
    for s in subjects:
        ids_by_type.setdefault(ContentType.objects.get_for_model(s).pk, []).append(s.pk)
    found = []
    for type_id, ids in ids_by_type.items():
        found += Clock.objects.filter(subject_type_id=type_id, subject_id__in=ids).select_related("organ") \
            .prefetch_related("pauses", "extensions").order_by("start_at", "pk")
    return found


def _attach(steps: list[Step], clocks: list[Clock], explicit: dict[int, Step], now: datetime) -> list[Step]:
    """Give each clock to the step that stopped it; an open clock becomes a pending step of its organ."""
    cal = calendar_engine.current()
    pending = []
    for clock in clocks:
        traced = _traced_clock(clock, now, cal)
        owner = explicit.get(clock.pk)
        if owner is None and clock.state == Clock.State.STOPPED and clock.stopped_at:
            # Rows of the clock's own record first: a sub-case's clock belongs to the sub-case's row, not to the
            # application's row written at the same instant.
            own = [s for s in steps if s.subject == (clock.subject_type_id, clock.subject_id)]
            owner = _stopper(own, clock.stopped_at) or _stopper(steps, clock.stopped_at)
        if owner is None and clock.state == Clock.State.STOPPED:  # stopped by nothing on record (e.g. a bare clock)
            owner = Step(at=clock.stopped_at or now, what=_("时限停止：%(kind)s") % {"kind": traced.kind_label},
                         organ=clock.organ)
            steps.append(owner)
        elif owner is None:
            owner = Step(at=clock.due_at or now, what=_("尚未完成：%(kind)s") % {"kind": traced.kind_label},
                         organ=clock.organ, pending=True, note=_("经办人尚未记录，由该机关负责"))
            pending.append(owner)
        owner.clocks.append(traced)
    chain = sorted(steps, key=lambda s: s.at) + sorted(pending, key=lambda s: s.at)
    first_late = next((s for s in chain if s.late), None)
    if first_late is not None:
        first_late.culprit = True
    return chain


def _stopper(rows: list[Step], stopped_at: datetime) -> Step | None:
    """The row written when the clock stopped, else the last one before it."""
    same = [s for s in rows if s.at == stopped_at]
    before = [s for s in rows if s.at <= stopped_at]
    return same[0] if same else (before[-1] if before else None)


def _match_staff(steps: list[Step]) -> None:
    """Staff by user account first, else by the recorded name when unique within the acting organ."""
    users = {s.user_id for s in steps if s.user_id}
    by_user = {st.user_id: st for st in Staff.objects.filter(user_id__in=users).select_related("organ")} if users else {}
    names = {s.person for s in steps if s.person and s.organ is not None}
    organs = {s.organ.pk for s in steps if s.organ is not None}
    by_name: dict[tuple[int, str], list[Staff]] = {}
    if names:
        for st in Staff.objects.filter(name__in=names, organ_id__in=organs).select_related("organ"):
            by_name.setdefault((st.organ_id, st.name), []).append(st)
    for s in steps:
        if s.user_id in by_user:
            s.staff = by_user[s.user_id]
            s.person = s.staff.name  # the account's login name means less to a reader than the person's
        elif s.organ is not None and len(by_name.get((s.organ.pk, s.person), [])) == 1:
            s.staff = by_name[(s.organ.pk, s.person)][0]


def _person(user, label: str) -> tuple[str, int | None]:
    if user is not None:
        return (getattr(user, "display_name", "") or user.get_username()), user.pk
    return label or "", None


# --- incidents -------------------------------------------------------------------------------------
def _key(obj) -> tuple:
    return (ContentType.objects.get_for_model(obj).pk, obj.pk)


def _approval_steps(case) -> tuple[list[Step], dict[int, Step], list]:
    from xiaoneng.approvals.models import Case as ApprovalCase

    family = [case, *ApprovalCase.objects.filter(parent=case).select_related("organ")] if case.is_parallel else [case]
    steps, explicit = [], {}
    for member in family:
        prefix = f"{member.organ.name} · " if member is not case else ""
        key = _key(member)
        if member is case:  # the correction clock counts from receipt, which has no status change of its own
            steps.append(Step(at=case.received_at, what=_("收件"), organ=case.organ, subject=key))
        for ch in member.changes.select_related("actor"):
            person, uid = _person(ch.actor, ch.actor_label)
            steps.append(Step(at=ch.at, what=prefix + _("状态变更：%(to)s") % {"to": ch.get_to_status_display()},
                              organ=member.organ, person=person, user_id=uid, note=ch.note, subject=key))
        for cs in member.steps.select_related("step", "organ"):
            if cs.completed_at is None:
                continue  # its open clock becomes the pending step
            s = Step(at=cs.completed_at, what=prefix + _("环节办结：%(name)s") % {"name": cs.step.name}, organ=cs.organ,
                     person=cs.handler, subject=key)
            steps.append(s)
            if cs.clock_id:
                explicit[cs.clock_id] = s
    return steps, explicit, family


def _approval(case, now) -> Trace:
    steps, explicit, family = _approval_steps(case)
    chain = _attach(steps, _clocks_of(*family), explicit, now)
    return Trace(case.case_no, _("办件"), reverse("approvals:case", args=[case.pk]), chain)


def _complaint_steps(complaint) -> list[Step]:
    steps, key = [], _key(complaint)
    for cs in complaint.steps.select_related("actor", "organ"):
        person, uid = _person(cs.actor, cs.actor_label)
        steps.append(Step(at=cs.at, what=cs.get_kind_display(), organ=cs.organ or complaint.office, person=person,
                          user_id=uid, subject=key))
    return steps


def _complaint(complaint, now) -> Trace:
    chain = _attach(_complaint_steps(complaint), _clocks_of(complaint), {}, now)
    return Trace(complaint.number, _("投诉"), reverse("complaints:detail", args=[complaint.pk]), chain)


def _order_steps(order) -> list[Step]:
    key = _key(order)
    return [Step(at=s.at, what=s.get_kind_display(), organ=order.organ, person=s.actor_label, subject=key)
            for s in order.steps.all()]


def _order(order, now) -> Trace:
    chain = _attach(_order_steps(order), _clocks_of(order), {}, now)
    return Trace(order.number, _("督办"), reverse("supervision:order", args=[order.pk]), chain)


def _alert(alert, now) -> Trace:
    """The alert's subject traced (a case, a complaint, an order), then the alert and what followed it."""
    from xiaoneng.approvals.models import Case as ApprovalCase
    from xiaoneng.complaints.models import Complaint
    from xiaoneng.supervision.models import SupervisionOrder

    subject = alert.subject
    if isinstance(subject, Clock):
        subject = subject.subject
    steps, explicit, clocks = [], {}, []
    if isinstance(subject, ApprovalCase):
        steps, explicit, family = _approval_steps(subject)
        clocks = _clocks_of(*family)
    elif isinstance(subject, Complaint):
        steps, clocks = _complaint_steps(subject), _clocks_of(subject)
    elif isinstance(subject, SupervisionOrder):
        steps, clocks = _order_steps(subject), _clocks_of(subject)
    elif alert.clock_id:
        clocks = [Clock.objects.prefetch_related("pauses", "extensions").select_related("organ").get(pk=alert.clock_id)]
    steps.append(Step(at=alert.raised_at, what=_("发现%(level)s：%(what)s") % {
        "level": alert.get_level_display(), "what": alert.subject_label or alert.message[:80]}, organ=alert.organ,
        person=_("电子监察系统")))
    for s in alert.steps.select_related("actor"):
        person, uid = _person(s.actor, s.actor_label)
        steps.append(Step(at=s.at, what=s.get_kind_display(), organ=alert.organ, person=person, user_id=uid))
    chain = _attach(steps, clocks, explicit, now)
    return Trace(str(alert), _("监察预警"), reverse("supervision:alert", args=[alert.pk]), chain)


def incidents_of(obj) -> list:
    """The records a proposal or an accountability case stands on (red card, complaint, order)."""
    from .models import Case, Proposal

    if isinstance(obj, Case):
        return [i for p in obj.proposals.select_related("origin__alert", "origin__complaint", "order")
                for i in incidents_of(p)]
    if isinstance(obj, Proposal):
        if obj.origin_id:
            return [obj.origin.alert or obj.origin.complaint]
        return [obj.order] if obj.order_id else []
    return [obj]


def trace(obj, now: datetime | None = None) -> list[Trace]:
    """One trace per incident behind `obj`; `NothingToTrace` when no record of the platform is behind it."""
    from xiaoneng.approvals.models import Case as ApprovalCase
    from xiaoneng.complaints.models import Complaint
    from xiaoneng.supervision.models import Alert, SupervisionOrder

    now = now or timezone.now()
    builders = {ApprovalCase: _approval, Alert: _alert, Complaint: _complaint, SupervisionOrder: _order}
    traces = []
    for incident in incidents_of(obj):
        build = builders.get(type(incident))
        if build is None:
            continue
        t = build(incident, now)
        _match_staff(t.steps)
        traces.append(t)
    if not traces:
        raise NothingToTrace(_("该记录没有可倒查的平台办理记录（如人工登记的线索）"))
    return traces


def traced_staff(traces: list[Trace]) -> dict[int, Person]:
    """Every staff member matched on the traces, by id (the persons an officer may add to the case)."""
    out: dict[int, Person] = {}
    for t in traces:
        for p in t.persons:
            if p.staff.pk in out:
                out[p.staff.pk].steps += p.steps
                out[p.staff.pk].late = out[p.staff.pk].late or p.late
            else:
                out[p.staff.pk] = Person(p.staff, list(p.steps), p.late)
    return out
