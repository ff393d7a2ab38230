"""The appraisal's panel on the home page: the office's periods with what waits in each; an organ's
own results. Scoped through access; a handful of queries whatever the data."""
from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from xiaoneng.orgs import access
from xiaoneng.web.home import HomePanel, register

from .actions import objection_window_open
from .models import Indicator, ObjectionStatus, OrganClass, Period, PeriodStatus, Result, Source

APPRAISE, OWN = "appraise", "appraisal.own"
SHOWN = 6


def build(user) -> dict | None:
    office = access.has_perm(user, APPRAISE)
    own = access.has_perm(user, OWN)
    if not (office or own):
        return None
    context = {}
    if office:
        periods = list(
            access.scoped(Period.objects.all(), user, APPRAISE)
            .select_related("scheme__organ_class", "objection_clock")
            .annotate(pending=Count("results__objections", distinct=True,
                                    filter=Q(results__objections__status=ObjectionStatus.PENDING)),
                      filled=Count("manual_values", distinct=True))
            .order_by("-starts_on", "scheme__organ_class__name")[:SHOWN])
        if periods:
            ids = [p.scheme.organ_class_id for p in periods]
            organs = dict(OrganClass.objects.filter(pk__in=ids).annotate(n=Count("organs")).values_list("pk", "n"))
            manual = dict(Indicator.objects.filter(scheme__period__in=periods, source=Source.MANUAL)
                          .values_list("scheme__period").annotate(n=Count("pk")).order_by())
            for p in periods:
                p.cells = organs.get(p.scheme.organ_class_id, 0) * manual.get(p.pk, 0)
        context["periods"] = periods
    if own:
        results = list(access.scoped(Result.objects.all(), user, OWN)
                       .filter(period__status__in=(PeriodStatus.PROVISIONAL, PeriodStatus.PUBLISHED))
                       .select_related("organ", "period__scheme__organ_class", "period__objection_clock")
                       .annotate(of=Count("period__results", distinct=True))
                       .order_by("-period__starts_on", "organ__name")[:SHOWN])
        now = timezone.now()
        for r in results:
            r.window_open = objection_window_open(r.period, now)
        context["results"] = results
    return context


register(HomePanel("appraisal", "appraisal/_home.html", build=build, order=60))
