"""Handling pages (办件): the case list per role, the case page and its actions, the matter catalogue.

Who sees what goes through `access` only. A user sees the cases inside the scopes of
the grants that carry "case.view" (`case_perm`); a case outside them is a 404, exactly like one that does not
exist. Acting on a case needs "handle" on the case's own organ (`may_act`):
supervisors and leaders read, and the lead organ of a parallel application reads its
co-organs' sub-cases but does not act on them.

Every action is a POST to `act/<action>/` that calls one function of `actions.py`
(through the action form). It runs under a row lock and carries the case's revision
(the number of timeline rows when the page was drawn), so a double submit or a
replay finds the case changed and says so instead of acting twice.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks.display import ClockRow, clock_row
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.documents.views import record_documents
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ
from xiaoneng.web import names
from xiaoneng.web.lists import Column, ListPage
from xiaoneng.web.timeline import Entry

from .actions import CaseError
from .forms import ACTION_FORMS, CaseFilterForm, MatterFilterForm, overdue_q
from .models import Case, CaseApplicant, CaseEvent, CaseMaterial, Matter, MatterVersion, Status, StatusChange
from .risk import at_risk_q
from .workflow import TransitionError

VIEW_PERM = "case.view"


def case_perm(user) -> str | None:
    """The permission cases are read with, if the user holds it anywhere."""
    return VIEW_PERM if access.has_perm(user, VIEW_PERM) else None


def may_act(user, case: Case) -> bool:
    """Only handlers act, and only on cases of their own organs (and organs below them)."""
    if not access.has_perm(user, "handle"):
        return False
    return access.scoped(Organ.objects.filter(pk=case.organ_id), user, "handle").exists()


# --- display helpers (also used by the public look-up) ------------------------------------
def mask_phone(phone: str) -> str:
    """13800001234 → 138****1234; short numbers keep only their last two digits."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) >= 8:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    return "*" * max(len(phone) - 2, 1) + phone[-2:]


