"""The one scoping module: what a user may see and do. Default deny.

A user's grants each give a role on a scope (a region subtree or an organ subtree).
A role carries a set of permissions (`PERMISSIONS`). For any model that declares where
its records belong (`scope_fields()`), `scoped(queryset, user, perm)` keeps only the
rows inside the union of the scopes of the grants that carry `perm`; with no such
grant the queryset is empty. Pages, API, exports and searches all call it, and
`get_scoped_or_404` turns "outside your scope" into 404 so existence does not leak.
"""
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q
from django.http import Http404

from .models import Grant, Organ, Role

# Permission names are "<area>.<verb>". Later capabilities add their own areas here,
# so the whole matrix stays readable in one place.
PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {"org.view", "org.manage", "calendar.view", "calendar.manage", "clock.view", "case.view", "audit.view",
         "user.manage"}
    ),
    Role.SUPERVISOR: frozenset(
        {"org.view", "calendar.view", "clock.view", "case.view", "supervise", "complaint.view", "complaint.identity",
         "rating.view", "accountability.view", "accountability.manage"}
    ),
    Role.LEADER: frozenset({"org.view", "calendar.view", "clock.view", "case.view", "lead", "complaint.view",
                            "rating.view", "appraisal.own"}),
    # The organ's own staff: answer complaints routed to them (never seeing who complained
    # unless a supervisor grants it) and call back their bad reviews.
    Role.HANDLER: frozenset({"org.view", "calendar.view", "clock.view", "case.view", "handle", "complaint.view",
                             "complaint.respond", "rating.view", "rating.respond"}),
    Role.COMPLAINT_OFFICER: frozenset({"org.view", "calendar.view", "clock.view", "case.view", "complaint.view",
                                       "complaint.handle", "complaint.identity", "rating.view"}),
    # Appraisal: the office appraises its region's organs; an organ's leader sees the organ's own result
    # ("appraisal.own", on the organ's grant) and the published ranking of its class.
    Role.APPRAISAL_OFFICER: frozenset({"org.view", "calendar.view", "appraise", "rating.view", "case.view"}),
    Role.AUDITOR: frozenset({"org.view", "calendar.view", "clock.view", "case.view", "audit.view", "complaint.view",
                             "rating.view"}),
    # People's congress deputies and CPPCC members watch the government from outside: the published
    # appraisal results of their region and nothing else (no cases, complaints, accountability, audit).
    Role.DEPUTY: frozenset({"appraisal.published"}),
}

# Navigation and calendar warnings go to the roles that watch deadlines.
DEADLINE_WATCHERS = {Role.ADMIN, Role.SUPERVISOR}


@dataclass(frozen=True)
class ScopeFields:
    """Where a model's rows belong: a region-prefix field and/or an organ-path field."""

    region: str | None = None  # e.g. "region_code" or "organ__region_code"
    organ_path: tuple[str, ...] = ()  # e.g. ("path",) or ("organ__path", "parent__organ__path")


SCOPE_FIELDS: dict[str, ScopeFields] = {}


def register_scope(model, *, region: str | None = None, organ_path: str | tuple[str, ...] = ()):
    """Declare where `model`'s rows belong. Several organ paths mean "any of them"."""
    paths = (organ_path,) if isinstance(organ_path, str) else tuple(organ_path)
    SCOPE_FIELDS[model._meta.label_lower] = ScopeFields(region=region, organ_path=paths)
    return model


def _grants(user) -> list[Grant]:
    """The user's grants, fetched once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_xn_grants", None)
    if cached is None:
        cached = list(Grant.objects.filter(user=user).select_related("region", "organ"))
        user._xn_grants = cached
    return cached


def grants(user) -> list[Grant]:
    """The user's grants (cached per request)."""
    return _grants(user)


def forget(user) -> None:
    """Drop the cached grants (after a grant changes within the same request)."""
    if hasattr(user, "_xn_grants"):
        del user._xn_grants


def roles(user) -> set[str]:
    return {g.role for g in _grants(user)}


def has_perm(user, perm: str) -> bool:
    """True if some grant of the user carries `perm` (somewhere)."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return any(perm in PERMISSIONS.get(g.role, ()) for g in _grants(user))


def may_manage_province_settings(user, perm: str = "org.manage") -> bool:
    """Province-wide settings: the working-day calendar (a changed day moves deadlines in every
    county), complaint categories and Open311 keys (one set for the province), the region tree and
    its import. They belong to no region subtree, so a grant in a city or county — which manages
    that subtree's organs and staff — never reaches them: `perm` must be held on the root region
    (the province), or the user is a superuser. Pages, actions, admin classes and API all ask here."""
    if not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return any(perm in PERMISSIONS.get(g.role, ()) and g.region_id and g.region.parent_id is None
               for g in _grants(user))


def scope_q(user, perm: str, fields: ScopeFields) -> Q | None:
    """A Q limiting rows to the user's scopes for `perm`; None means "see everything"."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return None
    parts = []
    for grant in _grants(user):
        if perm not in PERMISSIONS.get(grant.role, ()):
            continue
        if grant.region_id and fields.region:
            parts.append(Q(**{f"{fields.region}__under": grant.region.prefix}))
        elif grant.organ_id and fields.organ_path:
            parts.extend(Q(**{f"{path}__under": grant.organ.path}) for path in fields.organ_path)
        elif grant.organ_id and fields.region and not fields.organ_path:
            # Rows that belong to a region only (e.g. the region tree itself): an organ
            # grant shows the organ's own region, not its ancestors nor other regions.
            parts.append(Q(**{fields.region: grant.organ.region_code}))
    if not parts:
        return Q(pk__in=[])
    return reduce(or_, parts)


def scoped(queryset, user, perm: str):
    """Only the rows of `queryset` that `user` may reach with `perm`. Default deny."""
    label = queryset.model._meta.label_lower
    try:
        fields = SCOPE_FIELDS[label]
    except KeyError as exc:  # a model nobody declared a scope for is never shown
        raise LookupError(f"{label} has no scope declared; call register_scope()") from exc
    q = scope_q(user, perm, fields)
    return queryset if q is None else queryset.filter(q)


def get_scoped_or_404(queryset, user, perm: str, **lookup):
    """One object inside the user's scope, or 404 whether it is absent or just hidden."""
    try:
        return scoped(queryset, user, perm).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def visible_organs(user, perm: str = "org.view"):
    return scoped(Organ.objects.all(), user, perm)


def region_prefixes(user, perm: str) -> list[str] | None:
    """Region prefixes the user covers for `perm` (None = everything); for dashboards."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return None
    prefixes = set()
    for grant in _grants(user):
        if perm in PERMISSIONS.get(grant.role, ()):
            prefixes.add(grant.region.prefix if grant.region_id else grant.organ.region_code)
    return sorted(prefixes)
