"""Staff notifications (通知), each user's delivery preferences, and case extension requests.

A `Notification` is one message to one staff user, created by `actions.do_notify_staff`
after the event that caused it committed. `(recipient, dedup_key)` is unique, so an
event replayed (a listener run twice, a monitoring pass repeated after a crash) never
notifies anyone twice; the outbox message that carries it by SMS or e-mail is queued in
the same transaction, so there is one message exactly when there is one notification.

An `ExtensionRequest` is a handler's request to extend a case (reasons, days), approved
or refused by a leader of the case's organ with their own account; only an approval
extends the case (`approvals.actions.do_extend_case` with `approver=` the leader).
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CARD = "card", _("红黄牌")
    ORDER = "order", _("督办")
    COMPLAINT = "complaint", _("投诉转办")
    DEADLINE = "deadline", _("临近到期")
    REMINDER = "reminder", _("催办")
    EXTENSION = "extension", _("延期审批")
    # The persons concerned by an accountability case (and their organ's leaders): notice, decision, appeals.
    ACCOUNTABILITY = "acct", _("效能问责")
    APPRAISAL = "appraisal", _("考核结果")


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE,
                                  related_name="notifications", db_index=False)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    dedup_key = models.CharField(max_length=120, editable=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发送人"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+", db_index=False)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "dedup_key"], name="notification_once")]
        # A user's list (newest first) and the header's unread count.
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_list"),
            models.Index(fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self):
        return self.title


class Preference(models.Model):
    """Where a user wants each kind of notification besides the platform: {kind: ["sms", "email"]}."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_preference")
    phone = models.CharField(_("接收短信的手机号"), max_length=20, blank=True)
    channels = models.JSONField(_("渠道"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")

    def wants(self, kind: str) -> list[str]:
        return [c for c in self.channels.get(kind, []) if c in Channel.values]


class ExtensionRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("不予批准")

    case = models.ForeignKey("approvals.Case", verbose_name=_("办件"), on_delete=models.CASCADE,
                             related_name="extension_requests")
    days = models.PositiveIntegerField(_("延长工作日数"))
    reasons = models.TextField(_("延长理由"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(_("申请时间"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审批人"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    note = models.TextField(_("审批意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["requested_at", "id"]
        # One pending request per case: a second click (or a second handler) cannot ask twice.
        constraints = [models.UniqueConstraint(fields=["case"], condition=models.Q(state="pending"),
                                               name="extension_request_one_pending")]
        indexes = [models.Index(fields=["state"], condition=models.Q(state="pending"), name="extension_pending")]

    def __str__(self):
        return f"{self.case} +{self.days}"
