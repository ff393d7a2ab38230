"""Staff pages of the complaint centre: the list per role, the complaint page and its
actions, the reveal of a complainant's identity, and intake.

Who sees what goes through `access` only: a user reads the complaints inside the scopes
of the grants that carry "complaint.view" (officers and supervisors their region,
handlers and leaders the complaints routed to their organ); a complaint outside them is
a 404, exactly like one that does not exist. Acting needs the role the action belongs
to (`forms.user_roles`): in scope but the wrong role is a 403.

Pages never decrypt. The identity is shown only in the response to a POST to
`reveal/` with a purpose, for a user `identity.may_reveal` allows; `identity.reveal`
writes the audit entry, and the response is marked no-store.

Every action is a POST to `act/<action>/` carrying the complaint's revision (the number
of timeline steps when the page was drawn), so a double submit or a replay finds the
complaint changed and says so instead of acting twice.
"""
from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from xiaoneng.approvals.models import Case, Matter
from xiaoneng.audit.log import record
from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks.display import ClockRow, clock_row
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.documents.views import record_documents
from xiaoneng.lib.uploads import EXTENSIONS
from xiaoneng.lib.xlsx import xlsx_response
from xiaoneng.orgs import access
from xiaoneng.web.lists import Column, ListPage
from xiaoneng.web.timeline import Entry, actor_name

from . import identity as ident
from . import masking, stats
from .actions import ComplaintError
from .duplicates import duplicate_number, visible_numbers, with_duplicate_visibility
from .forms import (
    ACTION_FORMS,
    VIEW_PERM,
    ComplaintFilterForm,
    IntakeForm,
    RevealForm,
    StatsFilterForm,
    user_roles,
)
from .models import Complaint, ComplaintStep, Satisfaction, Status
from .workflow import TransitionError

HANDLE_PERM = "complaint.handle"


def _require_view(user) -> None:
    if not access.has_perm(user, VIEW_PERM):
        raise Http404


# --- the list ----------------------------------------------------------------------------
def _clock_state(complaint: Complaint, now) -> str:
    for clock in (complaint.handling_clock, complaint.acceptance_clock):
        if clock is not None and clock.is_open() and clock.due_at:
            if clock.due_at < now:
                return str(_("已超期"))
            if clock.warn_at and clock.warn_at <= now:
                return str(_("临近到期"))
    return ""


def _due(complaint: Complaint):
    clock = complaint.handling_clock or complaint.acceptance_clock
    return clock.due_at if clock is not None else None


class ComplaintList(ListPage):
    template_name = "complaints/list.html"
    partial_template_name = "complaints/_results.html"
    form_class = ComplaintFilterForm
    results_id = "complaint-results"
    sorts = {
        "received": ("received_at", "pk"),
        "number": ("number", "pk"),
        "status": ("status", "received_at", "pk"),
        "channel": ("channel", "received_at", "pk"),
        "organ": ("organ__name", "received_at", "pk"),
        "due": ("handling_clock__due_at", "acceptance_clock__due_at", "pk"),
    }
    default_sort = "-received"
    export_name = _("效能投诉")

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_queryset(self):
        _require_view(self.request.user)
        qs = Complaint.objects.select_related("category", "organ", "acceptance_clock", "handling_clock",
                                              "possible_duplicate")
        # Only what a list row needs: the encrypted blob never leaves the database here.
        qs = qs.defer("identity_enc", "content", "handling_report", "reply", "secret_hash")
        qs = with_duplicate_visibility(access.scoped(qs, self.request.user, VIEW_PERM), self.request.user)
        return masking.with_text_visibility(qs, self.request.user)

    def get_extra_context(self, page, form):
        now = timezone.now()
        for complaint in page.object_list:
            complaint.title_shown = masking.shown(complaint, "title")
            complaint.due_label = deadline_label(_due(complaint))
            complaint.clock_state = _clock_state(complaint, now)
        return {"now": now, "overdue_word": str(_("已超期"))}

    columns = [
        Column(_("投诉编号"), lambda c: c.number),
        Column(_("渠道"), lambda c: str(c.get_channel_display())),
        Column(_("来源编号"), lambda c: c.source_ref),
        Column(_("类别"), lambda c: c.category.label),
        Column(_("标题"), lambda c: masking.shown(c, "title")),
        Column(_("被投诉单位"), lambda c: c.named_organ),
        Column(_("承办机关"), lambda c: c.organ.name if c.organ_id else ""),
        Column(_("投诉人"), lambda c: c.complainant_label),
        Column(_("联系电话"), lambda c: "" if c.anonymous else c.phone_masked),
        Column(_("状态"), lambda c: str(c.get_status_display())),
        Column(_("核查结论"), lambda c: str(c.get_result_display()) if c.result else ""),
        Column(_("满意度"), lambda c: str(c.get_satisfaction_display()) if c.satisfaction else ""),
        Column(_("登记时间"), lambda c: c.received_at),
        Column(_("答复时间"), lambda c: c.replied_at),
        Column(_("到期"), _due),
        Column(_("时限"), lambda c: _clock_state(c, timezone.now())),
        Column(_("疑似重复"), lambda c: duplicate_number(c) or (str(_("是")) if c.possible_duplicate_id else "")),
    ]


