"""`{% reminder_form record "case" %}`: the 催办 form on a record's page, for supervisors in scope only."""
from django import template

from ..actions import may_remind, reminder_token
from ..forms import ReminderForm

register = template.Library()


@register.inclusion_tag("inbox/_reminder.html", takes_context=True)
def reminder_form(context, record, kind: str):
    request = context.get("request")
    user = getattr(request, "user", None)
    if record is None or user is None or not may_remind(user, record):
        return {"show": False}
    return {"show": True, "kind": kind, "record": record, "csrf_token": context.get("csrf_token"),
            "form": ReminderForm(initial={"token": reminder_token()})}


@register.inclusion_tag("inbox/_case_extensions.html", takes_context=True)
def case_extension_requests(context, case):
    """The case's extension requests (pending first), with the way to decide for its leader."""
    from ..actions import may_decide
    from ..models import ExtensionRequest

    request = context.get("request")
    rows = list(ExtensionRequest.objects.filter(case=case).select_related("requested_by", "decided_by")
                .order_by("-requested_at", "-id"))
    pending = next((r for r in rows if r.state == ExtensionRequest.State.PENDING), None)
    return {"rows": rows, "pending": pending,
            "may_decide": bool(pending and request and may_decide(request.user, pending))}
