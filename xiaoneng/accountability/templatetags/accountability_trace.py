"""`{% trace_link record "case" %}`: the 责任倒查 button on an incident's own page, for accountability
readers in the record's scope only (everyone else sees nothing, and the trace page would 404)."""
from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from xiaoneng.orgs import access

register = template.Library()
VIEW = "accountability.view"


@register.simple_tag(takes_context=True)
def trace_link(context, record, kind: str):
    request = context.get("request")
    user = getattr(request, "user", None)
    if record is None or user is None or not access.has_perm(user, VIEW):
        return ""
    if not access.scoped(type(record).objects.filter(pk=record.pk), user, VIEW).exists():
        return ""
    return format_html('<a class="btn btn-secondary" href="{}" data-testid="trace-link">{}</a> ',
                       reverse("accountability:incident-trace", args=[kind, record.pk]), _("责任倒查"))