complaint_list = ComplaintList.as_view()


# --- the complaint page ------------------------------------------------------------------
CLOCK_TITLES = {"complaint.acceptance": _("受理时限"), "complaint.handling": _("办理期限")}


def clock_rows(complaint: Complaint, now) -> list[ClockRow]:
    ids = [pk for pk in (complaint.acceptance_clock_id, complaint.handling_clock_id) if pk]
    clocks = Clock.objects.prefetch_related("pauses").in_bulk(ids)
    cal = calendar_engine.current(check=False)
    rows = []
    for pk in ids:
        clock = clocks.get(pk)
        if clock is not None:
            rows.append(clock_row(clock, CLOCK_TITLES.get(clock.kind, clock.kind), now, cal))
    return rows


def merge_numbers(steps) -> list[str]:
    """The complaint numbers merge steps name (see `step_details`)."""
    return [n for s in steps if s.kind == ComplaintStep.Kind.MERGE for n in ((s.data or {}).get("into"),
                                                                            (s.data or {}).get("merged"))]


def step_details(step: ComplaintStep, visible: set[str] | frozenset = frozenset(), full: bool = False) -> list[str]:
    """A step's detail lines; another complaint's number only if it is in `visible` (the reader may
    open it), else that there is one; the text as written for a reader with the identity right
    (`full`), else its masked copy."""
    d = step.data or {}
    out = []
    if step.kind == ComplaintStep.Kind.ROUTE and d.get("organ"):
        out.append(_t("承办机关：%(organ)s") % {"organ": d["organ"]})
    if step.kind in (ComplaintStep.Kind.EXTENSION_REQUEST, ComplaintStep.Kind.EXTENSION_DECISION) and d.get("days"):
        out.append(_t("延期 %(days)s 日") % {"days": d["days"]})
        if "approved" in d:
            out.append(_t("批准") if d["approved"] else _t("不予批准"))
    if step.kind == ComplaintStep.Kind.MERGE:
        if d.get("into"):
            out.append(_t("合并至 %(no)s") % {"no": d["into"]} if d["into"] in visible
                       else _t("合并至另一件投诉（不在您的查看范围内）"))
        if d.get("merged"):
            out.append(_t("并入 %(no)s") % {"no": d["merged"]} if d["merged"] in visible
                       else _t("另一件投诉（不在您的查看范围内）已并入本件"))
    if step.kind == ComplaintStep.Kind.RATE and d.get("level"):
        out.append(_t("满意度：%(level)s") % {"level": Satisfaction(d["level"]).label})
    text = masking.step_text(step, full)
    if text and step.kind != ComplaintStep.Kind.REGISTER:
        out.append(text)
    return out


def revision(complaint: Complaint) -> str:
    return str(ComplaintStep.objects.filter(complaint=complaint).count())


def _get(request, pk: int) -> Complaint:
    _require_view(request.user)
    qs = Complaint.objects.select_related("category", "organ", "region", "office", "matter", "case",
                                          "possible_duplicate", "merged_into")
    return access.get_scoped_or_404(qs, request.user, VIEW_PERM, pk=pk)


