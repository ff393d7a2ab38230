"""A special procedure longer than the applicant was told (Art. 45): on resumption,
compare the working days paused with the announced days."""
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from . import Finding, Rule, register


def check(case, kind, data):
    if kind != "resume":
        return []
    from xiaoneng.approvals.models import CaseEvent
    from xiaoneng.calendar.engine import current
    from xiaoneng.clocks.engine import local_date

    latest = {}  # the last suspension and the last resumption, in one query
    for event in case.events.filter(kind__in=[CaseEvent.Kind.SUSPEND, CaseEvent.Kind.RESUME]).order_by("-at"):
        latest.setdefault(event.kind, event)
    suspend, resume = latest.get(CaseEvent.Kind.SUSPEND), latest.get(CaseEvent.Kind.RESUME)
    if suspend is None or resume is None:
        return []
    announced = int(suspend.data.get("announced_days") or 0)
    used = (local_date(resume.at) - local_date(suspend.at)).days
    if announced <= 0 or used <= announced:
        return []
    working = current(check=False).working_days_between(local_date(suspend.at), local_date(resume.at))
    message = _("办件 %(no)s 特别程序告知 %(announced)d 天，实际用时 %(used)d 天（%(working)d 个工作日）。") % {
        "no": case.case_no, "announced": announced, "used": used, "working": working,
    }
    return [Finding(RULE.code, RULE.level, case.organ, case, message, RULE.legal_basis,
                    {"announced_days": announced, "days_used": used, "suspended_at": suspend.at.isoformat(),
                     "resumed_at": resume.at.isoformat()}, key=f"suspend{suspend.pk}")]


RULE = register(Rule("suspension_overrun", _l("特别程序超过告知时长"), "warning", "《行政许可法》第四十五条",
                     on_case_event=check, case_kinds=frozenset({"resume"})))
