"""Electronic supervision (电子监察): alerts with warning / yellow / red levels, their life,
supervision orders (督办) and accountability proposals.

An alert is raised by a rule (xiaoneng/supervision/rules/, one module per rule) about a
subject — usually a case or one of its clocks — with the numbers that make the
finding and its legal basis. `dedup_key` is unique, so the same finding is never
raised twice, even by two monitoring workers at once.
"""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.lib.refs import reference
from xiaoneng.orgs.models import Organ, prefix_index


class Level(models.TextChoices):
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


LEVEL_RANK = {Level.WARNING: 1, Level.YELLOW: 2, Level.RED: 3}


class AlertStatus(models.TextChoices):
    RAISED = "raised", _("待说明")
    EXPLAINED = "explained", _("已说明")
    APPEALED = "appealed", _("申诉中")
    CLOSED = "closed", _("已办结")
    DISMISSED = "dismissed", _("已撤销")
    ESCALATED = "escalated", _("已升级督办")


class Alert(models.Model):
    rule = models.CharField(_("规则"), max_length=60)
    level = models.CharField(_("等级"), max_length=10, choices=Level.choices)
    status = models.CharField(_("状态"), max_length=12, choices=AlertStatus.choices, default=AlertStatus.RAISED)
    organ = reference(Organ, verbose_name=_("责任机关"), on_delete=models.PROTECT, related_name="alerts",
                              db_index=False)
    region_code = models.CharField(max_length=12, editable=False)
    subject_type = reference(ContentType, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    subject_label = models.CharField(_("对象"), max_length=200, blank=True)
    clock = models.ForeignKey(Clock, verbose_name=_("时限"), null=True, blank=True, on_delete=models.SET_NULL)
    message = models.TextField(_("情况"))
    evidence = models.JSONField(_("证据"), default=dict, blank=True)
    legal_basis = models.CharField(_("依据"), max_length=300, blank=True)
    raised_at = models.DateTimeField(_("发现时间"), db_index=True)
    dedup_key = models.CharField(max_length=200, editable=False)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("监察预警")
        verbose_name_plural = _("监察预警")
        ordering = ["-raised_at", "-id"]
        # The monitoring pass inserts thousands of alerts a minute and every index costs each insert:
        # no pattern-ops copies (nothing filters these columns with LIKE), no index on the three
        # levels, the organ's alerts through (organ, status), a subject's alerts through both columns.
        indexes = [
            prefix_index("alert_region_like", "region_code"),
            models.Index(fields=["organ", "status"]),
            models.Index(fields=["rule"], name="alert_rule"),
            models.Index(fields=["status"], name="alert_status"),
            models.Index(fields=["subject_type", "subject_id"], name="alert_subject"),
        ]
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="alert_dedup_key")]

    def __str__(self):
        return f"{self.get_level_display()} · {self.subject_label or self.rule}"

    def is_open(self) -> bool:
        return self.status in (AlertStatus.RAISED, AlertStatus.EXPLAINED, AlertStatus.APPEALED)


class HeldDigest(models.Model):
    """Alerts a monitoring pass raised that no digest has reported yet: a count per organ and level, written
    in the transaction that raises the alerts and deleted in the one that queues their digests.

    So a pass killed part-way loses no digest (what its committed batches raised is on record) and none is
    sent twice (the rows a digest reports go with it). One row per organ and level a batch raised alerts
    for — a few dozen a batch, not one per alert — so a pass writes no second version of each alert."""

    organ = reference(Organ, on_delete=models.CASCADE, db_index=False)
    level = models.CharField(max_length=10, choices=Level.choices)
    count = models.PositiveIntegerField()