def _visible(model, pk, user, perm) -> bool:
    return bool(pk) and access.scoped(model.objects.filter(pk=pk), user, perm).exists()


def _context(request, complaint: Complaint, *, failed=None, revealed=None, reveal_form=None) -> dict:
    user, now = request.user, timezone.now()
    steps = list(complaint.steps.select_related("organ").order_by("at", "pk"))
    extension_requests = list(complaint.extension_requests.select_related("decided_by"))
    identity_grants = list(complaint.identity_grants.select_related("organ", "granted_by"))
    full = masking.reads_full_texts(user, complaint)
    if not full:
        masking.ensure_masked(complaint, steps, extension_requests, identity_grants)
    rev = str(len(steps))
    roles = user_roles(user, complaint)
    forms = []
    for action, form_class in ACTION_FORMS.items():
        if not roles & form_class.roles:
            continue
        if failed is not None and failed.action == action:
            forms.append(failed)
        elif form_class.available(complaint):
            forms.append(form_class(initial={"rev": rev}, complaint=complaint, user=user))
    visible = visible_numbers(merge_numbers(steps), user)
    timeline = [Entry(s.at, str(s.get_kind_display()), step_details(s, visible, full), kind=s.kind,
                      actor=actor_name(s.actor_label) if s.actor_label else "",
                      note=s.organ.name if s.organ_id else "") for s in steps]
    orders = [(s.data.get("order"), s.data.get("order_id")) for s in steps
              if s.kind == ComplaintStep.Kind.ORDER and s.data.get("order_id")]
    return {
        "complaint": complaint,
        "clocks": clock_rows(complaint, now),
        "timeline": timeline,
        "texts": masking.texts(complaint, full),
        "extension_requests": [(r, r.reasons if full else r.masked.get("reasons", ""),
                                r.note if full else r.masked.get("note", "")) for r in extension_requests],
        "identity_grants": [(g, g.reasons if full else g.reasons_masked) for g in identity_grants],
        "merged": list(access.scoped(complaint.merged.all(), user, VIEW_PERM).only("pk", "number", "title")),
        "orders": orders,
        "duplicate_visible": _visible(Complaint, complaint.possible_duplicate_id, user, VIEW_PERM),
        "merged_into_visible": _visible(Complaint, complaint.merged_into_id, user, VIEW_PERM),
        "case_visible": _visible(Case, complaint.case_id, user, "case.view"),
        "matter_visible": _visible(Matter, complaint.matter_id, user, "case.view"),
        "may_reveal": ident.may_reveal(user, complaint),
        "reveal_form": reveal_form or RevealForm(),
        "revealed": revealed,
        "action_forms": forms,
        "can_act": bool(roles),
        "rev": rev,
        "sendback_label": deadline_label(complaint.sendback_until),
        **record_documents("complaint", complaint, user),
        # The complainant's pictures and PDFs may show who they are: only readers of the full texts open them.
        "attachments": list(complaint.attachments.all()) if full else [],
        "attachment_count": complaint.attachments.count(),
        "now": now,
    }


@login_required
def complaint_attachment(request, pk: int, attachment: int):
    """One of the complainant's files, for readers of the full texts; its bytes checked against the stored hash."""
    complaint = _get(request, pk)
    if not masking.reads_full_texts(request.user, complaint):
        raise Http404
    item = get_object_or_404(complaint.attachments, pk=attachment)
    with item.file.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != item.sha256:
        return HttpResponse(_t("附件文件与上传时的记录不一致，已拒绝提供。"), status=410, content_type="text/plain; charset=utf-8")
    record("complaint.attachment.read", complaint, changes={"attachment": item.pk})
    response = HttpResponse(data, content_type=item.content_type)
    response["Content-Disposition"] = f'inline; filename="attachment-{item.pk}{EXTENSIONS[item.content_type]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def complaint_detail(request, pk: int):
    complaint = _get(request, pk)
    return render(request, "complaints/detail.html", _context(request, complaint))


