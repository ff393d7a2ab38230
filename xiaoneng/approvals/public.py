"""The applicant's look-up (办件查询): case number plus the verification code from the receipt SMS.

No login. What it must never do:

* say whether a case number exists — a wrong code and an unknown number get the same
  message, the same status and the same amount of work;
* let anyone guess codes — failed look-ups are counted per client address in Django's
  cache (programme rules public_lookup_max_failures, default 10, per
  public_lookup_window_seconds, default 600); past the limit every look-up from that
  address is refused with HTTP 429 and a plain message, even with the right code;
* show staff: the timeline has no actor names, no step handlers, no extension
  approvers, and the applicant's name is masked.
"""
from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xiaoneng.clocks.engine import explain_clock
from xiaoneng.clocks.models import Clock
from xiaoneng.complaints.ratings import FINISHED_CASE_STATUSES
from xiaoneng.conf import rule

from .actions import check_verify_code, verify_digest
from .forms import LookupForm
from .models import Case, CaseEvent, Status, StatusChange
from .views import deadline_label, mask_name, timeline


def _limits() -> tuple[int, int]:
    return int(rule("public_lookup_max_failures")), int(rule("public_lookup_window_seconds"))


def client_address(request) -> str:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be.
    # Behind a reverse proxy, the proxy must set REMOTE_ADDR to the real address.
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(address: str) -> str:
    return "xn:case-lookup:" + hashlib.sha256(address.encode()).hexdigest()[:32]


def is_throttled(address: str) -> bool:
    limit, _window = _limits()
    return int(cache.get(_key(address), 0)) >= limit


def count_failure(address: str) -> None:
    _limit, window = _limits()
    key = _key(address)
    cache.add(key, 0, timeout=window)  # the window starts at the first failure
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)


def find_case(case_no: str, code: str) -> Case | None:
    """The application with this number and code, or None — with the same work either way."""
    case = (
        Case.objects.select_related("matter_version__matter", "organ")
        .filter(case_no=case_no.strip(), parent__isnull=True)
        .first()
    )
    if case is None:
        verify_digest(case_no, code)  # spend the same time as a real comparison
        return None
    return case if check_verify_code(case, code) else None


def public_view(case: Case) -> dict:
    now = timezone.now()
    changes = StatusChange.objects.filter(case=case).order_by("at", "pk")
    events = CaseEvent.objects.filter(case=case).order_by("at", "pk")
    promise = Clock.objects.prefetch_related("pauses").filter(pk=case.promise_clock_id).first() if case.promise_clock_id else None
    subcases = list(case.subcases.select_related("organ").order_by("case_no")) if case.is_parallel else []
    return {
        "case": case,
        "matter": case.matter_version.matter,
        "applicant": mask_name(case.applicant_name),
        "timeline": timeline(case, changes, events, public=True),
        "promise": promise,
        "promise_due": deadline_label(promise.due_at) if promise else "",
        "promise_explanation": explain_clock(promise) if promise else "",
        "promise_overdue": bool(promise and promise.is_overdue(now)),
        "subcases": subcases,
        "is_closed": not case.is_open(),
        # A finished case invites its applicant to rate the service (好差评) — the statuses ratings accept.
        "may_rate": case.status in FINISHED_CASE_STATUSES and not case.parent_id,
        "suspended": case.status == Status.SUSPENDED,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def case_lookup(request):
    form = LookupForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "result": None, "throttled": False}
    status = 200
    if request.method == "POST":
        address = client_address(request)
        if is_throttled(address):
            _limit, window = _limits()
            context["throttled"] = True
            context["throttle_message"] = _t("查询尝试次数过多，请 %(minutes)d 分钟后再试。") % {
                "minutes": max(1, window // 60)
            }
            status = 429
        elif form.is_valid():
            case = find_case(form.cleaned_data["case_no"], form.cleaned_data["code"])
            if case is None:
                count_failure(address)
                form.add_error(None, _t("办件编号或查询码不正确。请核对收件短信中的办件编号和查询码。"))
            else:
                context["result"] = public_view(case)
    return render(request, "approvals/public_lookup.html", context, status=status)
