"""State changes of regions and organs: one `do_<verb>_<noun>()` per change, each in a transaction.

Pages, the API, the admin, imports and commands call these instead of saving models
themselves, so every change is validated the same way and lands in the audit log (model
saves are audited by signals; see xiaoneng.orgs.audit_hooks). Callers validate input
for the user's sake first (see xiaoneng.orgs.imports); the `full_clean()` here is the
last guard, not the place where users learn what is wrong.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from .models import Organ, Region


@dataclass(frozen=True)
class RegionData:
    """A validated region row: 12-digit codes, level 1-5."""

    code: str
    name: str
    level: int
    parent_code: str | None


@dataclass(frozen=True)
class OrganData:
    """A validated organ row: `kind` is an OrganKind value, codes are normalised."""

    credit_code: str
    name: str
    short_name: str
    kind: str
    region_code: str
    parent_credit_code: str | None
    is_active: bool = True


# --- regions -------------------------------------------------------------------------------


@transaction.atomic
def do_create_region(*, code: str, name: str, level: int, parent: Region | None = None) -> Region:
    region = Region(code=code, name=name, level=level, parent=parent)
    region.full_clean(exclude=["prefix"])
    region.save()
    return region


@transaction.atomic
def do_rename_region(region: Region, name: str) -> Region:
    """Only the name: a region's code, level and parent define the scoping tree and do not move."""
    region.name = name
    region.full_clean(exclude=["prefix"])
    region.save(update_fields=["name"])
    return region


@transaction.atomic
def do_import_regions(rows: Sequence[RegionData]) -> tuple[int, int]:
    """Create new regions and rename changed ones, parents first; returns (created, renamed)."""
    codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
    known = {r.code: r for r in Region.objects.filter(code__in=codes)}
    created = renamed = 0
    for row in sorted(rows, key=lambda r: (r.level, r.code)):
        region = known.get(row.code)
        if region is None:
            parent = known[row.parent_code] if row.parent_code else None
            known[row.code] = do_create_region(code=row.code, name=row.name, level=row.level, parent=parent)
            created += 1
        elif region.name != row.name:
            do_rename_region(region, row.name)
            renamed += 1
    return created, renamed


# --- organs --------------------------------------------------------------------------------


@transaction.atomic
def do_create_organ(
    *,
    credit_code: str,
    name: str,
    kind: str,
    region: Region,
    short_name: str = "",
    parent: Organ | None = None,
    is_active: bool = True,
) -> Organ:
    organ = Organ(
        credit_code=credit_code, name=name, short_name=short_name, kind=kind, region=region, parent=parent,
        is_active=is_active,
    )
    organ.full_clean(exclude=["region_code", "path"])
    organ.save()
    return organ


@transaction.atomic
def do_update_organ(organ: Organ, **changes) -> Organ:
    """Change some fields of an organ; a new parent moves its whole subtree.

    1. Refuse a parent inside the organ's own subtree (the tree would become a cycle).
    2. Save (the model recomputes the organ's own region prefix and path).
    3. Rewrite the path prefix of every descendant in one UPDATE.
    """
    fields = {"credit_code", "name", "short_name", "kind", "region", "parent", "is_active"}
    unknown = set(changes) - fields
    if unknown:
        raise TypeError(f"do_update_organ: unknown fields {sorted(unknown)}")
    parent = changes.get("parent", organ.parent)
    if parent is not None and (parent.pk == organ.pk or parent.path.startswith(organ.path)):
        raise ValueError("an organ cannot be placed under itself or its own subtree")
    old_path = organ.path
    for field, value in changes.items():
        setattr(organ, field, value)
    organ.full_clean(exclude=["region_code", "path"])
    organ.save()  # sets organ.path from the (new) parent
    if organ.path != old_path:
        Organ.objects.filter(path__under=old_path).exclude(pk=organ.pk).update(
            path=Concat(Value(organ.path), Substr("path", len(old_path) + 1))
        )
    return organ


@transaction.atomic
def do_import_organs(rows: Sequence[OrganData]) -> tuple[int, int]:
    """Create or update organs so that each parent is written before its children.

    Returns (created, updated). The rows are already validated (no cycles, parents exist
    in the database or among the rows), so each round writes at least one row.
    """
    codes = {r.credit_code for r in rows} | {r.parent_credit_code for r in rows if r.parent_credit_code}
    organs = {o.credit_code: o for o in Organ.objects.filter(credit_code__in=codes)}
    regions = {r.code: r for r in Region.objects.filter(code__in={r.region_code for r in rows})}
    pending = {r.credit_code: r for r in rows}
    created = updated = 0
    while pending:
        ready = [r for r in pending.values() if not r.parent_credit_code or r.parent_credit_code not in pending]
        if not ready:
            raise ValueError("organ rows form a cycle")
        for row in ready:
            values = {
                "name": row.name,
                "short_name": row.short_name,
                "kind": row.kind,
                "region": regions[row.region_code],
                "parent": organs[row.parent_credit_code] if row.parent_credit_code else None,
                "is_active": row.is_active,
            }
            organ = organs.get(row.credit_code)
            if organ is None:
                organs[row.credit_code] = do_create_organ(credit_code=row.credit_code, **values)
                created += 1
            else:
                do_update_organ(organ, **values)
                updated += 1
            del pending[row.credit_code]
    return created, updated
