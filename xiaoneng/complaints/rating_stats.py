"""好差评 statistics per organ and per matter: one GROUP BY query per table.

Figures (annulled ratings — appeals upheld — are left out of every one):

* count, and the share of each of the five levels;
* 好评率 = (非常满意 + 满意) / all; 差评率 = (不满意 + 非常不满意) / all;
* the average of each sub-indicator (over the ratings that carry it: online and window
  ratings have different indicators);
* bad reviews to rectify (named bad reviews, which have a rectification clock) and those
  rectified on time (clock stopped by the report no later than its due time).

The page draws two charts from the same numbers (ECharts from the local vendor copy,
drawn by web/js/charts.js from json_script blocks: the CSP forbids inline scripts), and
each table exports to Excel with the same columns.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.lib.xlsx import xlsx_response
from xiaoneng.orgs import access
from xiaoneng.web import stat_tables

from .models import BAD_LEVELS, SUB_INDICATORS, Rating, RatingKind, RatingStatus, Satisfaction
from .rating_forms import DateRangeMixin

GOOD_LEVELS = (Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED)
LEVELS = [int(v) for v in sorted(Satisfaction.values, reverse=True)]


class StatsFilterForm(DateRangeMixin, forms.Form):
    kind = forms.ChoiceField(label=_("评价类型"), required=False, choices=[("", _("全部类型")), *RatingKind.choices])
    date_from = forms.DateField(label=_("评价日期自"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("评价日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def indicators(kind: str) -> dict[str, object]:
    """The sub-indicators a table shows: the kind's, or every kind's in order."""
    if kind:
        return dict(SUB_INDICATORS[kind])
    merged: dict[str, object] = {}
    for per_kind in SUB_INDICATORS.values():
        merged.update(per_kind)
    return merged


def _aggregates(keys) -> dict:
    on_time = Q(rectification_clock__state=Clock.State.STOPPED, status=RatingStatus.RECTIFIED,
                rectification_clock__stopped_at__lte=F("rectification_clock__due_at"))
    values = {
        "total": Count("pk"),
        "good": Count("pk", filter=Q(level__in=GOOD_LEVELS)),
        "bad": Count("pk", filter=Q(level__in=BAD_LEVELS)),
        "to_rectify": Count("pk", filter=Q(rectification_clock__isnull=False)),
        "on_time": Count("pk", filter=on_time),
    }
    values.update({f"l{level}": Count("pk", filter=Q(level=level)) for level in LEVELS})
    values.update({f"avg_{key}": Avg(Cast(KT(f"scores__{key}"), FloatField())) for key in keys})
    return values


def _share(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class Row:
    label: str
    code: str
    total: int
    levels: list[int]
    shares: list[float | None]
    good_rate: float | None
    bad_rate: float | None
    averages: list[float | None]
    to_rectify: int
    on_time: int
    on_time_rate: float | None = field(default=None)

    @property
    def level_pairs(self) -> list[tuple[int, float | None]]:
        return list(zip(self.levels, self.shares, strict=True))


def _row(label: str, code: str, data: dict, keys) -> Row:
    total = data["total"]
    levels = [data[f"l{level}"] for level in LEVELS]
    return Row(
        label=label, code=code, total=total, levels=levels, shares=[_share(n, total) for n in levels],
        good_rate=_share(data["good"], total), bad_rate=_share(data["bad"], total),
        averages=[round(data[f"avg_{k}"], 2) if data[f"avg_{k}"] is not None else None for k in keys],
        to_rectify=data["to_rectify"], on_time=data["on_time"],
        on_time_rate=_share(data["on_time"], data["to_rectify"]),
    )


def counted(user, form: StatsFilterForm):
    """The ratings the statistics count: in the user's scope, filtered, not annulled."""
    qs = access.scoped(Rating.objects.all(), user, "rating.view").exclude(status=RatingStatus.ANNULLED)
    return form.in_range(qs) if form.is_valid() else qs.none()


