"""好差评 pages: the rating list (filters, sort, pages, Excel) and the rating page with its actions.

Who sees what goes through `access` only: ratings inside the scopes of the grants that
carry "rating.view"; a rating outside them is a 404, like one that does not exist. The
rated organ's staff act with "rating.respond" (call-back, rectification, telling the
rater, appeal); supervisors decide appeals with "supervise"; anyone else who can read
the rating gets 403 on an action.

The rater is shown masked (or 匿名) everywhere, Excel included. Staff who may call the
rater back (`identity.may_reveal`) have a button that reveals the phone for this one
response, through `identity.reveal` (audited, purpose 差评回访).
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from xiaoneng.approvals.views import deadline_label
from xiaoneng.clocks.display import clock_row
from xiaoneng.clocks.models import Clock
from xiaoneng.orgs import access
from xiaoneng.web.lists import Column, ListPage
from xiaoneng.web.timeline import Entry, actor_name

from . import identity as ident
from .models import SUB_INDICATORS, Rating, Satisfaction
from .rating_forms import ACTION_FORMS, RatingFilterForm
from .ratings import RatingError, appeal_deadline

VIEW_PERM = "rating.view"
REVEAL_PURPOSE = "差评回访"


def rater_label(rating: Rating) -> str:
    """What every page may show: 匿名, or the masked name (or phone when no name was left)."""
    if not rating.named:
        return str(_("匿名"))
    return rating.name_masked or rating.phone_masked or "—"


def overdue(rating: Rating, now) -> bool:
    clock = rating.rectification_clock if rating.rectification_clock_id else None
    return bool(clock and clock.is_overdue(now))


class RatingList(ListPage):
    template_name = "complaints/ratings/list.html"
    partial_template_name = "complaints/ratings/_results.html"
    form_class = RatingFilterForm
    results_id = "rating-results"
    sorts = {
        "rated": ("rated_at", "pk"),
        "level": ("level", "rated_at", "pk"),
        "organ": ("organ__name", "rated_at", "pk"),
        "status": ("status", "rated_at", "pk"),
        "due": ("rectification_clock__due_at", "pk"),
    }
    default_sort = "-rated"
    export_name = _("好差评")

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_queryset(self):
        qs = Rating.objects.select_related("organ", "matter", "case", "rectification_clock")
        return access.scoped(qs, self.request.user, VIEW_PERM)

    def get_extra_context(self, page, form):
        now = timezone.now()
        for rating in page.object_list:
            rating.rater = rater_label(rating)
            rating.late = overdue(rating, now)
        return {"now": now}

    columns = [
        Column(_("编号"), lambda x: x.pk),
        Column(_("评价类型"), lambda x: str(x.get_kind_display())),
        Column(_("评价渠道"), lambda x: x.channel),
        Column(_("被评价机关"), lambda x: x.organ.name),
        Column(_("窗口"), lambda x: x.window),
        Column(_("事项"), lambda x: x.matter.name if x.matter_id else ""),
        Column(_("办件编号"), lambda x: x.case.case_no if x.case_id else ""),
        Column(_("评价等级"), lambda x: str(x.get_level_display())),
        Column(_("分项评价"), lambda x: "；".join(
            f"{SUB_INDICATORS[x.kind].get(k, k)}:{Satisfaction(v).label}" for k, v in (x.scores or {}).items()
            if v in Satisfaction.values)),
        Column(_("评价内容"), lambda x: x.comment),
        Column(_("评价人"), rater_label),
        Column(_("联系电话"), lambda x: x.phone_masked if x.named else ""),
        Column(_("评价时间"), lambda x: x.rated_at),
        Column(_("状态"), lambda x: str(x.get_status_display())),
        Column(_("整改到期"), lambda x: x.rectification_clock.due_at if x.rectification_clock_id else None),
        Column(_("整改超期"), lambda x: str(_("是") if overdue(x, timezone.now()) else "")),
        Column(_("回访时间"), lambda x: x.callback_at),
        Column(_("整改完成"), lambda x: x.rectified_at),
        Column(_("告知评价人"), lambda x: x.rater_told_at),
    ]


rating_list = RatingList.as_view()


# --- the rating page ---------------------------------------------------------------------------
def _get(request, pk: int) -> Rating:
    qs = Rating.objects.select_related("organ", "matter", "case")
    return access.get_scoped_or_404(qs, request.user, VIEW_PERM, pk=pk)


def holds(user, rating: Rating, perm: str) -> bool:
    return access.scoped(Rating.objects.filter(pk=rating.pk), user, perm).exists()


def revision(rating: Rating) -> str:
    return str(rating.steps.count())


def _context(request, rating: Rating, failed=None, revealed=None) -> dict:
    user, now = request.user, timezone.now()
    steps = list(rating.steps.all())
    rev = str(len(steps))
    roles = {perm: holds(user, rating, perm) for perm in {f.perm for f in ACTION_FORMS.values()}}
    forms = []
    for action, form_class in ACTION_FORMS.items():
        if not roles[form_class.perm]:
            continue
        if failed is not None and failed.action == action:
            forms.append(failed)
        elif form_class.available(rating):
            forms.append(form_class(initial={"rev": rev}, rating=rating, user=user))
    clock = Clock.objects.prefetch_related("pauses").filter(pk=rating.rectification_clock_id).first() \
        if rating.rectification_clock_id else None
    labels = SUB_INDICATORS.get(rating.kind, {})
    scores = [(labels.get(k, k), Satisfaction(v).label if v in Satisfaction.values else v)
              for k, v in (rating.scores or {}).items()]
    return {
        "rating": rating,
        "rater": rater_label(rating),
        "scores": scores,
        # The rater's own step names no actor: a named rater's name is confidential.
        "timeline": [Entry(s.at, str(s.get_kind_display()), [s.text] if s.text else [], kind=s.kind,
                           actor=actor_name(s.actor_label) if s.actor_label and s.kind != "rate" else "")
                     for s in steps],
        "clock": clock_row(clock, _t("差评整改"), now) if clock else None,
        "appeal_until": deadline_label(appeal_deadline(rating)) if rating.is_bad else "",
        "action_forms": forms,
        "can_act": any(roles.values()),
        "may_reveal": ident.may_reveal(user, rating),
        "revealed": revealed,
        "rev": rev,
        "failed": failed,
    }


@never_cache
@login_required
def rating_detail(request, pk: int):
    rating = _get(request, pk)
    return render(request, "complaints/ratings/detail.html", _context(request, rating))


@never_cache
@require_POST
@login_required
def rating_reveal(request, pk: int):
    """Show the rater's name and phone once, to staff who may call them back (audited)."""
    rating = _get(request, pk)
    if not ident.may_reveal(request.user, rating):
        raise PermissionDenied
    who = ident.reveal(request.user, rating, purpose=REVEAL_PURPOSE)
    return render(request, "complaints/ratings/detail.html", _context(request, rating, revealed=who))


