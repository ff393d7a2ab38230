"""Writing to the audit log: `record()` for explicit events, `track()` for models.

Who acts and through which channel comes from a context variable that the web
middleware sets per request and the `xiaoneng` command sets per run, so actions deep
in the code never pass the request around.
"""
import contextvars
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from .models import GENESIS, PARTITIONS, AuditEntry, ChainHead, Checkpoint


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


def preferred_chain() -> int:
    """The chain this connection tries first: the one it last wrote to (so a transaction's later entries
    go to the chain it already holds), at first one picked by process and thread, so that concurrent
    writers start on different chains."""
    chain = getattr(connection, "_audit_chain", None)
    return hash((os.getpid(), threading.get_ident())) % PARTITIONS if chain is None else chain


def _lock_head() -> ChainHead:
    """A chain head row locked for this transaction, one no other transaction holds if there is any.

    On PostgreSQL the preferred chain is taken if free, else the next free one (`SKIP LOCKED`), so
    writers never queue behind each other unless every chain is taken; a transaction that already
    holds a head gets the same one again (its own lock does not count as taken, and it is preferred).
    Only a transaction that holds no head ever waits for one, so heads alone cannot deadlock. SQLite
    has one writer at a time anyway.
    """
    first = preferred_chain()
    head = None
    if connection.features.has_select_for_update_skip_locked:
        head = (ChainHead.objects.select_for_update(skip_locked=True)
                .annotate(rank=(F("id") + PARTITIONS - first) % PARTITIONS).order_by("rank").first())
    if head is None:
        qs = ChainHead.objects.select_for_update() if connection.features.has_select_for_update else ChainHead.objects
        head = qs.filter(pk=first).first()
        if head is None:  # a fresh (or flushed) database: the heads appear on first use
            ChainHead.objects.bulk_create([ChainHead(pk=i) for i in range(PARTITIONS)], ignore_conflicts=True)
            head = qs.get(pk=first)
    connection._audit_chain = head.pk
    return head


def record(action: str, obj=None, *, changes: dict | None = None, object_type: str = "", object_id="",
           object_repr: str = "", region_code: str = ""):
    """Append one entry to a chain, inside the caller's transaction.

    1. Lock a chain head nobody else holds (`_lock_head`): no row every writer updates.
    2. Build the entry as that chain's next (seq, previous hash), sign it with the audit key, insert it.
    3. Move the head to the new entry.
    """
    ctx = current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        region_code = region_code or region_of(obj)
    with transaction.atomic():
        head = _lock_head()
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
            chain=head.pk,
            seq=head.last_seq + 1,
            prev_hash=head.last_hash,
        )
        entry.hash = entry.compute_mac()
        entry.save(force_insert=True)
        ChainHead.objects.filter(pk=head.pk).update(last_hash=entry.hash, last_entry=entry.pk, last_seq=entry.seq)
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


# --- checkpoints and verification -----------------------------------------------------------------
def checkpoint(path: str | None = None) -> Checkpoint:
    """Sign every chain's head as committed now, store it, and append it to the checkpoint file if any.

    Heads are read without locking: each head row is one committed entry's (seq, hash).
    """
    heads = {h.pk: [h.last_seq, h.last_hash] for h in ChainHead.objects.order_by("pk") if h.last_seq}
    cp = Checkpoint(at=timezone.now(), heads=heads, legacy=False)
    cp.mac = cp.compute_mac()
    cp.save(force_insert=True)
    path = settings.XIAONENG_AUDIT_CHECKPOINT_FILE if path is None else path
    if path:
        line = json.dumps({"id": cp.pk, "at": cp.at.isoformat(), "heads": cp.heads, "legacy": False, "mac": cp.mac},
                          sort_keys=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
    return cp


def _file_checkpoints(path: str) -> tuple[list[Checkpoint], str]:
    """The checkpoints in the file outside the database (unsaved instances), or the reason it is unreadable."""
    found = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            found.append(Checkpoint(pk=data.get("id"), at=datetime.fromisoformat(data["at"]), heads=data["heads"],
                                    legacy=bool(data.get("legacy")), mac=data["mac"]))
        except (ValueError, KeyError, TypeError):
            return [], f"line {n} of the checkpoint file {path} is not a checkpoint"
    return found, ""


def verify(path: str | None = None) -> tuple[int, AuditEntry | None, str]:
    """Check every chain and every checkpoint: (entries checked, first broken entry or None, reason).

    * each checkpoint, in the database and in the checkpoint file, carries the audit key's signature;
    * each chain runs seq 1, 2, … with each entry holding its predecessor's hash and the HMAC of its
      own content under the key (the legacy entries before the keyed chains: SHA-256, up to where the
      legacy checkpoint says they end);
    * each chain reaches every (seq, hash) a checkpoint signed and its head row's seq.
    Without the key, a rewritten entry cannot get a valid signature, so the first rewritten entry is
    named even when every hash after it was recomputed.
    """
    checkpoints = list(Checkpoint.objects.order_by("id"))
    path = settings.XIAONENG_AUDIT_CHECKPOINT_FILE if path is None else path
    outside: list[Checkpoint] = []
    if path and os.path.exists(path):
        outside, problem = _file_checkpoints(path)
        if problem:
            return 0, None, problem
    for where, cps in (("", checkpoints), (" in the checkpoint file", outside)):
        for cp in cps:
            if cp.compute_mac() != cp.mac:
                return 0, None, f"checkpoint #{cp.pk}{where} does not carry the audit key's signature (forged or edited)"
    legacy_seq = max((int(cp.heads.get("0", [0])[0]) for cp in checkpoints if cp.legacy), default=0)
    expected: dict[tuple[int, int], tuple[str, str]] = {}
    for where, cps in (("", checkpoints), (" in the checkpoint file", outside)):
        for cp in cps:
            for chain, (seq, digest) in cp.heads.items():
                expected.setdefault((int(chain), int(seq)), (digest, f"checkpoint #{cp.pk}{where}"))
    # The heads as committed before the walk: entries committed meanwhile lie beyond them.
    for head in ChainHead.objects.filter(last_seq__gt=0):
        expected.setdefault((head.pk, head.last_seq), (head.last_hash, f"chain {head.pk}'s recorded head"))
    checked = 0
    ends: dict[int, int] = {}
    chain, seq, prev = None, 0, GENESIS
    for entry in AuditEntry.objects.order_by("chain", "seq").iterator(chunk_size=2000):
        if entry.chain != chain:
            chain, seq, prev = entry.chain, 0, GENESIS
        if entry.seq != seq + 1:
            return checked, entry, f"chain {chain}: entries {seq + 1}–{entry.seq - 1} before it are missing"
        if entry.prev_hash != prev:
            return checked, entry, "prev_hash does not match the entry before it"
        legacy = chain == 0 and entry.seq <= legacy_seq
        if (entry.compute_hash() if legacy else entry.compute_mac()) != entry.hash:
            return checked, entry, ("content does not match its hash" if legacy else
                                    "content does not match its hash (HMAC under the audit key): rewritten")
        signed = expected.get((chain, entry.seq))
        if signed and signed[0] != entry.hash:
            return checked, entry, f"the entry differs from the one {signed[1]} names: rewritten"
        seq, prev = entry.seq, entry.hash
        ends[chain] = seq
        checked += 1
    for (chain_, seq_), (_digest, by) in sorted(expected.items()):
        if ends.get(chain_, 0) < seq_:
            return checked, None, (f"chain {chain_} ends at entry {ends.get(chain_, 0)} before {by} "
                                   f"(entry {seq_}): entries removed at the end")
    return checked, None, ""
