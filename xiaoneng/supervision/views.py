"""Pages of electronic supervision (电子监察): the alert board and each alert's life, the
supervision orders (督办) and the form that opens one by hand.

Who sees what goes through `access` only (`in_scope`): a supervisor ("supervise")
sees the alerts and orders of his region subtree, an organ's handlers and leaders
("handle", "lead") those of their organ subtree; anything else is a 404, exactly like
a record that does not exist. Who acts is decided per side (`sides`): the organ
explains, appeals and reports back; the supervisor verifies, closes, dismisses,
escalates, decides appeals, verifies orders and takes them over.

Every action is a POST to `act/<action>/` that calls one function of `actions.py`
through its form. It runs under a row lock and carries the record's revision (the
number of its timeline rows when the page was drawn), so a double submit or a replay
finds the record changed and says so instead of acting twice. Attachments are served
by a view that checks the scope again; they never have a public address.
"""
from __future__ import annotations

import os
from datetime import datetime
from functools import reduce
from operator import or_
from uuid import uuid4

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.clocks.display import ClockRow, clock_row
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock, Unit
from xiaoneng.documents.views import record_documents
from xiaoneng.orgs import access
from xiaoneng.orgs.filters import tree_regions
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.web import names
from xiaoneng.web.lists import Column, ListPage
from xiaoneng.web.timeline import Entry, actor_name, status_note

from . import actions
from .forms import (
    ALERT_FORMS,
    OPEN_ALERT,
    ORDER_FORMS,
    ORGAN,
    SUPERVISOR,
    ActionForm,
    AlertFilterForm,
    NewOrderForm,
    OrderFilterForm,
    TakeOverForm,
    VerifyOrderForm,
    rule_title,
    rule_titles,
)
from .models import (
    LEVEL_RANK,
    AccountabilityProposal,
    Alert,
    AlertStatus,
    AlertStep,
    Level,
    OrderStatus,
    OrderStep,
    SupervisionOrder,
)

# --- who sees and who acts -------------------------------------------------------------------
SCOPE_PERMS = ("supervise", "handle", "lead")
ORGAN_PERMS = ("handle", "lead")


def held_perms(user, perms=SCOPE_PERMS) -> list[str]:
    return [p for p in perms if access.has_perm(user, p)]


def in_scope(queryset, user, perms=SCOPE_PERMS):
    """The rows that any grant of the user carrying one of `perms` reaches. Default deny.

    A supervisor who also handles cases in one bureau sees both his region and his
    bureau, so the scopes of the permissions he holds are joined, each through
    `access.scope_q` (the one scoping function).
    """
    perms = held_perms(user, perms)
    if not perms:
        return queryset.none()
    fields = access.SCOPE_FIELDS[queryset.model._meta.label_lower]
    parts = []
    for perm in perms:
        q = access.scope_q(user, perm, fields)
        if q is None:  # a superuser
            return queryset
        parts.append(q)
    return queryset.filter(reduce(or_, parts))


def sees_supervision(user) -> bool:
    return bool(held_perms(user))


def sides(user, obj) -> set[str]:
    """Who the user is for this record: its organ, its supervisor, both or neither."""
    base = type(obj).objects.filter(pk=obj.pk)
    result = set()
    if held_perms(user, ("supervise",)) and in_scope(base, user, ("supervise",)).exists():
        result.add(SUPERVISOR)
    if held_perms(user, ORGAN_PERMS) and in_scope(base, user, ORGAN_PERMS).exists():
        result.add(ORGAN)
    return result


def supervising_prefixes(user) -> list[str] | None:
    """Region prefixes the user supervises (None = everything, for a superuser)."""
    return access.region_prefixes(user, "supervise")


def covers_issuer(user, order: SupervisionOrder) -> bool:
    """The issuing level, or one above it, verifies an order: after 提级督办 the lower level no longer does."""
    prefixes = supervising_prefixes(user)
    return prefixes is None or any(order.issuer_region_code.startswith(p) for p in prefixes)


