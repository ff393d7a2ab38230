"""The complainant's pages (no login): file a complaint, follow it up, rate the reply, ask for a review.

What these pages must never do:

* show who complained — not the name, not a masked phone: only 实名 / 匿名;
* show the organ's staff or internal working (actor names, extension requests, notes
  between the office and the organ): the timeline has only `ComplaintStep.public` steps,
  and of those only the texts meant for the complainant;
* say whether a complaint number exists — a wrong secret and an unknown number get the
  same answer and the same work, and failures are counted per client address
  (rules public_lookup_max_failures per public_lookup_window_seconds → HTTP 429).

After a successful look-up the complaint's number is kept in the (server-side, signed)
session, so the rating and review forms post without the secret; "结束查询" forgets it.
The secret itself is never kept: it is shown once, on the page after filing.
"""
from __future__ import annotations

import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule

from . import actions, antibot
from .actions import ComplaintError
from .identity import digest
from .models import BAD_LEVELS, Complaint, ComplaintStep, ReplyChannel, Status
from .public_forms import AppealForm, ComplaintForm, RateForm, TrackForm
from .validation import normalise_phone

SESSION_TRACKED = "complaints_public_tracked"
SESSION_FILED = "complaints_public_filed"
K = ComplaintStep.Kind
# Public steps whose text is written for the complainant (the rest show only what happened).
TEXT_FOR_COMPLAINANT = {K.NOT_ACCEPT, K.REPLY, K.RATE, K.APPEAL, K.REVIEW}


def client_address(request) -> str:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _refuse_429(request, message: str) -> HttpResponse:
    return render(request, "complaints/public/refused.html", {"message": message}, status=429)


# --- filing ----------------------------------------------------------------------------
@never_cache
@require_GET
def altcha_challenge(request):
    """A fresh signed proof-of-work challenge for the widget."""
    return JsonResponse(antibot.new_challenge())


@never_cache
@require_GET
def region_fields(request):
    """The province → city → county selects (and the organ list), refreshed as they change."""
    form = ComplaintForm(initial={k: request.GET.get(k, "") for k in ("province", "city", "county")})
    return render(request, "complaints/public/_region_fields.html", {"form": form})


@transaction.atomic
def _file(form: ComplaintForm) -> tuple[Complaint, str]:
    """The complaint and its attachments, together or not at all."""
    data = form.cleaned_data
    anonymous = data["anonymous"]
    complaint, secret = actions.do_register_complaint(
        channel="web", category=data["category"], title=data["title"], content=data["content"],
        region=form.region, complainant=None if anonymous else form.identity(), anonymous=anonymous,
        reply_channel=ReplyChannel.WEB if anonymous else data["reply_channel"],
        named_organ=data["named_organ"], organ=data["organ"], address_string=data["address_string"],
    )
    actions.do_attach_files(complaint, data.get("attachments") or [])
    return complaint, secret


@never_cache
@require_http_methods(["GET", "POST"])
def new_complaint(request):
    """1. address over its hourly limit → 429; 2. honeypot and form stamp; 3. the form;
    4. phone over its daily limit → 429; 5. proof of work (spent once); 6. register."""
    if request.method == "GET":
        form = ComplaintForm(initial={"issued": antibot.issue_stamp()})
        return render(request, "complaints/public/new.html", {"form": form})

    address = client_address(request)
    if antibot.over_limit("address", address):
        return _refuse_429(request, _("本网络地址提交投诉过于频繁，请 1 小时后再试，或拨打当地效能投诉电话。"))
    form = ComplaintForm(request.POST, request.FILES)
    pow_error = ""
    try:
        antibot.check_honeypot(request.POST.get("website", ""))
        antibot.check_stamp(request.POST.get("issued", ""))
        ok = form.is_valid()
        if ok:
            phone = "" if form.cleaned_data["anonymous"] else digest(normalise_phone(form.cleaned_data["phone"]))
            if antibot.over_limit("phone", phone):
                return _refuse_429(request, _("该联系电话今天提交的投诉已达上限，请明天再试，或拨打当地效能投诉电话。"))
            antibot.check_pow(request.POST.get("altcha", ""))
            complaint, secret = _file(form)
    except antibot.Refused as refused:
        form.is_valid()
        if refused.field == "altcha":
            pow_error = refused.message
        else:
            form.add_error(None, refused.message)
        ok = False
    except ComplaintError as exc:
        form.add_error(form.error_field(exc.field), exc.message)
        ok = False
    if not ok:
        fresh = form.data.copy()
        fresh["issued"] = antibot.issue_stamp()  # the person keeps typing; the clock restarts
        form.data = fresh
        return render(request, "complaints/public/new.html", {"form": form, "pow_error": pow_error})

    antibot.count("address", address)
    antibot.count("phone", phone)
    request.session[SESSION_FILED] = {
        "number": complaint.number, "secret": secret,
        "sms": not complaint.anonymous and complaint.reply_channel == ReplyChannel.SMS,
    }
    return redirect("complaints-public:filed")


