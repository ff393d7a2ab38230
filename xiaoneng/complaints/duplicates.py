"""Whether a reader may see the complaint another one is flagged a possible duplicate of, or was
merged into / merged with: its number is shown only to readers who may open it (the other
complaint may lie in another organ's or region's scope)."""
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


def with_merge_visibility(queryset, user):
    """`queryset` with `merged_into_visible` on each complaint, in the same query."""
    target = Complaint.objects.filter(pk=OuterRef("merged_into_id"))
    return queryset.annotate(merged_into_visible=Exists(access.scoped(target, user, VIEW_PERM)))


def merged_into_number(complaint: Complaint) -> str | None:
    """The number of the complaint this one was merged into, where the reader may see it."""
    if not complaint.merged_into_id or not getattr(complaint, "merged_into_visible", False):
        return None
    return complaint.merged_into.number


def visible_numbers(numbers, user) -> set[str]:
    """Of the complaint numbers a timeline names (merge steps), those the reader may open: one query."""
    numbers = {n for n in numbers if n}
    if not numbers:
        return set()
    found = access.scoped(Complaint.objects.filter(number__in=numbers), user, VIEW_PERM)
    return set(found.values_list("number", flat=True))
