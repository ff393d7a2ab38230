"""What a reader without the identity right reads of a complaint's texts.

The organ complained about must not learn who complained from what was written: officials
greet the complainant by name in the reply ("陈新民同志：您好"), complainants sign their
texts, notes quote them. So every free text of a complaint is stored twice when it is
written (`actions`, `workflow.step`, the seed): as written, and masked with the complainant's
identity — `identity.mask_in`, the same masking Open311 publishes: the name becomes "陈**",
the phone, ID number, address, e-mail and device id "***", and any other mobile number, ID
number or e-mail address typed in is hidden too. Masking decrypts the identity once per
action, without showing it to anybody, and that read is audited (`identity.use`).

Readers who hold the identity right for the complaint (`identity.holds_identity_right`:
complaint officers and supervisors in scope, an organ a supervisor granted it to) read the
texts as written; everybody else reads the masked copies, on every road: the complaint
page and its timeline, the list and its Excel, the API and the admin. A text recorded
before texts were masked is masked on its first read by such a reader (`ensure_masked`)
and kept, so pages never show it unmasked and never decrypt it twice.
"""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from xiaoneng.orgs import access

from . import identity as ident
from .models import Complaint, ComplaintStep, IdentityGrant

# The complaint's free texts, each with a masked copy in `Complaint.masked`.
TEXT_FIELDS = ("title", "content", "address_string", "reasons", "handling_report", "reply", "appeal_reasons",
               "satisfaction_comment")
IDENTITY_PERM = "complaint.identity"


def mask_fields(complaint: Complaint, *names: str) -> None:
    """Store the masked copies of `names` (as they now stand on `complaint`); the caller saves "masked"."""
    mask = ident.masker_for(complaint)
    complaint.masked = {**(complaint.masked or {}), **{name: mask(getattr(complaint, name)) for name in names}}


def masked_copies(values: dict[str, str], who: ident.Identity) -> dict[str, str]:
    """Masked copies of texts whose author's identity is at hand (registration, the seed)."""
    return {name: ident.mask_in(text, who) if text else "" for name, text in values.items()}


# --- who reads what ---------------------------------------------------------------------
def reads_full_texts(user, complaint: Complaint) -> bool:
    return ident.holds_identity_right(user, complaint)


def with_text_visibility(queryset, user):
    """`queryset` with `texts_visible` on each complaint, in the same query: the reader holds the
    identity right for it (in an identity scope, or his organ was granted it)."""
    one = Complaint.objects.filter(pk=OuterRef("pk"))
    visible = Exists(access.scoped(one, user, IDENTITY_PERM))
    paths = [g.organ.path for g in access.grants(user)
             if g.organ_id and "complaint.respond" in access.PERMISSIONS.get(g.role, ())]
    if paths:
        under = Q()
        for path in paths:
            under |= Q(organ__path__under=path)
        visible |= Exists(IdentityGrant.objects.filter(under, complaint=OuterRef("pk")))
    return queryset.annotate(texts_visible=visible)


def title_search(text: str) -> Q:
    """A title search that matches only what the reader may read (after `with_text_visibility`):
    searching for a complainant's name must not tell which complaints mention it."""
    return Q(texts_visible=True, title__icontains=text) | Q(texts_visible=False, masked__title__icontains=text)


# --- reading ------------------------------------------------------------------------------
def _missing(complaint: Complaint) -> list[str]:
    masked = complaint.masked or {}
    return [name for name in TEXT_FIELDS if name not in masked and getattr(complaint, name)]


def ensure_masked(complaint: Complaint, steps=(), requests=(), grants=()) -> None:
    """Mask, once, and keep what was recorded before texts were masked (see the module docstring)."""
    missing = _missing(complaint)
    if missing:
        mask_fields(complaint, *missing)
        Complaint.objects.filter(pk=complaint.pk).update(masked=complaint.masked)
    mask = ident.masker_for(complaint)
    for step in steps:
        if step.text and not step.text_masked:
            step.text_masked = mask(step.text)
            ComplaintStep.objects.filter(pk=step.pk).update(text_masked=step.text_masked)
    for request in requests:
        wanted = [name for name in ("reasons", "note") if getattr(request, name) and name not in request.masked]
        if wanted:
            request.masked = {**request.masked, **{name: mask(getattr(request, name)) for name in wanted}}
            type(request).objects.filter(pk=request.pk).update(masked=request.masked)
    for grant in grants:
        if grant.reasons and not grant.reasons_masked:
            grant.reasons_masked = mask(grant.reasons)
            IdentityGrant.objects.filter(pk=grant.pk).update(reasons_masked=grant.reasons_masked)


def shown(complaint: Complaint, name: str, full: bool | None = None) -> str:
    """`complaint.<name>` as this reader may read it; `full` defaults to the `texts_visible` annotation."""
    if full is None:
        full = getattr(complaint, "texts_visible", False)
    if full:
        return getattr(complaint, name)
    if name not in (complaint.masked or {}) and getattr(complaint, name):
        ensure_masked(complaint)
    return (complaint.masked or {}).get(name, "")


def step_text(step: ComplaintStep, full: bool) -> str:
    return step.text if full else step.text_masked


def texts(complaint: Complaint, full: bool) -> dict[str, str]:
    """Every free text of the complaint as this reader may read it (for templates and the API)."""
    return {name: shown(complaint, name, full) for name in TEXT_FIELDS}
