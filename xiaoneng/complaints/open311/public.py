"""What an Open311 client may read about a complaint: the spec's public fields only.

GET requests is public in GeoReport v2 (no key), so:

* only complaints filed through Open311 itself are listed or found by id or token: what
  a citizen wrote on the web form, told the hotline or put in a letter, and media,
  interview and referral records, are between the complainant and the office, and a
  public list would publish them;
* the complainant never appears: no name, e-mail, phone, device id or account id is
  in any field (the model's identity blob is not even loaded); the free texts
  (description, status notes) are the copies masked when they were written
  (`public_content`, `public_note`: the complainant's own name, phone, ID number,
  address and e-mail hidden — officials greet complainants by name), and go through
  `redact()` as well, which hides any mobile number, resident ID number and e-mail
  address typed into them;
* no staff appear: status notes are the public outcome texts (the reasons for not
  accepting, the reply, a merge notice) or the status name, never a step's actor.
"""
from __future__ import annotations

from datetime import datetime

from django.db.models import Max, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.clocks.engine import tz
from xiaoneng.conf import rule

from ..actions import PUBLISHED_CHANNELS
from ..identity import redact
from ..models import Complaint, ComplaintStep, Status
from .services import service_name

LISTED_CHANNELS = PUBLISHED_CHANNELS
CLOSED = (Status.CLOSED, Status.NOT_ACCEPTED, Status.MERGED)
OPEN = tuple(s for s in Status.values if s not in CLOSED)

def iso(moment: datetime | None) -> str | None:
    """W3C datetime with the local offset, e.g. 2026-11-02T09:00:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment, tz()).isoformat(timespec="seconds")


def listed():
    """The complaints an Open311 client may read, with what `as_request` needs in a fixed number of queries."""
    register = ComplaintStep.objects.filter(kind=ComplaintStep.Kind.REGISTER).only("complaint_id", "data")
    return (
        Complaint.objects.filter(channel__in=LISTED_CHANNELS)
        .select_related("category", "organ", "office", "acceptance_clock", "handling_clock")
        .annotate(public_updated=Max("steps__at", filter=Q(steps__public=True)))
        .prefetch_related(Prefetch("steps", queryset=register, to_attr="register_steps"))
        .defer("identity_enc", "name_masked", "phone_masked", "phone_digest", "secret_hash")
        .order_by("-received_at", "-pk")
    )


def service_notice() -> str:
    unit = _("个自然日") if rule("complaint_handling_unit") == "calendar" else _("个工作日")
    return _("效能办在 %(a)d 个工作日内决定是否受理；受理后转承办机关办理，一般在 %(h)d %(unit)s内答复。") % {
        "a": int(rule("complaint_acceptance_working_days")), "h": int(rule("complaint_handling_days")), "unit": unit}


def status_notes(complaint: Complaint) -> str:
    """The outcome text as it was masked when written (`public_note`); without one (a complaint
    recorded before texts were masked), the status name, never the unmasked text."""
    note = complaint.public_note
    if complaint.status == Status.MERGED:
        return _("已与反映同一问题的投诉合并办理，办理结果将一并答复。")
    if complaint.status == Status.NOT_ACCEPTED and note:  # `note` was masked and redacted when written
        return _("不予受理。理由：%(reasons)s") % {"reasons": note}
    if complaint.reply and note:
        text = _("答复：%(reply)s") % {"reply": note}
        return text + (" " + _("（复核中）") if complaint.status == Status.REVIEW else "")
    return str(Status(complaint.status).label)


def expected(complaint: Complaint) -> str | None:
    if not complaint.is_open():
        return None
    clock = complaint.handling_clock or complaint.acceptance_clock
    return iso(clock.due_at) if clock is not None else None


def _extras(complaint: Complaint) -> dict:
    steps = getattr(complaint, "register_steps", None)
    if steps is None:
        steps = list(complaint.steps.filter(kind=ComplaintStep.Kind.REGISTER))
    data = steps[0].data if steps else {}
    extras = data.get("open311") if isinstance(data, dict) else None
    return extras if isinstance(extras, dict) else {}


def as_request(complaint: Complaint) -> dict:
    """One complaint in the spec's field order (GET requests, GET requests/{id})."""
    extras = _extras(complaint)
    agency = complaint.organ or complaint.office
    updated = getattr(complaint, "public_updated", None) or complaint.received_at
    return {
        "service_request_id": complaint.number,
        "status": "closed" if complaint.status in CLOSED else "open",
        "status_notes": status_notes(complaint),
        "service_name": service_name(complaint.category),
        "service_code": complaint.category.code,
        "description": redact(complaint.public_content or complaint.content),
        "agency_responsible": agency.name if agency else "",
        "service_notice": service_notice(),
        "requested_datetime": iso(complaint.received_at),
        "updated_datetime": iso(updated),
        "expected_datetime": expected(complaint),
        "address": redact(complaint.address_string),
        "address_id": extras.get("address_id") or "",
        "zipcode": "",
        "lat": complaint.lat,
        "long": complaint.long,
        "media_url": extras.get("media_url") or "",
    }
