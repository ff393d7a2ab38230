"""Pre-aggregated supervision figures (roll-ups), maintained by `xiaoneng stats refresh`.

At the `province` scale (ten million cases a year) a dashboard cannot count cases on
every request. `xiaoneng.supervision.stats` folds cases, clocks, alerts and early
completions into one row per (organ, day) and, from those, one row per (organ, month):
a year of the province is then ~12 × the active organs (tens of thousands of rows),
and a county's a few hundred. Every row carries the organ's region prefix, so a region
subtree is one range scan and a child-region roll-up is a GROUP BY on a prefix of it.

Attribution (each case counts once per figure, on the day its fate was sealed):

* received — the day it was received;
* decided, timed, used_days, limit_days — the day of the decision;
* on_time — the day of a decision made within the promise clock's deadline;
* late — the day the promise fell due without a decision: cases decided late *and*
  cases still open past their deadline count, on the day they became late;
* warnings / yellows / reds — the day the alert was raised; early — the day of the
  early completion (its working days saved summed in early_days).

What is true *now* (open and already overdue, open supervision orders, the red/yellow
board) is not stored here: it is read live from indexed columns.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs.access import register_scope
from xiaoneng.orgs.models import Organ

FIGURES = (
    "received", "decided", "on_time", "late", "timed", "used_days", "limit_days",
    "warnings", "yellows", "reds", "early", "early_days",
)


class RollupFigures(models.Model):
    # Derived rows, rebuilt by the refresh: no database constraint, so that loading them
    # checks nothing and truncating the organ table (test flushes) never trips over them.
    organ = models.ForeignKey(Organ, verbose_name=_("机关"), on_delete=models.DO_NOTHING, related_name="+",
                              db_constraint=False)
    region_code = models.CharField(max_length=12)
    received = models.PositiveIntegerField(_("收件"), default=0)
    decided = models.PositiveIntegerField(_("办结（作出决定）"), default=0)
    on_time = models.PositiveIntegerField(_("按承诺时限办结"), default=0)
    late = models.PositiveIntegerField(_("超承诺时限（含未办结超期）"), default=0)
    timed = models.PositiveIntegerField(_("计入用时的办件"), default=0)
    used_days = models.PositiveIntegerField(_("用时合计（工作日）"), default=0)
    limit_days = models.PositiveIntegerField(_("时限合计（工作日）"), default=0)
    warnings = models.PositiveIntegerField(_("预警"), default=0)
    yellows = models.PositiveIntegerField(_("黄牌"), default=0)
    reds = models.PositiveIntegerField(_("红牌"), default=0)
    early = models.PositiveIntegerField(_("提前办结"), default=0)
    early_days = models.PositiveIntegerField(_("提前工作日合计"), default=0)

    class Meta:
        abstract = True


class OrganDayStat(RollupFigures):
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("机关日统计")
        verbose_name_plural = _("机关日统计")
        constraints = [models.UniqueConstraint(fields=["organ", "day"], name="organ_day_stat_once")]
        indexes = [models.Index(fields=["day", "region_code"], name="organ_day_stat_day")]


class OrganMonthStat(RollupFigures):
    month = models.DateField(_("月份"), help_text=_("当月第一天"))

    class Meta:
        verbose_name = _("机关月统计")
        verbose_name_plural = _("机关月统计")
        constraints = [models.UniqueConstraint(fields=["organ", "month"], name="organ_month_stat_once")]
        indexes = [models.Index(fields=["region_code", "month"], name="organ_month_stat_region")]


class RollupRun(models.Model):
    """One refresh of the roll-ups: what it covered and when it finished (shown on the dashboard)."""

    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True, db_index=True)
    since = models.DateField(_("重算起始日"), null=True, blank=True, help_text=_("空：全部重算"))
    rows = models.PositiveIntegerField(_("日统计行数"), default=0)
    seconds = models.FloatField(_("用时（秒）"), default=0)

    class Meta:
        verbose_name = _("统计刷新")
        verbose_name_plural = _("统计刷新")
        ordering = ["-started_at"]


for _model in (OrganDayStat, OrganMonthStat):
    register_scope(_model, region="region_code", organ_path="organ__path")
