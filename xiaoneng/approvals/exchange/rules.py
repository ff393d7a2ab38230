"""What may happen to an event, decided the same way by the fast and the per-event path.

1. `Context` — what the batch needs to know once: the source's organs, the organs and
   matters the events name (with every version, its steps and co-organs). It rejects
   events for organs the source may not report for, unknown matters, and matters
   that do not belong to the organ.
2. `readiness(event, case)` — given the case as it stands (a `Case` row seen through
   `CaseView`, or the fast path's in-memory state, which has the same attributes):
   * apply  — the event's turn has come;
   * hold   — its turn may still come (the case does not exist yet, or the status it
              needs can still be reached through the transition table); it waits;
   * reject — it can never apply (wrong organ or matter for the case, a status the
              case can no longer reach, a step already done or unknown).
   Holding is decided from the transition table (`workflow.TRANSITIONS`), so an event
   is never applied in a state the actions would refuse, and never waits for a state
   the case can no longer reach.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Prefetch
from django.utils.translation import gettext as _

from xiaoneng.orgs.models import Organ

from ..models import Case, Matter, MatterVersion, Status
from ..workflow import TRANSITIONS
from .schema import AMOUNT_MAX, Event

S = Status
ALL = frozenset(Status.values)
APPLIES_IN: dict[str, frozenset[str]] = {
    "correction_requested": frozenset({S.SUBMITTED}),
    "corrected": frozenset({S.CORRECTION_REQUESTED}),
    "accepted": frozenset({S.SUBMITTED, S.CORRECTED}),
    "refused": frozenset({S.SUBMITTED, S.CORRECTION_REQUESTED, S.CORRECTED}),
    "step_completed": frozenset({S.ACCEPTED}),
    "suspended": frozenset({S.ACCEPTED}),
    "resumed": frozenset({S.SUSPENDED}),
    "extended": frozenset({S.ACCEPTED, S.SUSPENDED}),
    "decided": frozenset({S.ACCEPTED}),
    "certificate_issued": frozenset({S.DECIDED}),
    "fee_charged": ALL,
    "withdrawn": frozenset({S.SUBMITTED, S.CORRECTION_REQUESTED, S.CORRECTED, S.ACCEPTED, S.SUSPENDED}),
}


def _reachable() -> dict[str, frozenset[str]]:
    out = {}
    for start in TRANSITIONS:
        seen, todo = set(), list(TRANSITIONS[start])
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(TRANSITIONS[s])
        out[start] = frozenset(seen)
    return out


REACHABLE = _reachable()

APPLY, HOLD, REJECT = "apply", "hold", "reject"


@dataclass(frozen=True)
class Verdict:
    action: str
    field: str = ""
    reason: str = ""


OK = Verdict(APPLY)


def hold(reason: str, field: str = "") -> Verdict:
    return Verdict(HOLD, field, reason)


def reject(field: str, reason: str) -> Verdict:
    return Verdict(REJECT, field, reason)


# --- the batch's context ------------------------------------------------------------------
@dataclass
class StepInfo:
    id: int
    order: int
    name: str
    limit: int
    unit: str
    is_first_review: bool


@dataclass
class VersionInfo:
    """A matter version as the fast path needs it (read once per batch)."""

    obj: MatterVersion
    steps: list[StepInfo] = field(default_factory=list)

    def __getattr__(self, name):
        return getattr(self.obj, name)


@dataclass
class MatterInfo:
    obj: Matter
    versions: list[VersionInfo]  # newest first: (-effective_from, -number)
    organ_ids: set[int]  # the responsible organ and every version's co-organs

    def version_at(self, at: datetime) -> VersionInfo | None:
        """The version in force at `at`, as `actions.version_in_force` chooses it."""
        for v in self.versions:
            if v.obj.effective_from <= at:
                return v
        return None


_MATTERS: dict[str, tuple[tuple, MatterInfo]] = {}  # code → (fingerprint, info), per process


class Context:
    """Organs and matters named by a batch's events, loaded with a fixed number of queries."""

    def __init__(self, source, events: list[Event]):
        self.source = source
        self.source_organs = set(source.organs.values_list("pk", flat=True))
        codes = {e.organ_code for e in events} | {
            e.data["first_review_organ_code"] for e in events if e.data.get("first_review_organ_code")
        }
        self.organs: dict[str, Organ] = {o.credit_code: o for o in Organ.objects.filter(credit_code__in=codes)}
        self.organs_by_id: dict[int, Organ] = {o.pk: o for o in self.organs.values()}
        self.matters: dict[str, MatterInfo] = self._matters({e.matter_code for e in events})

    @staticmethod
    def _matters(codes) -> dict[str, MatterInfo]:
        """The matters by code, each reused from the process's cache while its fingerprint holds.

        A fingerprint (responsible organ, active flag, newest version and when it was published,
        number of versions and of co-organ links) changes with everything the catalogue actions change — versions are never
        edited once published — so one grouped query per batch replaces loading the catalogue.
        """
        fingerprints = {
            code: rest for code, *rest in Matter.objects.filter(code__in=codes).values_list(
                "code", "id", "organ_id", "is_active").annotate(
                newest=Max("versions__id"), published=Max("versions__created_at"),
                versions_n=Count("versions", distinct=True),
                co_n=Count("versions__co_organs"))
        }
        out, stale = {}, []
        for code, fp in fingerprints.items():
            cached = _MATTERS.get(code)
            if cached is not None and cached[0] == fp:
                out[code] = cached[1]
            else:
                stale.append(code)
        if stale:
            versions = MatterVersion.objects.order_by("-effective_from", "-number").prefetch_related(
                "steps", "co_organs")
            for matter in Matter.objects.filter(code__in=stale).prefetch_related(Prefetch("versions", queryset=versions)):
                infos, organ_ids = [], {matter.organ_id}
                for v in matter.versions.all():
                    steps = sorted(v.steps.all(), key=lambda s: s.order)
                    infos.append(VersionInfo(v, [StepInfo(s.pk, s.order, s.name, s.limit, s.unit, s.is_first_review)
                                                 for s in steps]))
                    organ_ids.update(o.pk for o in v.co_organs.all())
                out[matter.code] = info = MatterInfo(matter, infos, organ_ids)
                if matter.code in fingerprints:
                    if len(_MATTERS) > 10_000:
                        _MATTERS.clear()
                    _MATTERS[matter.code] = (fingerprints[matter.code], info)
        return out

    def organ_region(self, organ_id: int) -> str:
        organ = self.organs_by_id.get(organ_id)
        if organ is None:
            organ = Organ.objects.get(pk=organ_id)
            self.organs_by_id[organ_id] = organ
        return organ.region_code

    def check(self, ev: Event) -> Verdict:
        """May this source report this event for this organ and matter at all?"""
        organ = self.organs.get(ev.organ_code)
        if organ is None or organ.pk not in self.source_organs:
            return reject("organ_code", _("本来源无权报送机关 %(code)s 的办件") % {"code": ev.organ_code})
        matter = self.matters.get(ev.matter_code)
        if matter is None:
            return reject("matter_code", _("事项编码 %(code)s 不存在") % {"code": ev.matter_code})
        if organ.pk not in matter.organ_ids:
            return reject("matter_code", _("事项 %(code)s 不属于机关 %(organ)s") % {
                "code": ev.matter_code, "organ": organ.name})
        fr = ev.data.get("first_review_organ_code")
        if fr and fr not in self.organs:
            return reject("first_review_organ_code", _("没有统一社会信用代码为 %(codes)s 的机关") % {"codes": fr})
        return OK


