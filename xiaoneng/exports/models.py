"""Background exports: a list page's rows, written to an .xlsx file by the `exports run` loop.

A job stores which list (its URL name) and the page's query string, never a queryset: the worker
rebuilds the list for the requesting user at run time, through the page's own scope, filter form
and sort, so a user who lost a grant meanwhile gets only what the new scope shows.
"""
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Export(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("导出中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.CASCADE,
                             related_name="+")
    list_name = models.CharField(_("列表"), max_length=80)
    title = models.CharField(_("名称"), max_length=100)
    query = models.CharField(_("筛选条件"), max_length=2000, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(_("已导出行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), null=True, blank=True)
    # Recorded only once the file is complete and renamed into place: a job never points at half a file.
    file = models.CharField(_("文件"), max_length=300, blank=True)
    size = models.BigIntegerField(_("文件大小"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    # The worker that runs the job and when it last said so; a running job whose heartbeat is older
    # than `export_stale_seconds` belongs to a dead worker and is claimed again.
    claimed_by = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导出")
        verbose_name_plural = _("导出")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="export_user_recent"),
            models.Index(fields=["state", "created_at"], name="export_state_created"),
        ]

    def __str__(self):
        return f"{self.title} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)
