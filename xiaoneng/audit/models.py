"""The append-only, hash-chained audit log.

Each entry stores the SHA-256 of its own canonical content together with the hash of
the entry before it, so removing, reordering or editing any entry breaks every hash
after it; `xiaoneng audit verify` walks the chain and names the first broken entry.
"""
import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64


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
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

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
        return hashlib.sha256((self.prev_hash + self.canonical()).encode("utf-8")).hexdigest()

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit entries are append-only")


class ChainHead(models.Model):
    """One row holding the last hash; locking it serialises writers on PostgreSQL."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default=GENESIS)
    last_entry = models.BigIntegerField(default=0)