@require_http_methods(["GET", "POST"])
@login_required
def rating_act(request, pk: int, action: str):
    """Run one action; errors come back on the rating page, success redirects to it.

    404 for an unknown action or a rating outside the user's scope, 403 for a role that
    may not take this action; under a row lock, refuse a form drawn for an older state
    of the rating (a double submit or a replay) and an action the state no longer offers.
    """
    if request.method == "GET":
        return redirect(reverse("ratings:detail", args=[pk]))
    form_class = ACTION_FORMS.get(action)
    if form_class is None:
        raise Http404
    rating = _get(request, pk)
    if not holds(request.user, rating, form_class.perm):
        raise PermissionDenied
    form = form_class(request.POST, rating=rating, user=request.user)
    valid = form.is_valid()
    with transaction.atomic():
        locked = Rating.objects.select_for_update().select_related("organ").get(pk=rating.pk)
        if not form_class.available(locked):
            form.add_error(None, _t("评价当前为“%(status)s”，不能执行“%(action)s”。")
                           % {"status": locked.get_status_display(), "action": form_class.title})
        elif valid and form.cleaned_data["rev"] != revision(locked):
            form.add_error(None, _t("评价已有新的处理记录（可能是重复提交），本次操作未执行。"))
        elif valid:
            try:
                form.perform(locked)
            except RatingError as exc:
                form.add_action_error(exc)
    if form.errors:
        return render(request, "complaints/ratings/detail.html", _context(request, _get(request, pk), failed=form))
    messages.success(request, _t("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("ratings:detail", args=[pk]))
