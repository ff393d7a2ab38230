"""The organ leader's dashboard (本机关仪表盘): their own organ and the organs below it.

Everything is read through `access` with the leader's permission "lead" (default deny):
the period figures from the same organ-month roll-ups the supervision dashboard uses
(`supervision.stats`), what is at risk this week and the cards, orders, complaints and
ratings live. The ranking among peers (the organs with the same parent organ) says only
the organ's place and how many peers there are: the peers' own figures stay outside the
leader's scope.
"""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ
from xiaoneng.supervision import stats
from xiaoneng.supervision.dashboard import trend_chart
from xiaoneng.supervision.models import Alert, Level, SupervisionOrder
from xiaoneng.supervision.stats_models import OrganMonthStat

PERM = "lead"
AT_RISK_DAYS = 7
SHOWN = 20


def leader_organs(user) -> list[Organ]:
    """The organs the user leads (the tops of their "lead" grants)."""
    organs = [g.organ for g in access.grants(user) if g.organ_id and PERM in access.PERMISSIONS.get(g.role, ())]
    return sorted({o.pk: o for o in organs}.values(), key=lambda o: o.path)


def _subtree_rows(user, organ: Organ, period):
    qs = OrganMonthStat.objects.filter(month__gte=period.first, month__lte=period.last, organ__path__under=organ.path)
    return access.scoped(qs, user, PERM)


def peer_rank(organ: Organ, period) -> tuple[int | None, int]:
    """(place by on-time rate, number of peers with figures) among the organs sharing the organ's parent."""
    if organ.parent_id:
        peers = Organ.objects.filter(parent_id=organ.parent_id)
    else:
        peers = Organ.objects.filter(parent__isnull=True, region_code=organ.region_code, kind=organ.kind)
    rows = (OrganMonthStat.objects.filter(month__gte=period.first, month__lte=period.last, organ__in=peers)
            .values("organ_id").annotate(**stats.SUMS).order_by())
    figures = [stats.Figures.of(r, key=r["organ_id"]) for r in rows]
    ranked = [f for f in stats.rank(figures, "on_time") if f.on_time_rate is not None]
    place = next((i for i, f in enumerate(ranked, start=1) if f.key == organ.pk), None)
    return place, len(ranked)


@login_required
def dashboard(request):
    user = request.user
    if not access.has_perm(user, PERM):
        raise Http404
    organs = leader_organs(user)
    if not organs:
        raise Http404
    chosen = request.GET.get("organ")
    organ = next((o for o in organs if str(o.pk) == chosen), organs[0])
    now = timezone.now()
    period = stats.period_from(request.GET)
    rows = _subtree_rows(user, organ, period)
    months = {r["month"]: r for r in rows.values("month").annotate(**stats.SUMS).order_by()}
    trend = [stats.Figures.of(months.get(m, {}), key=m, label=f"{m:%Y-%m}") for m in period.months()]
    totals = stats.total(trend)
    units = []
    per_organ = {r["organ_id"]: r for r in rows.values("organ_id").annotate(**stats.SUMS).order_by()}
    names = Organ.objects.in_bulk(list(per_organ))
    for organ_id, r in per_organ.items():
        f = stats.Figures.of(r, key=organ_id, label=names[organ_id].name if organ_id in names else str(organ_id))
        units.append(f)
    units = stats.rank(units, "on_time")

    subtree = Q(organ__path__under=organ.path)
    week = now + timedelta(days=AT_RISK_DAYS)
    at_risk = (access.scoped(Clock.objects.filter(subtree, kind__in=stats.PROMISE_KINDS, due_at__lte=week), user, PERM)
               .exclude(state=Clock.State.STOPPED).order_by("due_at", "pk"))
    at_risk_count = at_risk.count()
    at_risk_rows = [{"clock": c, "due": deadline_label(c.due_at), "overdue": c.due_at <= now} for c in at_risk[:SHOWN]]
    cards = access.scoped(Alert.objects.filter(subtree, level__in=[Level.YELLOW, Level.RED], status__in=stats.OPEN_ALERT),
                          user, PERM)
    card_counts = dict(cards.values_list("level").annotate(n=Count("*")).order_by())
    board = list(cards.select_related("organ").order_by("-id")[:SHOWN])
    orders = list(access.scoped(SupervisionOrder.objects.filter(subtree, status__in=stats.OPEN_ORDER), user, PERM)
                  .select_related("organ", "clock").order_by("clock__due_at", "pk")[:SHOWN])
    for o in orders:
        o.due_label = deadline_label(o.clock.due_at) if o.clock_id else ""
    from xiaoneng.complaints.models import Complaint, Rating
    from xiaoneng.complaints.models import Status as C

    complaints = access.scoped(Complaint.objects.filter(subtree), user, PERM)
    complaint_counts = complaints.aggregate(
        open=Count("pk", filter=Q(status__in=[C.ROUTED, C.HANDLED, C.REVIEW])),
        period=Count("pk", filter=Q(routed_at__gte=stats.local_midnight(period.first))),
    )
    ratings = access.scoped(Rating.objects.filter(subtree, rated_at__gte=stats.local_midnight(period.first)), user, PERM)
    rating_figures = ratings.aggregate(n=Count("pk"), avg=Avg("level"), bad=Count("pk", filter=Q(level__lte=2)))
    place, peers = peer_rank(organ, period)
    return render(request, "inbox/leader.html", {
        "organ": organ, "organs": organs, "period": period, "presets": list(stats.PRESETS.items()),
        "hidden": [("organ", organ.pk)] if len(organs) > 1 else [], "extra_query": f"organ={organ.pk}",
        "totals": totals, "months": trend, "units": units, "trend_chart": trend_chart(trend),
        "at_risk": at_risk_rows, "at_risk_count": at_risk_count, "board": board,
        "reds": card_counts.get(Level.RED, 0), "yellows": card_counts.get(Level.YELLOW, 0), "orders": orders,
        "complaints": complaint_counts, "ratings": rating_figures, "place": place, "peers": peers, "now": now,
    })
