"""Inbox pages: notifications (read / unread), delivery preferences, reminders, extension decisions.

A notification is only ever its recipient's: every lookup is filtered by `recipient=user`,
so another user's notification is a 404. Reminders and decisions go through
`actions.py`, which checks the sender's scope again (default deny).
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _t
from django.views.decorators.http import require_POST

from xiaoneng.approvals.actions import CaseError
from xiaoneng.orgs import access

from . import actions
from .badge import numbers as badge_numbers
from .forms import DecideExtensionForm, PreferenceForm, ReminderForm
from .models import ExtensionRequest, Notification, Preference


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@login_required
def badge(request):
    """The header's badge, fetched by every page after it loaded (so no page pays for it in its own time)."""
    return render(request, "inbox/_badge.html", {"badge": badge_numbers(request.user)})


@login_required
def notifications(request):
    qs = Notification.objects.filter(recipient=request.user).select_related("sender")
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs.order_by("-created_at", "-id"), 30).get_page(request.GET.get("page"))
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return render(request, "inbox/notifications.html",
                  {"page": page, "rows": page.object_list, "only_unread": only_unread, "unread": unread})


@require_POST
@login_required
def mark_read(request, pk: int):
    get_object_or_404(Notification, pk=pk, recipient=request.user)
    actions.do_mark_read(request.user, pk)
    return redirect(_back(request, reverse("inbox:notifications")))


@require_POST
@login_required
def mark_all_read(request):
    n = actions.do_mark_all_read(request.user)
    messages.success(request, _t("已将 %(n)d 条通知标为已读") % {"n": n})
    return redirect(reverse("inbox:notifications"))


@login_required
def preferences(request):
    pref = Preference.objects.filter(user=request.user).first()
    form = PreferenceForm(request.POST or None, preference=pref)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_save_preferences(request.user, phone=form.cleaned_data["phone"], channels=form.channels())
        except actions.InboxError as exc:
            form.add_error("phone" if exc.field == "phone" else None, exc.message)
        else:
            messages.success(request, _t("通知设置已保存"))
            return redirect(reverse("inbox:preferences"))
    return render(request, "inbox/preferences.html", {"form": form, "has_email": bool(request.user.email)})


# --- reminders -----------------------------------------------------------------------------
def _reminder_target(kind: str, pk: int):
    """(record, its page, its label) for the kinds a reminder can be sent from."""
    from xiaoneng.approvals.models import Case
    from xiaoneng.supervision.models import Alert, SupervisionOrder

    if kind == "case":
        obj = Case.objects.filter(pk=pk).first()
        return obj, obj and reverse("approvals:case", args=[pk]), obj and _t("办件 %(no)s") % {"no": obj.case_no}
    if kind == "alert":
        obj = Alert.objects.filter(pk=pk).first()
        return obj, obj and reverse("supervision:alert", args=[pk]), obj and (
            f"{obj.get_level_display()} · {obj.subject_label or obj.rule}")
    if kind == "order":
        obj = SupervisionOrder.objects.filter(pk=pk).first()
        return obj, obj and reverse("supervision:order", args=[pk]), obj and _t("督办 %(no)s") % {"no": obj.number}
    return None, None, None


@require_POST
@login_required
def remind(request, kind: str, pk: int):
    target, link, label = _reminder_target(kind, pk)
    # Outside the sender's supervision scope, or not a supervisor: as if it did not exist.
    if target is None or not actions.may_remind(request.user, target):
        raise Http404
    form = ReminderForm(request.POST)
    if form.is_valid():
        try:
            actions.do_send_reminder(sender=request.user, target=target, text=form.cleaned_data["text"], link=link,
                                     label=label, token=form.cleaned_data["token"])
        except actions.InboxError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _t("已向%(organ)s发出催办") % {"organ": target.organ.name})
    else:
        errors = "；".join(f"{form.fields[f].label or f}：{'，'.join(e)}" for f, e in form.errors.items())
        messages.error(request, _t("催办未发出：%(errors)s") % {"errors": errors})
    return redirect(link)


# --- case extensions -------------------------------------------------------------------------
@login_required
def extension(request, pk: int):
    """A pending (or decided) extension request; its leader decides here."""
    if not access.has_perm(request.user, "case.view"):
        raise Http404
    request_obj = access.get_scoped_or_404(
        ExtensionRequest.objects.select_related("case__matter_version__matter", "case__organ", "requested_by",
                                                "decided_by"), request.user, "case.view", pk=pk)
    may = actions.may_decide(request.user, request_obj)
    form = DecideExtensionForm(request.POST or None)
    if request.method == "POST":
        if not may:
            raise Http404
        if form.is_valid():
            approved = form.cleaned_data["decision"] == "approve"
            try:
                with transaction.atomic():
                    actions.do_decide_extension(request_obj, approver=request.user, approved=approved,
                                                note=form.cleaned_data["note"])
            except actions.InboxError as exc:
                form.add_error("note" if exc.field == "note" else None, exc.message)
            except CaseError as exc:
                form.add_error(None, _t("不能批准：%(reason)s") % {"reason": exc.message})
            else:
                messages.success(request, _t("已批准延长") if approved else _t("已不予批准"))
                return redirect(reverse("inbox:extension", args=[pk]))
    return render(request, "inbox/extension.html", {"req": request_obj, "case": request_obj.case, "form": form,
                                                    "may_decide": may and request_obj.state == "pending"})
