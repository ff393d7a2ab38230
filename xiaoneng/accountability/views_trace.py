"""Responsibility tracing pages (责任倒查): from a proposal, an accountability case or an incident.

Who sees them is who sees accountability records: "accountability.view" in the record's scope
(the officers of the scope and the supervisors above); anyone else gets 404, as for a record that
does not exist. The chain names the staff who handled each step, so every opening is audited
(`accountability.trace`) like a case page. On a case still at 立案, an officer holding
"accountability.manage" adds the traced persons to the persons concerned in one action.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from xiaoneng.audit.log import record
from xiaoneng.orgs import access

from . import actions, tracing
from .models import Case, Proposal, Responsibility, Status
from .views import VIEW, _get, may_manage


def _incident_models() -> dict:
    from xiaoneng.approvals.models import Case as ApprovalCase
    from xiaoneng.complaints.models import Complaint
    from xiaoneng.supervision.models import Alert, SupervisionOrder

    return {"case": ApprovalCase, "alert": Alert, "complaint": Complaint, "order": SupervisionOrder}


class AddTracedForm(forms.Form):
    staff = forms.TypedMultipleChoiceField(label=_("倒查到的人员"), coerce=int, choices=(),
                                           widget=forms.CheckboxSelectMultiple,
                                           error_messages={"required": _("请至少选择一名倒查到的人员")})
    responsibility = forms.ChoiceField(label=_("责任类型"), choices=[
        c for c in Responsibility.choices if c[0] != Responsibility.ORGAN])

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [(p.staff.pk, f"{p.staff.name}（{p.staff.organ.name}）") for p in persons]
        self.fields["staff"].initial = [p.staff.pk for p in persons]


def _render(request, subject, title: str, back_url: str, *, case: Case | None = None, form=None):
    try:
        traces = tracing.trace(subject)
        error = ""
    except tracing.NothingToTrace as exc:
        traces, error = [], str(exc)
    persons = list(tracing.traced_staff(traces).values())
    # The chain names who handled each step: a read of personnel data, on the audit chain.
    record("accountability.trace", subject, changes={"incidents": [t.label for t in traces],
                                                      "staff": [p.staff.pk for p in persons]})
    can_add = bool(case is not None and persons and case.status == Status.REGISTERED and may_manage(request.user, case))
    if can_add and form is None:
        form = AddTracedForm(persons=persons)
    return render(request, "accountability/trace.html", {
        "title": title, "back_url": back_url, "traces": traces, "error": error, "persons": persons,
        "case": case, "form": form if can_add else None,
    })


@login_required
def proposal_trace(request, pk: int):
    proposal = _get(Proposal, request, pk, "organ", "origin__alert", "origin__complaint", "order")
    return _render(request, proposal, gettext("责任倒查：%(title)s") % {"title": proposal.title},
                   reverse("accountability:proposal", args=[pk]))


@login_required
def case_trace(request, pk: int):
    case = _get(Case, request, pk, "organ", "deciding_organ")
    return _render(request, case, gettext("责任倒查：问责案件 %(no)s") % {"no": case.number},
                   reverse("accountability:case", args=[pk]), case=case)


@login_required
def incident_trace(request, kind: str, pk: int):
    """Straight from an incident's own page: an approval case, an alert, a complaint, an order."""
    model = _incident_models().get(kind)
    if model is None or not access.has_perm(request.user, VIEW):
        raise Http404
    incident = access.get_scoped_or_404(model.objects.all(), request.user, VIEW, pk=pk)
    return _render(request, incident, gettext("责任倒查：%(what)s") % {"what": str(incident)}, "")


@require_POST
@login_required
def case_trace_add(request, pk: int):
    case = _get(Case, request, pk, "organ", "deciding_organ")
    if not may_manage(request.user, case):
        raise PermissionDenied
    try:
        persons = list(tracing.traced_staff(tracing.trace(case)).values())
    except tracing.NothingToTrace:
        persons = []
    form = AddTracedForm(request.POST, persons=persons)
    if form.is_valid():
        try:
            with transaction.atomic():
                added = actions.do_add_traced_parties(case, staff_ids=form.cleaned_data["staff"],
                                                      responsibility=form.cleaned_data["responsibility"])
        except actions.AccountabilityError as exc:
            if exc.field == "status":  # the case moved on: no form to show the error on
                messages.error(request, exc.message)
                return redirect(reverse("accountability:case-trace", args=[pk]))
            form.add_error("responsibility" if exc.field == "responsibility" else "staff", exc.message)
        else:
            messages.success(request, gettext("已将 %(names)s 列为责任人。") % {"names": "、".join(p.name for p in added)})
            return redirect(reverse("accountability:case", args=[pk]))
    case.refresh_from_db()
    return _render(request, case, gettext("责任倒查：问责案件 %(no)s") % {"no": case.number},
                   reverse("accountability:case", args=[pk]), case=case, form=form)