def issuer_region(user, code: str, *, above: bool = False) -> Region | None:
    """The nearest region the user supervises that covers `code` (strictly above it if `above`)."""
    prefixes = supervising_prefixes(user) or []
    fitting = [p for p in prefixes if code.startswith(p) and (len(p) < len(code) or not above)]
    if not fitting:
        return None
    return Region.objects.filter(prefix=max(fitting, key=len)).first()


# --- display helpers ---------------------------------------------------------------------


CLOCK_KINDS = names.CLOCK_KINDS  # one registry of names (xiaoneng.web.names)


def clock_view(clock: Clock | None, now) -> ClockRow | None:
    if clock is None:
        return None
    return clock_row(clock, CLOCK_KINDS.get(clock.kind) or clock.label or names.clock_kind(clock.kind), now)


EVIDENCE_LABELS = {
    "clock": _("时限编号"),
    "kind": _("时限类型"),
    "start_at": _("起算时间"),
    "limit": _("时限"),
    "unit": _("计时单位"),
    "extension_days": _("延长天数"),
    "due_at": _("到期时间"),
    "provisional": _("按临时日历计算"),
    "working_days_left": _("剩余工作日"),
    "calendar_days_left": _("剩余自然日"),
    "hours_left": _("剩余小时"),
    "working_days_late": _("超期工作日"),
    "order": _("督办编号"),
    "announced_days": _("告知所需天数"),
    "days_used": _("实际用时（天）"),
    "suspended_at": _("暂停时间"),
    "resumed_at": _("恢复时间"),
    "reason": _("事由"),
    "legal_basis": _("法律依据"),
    "amount": _("本次收费（元）"),
    "standard": _("收费标准（元）"),
    "total": _("累计收费（元）"),
    "over_standard": _("超过收费标准"),
    "free_matter": _("不收费事项"),
    "items": _("补正材料"),
    "late": _("逾期告知"),
}


