"""The outbox: every message is stored first and sent after the transaction commits.

If sending fails the row stays `failed` with the error and can be sent again
(`xiaoneng notify retry`), so no notification is lost to a gateway outage. Each attempt is
recorded (`sending`, committed) before the message is handed to the backend; an attempt
whose sender died before it recorded the outcome becomes `unknown` (see `outbox`).
"""
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        UNKNOWN = "unknown", _("结果不明")

    channel = models.CharField(_("渠道"), max_length=10, default="sms")
    to = models.CharField(_("接收人"), max_length=200)
    text = models.TextField(_("内容"))
    kind = models.CharField(_("类型"), max_length=40)
    ref = models.CharField(_("关联"), max_length=100, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The idempotency id the backend hands the gateway with every attempt of this message (the same on each).
    # Null only on messages stored before it existed that were already sent.
    key = models.UUIDField(_("幂等键"), null=True, default=uuid.uuid4, editable=False)
    attempted_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        # The sender reads unsent messages oldest first (`outbox.send`); sent ones, nearly all of
        # them, stay out of the index. Each exchange batch writes hundreds of messages.
        indexes = [models.Index(fields=["id"], name="notify_unsent",
                                condition=models.Q(state__in=["pending", "failed", "sending", "unknown"]))]

    @property
    def idempotency_key(self) -> str:
        return str(self.key) if self.key else f"xiaoneng-message-{self.pk}"
