"""Complaint statistics: counts per dimension, time to reply, on-time rate of handling.

Everything is one aggregate query per figure (GROUP BY in the database), over the
complaints the user may see (the caller passes a scoped queryset), so the cost does
not grow with the rows in Python. Regions are the children of the user's scope root
(a city officer sees its counties), grouped by the head of `region_code`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.models import Clock
from xiaoneng.orgs import access
from xiaoneng.orgs.models import PREFIX_LENGTH, Region
from xiaoneng.web import stat_tables

from .models import Channel, Result, Satisfaction, Status

DIMENSIONS: dict[str, str] = {
    "channel": _("按渠道"),
    "organ": _("按承办机关"),
    "region": _("按区划"),
    "category": _("按类别"),
    "result": _("按核查结论"),
    "satisfaction": _("按满意度"),
    "status": _("按状态"),
}


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    count: int


def _choice_rows(queryset, field: str, choices, empty_label: str) -> list[Row]:
    labels = {str(value): str(label) for value, label in choices}
    counts = queryset.order_by().values(field).annotate(n=Count("pk"))
    rows = [Row(str(c[field] if c[field] is not None else ""),
                labels.get(str(c[field]), empty_label) if c[field] not in (None, "") else empty_label, c["n"])
            for c in counts]
    order = {str(value): i for i, (value, _label) in enumerate(choices)}
    return sorted(rows, key=lambda r: (order.get(r.key, len(order)), r.label))


def _fk_rows(queryset, field: str, name_field: str, empty_label: str) -> list[Row]:
    counts = queryset.order_by().values(field, name_field).annotate(n=Count("pk")).order_by("-n", name_field)
    return [Row(str(c[field] or ""), c[name_field] or empty_label, c["n"]) for c in counts]


def scope_root(user) -> Region | None:
    """The deepest region that holds every region the user sees complaints in."""
    prefixes = access.region_prefixes(user, "complaint.view")
    if prefixes is None:
        return Region.objects.filter(parent__isnull=True).order_by("code").first()
    if not prefixes:
        return None
    common = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(common):
            common = common[:-1]
    heads = [common[:n] for n in sorted(PREFIX_LENGTH.values()) if n <= len(common)]
    return Region.objects.filter(prefix__in=heads).order_by("-level").first()


def region_rows(queryset, root: Region | None) -> list[Row]:
    if root is None:
        return []
    length = PREFIX_LENGTH.get(root.level + 1)
    if length is None:
        return [Row(root.prefix, root.name, queryset.count())]
    names = dict(Region.objects.filter(parent=root).values_list("prefix", "name"))
    counts = (queryset.order_by().annotate(head=Substr("region_code", 1, length))
              .values("head").annotate(n=Count("pk")).order_by("head"))
    rows = []
    for c in counts:
        label = names.get(c["head"]) or (_t("%(name)s本级") % {"name": root.name})
        rows.append(Row(c["head"], label, c["n"]))
    return sorted(rows, key=lambda r: (-r.count, r.key))


def dimension_rows(queryset, dimension: str, root: Region | None) -> list[Row]:
    none = _t("（未填）")
    if dimension == "channel":
        return _choice_rows(queryset, "channel", Channel.choices, none)
    if dimension == "status":
        return _choice_rows(queryset, "status", Status.choices, none)
    if dimension == "result":
        return _choice_rows(queryset, "result", Result.choices, _t("（尚无结论）"))
    if dimension == "satisfaction":
        return _choice_rows(queryset, "satisfaction", Satisfaction.choices, _t("（尚未评价）"))
    if dimension == "organ":
        return _fk_rows(queryset, "organ_id", "organ__name", _t("（尚未转办）"))
    if dimension == "category":
        return _fk_rows(queryset, "category_id", "category__name", none)
    if dimension == "region":
        return region_rows(queryset, root)
    raise KeyError(dimension)


def _days(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 86400, 1)


def reply_times(queryset) -> dict:
    """Average and median days from registration to reply, over replied complaints."""
    replied = queryset.order_by().filter(replied_at__isnull=False).annotate(
        took=ExpressionWrapper(F("replied_at") - F("received_at"), output_field=DurationField()))
    n = replied.count()
    if not n:
        return {"count": 0, "average": None, "median": None}
    average = replied.aggregate(avg=Avg("took"))["avg"]
    ordered = replied.order_by("took", "pk").values_list("took", flat=True)
    middle = list(ordered[(n - 1) // 2: n // 2 + 1])  # one value, or the two middle ones
    median = sum(middle, timedelta()) / len(middle)
    return {"count": n, "average": _days(average), "median": _days(median)}


def on_time(queryset, now=None) -> dict:
    """Handling clocks finished in time, against those finished late or overdue now."""
    now = now or timezone.now()
    stopped = Q(state=Clock.State.STOPPED)
    clocks = Clock.objects.filter(pk__in=queryset.order_by().filter(handling_clock__isnull=False)
                                  .values("handling_clock_id"))
    figures = clocks.aggregate(
        in_time=Count("pk", filter=stopped & (Q(due_at__isnull=True) | Q(stopped_at__lte=F("due_at")))),
        late=Count("pk", filter=(stopped & Q(stopped_at__gt=F("due_at"))) | (~stopped & Q(due_at__lt=now))),
        running=Count("pk", filter=~stopped & (Q(due_at__isnull=True) | Q(due_at__gte=now))),
    )
    judged = figures["in_time"] + figures["late"]
    figures["rate"] = round(100 * figures["in_time"] / judged, 1) if judged else None
    return figures


def compute(queryset, root: Region | None) -> dict:
    """Every figure of the statistics page for the (scoped, filtered) complaints."""
    return {
        "total": queryset.count(),
        "dimensions": [(key, str(label), dimension_rows(queryset, key, root)) for key, label in DIMENSIONS.items()],
        "reply": reply_times(queryset),
        "on_time": on_time(queryset),
    }


def chart_data(label: str, rows: list[Row], n: int | None = None) -> dict:
    """What static/complaints/stats.js draws: horizontal bars of the `n` largest counts and the `n`
    smallest (`stats_chart_top_n`; every row when there are no more than 2n), see web/stat_tables."""
    return stat_tables.chart_pair(label, rows, lambda r: r.count, lambda r: r.label, n)


def table(request, key: str, label: str, rows: list[Row]):
    """One dimension's table on the page: paged and sortable by name or count; the rows keep the
    dimension's own order (choices in their order, organs and regions by count) until sorted."""
    return stat_tables.paged(request, key, rows, {
        "label": stat_tables.Sort(label, lambda r: r.label),
        "count": stat_tables.Sort(_t("件数"), lambda r: r.count, numeric=True),
    }, default_sort="")