class AlertStep(models.Model):
    """Every step of an alert's life after it was raised: explanation, verification, appeal, decision.

    The raising itself is the alert row (`raised_at`, message, evidence): a monitoring pass
    raises thousands of alerts, and a step row repeating each one doubled its writes. The
    alert page shows it as the timeline's first entry (kind RAISE)."""

    class Kind(models.TextChoices):
        RAISE = "raise", _("发现")
        EXPLAIN = "explain", _("情况说明")
        CLOSE = "close", _("核实办结")
        DISMISS = "dismiss", _("撤销")
        ESCALATE = "escalate", _("升级督办")
        APPEAL = "appeal", _("申诉")
        UPHOLD = "uphold", _("维持")
        ACCEPT_APPEAL = "accept_appeal", _("申诉成立")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    from_status = models.CharField(max_length=12, choices=AlertStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=AlertStatus.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=150, blank=True)
    text = models.TextField(blank=True)
    attachment = models.FileField(upload_to="supervision/%Y/%m/", blank=True)

    class Meta:
        ordering = ["at", "id"]


class OrderSource(models.TextChoices):
    ALERT = "alert", _("电子监察预警")
    INSPECTION = "inspection", _("明察暗访")
    MEDIA = "media", _("媒体报道")
    LEADER = "leader", _("领导批示")
    COMPLAINT = "complaint", _("效能投诉")
    OTHER = "other", _("其他")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("督办中")
    REPORTED = "reported", _("已反馈")
    CLOSED = "closed", _("已办结")


class SupervisionOrder(models.Model):
    """督办: a written demand to an organ to put something right by a deadline."""

    number = models.CharField(_("督办编号"), max_length=40, unique=True)
    source = models.CharField(_("来源"), max_length=12, choices=OrderSource.choices)
    alert = models.ForeignKey(Alert, verbose_name=_("预警"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="orders")
    organ = models.ForeignKey(Organ, verbose_name=_("被督办机关"), on_delete=models.PROTECT, related_name="orders")
    region_code = models.CharField(max_length=12, editable=False)
    issuer_region_code = models.CharField(_("督办层级"), max_length=12)
    title = models.CharField(_("事项"), max_length=200)
    demand = models.TextField(_("督办要求"))
    status = models.CharField(_("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN,
                              db_index=True)
    clock = models.OneToOneField(Clock, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(_("督办时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    taken_over = models.BooleanField(_("提级督办"), default=False)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-opened_at"]
        indexes = [prefix_index("order_region_like", "region_code")]

    def __str__(self):
        return f"{self.number} {self.title}"


class OrderStep(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("立项督办")
        FEEDBACK = "feedback", _("机关反馈")
        VERIFY = "verify", _("核实办结")
        RETURN = "return", _("退回重办")
        TAKE_OVER = "take_over", _("提级督办")

    order = models.ForeignKey(SupervisionOrder, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField()
    actor_label = models.CharField(max_length=150, blank=True)
    text = models.TextField(blank=True)
    attachment = models.FileField(upload_to="supervision/%Y/%m/", blank=True)

    class Meta:
        ordering = ["at", "id"]


class AccountabilityProposal(models.Model):
    """A red card, or a founded complaint, proposes accountability; the accountability
    capability takes it from here. Exactly one of `alert` and `complaint` is set."""

    alert = models.OneToOneField(Alert, null=True, blank=True, on_delete=models.PROTECT, related_name="proposal")
    complaint = models.ForeignKey("complaints.Complaint", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="proposals")
    organ = models.ForeignKey(Organ, on_delete=models.PROTECT)
    region_code = models.CharField(max_length=12, editable=False)
    reason = models.TextField()
    proposed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("问责建议")
        verbose_name_plural = _("问责建议")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(alert__isnull=False, complaint__isnull=True)
                | models.Q(alert__isnull=True, complaint__isnull=False),
                name="proposal_one_source",
            )
        ]


class EarlyCompletion(models.Model):
    """Early completion is a positive figure, not an alert: days saved against the promise."""

    clock = models.OneToOneField(Clock, on_delete=models.CASCADE, related_name="+")
    organ = reference(Organ, on_delete=models.PROTECT)
    region_code = models.CharField(max_length=12, editable=False)
    working_days_saved = models.IntegerField()
    at = models.DateTimeField()


# The pre-aggregated roll-ups live in their own module; importing them here registers them.
from .stats_models import OrganDayStat, OrganMonthStat, RollupRun  # noqa: E402, F401