# --- the case as it stands ----------------------------------------------------------------
class CaseView:
    """A `Case` row with the attributes `readiness` reads (the fast path's state has them too)."""

    def __init__(self, case: Case):
        self.case = case
        self.status = case.status
        self.organ_id = case.organ_id
        self.matter_id = case.matter_version.matter_id
        self.matter_code = case.matter_version.matter.code
        self.outcome = case.outcome
        self.is_parallel = case.is_parallel
        self.parent_id = case.parent_id
        self.extended = case.extended
        self.fee_charged = case.fee_charged
        self.case_no = case.case_no

    def version_steps(self) -> list[tuple[str, int]]:
        return [(s.name, s.order) for s in self.case.matter_version.steps.order_by("order")]

    def current_step(self) -> tuple[str, int] | None:
        open_step = self.case.steps.filter(completed_at__isnull=True).select_related("step").first()
        return (open_step.step.name, open_step.step.order) if open_step else None

    def has_open_subcases(self) -> bool:
        return self.case.subcases.exclude(status__in=[S.DECIDED, S.CERTIFIED, S.CLOSED]).exists()


def _matches(step: str, name_order: tuple[str, int]) -> bool:
    return step in (name_order[0], str(name_order[1]))


def readiness(ev: Event, case, organ_id: int) -> Verdict:
    """Apply, hold or reject `ev` against `case` (None: no such case yet); see the module docstring."""
    if ev.type == "submitted":
        if case is not None:
            return reject("case_no", _("办件编号 %(no)s 已存在") % {"no": ev.case_no})
        return OK
    if case is None:
        return hold(_("办件 %(no)s 尚未收到申请（submitted）事件，等待前序事件") % {"no": ev.case_no})
    if case.organ_id != organ_id:
        return reject("organ_code", _("办件 %(no)s 不属于该机关") % {"no": ev.case_no})
    if case.matter_code != ev.matter_code:
        return reject("matter_code", _("办件 %(no)s 的事项不是 %(code)s") % {"no": ev.case_no, "code": ev.matter_code})
    needed = APPLIES_IN[ev.type]
    if case.status not in needed:
        label = Status(case.status).label
        if needed & REACHABLE[case.status]:
            return hold(_("办件当前为“%(now)s”，等待前序事件") % {"now": label}, "status")
        return reject("status", _("办件当前为“%(now)s”，该事件已不能应用") % {"now": label})
    if ev.type == "step_completed":
        return _step_readiness(ev, case)
    if ev.type == "certificate_issued" and case.outcome != "granted":
        return reject("outcome", _("只有准予许可的办件才发放证件"))
    if ev.type == "fee_charged" and case.fee_charged + ev.data["amount"] > AMOUNT_MAX:
        return reject("amount", _("收费合计将超过 %(max)s 元，超出可记录的范围") % {"max": AMOUNT_MAX})
    if ev.type == "extended" and case.extended:
        return reject("days", _("办件已经延长过一次，不能再次延长"))
    if ev.type == "decided" and case.is_parallel and case.has_open_subcases():
        return hold(_("并联审批须待各协办机关办结后方可作出决定"), "status")
    if ev.type == "decided" and (current := case.current_step()) is not None:
        # A decision never skips a step: it waits for the step's completion (reported late or out of
        # order); if that never comes, the event expires and supervision raises a process anomaly.
        return hold(_("环节“%(step)s”尚未办结，等待该环节办结后方可作出决定") % {"step": current[0]}, "step")
    return OK


def _step_readiness(ev: Event, case) -> Verdict:
    step = ev.data["step"]
    current = case.current_step()
    if current is not None and _matches(step, current):
        return OK
    steps = case.version_steps()
    if current is None:
        if any(_matches(step, s) for s in steps):
            return reject("step", _("环节“%(got)s”已办结") % {"got": step})
        return reject("step", _("办件没有进行中的环节"))
    later = [s for s in steps if s[1] > current[1]]
    if any(_matches(step, s) for s in later):
        return hold(_("等待前序环节“%(now)s”办结") % {"now": current[0]}, "step")
    return reject("step", _("环节顺序不符：当前环节是“%(now)s”，收到“%(got)s”") % {"now": current[0], "got": step})