@never_cache
@require_GET
def filed(request):
    """The tracking code and secret, shown once (taken out of the session as they are shown)."""
    result = request.session.pop(SESSION_FILED, None)
    return render(request, "complaints/public/filed.html", {
        "result": result, "acceptance_days": int(rule("complaint_acceptance_working_days"))})


# --- follow-up -------------------------------------------------------------------------
def _lookup_limits() -> tuple[int, int]:
    return int(rule("public_lookup_max_failures")), int(rule("public_lookup_window_seconds"))


def _failure_key(address: str) -> str:
    return "xn:complaint-track:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def _throttled(address: str) -> bool:
    limit, _window = _lookup_limits()
    return int(cache.get(_failure_key(address), 0)) >= limit


def _count_failure(address: str) -> None:
    _limit, window = _lookup_limits()
    key = _failure_key(address)
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)


def find_complaint(number: str, secret: str) -> Complaint | None:
    """The complaint with this number and secret, or None — with the same work either way."""
    complaint = Complaint.objects.filter(number=number.strip().upper()).first()
    if complaint is None:
        actions.secret_digest(number, (secret or "").strip().upper())  # spend the same time
        return None
    return complaint if actions.check_secret(complaint, secret) else None


def _tracked(request) -> Complaint | None:
    number = request.session.get(SESSION_TRACKED)
    if not number:
        return None
    return Complaint.objects.select_related("category", "region", "organ").filter(number=number).first()


def _running_due(clock_id: int | None):
    if not clock_id:
        return None
    clock = Clock.objects.filter(pk=clock_id, state__in=[Clock.State.RUNNING, Clock.State.PAUSED]).first()
    return clock.due_at if clock else None


def current_deadline(complaint: Complaint) -> str:
    """What the complainant is waiting for, and until when, in one sentence."""
    status = complaint.status
    if status == Status.REGISTERED:
        due = _running_due(complaint.acceptance_clock_id)
        return _("效能投诉机构将于 %(due)s 前决定是否受理。") % {"due": deadline_label(due)} if due else \
            _("等待效能投诉机构决定是否受理。")
    if status in (Status.ACCEPTED, Status.SENT_BACK):
        return _("已受理，正在交由责任单位办理。")
    if status == Status.ROUTED:
        due = _running_due(complaint.handling_clock_id)
        return _("承办单位应于 %(due)s 前办理完毕。") % {"due": deadline_label(due)} if due else \
            _("承办单位正在办理。")
    if status == Status.HANDLED:
        return _("承办单位已办理完毕，效能投诉机构将尽快答复您。")
    if status == Status.REPLIED:
        if complaint.satisfaction is None or complaint.satisfaction in BAD_LEVELS:
            return _("已答复。如对答复不满意，可在 %(due)s 前申请复核。") % {
                "due": deadline_label(actions.appeal_deadline(complaint))}
        return _("已答复。")
    if status == Status.REVIEW:
        return _("您的复核申请已收到，正在复核。")
    if status == Status.MERGED:
        return _("您的投诉已与反映同一问题的投诉合并办理，办理结果将一并答复您。")
    if status == Status.NOT_ACCEPTED:
        return _("您的投诉不予受理，理由见下方办理过程。")
    return _("投诉已办结。")


