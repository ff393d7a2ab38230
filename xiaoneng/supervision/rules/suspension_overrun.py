"""A special procedure longer than the applicant was told (Art. 45): on resumption,
compare the working days paused with the announced days."""
from dataclasses import replace

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from . import Finding, Rule, register

KINDS = ("suspend", "resume")  # CaseEvent.Kind.SUSPEND, RESUME


def _overrun(latest: dict):
    """(suspension, resumption, announced days, days used) when the last special procedure ran over, else None.

    `latest` maps "suspend" and "resume" to the case's last event of each kind."""
    from xiaoneng.clocks.engine import local_date

    suspend, resume = latest.get("suspend"), latest.get("resume")
    if suspend is None or resume is None:
        return None
    announced = int(suspend.data.get("announced_days") or 0)
    used = (local_date(resume.at) - local_date(suspend.at)).days
    if announced <= 0 or used <= announced:
        return None
    return suspend, resume, announced, used


def _finding(case, suspend, resume, announced: int, used: int) -> Finding:
    from xiaoneng.calendar.engine import current
    from xiaoneng.clocks.engine import local_date

    working = current(check=False).working_days_between(local_date(suspend.at), local_date(resume.at))
    message = _("办件 %(no)s 特别程序告知 %(announced)d 天，实际用时 %(used)d 天（%(working)d 个工作日）。") % {
        "no": case.case_no, "announced": announced, "used": used, "working": working,
    }
    return Finding(RULE.code, RULE.level, case.organ, case, message, RULE.legal_basis,
                   {"announced_days": announced, "days_used": used, "suspended_at": suspend.at.isoformat(),
                    "resumed_at": resume.at.isoformat()}, key=f"suspend{suspend.pk}")


def check(case, kind, data):
    if kind != "resume":
        return []
    latest = {}  # the last suspension and the last resumption, in one query
    for event in case.events.filter(kind__in=KINDS).order_by("-at"):
        latest.setdefault(event.kind, event)
    over = _overrun(latest)
    return [_finding(case, *over)] if over else []


def check_many(events):
    """`check` for a batch of case events: the last suspension and resumption of every resumed case in one
    query; the cases are loaded only for those that ran over (one more query, seldom)."""
    from xiaoneng.approvals.models import Case, CaseEvent

    resumed = [e for e in events if e.kind == "resume"]
    if not resumed:
        return []
    latest: dict[int, dict] = {}
    for event in (CaseEvent.objects.filter(case_id__in={e.case_id for e in resumed}, kind__in=KINDS)
                  .order_by("-at").only("id", "case_id", "kind", "at", "data")):
        latest.setdefault(event.case_id, {}).setdefault(event.kind, event)
    over = {case_id: o for case_id, last in latest.items() if (o := _overrun(last))}
    if not over:
        return []
    cases = Case.objects.select_related("organ").in_bulk(list(over))
    return [replace(_finding(cases[e.case_id], *over[e.case_id]), at=e.at) for e in resumed if e.case_id in over]


RULE = register(Rule("suspension_overrun", _l("特别程序超过告知时长"), "warning", "《行政许可法》第四十五条",
                     on_case_event=check, on_case_events=check_many, case_kinds=frozenset({"resume"})))
