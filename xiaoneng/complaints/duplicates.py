"""Whether a reader may see the complaint another one is flagged a possible duplicate of."""
from __future__ import annotations

from django.db.models import Exists, OuterRef

from xiaoneng.orgs import access

from .forms import VIEW_PERM
from .models import Complaint


def with_duplicate_visibility(queryset, user):
    """`queryset` with `duplicate_visible` on each complaint, in the same query: the flagged duplicate
    lies inside the reader's scope. A handler of one organ sees that a complaint routed to it is
    flagged, not the number of one routed elsewhere."""
    flagged = Complaint.objects.filter(pk=OuterRef("possible_duplicate_id"))
    return queryset.annotate(duplicate_visible=Exists(access.scoped(flagged, user, VIEW_PERM)))


def duplicate_number(complaint: Complaint) -> str | None:
    """The flagged duplicate's number where the reader may see it (after `with_duplicate_visibility`)."""
    if not complaint.possible_duplicate_id or not getattr(complaint, "duplicate_visible", False):
        return None
    return complaint.possible_duplicate.number
