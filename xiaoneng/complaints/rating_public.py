"""Public rating pages (no login): rate a finished case, or a window visit from its QR code.

* A case is rated with its number and the verification code of the receipt SMS, like
  the public case look-up — and with the same failure counter per client address
  (`xiaoneng.approvals.public`: programme rules public_lookup_max_failures /
  public_lookup_window_seconds), so trying codes here or there counts the same. A wrong
  code and an unknown number get the same answer. The case must be finished.
* A window visit is rated at /ratings/public/window/<organ_id>/<window>/ (the QR code on
  the counter). Anyone may rate, so submissions are limited per client address in the
  Django cache: programme rule window_rating_per_address_hour (default 10) per hour.

Neither page shows anything about the case or the organ's staff beyond the organ's name.
"""
from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xiaoneng.approvals.public import client_address, count_failure, find_case, is_throttled
from xiaoneng.conf import rule
from xiaoneng.orgs.models import Organ

from . import ratings
from .models import RatingKind
from .rating_forms import PublicCaseRatingForm, PublicRatingForm

WINDOW_RATING_SECONDS = 3600
MAX_WINDOW_CHARS = 60


def _kind(request) -> str:
    kind = request.POST.get("kind") or request.GET.get("kind") or RatingKind.ONLINE
    return kind if kind in RatingKind.values else RatingKind.ONLINE


def _throttle_message() -> str:
    window = int(rule("public_lookup_window_seconds"))
    return _t("查询尝试次数过多，请 %(minutes)d 分钟后再试。") % {"minutes": max(1, window // 60)}


@never_cache
@require_http_methods(["GET", "POST"])
def rate_case(request):
    kind = _kind(request)
    # The case look-up's invitation to rate carries the case number; the applicant types the code again.
    initial = {"case_no": request.GET.get("case_no", "")[:64]}
    form = PublicCaseRatingForm(request.POST if request.method == "POST" else None, kind=kind, initial=initial)
    context = {"form": form, "kind": kind, "kinds": RatingKind.choices, "throttled": False}
    status = 200
    if request.method == "POST":
        address = client_address(request)
        if is_throttled(address):
            context["throttled"], context["throttle_message"] = True, _throttle_message()
            status = 429
        elif form.is_valid():
            case = find_case(form.cleaned_data["case_no"], form.cleaned_data["code"])
            if case is None:
                count_failure(address)
                form.add_error(None, _t("办件编号或查询码不正确。请核对收件短信中的办件编号和查询码。"))
            elif case.status not in ratings.FINISHED_CASE_STATUSES:
                form.add_error(None, _t("办件尚未办结，办结后方可评价。"))
            else:
                try:
                    ratings.do_rate_service(kind=kind, organ=case.organ, scores=form.scores(), level=None,
                                            comment=form.cleaned_data["comment"], case=case, channel="web",
                                            rater=form.rater())
                except ratings.RatingError as exc:
                    form.add_action_error(exc)
                else:
                    return redirect(reverse("ratings:public-thanks"))
    return render(request, "complaints/ratings/public/case.html", context, status=status)


def _window_key(address: str) -> str:
    return "xn:rating-window:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def window_flooded(address: str) -> bool:
    return int(cache.get(_window_key(address), 0)) >= int(rule("window_rating_per_address_hour"))


def count_window_rating(address: str) -> None:
    key = _window_key(address)
    cache.add(key, 0, timeout=WINDOW_RATING_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_RATING_SECONDS)


@never_cache
@require_http_methods(["GET", "POST"])
def rate_window(request, organ_id: int, window: str):
    organ = get_object_or_404(Organ, pk=organ_id, is_active=True)
    window = window.strip()
    if not window or len(window) > MAX_WINDOW_CHARS or not window.isprintable():
        raise Http404
    form = PublicRatingForm(request.POST if request.method == "POST" else None, kind=RatingKind.OFFLINE)
    context = {"form": form, "organ": organ, "window": window, "flooded": False}
    status = 200
    if request.method == "POST":
        address = client_address(request)
        if window_flooded(address):
            context["flooded"] = True
            status = 429
        elif form.is_valid():
            count_window_rating(address)
            try:
                ratings.do_rate_service(kind=RatingKind.OFFLINE, organ=organ, scores=form.scores(), level=None,
                                        comment=form.cleaned_data["comment"], window=window, channel="qr",
                                        rater=form.rater())
            except ratings.RatingError as exc:
                form.add_action_error(exc)
            else:
                return redirect(reverse("ratings:public-thanks"))
    return render(request, "complaints/ratings/public/window.html", context, status=status)


def thanks(request):
    return render(request, "complaints/ratings/public/thanks.html")