def by_organ(qs, keys) -> list[Row]:
    grouped = qs.values("organ_id", "organ__name", "organ__region_code").annotate(**_aggregates(keys))
    return [_row(g["organ__name"], g["organ__region_code"], g, keys)
            for g in grouped.order_by("organ__region_code", "organ__name", "organ_id")]


def by_matter(qs, keys) -> list[Row]:
    grouped = qs.values("matter_id", "matter__code", "matter__name").annotate(**_aggregates(keys))
    return [_row(g["matter__name"] or _t("未关联事项（窗口评价）"), g["matter__code"] or "", g, keys)
            for g in grouped.order_by("matter__code", "matter_id")]


def overall(qs, keys) -> Row:
    return _row(_t("合计"), "", qs.aggregate(**_aggregates(keys)), keys)


def headers(first: str, keys: dict) -> list[str]:
    return [first, _t("编码"), _t("评价数"),
            *[f"{Satisfaction(level).label}" for level in LEVELS],
            *[f"{Satisfaction(level).label}{_t('占比')}(%)" for level in LEVELS],
            _t("好评率(%)"), _t("差评率(%)"), *[f"{label}{_t('均分')}" for label in keys.values()],
            _t("应整改差评"), _t("按期整改"), _t("按期整改率(%)")]


def cells(row: Row) -> list:
    return [row.label, row.code, row.total, *row.levels, *row.shares, row.good_rate, row.bad_rate, *row.averages,
            row.to_rectify, row.on_time, row.on_time_rate]


def table(request, key: str, first: str, rows: list[Row]):
    """A table of the page (web/stat_tables): paged, sortable; unsorted it keeps the query's order
    (organs by region and name, matters by code)."""
    sort = stat_tables.Sort
    return stat_tables.paged(request, key, rows, {
        "label": sort(first, lambda r: r.label),
        "total": sort(_t("评价数"), lambda r: r.total, numeric=True),
        "good": sort(_t("好评率"), lambda r: r.good_rate, numeric=True),
        "bad": sort(_t("差评率"), lambda r: r.bad_rate, numeric=True),
        "on_time": sort(_t("按期整改 / 应整改"), lambda r: r.on_time_rate, numeric=True),
    }, default_sort="")


@login_required
def stats_page(request):
    form = StatsFilterForm(request.GET)
    kind = form.cleaned_data.get("kind", "") if form.is_valid() else ""
    keys = indicators(kind)
    qs = counted(request.user, form)
    export = request.GET.get("export")
    if export in ("organ", "matter"):
        rows = by_organ(qs, keys) if export == "organ" else by_matter(qs, keys)
        first = _t("被评价机关") if export == "organ" else _t("事项")
        name = _t("好差评统计-按机关") if export == "organ" else _t("好差评统计-按事项")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return xlsx_response(f"{name}-{stamp}.xlsx", name, headers(first, keys),
                             [cells(r) for r in [*rows, overall(qs, keys)]])
    organs, matters, total = by_organ(qs, keys), by_matter(qs, keys), overall(qs, keys)
    # 好评率 of the best and the worst organs (stats_chart_top_n each), the full ranking in the table.
    good_chart = stat_tables.chart_pair(_t("好评率(%)"), organs, lambda r: r.good_rate, lambda r: r.label)
    level_chart = {"title": _t("评价数"), "labels": [str(Satisfaction(level).label) for level in LEVELS],
                   "values": total.levels}
    return render(request, "complaints/ratings/stats.html", {
        "form": form, "keys": keys, "levels": [Satisfaction(level).label for level in LEVELS],
        "organs": organs, "matters": matters, "total": total,
        "organ_table": table(request, "organ", _t("被评价机关"), organs),
        "matter_table": table(request, "matter", _t("事项"), matters),
        "good_chart": good_chart, "level_chart": level_chart, "has_data": total.total > 0,
    })
