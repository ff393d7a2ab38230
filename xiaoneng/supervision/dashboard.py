"""The electronic-supervision dashboard (电子监察仪表盘), for supervisors only ("supervise").

Pages (routed by dashboard_urls.py, app "dashboard"):

* ``index`` — the supervisor's own region (or, with several grants, each of them);
* ``region/<code>/`` — a region: counts and rates for the period, a trend by month,
  the child regions (drill-down), the organs ranking, the red/yellow board; the
  numbers that change by the minute (open overdue cases, open orders, open cards) are
  polled every 60 s from ``region/<code>/live/`` (htmx);
* ``region/<code>/trend/``, ``organs/?region=<code>``, ``board/?region=<code>`` — the
  month table, the full organs ranking and the board, each on its own URL;
* ``organ/<pk>/`` — one organ: its figures, trend, open overdue cases (→ case page →
  clock explanation) and cards, with links to its case list (/cases/?organ=<pk>).

Every table's URL answers ``?export=xlsx`` with exactly that table. Figures come from
`stats` (pre-aggregated rows plus live indexed counts), so a request costs the same at
ten million cases as at ten thousand. Anyone without "supervise" gets 404, and a region
or organ outside the supervisor's scope is 404 too.
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from xiaoneng.approvals.models import Case
from xiaoneng.lib.xlsx import xlsx_response
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ, Region
from xiaoneng.web import stat_tables

from . import stats
from .stats import PERM, Figures

LIVE_SECONDS = 60
BOARD_PAGE_LIMIT = 200
ORGANS_PER_PAGE = 50


# --- scope ---------------------------------------------------------------------------------
def _supervisor(request) -> None:
    if not access.has_perm(request.user, PERM):
        raise Http404


def roots(user) -> list[Region]:
    """The top regions of the user's supervision scope (nested grants collapse)."""
    prefixes = access.region_prefixes(user, PERM)
    if prefixes is None:
        return list(Region.objects.filter(level=1).order_by("code"))
    top = [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]
    return list(Region.objects.filter(prefix__in=top).order_by("code"))