def mask_name(name: str) -> str:
    """张三 → 张*, 张三丰 → 张*丰, 广州某某餐饮有限公司 → 广********司."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def with_risk(queryset, now: datetime | None = None):
    """Annotate `risk_warn` (a clock reached its warning) and `risk_overdue` (a limit has passed)."""
    now = now or timezone.now()
    return queryset.annotate(
        risk_warn=ExpressionWrapper(at_risk_q(now), output_field=BooleanField()),
        risk_overdue=ExpressionWrapper(overdue_q(now), output_field=BooleanField()),
    )


def risk_label(case: Case) -> str:
    if getattr(case, "risk_overdue", False):
        return str(_("已超期"))
    if getattr(case, "risk_warn", False):
        return str(_("临近到期"))
    return ""


def label_deadlines(cases) -> None:
    """Give each case (and its listed sub-cases) a `due_label` for its promised deadline."""
    for case in cases:
        clock = case.promise_clock if case.promise_clock_id else None
        case.due_label = deadline_label(clock.due_at) if clock else ""
        label_deadlines(getattr(case, "visible_subcases", []))


def fee_standard(version: MatterVersion) -> Decimal:
    return Decimal(0) if version.is_free else (version.fee_standard or Decimal(0))


CLOCK_KINDS = names.CLOCK_KINDS  # one registry of names (xiaoneng.web.names)


def clock_rows(case: Case, steps, now, *, public: bool = False) -> list[ClockRow]:
    """Every clock of the case, in the order the law runs them, each explained in words."""
    wanted: list[tuple[str, int]] = []
    for kind_field in ("correction_clock_id", "legal_clock_id", "promise_clock_id"):
        if getattr(case, kind_field):
            wanted.append(("", getattr(case, kind_field)))
    if not public:
        wanted += [(s.step.name, s.clock_id) for s in steps if s.clock_id]
    if case.certificate_clock_id:
        wanted.append(("", case.certificate_clock_id))
    if not wanted:
        return []
    clocks = Clock.objects.prefetch_related("pauses").in_bulk([pk for _name, pk in wanted])
    cal = calendar_engine.current()
    rows = []
    for step_name, pk in wanted:
        clock = clocks.get(pk)
        if clock is None:
            continue
        title = names.clock_kind(clock.kind)
        rows.append(clock_row(clock, f"{title} · {step_name}" if step_name else title, now, cal))
    return rows


# --- the timeline --------------------------------------------------------------------------
def _event_entry(event: CaseEvent, public: bool) -> Entry | None:
    d = event.data or {}
    entry = Entry(event.at, str(event.get_kind_display()), order=(event.at, 1, event.pk))
    kind = event.kind
    if kind == CaseEvent.Kind.CORRECTION:
        entry.details = [_t("需补正：%(items)s") % {"items": "；".join(d.get("items", []))}]
        if d.get("late") and not public:
            entry.badge, entry.badge_level = _t("逾期告知，视为自收件之日受理"), "warning"
    elif kind == CaseEvent.Kind.STEP:
        entry.title = _t("环节办结：%(step)s") % {"step": d.get("step", "")}
        if d.get("handler") and not public:
            entry.details = [_t("经办人：%(name)s") % {"name": d["handler"]}]
    elif kind == CaseEvent.Kind.SUSPEND:
        entry.details = [_t("事由：%(reason)s") % {"reason": d.get("reason", "")}]
        if d.get("legal_basis"):
            entry.details.append(_t("依据：%(basis)s") % {"basis": d["legal_basis"]})
        if d.get("announced_days"):
            entry.details.append(_t("告知所需时间：%(days)s 天，期间不计入办理时限") % {"days": d["announced_days"]})
    elif kind == CaseEvent.Kind.EXTEND:
        entry.details = [_t("延长 %(days)s 个工作日；理由：%(reasons)s") % {"days": d.get("days"), "reasons": d.get("reasons", "")}]
        if d.get("approver") and not public:
            entry.details.append(_t("批准人：%(name)s") % {"name": d["approver"]})
        if d.get("late"):  # reported by the organ's system after the period ended (Art. 42): no effect
            entry.details.append(_t("法定办理期限已于 %(due)s 届满，本次延长不产生效力，仍按原期限计算") % {"due": d.get("due", "")})
            if not public:
                entry.badge, entry.badge_level = _t("期限届满后延长"), "danger"
        elif d.get("late_clocks") and not public:
            entry.details.append(_t("承诺时限已届满，未随之延长"))
    elif kind == CaseEvent.Kind.FEE:
        entry.details = [_t("收费 %(amount)s 元（收费标准 %(standard)s 元）") % {"amount": d.get("amount"), "standard": d.get("standard")}]
        if not public and d.get("free_matter") and Decimal(str(d.get("amount", 0))) > 0:
            entry.badge, entry.badge_level = _t("不收费事项"), "danger"
        elif not public and d.get("over_standard"):
            entry.badge, entry.badge_level = _t("超过收费标准"), "danger"
    elif kind == CaseEvent.Kind.NOTIFY and public:
        return None
    if not public:
        entry.actor = event.actor_label
    return entry


PUBLIC_NOTES = {Status.REFUSED, Status.DECIDED, Status.WITHDRAWN}


def _change_entry(change: StatusChange, public: bool) -> Entry:
    to = Status(change.to_status)
    entry = Entry(change.at, str(to.label), order=(change.at, 0, change.pk))
    if change.from_status and not public:
        entry.title = _t("%(from)s → %(to)s") % {"from": Status(change.from_status).label, "to": to.label}
    # Correction items and suspension reasons are told by their own event row.
    if change.note and (not public or to in PUBLIC_NOTES) and to not in (Status.CORRECTION_REQUESTED, Status.SUSPENDED):
        entry.details = [change.note]
    if not public:
        entry.actor = change.actor_label
    return entry


def timeline(case: Case, changes, events, *, public: bool = False) -> list[Entry]:
    """Receipt, status changes and case events merged by time (a change before an event at the same moment)."""
    entries = [Entry(case.received_at, _t("收件"), [_t("申请材料已接收")], order=(case.received_at, -1, 0))]
    entries += [_change_entry(c, public) for c in changes]
    entries += [e for e in (_event_entry(ev, public) for ev in events) if e is not None]
    return sorted(entries, key=lambda e: e.order)


def revision(case: Case) -> str:
    """How many timeline rows the case has; every action adds at least one."""
    return str(StatusChange.objects.filter(case=case).count() + CaseEvent.objects.filter(case=case).count())


# --- the case list -------------------------------------------------------------------------
def _yes_no(value: bool) -> str:
    return str(_("是") if value else _("否"))


class CaseList(ListPage):
    template_name = "approvals/cases.html"
    partial_template_name = "approvals/_case_results.html"
    form_class = CaseFilterForm
    results_id = "case-results"
    sorts = {
        "received": ("received_at", "pk"),
        "case_no": ("case_no", "pk"),
        "status": ("status", "received_at", "pk"),
        "organ": ("organ__name", "received_at", "pk"),
        "matter": ("matter_version__matter__code", "received_at", "pk"),
        "due": ("promise_clock__due_at", "pk"),
    }
    default_sort = "-received"
    export_name = _("办件")

    @property
    def perm(self) -> str:
        if not hasattr(self, "_perm"):
            self._perm = VIEW_PERM
        return self._perm

    def get_form_kwargs(self):
        return {"user": self.request.user, "perm": self.perm}

    def base_queryset(self):
        qs = Case.objects.select_related("matter_version__matter", "organ", "parent", "promise_clock", "legal_clock")
        return with_risk(access.scoped(qs, self.request.user, self.perm))

    def subcases(self) -> Prefetch:
        """Sub-cases of a parallel application that the user may see, drawn under it."""
        qs = self.base_queryset().order_by("case_no")
        return Prefetch("subcases", queryset=qs, to_attr="visible_subcases")

    def get_queryset(self):
        return self.base_queryset().prefetch_related(self.subcases())

    def get_extra_context(self, page, form):
        label_deadlines(page.object_list)
        return {"now": timezone.now()}

    def export_rows(self, queryset):
        """The rows of every page, each parallel application followed by its visible sub-cases."""
        for case in queryset.iterator(chunk_size=1000):
            yield case
            yield from getattr(case, "visible_subcases", [])

    columns = [
        Column(_("办件编号"), lambda c: c.case_no),
        Column(_("并联申请"), lambda c: c.parent.case_no if c.parent_id else ""),
        Column(_("事项编码"), lambda c: c.matter_version.matter.code),
        Column(_("事项名称"), lambda c: c.matter_version.matter.name),
        Column(_("事项版本"), lambda c: c.matter_version.number),
        Column(_("办理机关"), lambda c: c.organ.name),
        Column(_("申请人"), lambda c: c.applicant_name),
        Column(_("联系电话"), lambda c: mask_phone(c.applicant_phone)),
        Column(_("状态"), lambda c: str(c.get_status_display())),
        Column(_("结果"), lambda c: str(c.get_outcome_display()) if c.outcome else ""),
        Column(_("收件时间"), lambda c: c.received_at),
        Column(_("受理时间"), lambda c: c.accepted_at),
        Column(_("视为受理"), lambda c: _yes_no(c.deemed_accepted)),
        Column(_("承诺到期"), lambda c: c.promise_clock.due_at if c.promise_clock_id else None),
        Column(_("法定到期"), lambda c: c.legal_clock.due_at if c.legal_clock_id else None),
        Column(_("时限风险"), risk_label),
        Column(_("实收费用（元）"), lambda c: float(c.fee_charged)),
    ]


case_list = CaseList.as_view()


# --- the case page -------------------------------------------------------------------------
def _get_case(request, pk: int) -> tuple[Case, str]:
    perm = case_perm(request.user)
    if perm is None:
        raise Http404
    qs = Case.objects.select_related("matter_version__matter", "organ", "first_review_organ", "parent")
    return access.get_scoped_or_404(with_risk(qs), request.user, perm, pk=pk), perm


def _case_context(request, case: Case, perm: str, failed=None) -> dict:
    user, now = request.user, timezone.now()
    steps = list(case.steps.select_related("step", "organ").order_by("step__order"))
    case._xn_steps = steps
    changes = list(StatusChange.objects.filter(case=case).order_by("at", "pk"))
    events = list(CaseEvent.objects.filter(case=case).order_by("at", "pk"))
    rev = str(len(changes) + len(events))
    acting = may_act(user, case)
    forms = []
    if acting:
        for action, form_class in ACTION_FORMS.items():
            if failed is not None and failed.action == action:
                forms.append(failed)
            elif form_class.available(case):
                forms.append(form_class(initial={"rev": rev}, case=case, user=user, prefix=None))
    version = case.matter_version
    subcases = []
    if case.is_parallel:
        subcases = list(
            with_risk(access.scoped(case.subcases.select_related("organ", "promise_clock"), user, perm), now)
            .order_by("case_no")
        )
        label_deadlines(subcases)
    parent_visible = bool(case.parent_id) and access.scoped(Case.objects.filter(pk=case.parent_id), user, perm).exists()
    matter_visible = access.scoped(Matter.objects.filter(pk=version.matter_id), user, perm).exists()
    standard = fee_standard(version)
    return {
        "case": case,
        "version": version,
        "matter": version.matter,
        "matter_visible": matter_visible,
        "phone": mask_phone(case.applicant_phone),
        "steps": steps,
        "clocks": clock_rows(case, steps, now),
        "timeline": timeline(case, changes, events),
        "subcases": subcases,
        "parent_visible": parent_visible,
        **record_documents("case", case, user),
        "can_act": acting,
        "action_forms": forms,
        "failed": failed,
        "rev": rev,
        "fee_standard": standard,
        "fee_over": case.fee_charged > standard,
        "now": now,
        # Registered at the counter (登记办件): the applicant's ID and the materials handed in.
        "applicant_record": CaseApplicant.objects.filter(case=case).first(),
        "materials": list(CaseMaterial.objects.filter(case=case).order_by("pk")),
    }


@login_required
def case_detail(request, pk: int):
    case, perm = _get_case(request, pk)
    return render(request, "approvals/case.html", _case_context(request, case, perm))


@require_http_methods(["GET", "POST"])
@login_required
def case_act(request, pk: int, action: str):
    """Run one action on the case; errors come back on the case page, success redirects to it.

    1. A GET (reloading the address an error page was shown at) goes back to the case page.
    2. 404 for an unknown action or a case outside the user's scope; 403 if the user only reads.
    3. Under a row lock: refuse an action the case's status no longer offers, and a form
       drawn for an older revision of the case (a double submit or a replay).
    4. Call the action; a CaseError or TransitionError becomes an error on the form.
    """
    if request.method == "GET":
        return redirect(reverse("approvals:case", args=[pk]))
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    case, perm = _get_case(request, pk)
    if not may_act(request.user, case):
        raise PermissionDenied
    form = form_class(request.POST, case=case, user=request.user)
    valid = form.is_valid()
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("matter_version__matter", "organ").get(pk=case.pk)
        if not form_class.available(locked):
            form.add_error(None, _t("办件当前为“%(status)s”，不能执行“%(action)s”。")
                           % {"status": locked.get_status_display(), "action": form_class.title})
        elif valid and form.cleaned_data["rev"] != revision(locked):
            form.add_error(None, _t("办件已有新的办理记录（可能是重复提交），本次操作未执行。请核对最新情况后再操作。"))
        elif valid:
            try:
                form.perform(locked)
            except (CaseError, TransitionError) as exc:
                form.add_action_error(exc)
    if form.errors:
        case, perm = _get_case(request, pk)
        # 200, as Django does for a form shown again with its errors: the browser treats
        # the page as a page (a 4xx would be logged as a failed load).
        return render(request, "approvals/case.html", _case_context(request, case, perm, failed=form))
    messages.success(request, _t("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("approvals:case", args=[case.pk]))


# --- the matter catalogue ---------------------------------------------------------------------
class MatterList(ListPage):
    template_name = "approvals/matters.html"
    partial_template_name = "approvals/_matter_results.html"
    form_class = MatterFilterForm
    results_id = "matter-results"
    sorts = {
        "code": ("code", "pk"),
        "name": ("name", "pk"),
        "organ": ("organ__name", "code", "pk"),
        "kind": ("kind", "code", "pk"),
    }
    default_sort = "code"
    export_name = _("事项目录")

    @property
    def perm(self) -> str:
        if not hasattr(self, "_perm"):
            self._perm = VIEW_PERM
        return self._perm

    def get_form_kwargs(self):
        return {"user": self.request.user, "perm": self.perm}

    def get_queryset(self):
        qs = Matter.objects.select_related("organ", "current").prefetch_related("current__co_organs")
        return access.scoped(qs, self.request.user, self.perm)

    def export_rows(self, queryset):
        return queryset.iterator(chunk_size=1000)

    columns = [
        Column(_("事项编码"), lambda m: m.code),
        Column(_("事项名称"), lambda m: m.name),
        Column(_("事项类型"), lambda m: str(m.get_kind_display())),
        Column(_("实施机关"), lambda m: m.organ.name),
        Column(_("现行版本"), lambda m: m.current.number if m.current_id else ""),
        Column(_("法定时限"), lambda m: f"{m.current.legal_limit} {m.current.get_legal_unit_display()}" if m.current_id else ""),
        Column(_("承诺时限"), lambda m: f"{m.current.promised_limit} {m.current.get_promised_unit_display()}" if m.current_id else ""),
        Column(_("收费标准（元）"), lambda m: "" if not m.current_id or m.current.is_free else float(m.current.fee_standard or 0)),
        Column(_("并联审批"), lambda m: _yes_no(bool(m.current_id and m.current.is_parallel))),
        Column(_("协办机关"), lambda m: "、".join(o.name for o in m.current.co_organs.all()) if m.current_id else ""),
        Column(_("有效"), lambda m: _yes_no(m.is_active)),
    ]


matter_list = MatterList.as_view()


@login_required
def matter_detail(request, pk: int):
    perm = case_perm(request.user)
    if perm is None:
        raise Http404
    matter = access.get_scoped_or_404(Matter.objects.select_related("organ", "current"), request.user, perm, pk=pk)
    versions = list(
        matter.versions.prefetch_related("steps", "co_organs").order_by("-number")
    )
    current = next((v for v in versions if v.pk == matter.current_id), versions[0] if versions else None)
    case_count = access.scoped(Case.objects.filter(matter_version__matter=matter), request.user, perm).count()
    return render(request, "approvals/matter.html", {
        "matter": matter, "current": current, "versions": versions, "case_count": case_count,
        "fee_standard": fee_standard(current) if current else None,
    })
