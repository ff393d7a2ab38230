"""Clocks: every deadline the platform watches, with stored, indexed `warn_at`/`due_at`.

A clock belongs to a subject (a case, a step, a complaint, an order …) through a
generic relation plus a `kind` string, and to an organ and region for scoping. The
monitoring loop reads only `next_check_at`, the earliest moment something may happen
to the clock (its warning, then its deadline), so a pass costs what is due, not what
is open.
"""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.lib.refs import reference
from xiaoneng.orgs.models import prefix_index


class Unit(models.TextChoices):
    WORKING = "working", _("工作日")
    CALENDAR = "calendar", _("自然日")
    HOURS = "hours", _("小时")


class Clock(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("计时中")
        PAUSED = "paused", _("暂停")
        STOPPED = "stopped", _("已停止")

    class StartReason(models.TextChoices):
        """Why a clock starts earlier than the act it counts from (the explanation says it)."""

        NONE = "", _("自该行为起算")
        DEEMED_LATE_CORRECTION = "deemed.late_correction", _("补正告知逾期，视为受理")
        DEEMED_LATE_ACCEPTANCE = "deemed.late_acceptance", _("逾期受理且未告知补正，视为受理")

    kind = models.CharField(_("时限类型"), max_length=40)
    label = models.CharField(_("名称"), max_length=200, blank=True)
    subject_type = reference(ContentType, null=True, blank=True, on_delete=models.CASCADE, db_index=False)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    organ = reference("orgs.Organ", verbose_name=_("责任机关"), null=True, blank=True, on_delete=models.PROTECT)
    region_code = models.CharField(max_length=12, blank=True, default="")

    start_at = models.DateTimeField(_("起算时间"))
    limit = models.PositiveIntegerField(_("时限"))
    unit = models.CharField(_("单位"), max_length=10, choices=Unit.choices, default=Unit.WORKING)
    legal_basis = models.CharField(_("法律依据"), max_length=200, blank=True)
    # A case accepted late counts as accepted from receipt (行政许可法 Art. 32): its clocks that count
    # from acceptance start at receipt, and say why.
    start_reason = models.CharField(_("起算说明"), max_length=40, blank=True, default="",
                                    choices=StartReason.choices)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.RUNNING)
    stopped_at = models.DateTimeField(_("停止时间"), null=True, blank=True)

    # Derived by xiaoneng.clocks.engine and stored so that lists, rules and the loop use indexes.
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("到期时间"), null=True, blank=True, db_index=True)
    extension_days = models.PositiveIntegerField(_("延长天数"), default=0)
    provisional = models.BooleanField(_("临时计算"), default=False, help_text=_("用到了尚未载入官方日历的年份"))

    # Monitoring: when the loop should look next, and what it has already fired.
    next_check_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(_("已预警"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("已超期"), null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        # Every index costs each clock update (the monitoring pass rewrites thousands a minute), so
        # only those that queries use: no pattern-ops copies of `kind`, nothing on low-cardinality
        # `state` (open clocks are served by the partial `clock_open_due`), `warn_at` filters always
        # come with `due_at`, and stopped clocks (most of them) stay out of the `next_check_at` index.
        indexes = [
            models.Index(fields=["kind"], name="clock_kind"),
            models.Index(fields=["subject_type", "subject_id"], name="clock_subject"),
            prefix_index("clock_region_like", "region_code"),
            models.Index(fields=["next_check_at"], name="clock_next_check",
                         condition=models.Q(next_check_at__isnull=False)),
        ]

    def __str__(self):
        return self.label or f"{self.kind} #{self.pk}"

    # --- what is true now (no side effects) ---
    def is_overdue(self, now) -> bool:
        if self.due_at is None:
            return False
        end = self.stopped_at if self.state == self.State.STOPPED else now
        return end > self.due_at

    def is_open(self) -> bool:
        return self.state != self.State.STOPPED


class ClockPause(models.Model):
    """The clock stands still on these dates (inclusive) — Art. 45 special procedures."""

    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("暂停时间"))
    ended_at = models.DateTimeField(_("恢复时间"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=200)
    legal_basis = models.CharField(_("法律依据"), max_length=200, blank=True)
    announced_days = models.PositiveIntegerField(_("告知时长（天）"), null=True, blank=True)

    class Meta:
        verbose_name = _("暂停")
        verbose_name_plural = _("暂停")
        ordering = ["started_at"]


class ClockExtension(models.Model):
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="extensions")
    days = models.PositiveIntegerField(_("延长天数"))
    reason = models.CharField(_("理由"), max_length=500)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批准人"), null=True, blank=True, on_delete=models.PROTECT
    )
    approver_name = models.CharField(_("批准人姓名"), max_length=100)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("延长")
        verbose_name_plural = _("延长")
        ordering = ["at"]


class ClockEvent(models.Model):
    """What the monitoring loop found: each kind at most once per clock."""

    class Kind(models.TextChoices):
        WARNED = "warned", _("临近到期")
        OVERDUE = "overdue", _("已超期")

    # `clock_event_once` (clock, kind) serves look-ups by clock too.
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    worker = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("时限事件")
        verbose_name_plural = _("时限事件")
        constraints = [models.UniqueConstraint(fields=["clock", "kind"], name="clock_event_once")]