def region_or_404(user, code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise Http404
    prefixes = access.region_prefixes(user, PERM)
    if prefixes is not None and not any(region.prefix.startswith(p) for p in prefixes):
        raise Http404
    return region


def organ_or_404(user, pk: int) -> Organ:
    return access.get_scoped_or_404(Organ.objects.select_related("region"), user, PERM, pk=pk)


def scope_param(request) -> Region | None:
    """`?region=<code>` (checked), else the user's one root region, else None: the whole scope."""
    code = request.GET.get("region")
    if code:
        return region_or_404(request.user, code)
    tops = roots(request.user)
    return tops[0] if len(tops) == 1 else None


def trail(user, region: Region | None) -> list[Region]:
    """Breadcrumbs: the region's ancestors inside the user's scope, then the region."""
    if region is None:
        return []
    prefixes = access.region_prefixes(user, PERM)
    chain = [*region.ancestors(), region]
    if prefixes is None:
        return chain
    return [r for r in chain if any(r.prefix.startswith(p) for p in prefixes)]


# --- tables as columns (page and Excel share them) -----------------------------------------
def _pct(x):
    return None if x is None else round(x, 1)


def _num(x, digits=1):
    return None if x is None else round(x, digits)


FIGURE_COLUMNS = [
    (_("收件"), lambda f: f.received),
    (_("办结"), lambda f: f.decided),
    (_("按时办结"), lambda f: f.on_time),
    (_("超期（含未办结超期）"), lambda f: f.late),
    (_("按时办结率（%）"), lambda f: _pct(f.on_time_rate)),
    (_("平均用时（工作日）"), lambda f: _num(f.avg_used)),
    (_("平均时限（工作日）"), lambda f: _num(f.avg_limit)),
    (_("用时占时限（%）"), lambda f: _pct(f.use_ratio)),
    (_("预警"), lambda f: f.warnings),
    (_("黄牌"), lambda f: f.yellows),
    (_("红牌"), lambda f: f.reds),
    (_("每百件预警"), lambda f: _num(f.warnings_per_100, 2)),
    (_("每百件黄牌"), lambda f: _num(f.yellows_per_100, 2)),
    (_("每百件红牌"), lambda f: _num(f.reds_per_100, 2)),
    (_("提前办结"), lambda f: f.early),
    (_("当前超期未办结"), lambda f: f.open_overdue),
    (_("在办督办"), lambda f: f.open_orders),
]


def _export(name: str, first: list[tuple], rows) -> object:
    columns = [*first, *FIGURE_COLUMNS]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(f"{name}-{stamp}.xlsx", name, [str(label) for label, _f in columns],
                         ([fn(r) for _label, fn in columns] for r in rows))


def _wants_export(request) -> bool:
    return request.GET.get("export") == "xlsx"


# --- charts --------------------------------------------------------------------------------
def trend_chart(months: list[Figures]) -> dict:
    return {
        "labels": [m.label for m in months],
        "series": [
            {"name": str(_("收件")), "type": "bar", "values": [m.received for m in months]},
            {"name": str(_("办结")), "type": "bar", "values": [m.decided for m in months]},
            {"name": str(_("超期")), "type": "bar", "values": [m.late for m in months]},
            {"name": str(_("按时办结率（%）")), "type": "line", "axis": 1,
             "values": [_pct(m.on_time_rate) for m in months]},
        ],
    }


def bar_chart(rows: list[Figures], title: str) -> dict:
    return {"title": title, "labels": [r.label for r in rows], "values": [_pct(r.on_time_rate) for r in rows],
            "unit": "%"}


def ranking_charts(organs: list[Figures]) -> dict:
    """The best and the worst `stats_chart_top_n` organs by on-time rate (the ranking's own tie
    rules), as {top, bottom, n, total, split}: hundreds of organs in one chart cannot be read."""
    n = stat_tables.chart_n()
    judged = [f for f in stats.rank(organs, "on_time") if f.on_time_rate is not None]
    top, bottom = stat_tables.split_ranked(judged, n)
    title = str(_("按时办结率（%）"))
    return {"top": bar_chart(top, title), "bottom": bar_chart(bottom, title) if bottom else None,
            "n": n, "total": len(judged), "split": bool(bottom)}


# --- pages ---------------------------------------------------------------------------------
def _base_context(request, period, region: Region | None = None) -> dict:
    run = stats.last_run()
    return {
        "region": region,
        "region_query": f"region={region.code}" if region is not None else "",
        "scope_name": region.name if region is not None else _t("全部监察范围"),
        "period": period,
        "presets": [(k, label) for k, label in stats.PRESETS.items()],
        "run": run,
        "live_seconds": LIVE_SECONDS,
    }


def _has_data(f: Figures) -> bool:
    return bool(f.received or f.decided or f.assessed or f.alerts or f.open_overdue or f.open_orders)


def _region_link(region: Region, period) -> str:
    return f"{reverse('dashboard:region', args=[region.code])}?{period.query()}"


@login_required
def index(request):
    if not access.has_perm(request.user, PERM) and access.has_perm(request.user, "lead"):
        # An organ leader's dashboard is their organ's (xiaoneng.inbox.leader), not a region's.
        return redirect("inbox:leader")
    _supervisor(request)
    tops = roots(request.user)
    if len(tops) == 1:
        return _region_page(request, tops[0])
    period = stats.period_from(request.GET)
    rows = []
    for region in tops:  # several grants: one row per granted region (a handful at most)
        f = stats.total(stats.trend(request.user, period, region.prefix))
        f.key, f.label, f.url, f.extra["region"] = region.prefix, region.name, _region_link(region, period), region
        f.open_overdue = stats.open_overdue_clocks(request.user, region.prefix).count()
        f.open_orders = stats.open_orders(request.user, region.prefix).count()
        rows.append(f)
    if _wants_export(request):
        return _export(_t("辖区统计"), [(_("区划"), lambda f: f.label)], rows)
    totals = stats.total(rows)
    context = _base_context(request, period)
    context.update(regions=rows, totals=totals, live={
        "open_overdue": totals.open_overdue, "open_orders": totals.open_orders,
        **{k: v for k, v in stats.live(request.user, None).items() if k in ("open_reds", "open_yellows")}})
    return render(request, "supervision/dashboard_index.html", context)


@login_required
def region_page(request, code):
    _supervisor(request)
    return _region_page(request, region_or_404(request.user, code))


def _region_page(request, region: Region):
    user, now = request.user, timezone.now()
    period = stats.period_from(request.GET)
    counts = stats.open_counts(user, region.prefix, now)  # live: shared by the totals, children and organs
    children, own = stats.by_child(user, period, region, now, counts)
    for child in children:
        if "region" in child.extra:
            child.url = _region_link(child.extra["region"], period)
    if own is not None:
        own.url = f"{reverse('dashboard:organs')}?region={region.code}&own=1&{period.query()}"
    rows = [*children, *([own] if own is not None and _has_data(own) else [])]
    if _wants_export(request):
        return _export(_t("%(name)s下级区划统计") % {"name": region.name},
                       [(_("区划"), lambda f: f.label), (_("代码前缀"), lambda f: f.key)], rows)
    months = stats.trend(user, period, region.prefix)
    totals = stats.total(months)
    organs = stats.by_organ(user, period, region.prefix, now, counts=counts)
    lowest = stats.rank(organs, "on_time", descending=False)[:stat_tables.chart_n()]
    lowest = [f for f in lowest if f.on_time_rate is not None]
    for f in lowest:
        f.url = f"{reverse('dashboard:organ', args=[f.key])}?{period.query()}"
    context = _base_context(request, period, region)
    context.update(
        trail=trail(user, region), months=months, totals=totals,
        live=stats.live(user, region.prefix, now=now, counts=counts), board=stats.board(user, region.prefix),
        child_rows=rows, lowest=lowest, organ_count=len(organs),
        trend_chart=trend_chart(months),
        children_chart=bar_chart([c for c in children if c.assessed], str(_("按时办结率（%）"))),
        ranking_charts=ranking_charts(organs),
        organs_url=f"{reverse('dashboard:organs')}?region={region.code}&{period.query()}",
        live_url=f"{reverse('dashboard:live', args=[region.code])}?{period.query()}",
    )
    return render(request, "supervision/dashboard.html", context)


@login_required
def live_part(request, code):
    """The polled part: headline figures of the period and the live counts and board."""
    _supervisor(request)
    region = region_or_404(request.user, code)
    period = stats.period_from(request.GET)
    now = timezone.now()
    totals = stats.total(stats.trend(request.user, period, region.prefix))
    context = _base_context(request, period, region)
    context.update(totals=totals, live=stats.live(request.user, region.prefix, now=now),
                   board=stats.board(request.user, region.prefix),
                   live_url=f"{reverse('dashboard:live', args=[region.code])}?{period.query()}")
    return render(request, "supervision/dashboard_live.html", context)


@login_required
def trend_page(request, code):
    _supervisor(request)
    region = region_or_404(request.user, code)
    period = stats.period_from(request.GET)
    months = stats.trend(request.user, period, region.prefix)
    if _wants_export(request):
        return _export(_t("%(name)s月度趋势") % {"name": region.name}, [(_("月份"), lambda f: f.label)], months)
    context = _base_context(request, period, region)
    context.update(trail=trail(request.user, region), months=months, totals=stats.total(months),
                   trend_chart=trend_chart(months))
    return render(request, "supervision/dashboard_trend.html", context)


@login_required
def organs_page(request):
    """The full ranking of organs under a region, sortable, paged, exportable."""
    _supervisor(request)
    user = request.user
    region = scope_param(request)
    prefix = region.prefix if region is not None else None
    period = stats.period_from(request.GET)
    organs = stats.by_organ(user, period, prefix)
    own = request.GET.get("own") == "1" and region is not None
    if own:
        organs = [f for f in organs if f.extra.get("organ") is not None and f.extra["organ"].region_code == region.prefix]
    sort = request.GET.get("sort", "on_time")
    key = sort.removeprefix("-")
    if key not in stats.RANKINGS:
        sort = key = "on_time"
    ranked = stats.rank(organs, key)
    if sort.startswith("-"):
        ranked = list(reversed([f for f in ranked if getattr(f, stats.RANKINGS[key][0]) is not None])) + [
            f for f in ranked if getattr(f, stats.RANKINGS[key][0]) is None]
    for i, f in enumerate(ranked, start=1):
        f.extra["rank"] = i
        f.url = f"{reverse('dashboard:organ', args=[f.key])}?{period.query()}"
    if _wants_export(request):
        return _export(_t("%(name)s机关排名") % {"name": region.name if region else _t("全部")},
                       [(_("名次"), lambda f: f.extra["rank"]), (_("机关"), lambda f: f.label),
                        (_("区划代码前缀"), lambda f: f.extra["organ"].region_code if f.extra.get("organ") else "")],
                       ranked)
    try:
        per_page = int(request.GET.get("per_page", ORGANS_PER_PAGE))
    except ValueError:
        per_page = ORGANS_PER_PAGE
    if per_page not in stat_tables.PER_PAGE_CHOICES:
        per_page = ORGANS_PER_PAGE
    page = Paginator(ranked, per_page).get_page(request.GET.get("page"))
    keep = [("region", region.code)] if region is not None else []
    keep += [("own", "1")] if own else []
    keep += [("per_page", str(per_page))] if per_page != ORGANS_PER_PAGE else []
    context = _base_context(request, period, region)
    context.update(trail=trail(user, region), page=page, rows=page.object_list, sort=sort,
                   reverse_sort=key if sort.startswith("-") else f"-{key}",
                   hidden=[*keep, ("sort", sort)], extra_query="&".join(f"{k}={v}" for k, v in [*keep, ("sort", sort)]),
                   own=own, sorts=[(k, label) for k, (_a, label) in stats.RANKINGS.items()],
                   per_page=per_page, per_page_choices=stat_tables.PER_PAGE_CHOICES,
                   pager_hidden=[(k, v) for k, values in request.GET.lists() if k not in ("page", "per_page", "export")
                                 for v in values],
                   ranking_charts=ranking_charts(organs))
    return render(request, "supervision/dashboard_organs.html", context)


BOARD_COLUMNS = [
    (_("等级"), lambda a: str(a.get_level_display())),
    (_("规则"), lambda a: a.rule),
    (_("责任机关"), lambda a: a.organ.name),
    (_("对象"), lambda a: a.subject_label),
    (_("情况"), lambda a: a.message),
    (_("状态"), lambda a: str(a.get_status_display())),
    (_("发现时间"), lambda a: a.raised_at),
    (_("链接"), lambda a: reverse("supervision:alert", args=[a.pk])),
]


@login_required
def board_page(request):
    """All open red and yellow cards under a region (the dashboard shows the latest few)."""
    _supervisor(request)
    user = request.user
    region = scope_param(request)
    cards = stats.open_cards(user, region.prefix if region is not None else None).select_related("organ").order_by("-id")
    if request.GET.get("level") in ("red", "yellow"):
        cards = cards.filter(level=request.GET["level"])
    if _wants_export(request):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = _t("%(name)s红黄牌") % {"name": region.name if region else _t("全部")}
        return xlsx_response(f"{name}-{stamp}.xlsx", name, [str(label) for label, _f in BOARD_COLUMNS],
                             ([fn(a) for _label, fn in BOARD_COLUMNS] for a in cards.iterator(chunk_size=2000)))
    page = Paginator(cards, 50).get_page(request.GET.get("page"))
    context = _base_context(request, stats.period_from(request.GET), region)
    context.update(trail=trail(user, region), page=page, rows=page.object_list,
                   level=request.GET.get("level", ""))
    return render(request, "supervision/dashboard_board.html", context)


OVERDUE_ON_ORGAN_PAGE = 20


@login_required
def organ_page(request, pk):
    """One organ: figures, trend, its open overdue cases (→ case → clock) and its cards."""
    _supervisor(request)
    user, now = request.user, timezone.now()
    organ = organ_or_404(user, pk)
    period = stats.period_from(request.GET)
    months = stats.trend(user, period, organ=organ)
    if _wants_export(request):
        return _export(_t("%(name)s月度统计") % {"name": organ.name}, [(_("月份"), lambda f: f.label)], months)
    totals = stats.total(months)
    overdue = (stats.open_overdue_clocks(user, organ.region_code, now).filter(organ=organ)
               .filter(subject_type=ContentType.objects.get_for_model(Case))
               .order_by("due_at", "pk")[:OVERDUE_ON_ORGAN_PAGE])
    overdue = list(overdue)
    cases = Case.objects.in_bulk([c.subject_id for c in overdue])
    rows = [{"clock": c, "case": cases.get(c.subject_id)} for c in overdue]
    context = _base_context(request, period, organ.region)
    context.update(
        organ=organ, trail=trail(user, organ.region), months=months, totals=totals,
        live=stats.live(user, organ.region_code, organ=organ, now=now),
        board=stats.board(user, organ.region_code, organ=organ), overdue=rows, now=now,
        trend_chart=trend_chart(months),
    )
    return render(request, "supervision/dashboard_organ.html", context)