def public_steps(complaint: Complaint) -> list[dict]:
    steps = []
    for s in complaint.steps.filter(public=True).order_by("at", "id"):
        text = s.text if s.kind in TEXT_FOR_COMPLAINANT else ""
        if s.kind == K.ROUTE and s.data.get("organ"):
            text = _("转 %(organ)s 办理") % {"organ": s.data["organ"]}
        if s.kind == K.RATE:
            level = s.data.get("level")
            label = dict(RateForm.base_fields["level"].choices).get(level, "")
            text = "；".join(t for t in (str(label), s.text) if t)
        if s.kind == K.REVIEW:
            text = (_("维持原答复") if s.data.get("upheld") else _("重新办理")) + ("：" + s.text if s.text else "")
        steps.append({"at": s.at, "label": s.get_kind_display(), "text": text})
    return steps


def _track_context(complaint: Complaint, *, rate_form=None, appeal_form=None) -> dict:
    now = timezone.now()
    can_rate = complaint.status == Status.REPLIED and complaint.satisfaction is None
    deadline = actions.appeal_deadline(complaint)
    can_appeal = (complaint.status == Status.REPLIED and complaint.satisfaction in BAD_LEVELS
                  and complaint.appealed_at is None and deadline is not None and now <= deadline)
    return {
        "complaint": complaint,
        "deadline_text": current_deadline(complaint),
        "steps": public_steps(complaint),
        "can_rate": can_rate,
        "can_appeal": can_appeal,
        "rate_form": rate_form or RateForm(),
        "appeal_form": appeal_form or AppealForm(),
    }


@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    if request.method == "GET":
        complaint = _tracked(request)
        if complaint is not None:
            return render(request, "complaints/public/track.html", _track_context(complaint))
        return render(request, "complaints/public/track.html", {"form": TrackForm()})

    form = TrackForm(request.POST)
    address = client_address(request)
    if _throttled(address):
        _limit, window = _lookup_limits()
        message = _("查询尝试次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": max(1, window // 60)}
        return render(request, "complaints/public/track.html", {"form": form, "throttle_message": message},
                      status=429)
    if form.is_valid():
        complaint = find_complaint(form.cleaned_data["number"], form.cleaned_data["secret"])
        if complaint is not None:
            request.session.cycle_key()  # a fresh session id for what is now a privileged session
            request.session[SESSION_TRACKED] = complaint.number
            return redirect("complaints-public:track")
        _count_failure(address)
        form.add_error(None, _("投诉编号或查询码不正确。请核对登记时页面或短信告知的投诉编号和查询码。"))
    return render(request, "complaints/public/track.html", {"form": form})


def _tracked_or_back(request):
    complaint = _tracked(request)
    if complaint is None:
        messages.info(request, _("请先输入投诉编号和查询码。"))
    return complaint


@never_cache
@require_POST
def rate(request):
    complaint = _tracked_or_back(request)
    if complaint is None:
        return redirect("complaints-public:track")
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            actions.do_rate(complaint, level=form.cleaned_data["level"], comment=form.cleaned_data["comment"])
        except ComplaintError as exc:
            form.add_error("level" if exc.field not in form.fields else exc.field, exc.message)
        else:
            messages.success(request, _("感谢您的评价。"))
            return redirect(reverse("complaints-public:track") + "#result")
    complaint.refresh_from_db()
    context = _track_context(complaint, rate_form=form)
    context["can_rate"] = True  # show the form again, with its error
    return render(request, "complaints/public/track.html", context)


@never_cache
@require_POST
def appeal(request):
    complaint = _tracked_or_back(request)
    if complaint is None:
        return redirect("complaints-public:track")
    form = AppealForm(request.POST)
    ctx_ok = _track_context(complaint)["can_appeal"]
    if form.is_valid():
        if not ctx_ok:
            form.add_error("reasons", _("该投诉当前不能申请复核（须为已答复、评价不满意且在答复后 %(n)d 日内）") % {
                "n": int(rule("complaint_appeal_days"))})
        else:
            try:
                actions.do_appeal(complaint, reasons=form.cleaned_data["reasons"])
            except ComplaintError as exc:
                form.add_error("reasons", exc.message)
            else:
                messages.success(request, _("复核申请已提交。"))
                return redirect(reverse("complaints-public:track") + "#result")
    complaint.refresh_from_db()
    context = _track_context(complaint, appeal_form=form)
    context["can_appeal"] = context["can_appeal"] or bool(form.errors)
    return render(request, "complaints/public/track.html", context)


@require_POST
def leave(request):
    request.session.pop(SESSION_TRACKED, None)
    return redirect("complaints-public:track")
