"""Accountability pages: the case and proposal lists (filter, sort, page, Excel), each case's
page with its clocks, persons, timeline and actions, and each proposal's page with its evidence.

Accountability records are personnel data. Who sees them goes through `access` only: the
"accountability.view" permission (supervisors) within its scope, everyone else nothing — a
404 exactly like a record that does not exist, an empty list, an empty export. Acting needs
"accountability.manage" in the record's scope. Every opening of a case page is audited
(`accountability.read`), since it names the persons concerned.

Every action is a POST to `act/<action>/` that calls one function of `actions.py` through its
form, under a row lock, carrying the record's revision (its number of timeline rows when the
page was drawn), so a double submit finds the record changed instead of acting twice.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.audit.log import record
from xiaoneng.clocks.display import clock_row
from xiaoneng.clocks.engine import local_date
from xiaoneng.documents.views import record_documents
from xiaoneng.orgs import access
from xiaoneng.orgs.filters import tree_regions
from xiaoneng.orgs.models import Organ
from xiaoneng.web.lists import Column, ListPage
from xiaoneng.web.timeline import Entry, actor_name, status_note

from . import actions
from . import measures as M
from .forms import CASE_FORMS, PROPOSAL_FORMS, CaseFilterForm, NewProposalForm, ProposalFilterForm
from .models import Appeal, Case, CaseStep, FilingLevel, Proposal, Responsibility, Tolerance
from .queries import PHASE_LABELS, case_phase

VIEW, MANAGE = "accountability.view", "accountability.manage"


def visible(queryset, user):
    return access.scoped(queryset, user, VIEW)


def may_manage(user, obj) -> bool:
    return access.has_perm(user, MANAGE) and access.scoped(type(obj).objects.filter(pk=obj.pk), user, MANAGE).exists()


def measure_label(code: str) -> str:
    try:
        return str(M.get(code).label) if code else ""
    except KeyError:  # a province measure since removed from the configuration
        return code


# --- lists -----------------------------------------------------------------------------------
class _ScopedList(ListPage):
    model = None

    def get_form_kwargs(self):
        user = self.request.user
        mine = visible(self.model.objects.all(), user)
        organs = (access.scoped(Organ.objects.all(), user, "org.view")
                  .filter(Exists(mine.filter(organ=OuterRef("pk")))).order_by("region_code", "name"))
        return {"user": user, "regions": tree_regions(user), "organs": organs}


class CaseList(_ScopedList):
    model = Case
    template_name = "accountability/cases.html"
    partial_template_name = "accountability/_case_results.html"
    form_class = CaseFilterForm
    results_id = "acct-results"
    sorts = {
        "registered": ("registered_at", "pk"),
        "number": ("number", "pk"),
        "organ": ("organ__name", "registered_at", "pk"),
        "status": ("status", "registered_at", "pk"),
        "due": ("decision_clock__due_at", "pk"),
    }
    default_sort = "-registered"
    export_name = _("问责案件")

    def get_queryset(self):
        return visible(Case.objects.select_related("organ", "deciding_organ", "decision_clock"), self.request.user)

    def get_extra_context(self, page, form):
        now = timezone.now()
        for case in page.object_list:
            case.overdue = bool(case.decision_clock_id and not case.decided_at and case.decision_clock.is_overdue(now))
        return {}

    columns = [
        Column(_("案件编号"), lambda c: c.number),
        Column(_("案由"), lambda c: c.title),
        Column(_("涉及机关"), lambda c: c.organ.name),
        Column(_("区划代码"), lambda c: c.region_code),
        Column(_("问责机关"), lambda c: c.deciding_organ.name),
        Column(_("状态"), lambda c: str(c.get_status_display())),
        Column(_("立案时间"), lambda c: c.registered_at),
        Column(_("决定期限"), lambda c: c.decision_clock.due_at if c.decision_clock_id else None),
        Column(_("决定时间"), lambda c: c.decided_at),
        Column(_("决定书文号"), lambda c: c.decision_number),
        Column(_("备案时间"), lambda c: c.filed_at),
    ]


case_list = CaseList.as_view()


class ProposalList(_ScopedList):
    model = Proposal
    template_name = "accountability/proposals.html"
    partial_template_name = "accountability/_proposal_results.html"
    form_class = ProposalFilterForm
    results_id = "acct-proposal-results"
    sorts = {
        "proposed": ("proposed_at", "pk"),
        "organ": ("organ__name", "proposed_at", "pk"),
        "source": ("source", "proposed_at", "pk"),
        "status": ("status", "proposed_at", "pk"),
    }
    default_sort = "-proposed"
    export_name = _("问责线索")

    def get_queryset(self):
        return visible(Proposal.objects.select_related("organ", "case"), self.request.user)

    columns = [
        Column(_("编号"), lambda p: p.pk),
        Column(_("来源"), lambda p: str(p.get_source_display())),
        Column(_("事由"), lambda p: p.title),
        Column(_("涉及机关"), lambda p: p.organ.name),
        Column(_("区划代码"), lambda p: p.region_code),
        Column(_("状态"), lambda p: str(p.get_status_display())),
        Column(_("提出时间"), lambda p: p.proposed_at),
        Column(_("问责案件"), lambda p: p.case.number if p.case_id else ""),
        Column(_("不予立案理由"), lambda p: p.decline_reason),
    ]


    def get_extra_context(self, page, form):
        return {"can_propose": access.has_perm(self.request.user, MANAGE)}


proposal_list = ProposalList.as_view()


@require_http_methods(["GET", "POST"])
@login_required
def proposal_new(request):
    """A proposal by hand (暗访, inspection or audit, leader's instruction, failed order, other)."""
    if not access.has_perm(request.user, MANAGE):
        raise Http404
    form = NewProposalForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                proposal = form.perform()
        except actions.AccountabilityError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            messages.success(request, gettext("已登记问责线索。"))
            return redirect(reverse("accountability:proposal", args=[proposal.pk]))
    return render(request, "accountability/proposal_new.html", {"form": form})


# --- record pages -------------------------------------------------------------------------------
def _get(model, request, pk, *related):
    if not access.has_perm(request.user, VIEW):
        raise Http404
    try:
        return visible(model.objects.select_related(*related), request.user).get(pk=pk)
    except model.DoesNotExist as exc:
        raise Http404 from exc


CLOCK_TITLES = {
    "accountability.decision": _("问责决定期限"),
    "accountability.filing": _("备案期限"),
    "accountability.adjustment": _("组织调整落实期限"),
    "accountability.review": _("复核办理期限"),
    "accountability.appeal": _("申诉办理期限"),
}


def step_details(s: CaseStep, appeals: dict | None = None) -> list[str]:
    """A step's text; steps that name a measure, responsibility or outcome are worded from their
    data in the reader's language (their stored text keeps the words of the moment). An appeal's
    steps are worded from the appeal itself (`appeals` by id), so 复核 / 申诉 and its outcome follow the reader."""
    d = s.data or {}
    appeal = (appeals or {}).get(d.get("appeal"))
    if appeal is not None and s.kind == CaseStep.Kind.SERVE and d.get("served"):
        return [gettext("%(name)s：%(kind)s决定已送达") % {"name": appeal.party.name, "kind": appeal.get_kind_display()}]
    if appeal is not None and s.kind == CaseStep.Kind.APPEAL:
        return [f"{appeal.party.name}：{appeal.get_kind_display()}", appeal.grounds]
    if appeal is not None and s.kind == CaseStep.Kind.APPEAL_DECIDE and d.get("outcome") in Appeal.Outcome.values:
        lines = [f"{appeal.party.name}：{appeal.get_kind_display()} — {Appeal.Outcome(d['outcome']).label}", appeal.reasons]
        if d["outcome"] == Appeal.Outcome.REVOKED and appeal.party.case.announcement_scope:
            lines.append(gettext("在原公布范围（%(scope)s）内为其恢复名誉、消除影响") % {
                "scope": appeal.party.case.announcement_scope})
        return lines
    if "name" in d:
        if s.kind == CaseStep.Kind.PARTY and d.get("responsibility") in Responsibility.values:
            return [f"{d['name']}（{Responsibility(d['responsibility']).label}）"]
        if s.kind == CaseStep.Kind.NOTIFY and d.get("measure"):
            return [f"{d['name']}：{measure_label(d['measure'])}"]
        if s.kind == CaseStep.Kind.TOLERANCE and d.get("outcome") in Tolerance.values:
            return [f"{d['name']}：{Tolerance(d['outcome']).label}", *([d["reason"]] if d.get("reason") else [])]
    if s.kind == CaseStep.Kind.FILE and d.get("level") in FilingLevel.values and "filed_with" in d:
        return [f"{FilingLevel(d['level']).label}：{d['filed_with']}"]
    return [s.text] if s.text else []


def case_revision(case: Case) -> str:
    return str(CaseStep.objects.filter(case=case).count())


def _forms(registry, obj, user, rev, failed=None):
    if not may_manage(user, obj):
        return []
    result = []
    for action, form_class in registry.items():
        if failed is not None and failed.action == action:
            result.append(failed)
        elif form_class.available(obj, user):
            result.append(form_class(initial={"rev": rev}, obj=obj, user=user))
    return result


def _case_context(request, case: Case, failed=None) -> dict:
    user, now = request.user, timezone.now()
    steps = list(case.steps.select_related("actor"))
    rev = str(len(steps))
    parties = list(case.parties.select_related("staff", "organ", "adjustment_clock"))
    appeals = list(Appeal.objects.filter(party__case=case).select_related("party__case", "clock"))
    filings = list(case.filings.select_related("clock"))
    # Each filing runs its own clock (same level, and the level above where required).
    filing_titles = {f.clock_id: gettext("%(level)s备案期限") % {"level": f.get_level_display()}
                     for f in filings if f.clock_id}
    filing_clocks = [f.clock for f in filings] if filings else [case.filing_clock]
    clocks = []
    for clock in [case.decision_clock, *filing_clocks, *(p.adjustment_clock for p in parties),
                  *(a.clock for a in appeals)]:
        if clock is not None:
            title = filing_titles.get(clock.pk) or CLOCK_TITLES.get(clock.kind, clock.label)
            clocks.append(clock_row(clock, title, now))
    for p in parties:
        p.notified_label = measure_label(p.notified_measure)
        p.measure_label = measure_label(p.measure)
    phase = case_phase(case, local_date(now))
    return {
        "case": case,
        "parties": parties,
        "filings": filings,
        "appeals": appeals,
        "clocks": clocks,
        "phase": PHASE_LABELS.get(phase, ""),
        "proposals": list(case.proposals.all()),
        "evidence": list(case.evidence.all()),
        "timeline": [Entry(s.at, str(s.get_kind_display()), step_details(s, {a.pk: a for a in appeals}),
                           actor=actor_name(s.actor_label, s.actor) or "—", note=status_note(s), kind=s.kind)
                     for s in steps],
        "action_forms": _forms(CASE_FORMS, case, user, rev, failed),
        "rev": rev,
        **record_documents("accountability", case, user),
    }


@login_required
def case_detail(request, pk: int):
    case = _get(Case, request, pk, "organ", "deciding_organ", "decision_clock", "filing_clock")
    # Personnel data: who read which case is on the audit chain.
    record("accountability.read", case, changes={"page": "case"})
    return render(request, "accountability/case.html", _case_context(request, case))


def _run(request, obj, action, registry, lock, revision):
    form_class = registry.get(action)
    if form_class is None:
        raise Http404
    if not may_manage(request.user, obj):
        raise PermissionDenied
    form = form_class(request.POST, request.FILES, obj=obj, user=request.user)
    valid = form.is_valid()
    with transaction.atomic():
        locked = lock(obj)
        if not form_class.available(locked, request.user):
            form.add_error(None, form.unavailable_reason(locked))
        elif valid and form.cleaned_data["rev"] != revision(locked):
            form.add_error(None, gettext("该记录已有新的办理记录（可能是重复提交），本次操作未执行。请核对最新情况后再操作。"))
        elif valid:
            try:
                # A savepoint: a refused action leaves nothing behind, even what it wrote before refusing.
                with transaction.atomic():
                    return form, form.perform(locked)
            except actions.AccountabilityError as exc:
                form.add_action_error(exc)
    return form, None


@require_http_methods(["GET", "POST"])
@login_required
def case_act(request, pk: int, action: str):
    if request.method == "GET":
        return redirect(reverse("accountability:case", args=[pk]))
    case = _get(Case, request, pk, "organ", "deciding_organ")
    form, _result = _run(request, case, action, CASE_FORMS,
                         lambda c: Case.objects.select_for_update().get(pk=c.pk), case_revision)
    if form.errors:
        case = _get(Case, request, pk, "organ", "deciding_organ", "decision_clock", "filing_clock")
        return render(request, "accountability/case.html", _case_context(request, case, failed=form))
    messages.success(request, gettext("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("accountability:case", args=[pk]))


def proposal_revision(proposal: Proposal) -> str:
    return proposal.status


def _proposal_context(request, proposal, failed=None) -> dict:
    return {
        "proposal": proposal,
        "evidence": list(proposal.evidence.select_related("target_type")),
        "proposed_measure": measure_label(proposal.proposed_measure),
        "case_visible": bool(proposal.case_id and visible(Case.objects.filter(pk=proposal.case_id), request.user).exists()),
        "action_forms": _forms(PROPOSAL_FORMS, proposal, request.user, proposal_revision(proposal), failed),
        "rev": proposal_revision(proposal),
    }


@login_required
def proposal_detail(request, pk: int):
    proposal = _get(Proposal, request, pk, "organ", "case", "order", "staff")
    # A proposal names the person (an escalation) or carries the complaint and the alert: personnel data too.
    record("accountability.read", proposal, changes={"page": "proposal"})
    return render(request, "accountability/proposal.html", _proposal_context(request, proposal))


@require_http_methods(["GET", "POST"])
@login_required
def proposal_act(request, pk: int, action: str):
    if request.method == "GET":
        return redirect(reverse("accountability:proposal", args=[pk]))
    proposal = _get(Proposal, request, pk, "organ", "case", "order")
    form, result = _run(request, proposal, action, PROPOSAL_FORMS,
                        lambda p: Proposal.objects.select_for_update().get(pk=p.pk), proposal_revision)
    if form.errors:
        proposal = _get(Proposal, request, pk, "organ", "case", "order")
        return render(request, "accountability/proposal.html", _proposal_context(request, proposal, failed=form))
    if isinstance(result, Case):
        messages.success(request, gettext("已立案，案件编号 %(no)s。") % {"no": result.number})
        return redirect(reverse("accountability:case", args=[result.pk]))
    messages.success(request, gettext("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("accountability:proposal", args=[pk]))


# --- statistics ----------------------------------------------------------------------------------
DRILL_KEEP = ("region", "organ", "date_from", "date_to")


@login_required
def stats_page(request):
    """问责工作统计: the figures of `stats.compute` over the cases the user may see, filtered like the
    case list; each row links to the case list with that filter; `?export=xlsx` gives every table."""
    from urllib.parse import urlencode

    from xiaoneng.lib.xlsx import xlsx_response
    from xiaoneng.web import stat_tables

    from . import stats

    if not access.has_perm(request.user, VIEW):
        raise Http404
    page = CaseList()
    page.request = request
    form = CaseFilterForm(request.GET, **page.get_form_kwargs())
    cases = visible(Case.objects.all(), request.user)
    # An invalid filter (a region outside scope) counts nothing rather than widening.
    cases = form.filter(cases) if form.is_valid() else cases.none()
    report = stats.compute(cases, timezone.now())
    h = report.health
    keep = {k: request.GET[k] for k in DRILL_KEEP if request.GET.get(k)}
    tables = [
        ("source", _("按来源（案件数）"), report.by_source),
        ("measure", _("按问责方式（人数）"), report.by_measure),
        ("rank", _("按职务职级（人数）"), report.by_rank),
        ("status", _("按办理结果（案件数）"), report.by_status),
        ("appeals", _("复核申诉结果（件数）"), report.appeals),
        ("tolerance", _("容错纠错申请及结论（人数）"), report.tolerance),
        ("organ", _("按涉及机关（案件数）"), report.by_organ),
    ]
    cases_url = reverse("accountability:cases")
    for _key, _title, rows in tables:
        for row in rows:
            row.url = f"{cases_url}?{urlencode({**keep, **row.params})}" if row.params or keep else cases_url
    pct = lambda x: "—" if x is None else f"{x * 100:.1f}%"  # noqa: E731
    num = lambda x: "—" if x is None else f"{x:g}"  # noqa: E731
    health = [
        (gettext("案件数"), str(h.cases)),
        (gettext("已作出决定的案件"), str(h.decided)),
        (gettext("受到问责的人数"), str(h.persons)),
        (gettext("每起事件问责人数"), num(h.per_incident)),
        (gettext("从提出线索到作出决定的平均天数"), num(h.avg_days)),
        (gettext("从提出线索到作出决定的最长天数"), num(h.max_days)),
        (gettext("逾期备案（件）"), f"{h.filings_late} / {h.filings_due}"),
        (gettext("复核申诉改变率（变更、撤销 ÷ 已办结）"), f"{pct(h.reversal_rate)}（{h.appeals_reversed} / {h.appeals_decided}）"),
        (gettext("依据兜底条款作出决定的比例"), f"{pct(h.catch_all_share)}（{h.catch_all} / {h.decided}）"),
    ]
    if request.GET.get("export") == "xlsx":
        rows = [(gettext("总体情况"), label, value) for label, value in health]
        rows += [(str(title), row.label, row.value) for _key, title, table in tables for row in table]
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return xlsx_response(f"{gettext('问责工作统计')}-{stamp}.xlsx", gettext("问责工作统计"),
                             [gettext("统计表"), gettext("项目"), gettext("数值")], rows)
    # Every table paged and sortable (web/stat_tables); its chart shows the first and last
    # stats_chart_top_n rows (cases by organ can be hundreds), the table every row.
    shown = []
    for key, title, rows in tables:
        table = stat_tables.paged(request, key, rows, {
            "label": stat_tables.Sort(gettext("项目"), lambda r: r.label),
            "value": stat_tables.Sort(gettext("数值"), lambda r: r.value, numeric=True),
        }, default_sort="")
        chart = stat_tables.chart_pair(str(title), rows, lambda r: r.value, lambda r: r.label) if rows else None
        shown.append({"key": key, "title": title, "t": table, "chart": chart})
    return render(request, "accountability/stats.html", {
        "form": form, "health": health, "tables": shown, "has_data": bool(h.cases),
    })
