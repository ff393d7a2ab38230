"""The append-only, keyed, hash-chained audit log.

The log is cut into `PARTITIONS` chains so that concurrent writers do not queue on one
row (see log.record). Each entry of a chain stores the HMAC-SHA256, under a key kept
outside the database (settings.XIAONENG_AUDIT_KEY), of its canonical content, its place
(chain, seq) and the hash of the entry before it in its chain: someone with database
access but not the key can neither edit an entry nor recompute the hashes after it.
Checkpoints sign every chain's head periodically; `xiaoneng audit verify` walks every
chain and checks the checkpoints, and names the first broken entry.

Entries written before the chains were keyed (migration 0002) are chain 0's first
`legacy` entries, hashed with plain SHA-256 as before; the migration signed where they
end with the key, so rewriting them breaks that signed checkpoint.
"""
import hashlib
import hmac
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64
PARTITIONS = 16  # chains; each entry records its own, so changing this later is harmless


def audit_key() -> bytes:
    return settings.XIAONENG_AUDIT_KEY.encode("utf-8")


def sign(message: str, key: bytes | None = None) -> str:
    return hmac.new(key or audit_key(), message.encode("utf-8"), hashlib.sha256).hexdigest()


class AuditEntry(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", _("网页")
        API = "api", _("接口")
        ADMIN = "admin", _("后台")
        COMMAND = "command", _("命令")
        SYSTEM = "system", _("系统")

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    actor_label = models.CharField(_("操作人标识"), max_length=150)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True, db_index=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    # Where the object belongs, so the log itself can be scoped like everything else.
    region_code = models.CharField(_("区划"), max_length=12, blank=True, default="", db_index=True)
    # The entry's chain and its place in it (1, 2, …); the hash covers both.
    chain = models.PositiveSmallIntegerField(default=0)
    seq = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_entry_chain_seq")]

    def __str__(self):
        from xiaoneng.web.names import action_name, object_type_name  # words, not codes (readable records)

        return f"{self.pk} {action_name(self.action)} {object_type_name(self.object_type)} {self.object_repr}".strip()

    def canonical(self) -> str:
        """The content the hash covers, as stable JSON (sorted keys, UTC ISO time)."""
        return json.dumps(
            {
                "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
                "actor": self.actor_id,
                "actor_label": self.actor_label,
                "channel": self.channel,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "object_repr": self.object_repr,
                "changes": self.changes,
                "ip": self.ip,
                "region_code": self.region_code,
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )

    def compute_hash(self) -> str:
        """The unkeyed SHA-256 of the entries written before the chains were keyed (legacy)."""
        return hashlib.sha256((self.prev_hash + self.canonical()).encode("utf-8")).hexdigest()

    def compute_mac(self, key: bytes | None = None) -> str:
        """HMAC-SHA256 under the audit key of (chain, seq, previous hash, content)."""
        return sign(f"{self.chain}:{self.seq}:{self.prev_hash}:{self.canonical()}", key)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit entries are append-only")


class ChainHead(models.Model):
    """The last entry of one chain (id = chain number); a writer locks only the head it appends to."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    last_entry = models.BigIntegerField(default=0)
    last_seq = models.BigIntegerField(default=0)


class Checkpoint(models.Model):
    """Every chain's head at one moment, signed with the audit key (append-only like the entries).

    `heads` is {chain: [seq, hash]}. `legacy` marks the checkpoint migration 0002 wrote: chain 0's
    entries up to its seq are the unkeyed ones written before the chains were keyed.
    """

    at = models.DateTimeField(_("时间"))
    heads = models.JSONField(default=dict)
    legacy = models.BooleanField(default=False)
    mac = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        ordering = ["id"]

    def __str__(self):
        return f"checkpoint #{self.pk} {self.at:%Y-%m-%d %H:%M:%S}"

    @staticmethod
    def message(at, heads: dict, legacy: bool) -> str:
        return json.dumps({"at": at.astimezone(UTC).isoformat(timespec="microseconds"),
                           "heads": {str(k): list(v) for k, v in heads.items()}, "legacy": legacy},
                          sort_keys=True, separators=(",", ":"))

    def compute_mac(self, key: bytes | None = None) -> str:
        return sign(self.message(self.at, self.heads, self.legacy), key)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit checkpoints are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit checkpoints are append-only")