def _evidence_value(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if key == "unit":
        return str(Unit(value).label) if value in Unit.values else str(value)
    if key == "kind":
        return names.clock_kind(value)
    if isinstance(value, str) and key.endswith("_at"):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_naive(moment):
            return value
        return deadline_label(moment) if key == "due_at" else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
    if isinstance(value, (list, tuple)):
        return "；".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{v}" for k, v in value.items())
    return str(value)


def evidence_rows(evidence: dict) -> list[tuple[str, str]]:
    """The alert's evidence as (label, value) rows in words; known keys first, in a fixed order."""
    evidence = evidence or {}
    known = [k for k in EVIDENCE_LABELS if k in evidence]
    other = sorted(k for k in evidence if k not in EVIDENCE_LABELS)
    return [(str(EVIDENCE_LABELS.get(k, k)), _evidence_value(k, evidence[k])) for k in [*known, *other]]


def file_name(field) -> str:
    return os.path.basename(field.name) if field else ""


def _yes_no(value: bool) -> str:
    return str(_("是") if value else _("否"))


def with_level_rank(queryset):
    """`level_rank`: 3 for a red card, 2 yellow, 1 warning — so a sort by level puts red first."""
    return queryset.annotate(level_rank=SqlCase(
        *(When(level=level, then=Value(rank)) for level, rank in LEVEL_RANK.items()),
        default=Value(0), output_field=IntegerField(),
    ))


# --- the alert list ----------------------------------------------------------------------
class _ScopedList(ListPage):
    model = None

    def visible(self):
        if not hasattr(self, "_visible"):
            self._visible = in_scope(self.model.objects.all(), self.request.user)
        return self._visible

    def get_form_kwargs(self):
        user = self.request.user
        organs = (
            access.scoped(Organ.objects.all(), user, "org.view")
            .filter(Exists(self.visible().filter(organ=OuterRef("pk"))))
            .order_by("region_code", "name")
        )
        return {"user": user, "regions": tree_regions(user), "organs": organs}


class AlertList(_ScopedList):
    model = Alert
    template_name = "supervision/alerts.html"
    partial_template_name = "supervision/_alert_results.html"
    form_class = AlertFilterForm
    results_id = "alert-results"
    sorts = {
        "raised": ("raised_at", "pk"),
        "level": ("level_rank", "raised_at", "pk"),
        "status": ("status", "raised_at", "pk"),
        "organ": ("organ__name", "raised_at", "pk"),
        "rule": ("rule", "raised_at", "pk"),
    }
    default_sort = "-raised"
    export_name = _("监察预警")

    def get_queryset(self):
        return with_level_rank(in_scope(Alert.objects.select_related("organ"), self.request.user))

    def get_extra_context(self, page, form):
        """The red/yellow board: how many alerts of each level the other filters leave, and how many still open.

        The tiles work as tabs, so the level filter itself is left out of their counts.
        """
        titles = rule_titles()
        for alert in page.object_list:
            alert.rule_title = titles.get(alert.rule) or rule_title(alert.rule)
        counted = form.filter(self.get_queryset(), any_level=True) if form.is_valid() else Alert.objects.none()
        counts = counted.order_by().aggregate(
            red=Count("pk", filter=Q(level=Level.RED)),
            yellow=Count("pk", filter=Q(level=Level.YELLOW)),
            warning=Count("pk", filter=Q(level=Level.WARNING)),
            open=Count("pk", filter=Q(status__in=OPEN_ALERT)),
        )
        board = [
            {"level": level, "label": label, "count": counts[level]}
            for level, label in reversed(Level.choices)
        ]
        return {"board": board, "open_count": counts["open"], "can_order": bool(held_perms(self.request.user, ("supervise",)))}

    columns = [
        Column(_("编号"), lambda a: a.pk),
        Column(_("等级"), lambda a: str(a.get_level_display())),
        Column(_("规则"), lambda a: rule_title(a.rule)),
        Column(_("状态"), lambda a: str(a.get_status_display())),
        Column(_("责任机关"), lambda a: a.organ.name),
        Column(_("区划代码"), lambda a: a.region_code),
        Column(_("对象"), lambda a: a.subject_label),
        Column(_("情况"), lambda a: a.message),
        Column(_("依据"), lambda a: a.legal_basis),
        Column(_("发现时间"), lambda a: a.raised_at),
        Column(_("办结时间"), lambda a: a.closed_at),
    ]


alert_list = AlertList.as_view()


# --- the alert page ------------------------------------------------------------------------
def _get_alert(request, pk: int) -> Alert:
    if not sees_supervision(request.user):
        raise Http404
    qs = Alert.objects.select_related("organ", "clock", "subject_type")
    return access_or_404(qs, request.user, pk)


def access_or_404(queryset, user, pk):
    try:
        return in_scope(queryset, user).get(pk=pk)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def subject_link(alert: Alert, user) -> str:
    """The page of the alert's subject, if it has one and the user may open it."""
    if not alert.subject_type_id or not alert.subject_id:
        return ""
    model = alert.subject_type.model_class()
    if model is SupervisionOrder:
        if in_scope(SupervisionOrder.objects.filter(pk=alert.subject_id), user).exists():
            return reverse("supervision:order", args=[alert.subject_id])
        return ""
    if model is not None and model._meta.label_lower == "approvals.case":
        if access.has_perm(user, "case.view") and access.scoped(model.objects.filter(pk=alert.subject_id), user,
                                                                 "case.view").exists():
            try:
                return reverse("approvals:case", args=[alert.subject_id])
            except NoReverseMatch:  # the handling pages are not routed in this deployment
                return ""
    return ""


def _form_kwargs(form_class, obj, user) -> dict:
    if form_class is TakeOverForm:
        return {"issuer": issuer_region(user, obj.issuer_region_code, above=True)}
    return {}


def allowed(form_class, obj, user, my_sides: set[str]) -> bool:
    """The user is on the side that takes this action, at the level it needs."""
    if form_class.side not in my_sides:
        return False
    if form_class is VerifyOrderForm:
        return covers_issuer(user, obj)
    if form_class is TakeOverForm:
        return issuer_region(user, obj.issuer_region_code, above=True) is not None
    return True


def _action_forms(registry, obj, user, my_sides, rev, failed=None) -> list[ActionForm]:
    forms = []
    for action, form_class in registry.items():
        if not allowed(form_class, obj, user, my_sides):
            continue
        if failed is not None and failed.action == action:
            forms.append(failed)
        elif form_class.available(obj, user):
            forms.append(form_class(initial={"rev": rev}, obj=obj, user=user, **_form_kwargs(form_class, obj, user)))
    return forms


def alert_revision(alert: Alert) -> str:
    return str(AlertStep.objects.filter(alert=alert).count())


def _entry(step, file_view: str, pk: int, *, detail: bool = True) -> Entry:
    """An alert or order step on the shared timeline (the raise entry's text is the alert's message, shown above)."""
    return Entry(
        step.at, str(step.get_kind_display()), [step.text] if step.text and detail else [],
        actor=actor_name(step.actor_label, getattr(step, "actor", None)) or "—", note=status_note(step),
        kind=step.kind, file_url=reverse(file_view, args=[pk, step.pk]) if step.attachment else "",
        file_label=file_name(step.attachment),
    )


def _alert_context(request, alert: Alert, failed=None) -> dict:
    user, now = request.user, timezone.now()
    steps = list(alert.steps.select_related("actor"))
    rev = str(len(steps))
    # The alert records its own raising; the timeline opens with it.
    raised = AlertStep(kind=AlertStep.Kind.RAISE, to_status=AlertStatus.RAISED, at=alert.raised_at, actor_label="system")
    my_sides = sides(user, alert)
    orders = list(alert.orders.select_related("clock").order_by("opened_at", "pk"))
    for order in orders:
        order.overdue = is_late(order, now)
        order.due_label = deadline_label(order.clock.due_at) if order.clock_id else ""
    return {
        "alert": alert,
        "rule_title": rule_title(alert.rule),
        "subject_url": subject_link(alert, user),
        "clock": clock_view(alert.clock, now),
        "evidence": evidence_rows(alert.evidence),
        "timeline": [_entry(raised, "supervision:alert-file", alert.pk, detail=False),
                     *(_entry(s, "supervision:alert-file", alert.pk) for s in steps)],
        "orders": orders,
        "proposal": AccountabilityProposal.objects.filter(alert=alert).first(),
        "action_forms": _action_forms(ALERT_FORMS, alert, user, my_sides, rev, failed),
        "sides": my_sides,
        "failed": failed,
        "rev": rev,
        "now": now,
    }


@login_required
def alert_detail(request, pk: int):
    alert = _get_alert(request, pk)
    return render(request, "supervision/alert.html", _alert_context(request, alert))


def _run_action(request, obj, action, registry, *, lock, revision, describe):
    """Check, lock, and run one action; returns the bound form (with errors if it failed) and the result.

    1. 404 for an unknown action; 403 if the user is not on the side that takes it.
    2. Under a row lock: refuse an action the record no longer offers, and a form drawn
       for an older revision of the record (a double submit or a replay).
    3. Call the action; a SupervisionError becomes an error on the form.
    """
    form_class = registry.get(action)
    if form_class is None:
        raise Http404
    user = request.user
    if not allowed(form_class, obj, user, sides(user, obj)):
        raise PermissionDenied
    form = form_class(request.POST, request.FILES, obj=obj, user=user, **_form_kwargs(form_class, obj, user))
    valid = form.is_valid()
    result = None
    with transaction.atomic():
        locked = lock(obj)
        if not form_class.available(locked, user):
            form.add_error(None, form.unavailable_reason(locked))
        elif valid and form.cleaned_data["rev"] != revision(locked):
            form.add_error(None, gettext("%(what)s已有新的办理记录（可能是重复提交），本次操作未执行。请核对最新情况后再操作。")
                           % {"what": describe})
        elif valid:
            try:
                result = form.perform(locked)
            except actions.SupervisionError as exc:
                form.add_action_error(exc)
    return form, result


def _lock_alert(alert):
    return Alert.objects.select_for_update().select_related("organ").get(pk=alert.pk)


@require_http_methods(["GET", "POST"])
@login_required
def alert_act(request, pk: int, action: str):
    """Run one action on the alert; errors come back on the alert page (200), success redirects to it."""
    if request.method == "GET":
        return redirect(reverse("supervision:alert", args=[pk]))
    alert = _get_alert(request, pk)
    form, result = _run_action(request, alert, action, ALERT_FORMS, lock=_lock_alert, revision=alert_revision,
                               describe=gettext("该预警"))
    if form.errors:
        alert = _get_alert(request, pk)
        # 200, as Django does for a form shown again with its errors.
        return render(request, "supervision/alert.html", _alert_context(request, alert, failed=form))
    if isinstance(result, SupervisionOrder):
        messages.success(request, gettext("已升级督办，督办编号 %(no)s。") % {"no": result.number})
    else:
        messages.success(request, gettext("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("supervision:alert", args=[alert.pk]))


def _serve(field):
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=file_name(field))


@login_required
def alert_file(request, pk: int, step: int):
    """An attachment of the alert's timeline, only for users who may see the alert."""
    alert = _get_alert(request, pk)
    return _serve(get_object_or_404(AlertStep, pk=step, alert=alert).attachment)


# --- orders ----------------------------------------------------------------------------------
class OrderList(_ScopedList):
    model = SupervisionOrder
    template_name = "supervision/orders.html"
    partial_template_name = "supervision/_order_results.html"
    form_class = OrderFilterForm
    results_id = "order-results"
    sorts = {
        "opened": ("opened_at", "pk"),
        "due": ("clock__due_at", "pk"),
        "number": ("number", "pk"),
        "organ": ("organ__name", "opened_at", "pk"),
        "status": ("status", "opened_at", "pk"),
    }
    default_sort = "-opened"
    export_name = _("督办")

    def get_queryset(self):
        return in_scope(SupervisionOrder.objects.select_related("organ", "clock"), self.request.user)

    def get_extra_context(self, page, form):
        now = timezone.now()
        for order in page.object_list:
            order.overdue = is_late(order, now)
            order.due_label = deadline_label(order.clock.due_at) if order.clock_id else ""
        return {"can_order": bool(held_perms(self.request.user, ("supervise",)))}

    columns = [
        Column(_("督办编号"), lambda o: o.number),
        Column(_("来源"), lambda o: str(o.get_source_display())),
        Column(_("事项"), lambda o: o.title),
        Column(_("被督办机关"), lambda o: o.organ.name),
        Column(_("区划代码"), lambda o: o.region_code),
        Column(_("督办层级"), lambda o: o.issuer_region_code),
        Column(_("提级督办"), lambda o: _yes_no(o.taken_over)),
        Column(_("状态"), lambda o: str(o.get_status_display())),
        Column(_("督办时间"), lambda o: o.opened_at),
        Column(_("到期时间"), lambda o: deadline_label(o.clock.due_at) if o.clock_id else ""),
        Column(_("已超期"), lambda o: _yes_no(is_late(o, timezone.now()))),
        Column(_("办结时间"), lambda o: o.closed_at),
        Column(_("督办要求"), lambda o: o.demand),
    ]


def is_late(order: SupervisionOrder, now) -> bool:
    return bool(order.clock_id and order.clock.is_overdue(now))


order_list = OrderList.as_view()


def _get_order(request, pk: int) -> SupervisionOrder:
    if not sees_supervision(request.user):
        raise Http404
    return access_or_404(SupervisionOrder.objects.select_related("organ", "clock", "alert"), request.user, pk)


def order_revision(order: SupervisionOrder) -> str:
    return str(OrderStep.objects.filter(order=order).count())


def _order_context(request, order: SupervisionOrder, failed=None) -> dict:
    user, now = request.user, timezone.now()
    steps = list(order.steps.all())
    rev = str(len(steps))
    my_sides = sides(user, order)
    issuer = Region.objects.filter(prefix=order.issuer_region_code).first()
    alert_visible = bool(order.alert_id) and in_scope(Alert.objects.filter(pk=order.alert_id), user).exists()
    forms = _action_forms(ORDER_FORMS, order, user, my_sides, rev, failed)
    waiting_for_issuer = (
        SUPERVISOR in my_sides and order.status == OrderStatus.REPORTED and not covers_issuer(user, order)
    )
    return {
        "order": order,
        "issuer": issuer,
        "clock": clock_view(order.clock, now),
        "overdue": is_late(order, now),
        "timeline": [_entry(s, "supervision:order-file", order.pk) for s in steps],
        "alert_visible": alert_visible,
        "action_forms": forms,
        "sides": my_sides,
        "waiting_for_issuer": waiting_for_issuer,
        **record_documents("order", order, user),
        "failed": failed,
        "rev": rev,
        "now": now,
    }


@login_required
def order_detail(request, pk: int):
    order = _get_order(request, pk)
    return render(request, "supervision/order.html", _order_context(request, order))


def _lock_order(order):
    return SupervisionOrder.objects.select_for_update().select_related("organ").get(pk=order.pk)


@require_http_methods(["GET", "POST"])
@login_required
def order_act(request, pk: int, action: str):
    if request.method == "GET":
        return redirect(reverse("supervision:order", args=[pk]))
    order = _get_order(request, pk)
    form, _result = _run_action(request, order, action, ORDER_FORMS, lock=_lock_order, revision=order_revision,
                                describe=gettext("该督办"))
    if form.errors:
        order = _get_order(request, pk)
        return render(request, "supervision/order.html", _order_context(request, order, failed=form))
    messages.success(request, gettext("已完成：%(action)s") % {"action": form.title})
    return redirect(reverse("supervision:order", args=[order.pk]))


@login_required
def order_file(request, pk: int, step: int):
    order = _get_order(request, pk)
    return _serve(get_object_or_404(OrderStep, pk=step, order=order).attachment)


# --- a new order by hand ---------------------------------------------------------------------
TOKEN_SALT = "xiaoneng.supervision.order-new"
TOKEN_AGE = 24 * 3600


def _new_token(user) -> str:
    return signing.dumps({"u": user.pk, "n": uuid4().hex}, salt=TOKEN_SALT)


def _token_key(token: str, user) -> str | None:
    """The cache key of a form's one-time token, if the token is genuine, fresh and the user's own."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        return None
    return f"supervision:order-new:{data.get('n')}"


def _new_order_organs(user):
    return in_scope(Organ.objects.filter(is_active=True), user, ("supervise",)).order_by("region_code", "name")


@require_http_methods(["GET", "POST"])
@login_required
def order_new(request):
    """Open an order by hand (inspection, media report, leader's instruction …) for an organ in the user's region.

    The form carries a signed one-time token: the first submit claims it (an atomic
    cache add), so a double submit or a replay opens no second order and lands on the
    first one.
    """
    user = request.user
    if not held_perms(user, ("supervise",)):
        raise PermissionDenied
    organs = _new_order_organs(user)
    if request.method == "GET":
        form = NewOrderForm(initial={"token": _new_token(user)}, organs=organs)
        return render(request, "supervision/order_new.html", {"form": form})
    form = NewOrderForm(request.POST, organs=organs)
    if form.is_valid():
        key = _token_key(form.cleaned_data["token"], user)
        if key is None:
            form.add_error(None, gettext("页面已过期，请重新提交。"))
        elif not cache.add(key, 0, TOKEN_AGE):
            first = cache.get(key)
            if first:
                messages.info(request, gettext("该督办已经立项，重复提交未再次立项。"))
                return redirect(reverse("supervision:order", args=[first]))
            form.add_error(None, gettext("上一次提交正在处理，请稍候刷新督办列表查看。"))
        else:
            data = form.cleaned_data
            try:
                order = actions.do_open_order(
                    organ=data["organ"], source=data["source"], title=data["title"], demand=data["demand"],
                    days=data["days"], issuer=issuer_region(user, data["organ"].region_code),
                )
            except actions.SupervisionError as exc:
                cache.delete(key)
                form.add_action_error(exc)
            else:
                cache.set(key, order.pk, TOKEN_AGE)
                messages.success(request, gettext("已立项督办，督办编号 %(no)s。") % {"no": order.number})
                return redirect(reverse("supervision:order", args=[order.pk]))
    # Shown again with its errors and a fresh token (the old one may have been claimed).
    data = request.POST.copy()
    data["token"] = _new_token(user)
    form.data = data
    return render(request, "supervision/order_new.html", {"form": form})

