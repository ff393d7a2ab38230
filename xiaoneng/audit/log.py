"""Writing to the audit log: `record()` for explicit events, `track()` for models.

Who acts and through which channel comes from a context variable that the web
middleware sets per request and the `xiaoneng` command sets per run, so actions deep
in the code never pass the request around.
"""
import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from .models import AuditEntry, ChainHead


@dataclass(frozen=True)
class Context:
    actor: object = None  # a User or None
    label: str = "system"
    channel: str = AuditEntry.Channel.SYSTEM
    ip: str | None = None


# Context is a frozen dataclass, so sharing one default instance is safe.
_context: contextvars.ContextVar[Context] = contextvars.ContextVar("audit_context", default=Context())  # noqa: B039


@contextmanager
def acting_as(actor=None, *, channel: str, ip: str | None = None, label: str | None = None):
    """Attribute every audit entry written inside the block to `actor` via `channel`."""
    if label is None:
        label = getattr(actor, "username", None) or "anonymous"
    token = _context.set(Context(actor=actor if getattr(actor, "pk", None) else None, label=label, channel=channel, ip=ip))
    try:
        yield
    finally:
        _context.reset(token)


def current() -> Context:
    return _context.get()


def _jsonable(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return "<binary>"
    return value


def region_of(obj) -> str:
    """The region prefix an object belongs to, by the conventions of the models."""
    for attr in ("region_code", "prefix"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    organ = getattr(obj, "organ", None) if getattr(obj, "organ_id", None) else None
    return getattr(organ, "region_code", "") or ""


def record(action: str, obj=None, *, changes: dict | None = None, object_type: str = "", object_id="",
           object_repr: str = "", region_code: str = ""):
    """Append one entry to the chain, inside the caller's transaction.

    1. Lock the chain head (row lock on PostgreSQL; SQLite has one writer anyway).
    2. Build the entry with the previous hash, hash it, insert it.
    3. Move the head to the new entry.
    """
    ctx = current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        region_code = region_code or region_of(obj)
    with transaction.atomic():
        head_qs = ChainHead.objects.all()
        if connection.features.has_select_for_update:
            head_qs = head_qs.select_for_update()
        head = head_qs.filter(pk=1).first()
        if head is None:
            head = ChainHead.objects.create(pk=1)
        entry = AuditEntry(
            at=timezone.now(),
            actor=ctx.actor,
            actor_label=ctx.label[:150],
            channel=ctx.channel,
            action=action[:60],
            object_type=object_type[:60],
            object_id=str(object_id)[:64],
            object_repr=object_repr[:200],
            changes={k: _jsonable(v) for k, v in (changes or {}).items()},
            ip=ctx.ip,
            region_code=region_code[:12],
            prev_hash=head.last_hash,
        )
        entry.hash = entry.compute_hash()
        entry.save(force_insert=True)
        ChainHead.objects.filter(pk=1).update(last_hash=entry.hash, last_entry=entry.pk)
    return entry


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that changed."""
    return {
        k: [_jsonable(before.get(k)), _jsonable(after.get(k))]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def _values(instance, fields) -> dict:
    return {f: getattr(instance, f) for f in fields}


def track(model, *, exclude: tuple[str, ...] = ()):
    """Audit every create, change and delete of `model`, from any channel.

    Saves from pages, the API, the admin and commands all go through the ORM, so
    signals catch them all; bulk updates (calendar recomputation) record one summary
    entry themselves instead.
    """
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]

    def before_save(sender, instance, raw=False, **kwargs):
        if raw or instance.pk is None:
            instance._audit_before = {}
            return
        old = sender._default_manager.filter(pk=instance.pk).values(*fields).first()
        instance._audit_before = old or {}

    def after_save(sender, instance, created, raw=False, **kwargs):
        if raw:
            return
        after = _values(instance, fields)
        before = getattr(instance, "_audit_before", {})
        changes = diff(before, after)
        if changes or created:
            record("create" if created else "update", instance, changes=changes)

    def after_delete(sender, instance, **kwargs):
        record("delete", instance, changes=diff(_values(instance, fields), {}))

    uid = f"audit-{model._meta.label_lower}"
    pre_save.connect(before_save, sender=model, weak=False, dispatch_uid=uid)
    post_save.connect(after_save, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(after_delete, sender=model, weak=False, dispatch_uid=uid)
    return model


def verify() -> tuple[int, AuditEntry | None, str]:
    """Walk the chain in order: (entries checked, first broken entry or None, reason)."""
    prev = "0" * 64
    checked = 0
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if entry.prev_hash != prev:
            return checked, entry, "prev_hash does not match the entry before it"
        if entry.compute_hash() != entry.hash:
            return checked, entry, "content does not match its hash"
        prev = entry.hash
        checked += 1
    head = ChainHead.objects.filter(pk=1).first()
    if head and head.last_hash != prev:
        return checked, None, "the chain ends before its recorded head (entries removed at the end)"
    return checked, None, ""