@require_POST
@login_required
def complaint_reveal(request, pk: int):
    """Show the complainant's identity in this response only (audited, never cached)."""
    complaint = _get(request, pk)
    if not ident.may_reveal(request.user, complaint):
        raise PermissionDenied
    form = RevealForm(request.POST)
    revealed = None
    if form.is_valid():
        revealed = ident.reveal(request.user, complaint, purpose=form.cleaned_data["purpose"])
    response = render(request, "complaints/detail.html",
                      _context(request, complaint, revealed=revealed, reveal_form=form))
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def complaint_act(request, pk: int, action: str):
    """Run one action; errors come back on the complaint page, success redirects to it.

    1. A GET (reloading the address an error page was shown at) goes back to the page.
    2. 404 for an unknown action or a complaint outside the scope; 403 for the wrong role.
    3. Under a row lock: refuse an action the state no longer offers and a form drawn for
       an older revision (a double submit or a replay).
    4. Call the action; a ComplaintError or TransitionError becomes an error on the form.
    """
    if request.method == "GET":
        return redirect(reverse("complaints:detail", args=[pk]))
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    complaint = _get(request, pk)
    if not user_roles(request.user, complaint) & form_class.roles:
        raise PermissionDenied
    form = form_class(request.POST, complaint=complaint, user=request.user)
    valid = form.is_valid()
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(of=("self",)).select_related("organ", "region", "category").get(pk=pk)
        form.complaint = locked
        if not form_class.available(locked):
            form.add_error(None, _t("投诉当前为“%(status)s”，不能执行“%(action)s”。")
                           % {"status": locked.get_status_display(), "action": form.title})
        elif valid and form.cleaned_data["rev"] != revision(locked):
            form.add_error(None, _t("投诉已有新的办理记录（可能是重复提交），本次操作未执行。请核对最新情况后再操作。"))
        elif valid:
            try:
                with transaction.atomic():
                    form.perform(locked)
            except (ComplaintError, TransitionError) as exc:
                form.add_action_error(exc)
    if form.errors:
        complaint = _get(request, pk)
        form.complaint = complaint
        return render(request, "complaints/detail.html", _context(request, complaint, failed=form))
    messages.success(request, _t("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("complaints:detail", args=[pk]))


# --- intake ------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@login_required
def intake(request):
    """Register a complaint typed in by an officer; the code and secret are shown once."""
    if not access.has_perm(request.user, HANDLE_PERM):
        raise Http404
    form = IntakeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            complaint, secret = form.register()
        except ComplaintError as exc:
            form.add_action_error(exc)
        else:
            response = render(request, "complaints/intake_done.html", {"complaint": complaint, "secret": secret})
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
            return response
    return render(request, "complaints/intake.html", {"form": form, "statuses": Status})


# --- statistics --------------------------------------------------------------------------
@login_required
def complaint_stats(request):
    """Counts per dimension, time to reply and on-time rate, each table exportable to Excel.

    An invalid date range shows nothing rather than everything (like the list pages)."""
    _require_view(request.user)
    form = StatsFilterForm(request.GET)
    queryset = access.scoped(Complaint.objects.all(), request.user, VIEW_PERM)
    queryset = form.filter(queryset) if form.is_valid() else queryset.none()
    root = stats.scope_root(request.user)
    wanted = request.GET.get("export", "")
    if wanted:
        if wanted not in stats.DIMENSIONS:
            raise Http404
        label = str(stats.DIMENSIONS[wanted])
        rows = stats.dimension_rows(queryset, wanted, root)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return xlsx_response(f"{_t('投诉统计')}-{label}-{stamp}.xlsx", label, [label, _t("件数")],
                             ([r.label, r.count] for r in rows))
    figures = stats.compute(queryset, root)
    tables = [{"key": key, "label": label, "t": stats.table(request, key, label, rows),
               "chart": stats.chart_data(label, rows), "chart_id": f"complaint-chart-{key}"}
              for key, label, rows in figures["dimensions"]]
    return render(request, "complaints/stats.html", {
        "form": form, "figures": figures, "tables": tables, "root": root, "query": request.GET.urlencode(),
    })
