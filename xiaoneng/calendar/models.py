"""The official working-day calendar, one row per day of every loaded year.

A weekly mask plus a holiday list cannot express China's make-up working weekends
(调休), so every day of a loaded year is stored with whether it is a working day,
why, and where that came from. Years not loaded follow the weekend rule and count
as provisional wherever they are used.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    WORKDAY = "workday", _("工作日")
    WEEKEND = "weekend", _("休息日")
    HOLIDAY = "holiday", _("法定节假日")
    MAKEUP = "makeup", _("调休上班")


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(_("来源"), max_length=200)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = _("日历年度")
        ordering = ["year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    date = models.DateField(_("日期"), primary_key=True)
    is_working = models.BooleanField(_("工作日"))
    kind = models.CharField(_("类型"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("说明"), max_length=60, blank=True)
    source = models.CharField(_("来源"), max_length=200)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("日历日")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"


class CalendarRevision(models.Model):
    """Bumped by every calendar change, so every process knows to reload its arrays."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    number = models.PositiveIntegerField(default=0)
