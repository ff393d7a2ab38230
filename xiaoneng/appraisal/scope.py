"""Who sees which appraisal records: one place for the pages, the lists and exports, the charts and the API.

Everything goes through `access.scoped`; these functions only combine the three ways in:

* the appraisal office ("appraise", on the class's region): every period, result, line and objection;
* an organ ("appraisal.own", on the organ's grant): its own result (lines, lineage, its objections) once
  provisional, and the ranking (totals, ranks, grades) of a class it is in once published;
* a people's congress deputy or CPPCC member ("appraisal.published", on a region): the rankings of
  published periods of classes in the region, and published results of organs in the region — no lines.

Anything else: nothing (the pages answer 404, the API an empty list or 404).
"""
from __future__ import annotations

from django.db.models import Q

from xiaoneng.orgs import access

from .models import Period, PeriodStatus, Result

APPRAISE, OWN, PUBLISHED = "appraise", "appraisal.own", "appraisal.published"
P = PeriodStatus
SEEN_BY_ORGAN = (P.PROVISIONAL, P.PUBLISHED)


def office_periods(user):
    return access.scoped(Period.objects.all(), user, APPRAISE)


def own_results(user):
    """The organ's own results it may read in full (lines, lineage, its objections)."""
    return access.scoped(Result.objects.all(), user, OWN).filter(period__status__in=SEEN_BY_ORGAN)


def ranking_periods(user):
    """Periods whose ranking (totals, ranks, grades of every organ of the class) the user may read."""
    office = office_periods(user).values("pk")
    mine = own_results(user).filter(period__status=P.PUBLISHED).values("period_id")
    public = access.scoped(Period.objects.filter(status=P.PUBLISHED), user, PUBLISHED).values("pk")
    return Period.objects.filter(Q(pk__in=office) | Q(pk__in=mine) | Q(pk__in=public))


def published_results(user):
    """Published results a deputy reads: organs in the region, and every organ of a class in it."""
    return Result.objects.filter(period__status=P.PUBLISHED).filter(
        Q(pk__in=access.scoped(Result.objects.all(), user, PUBLISHED).values("pk"))
        | Q(period__in=access.scoped(Period.objects.all(), user, PUBLISHED).values("pk")))


def readable_results(user):
    """Results the user may see at least as a row of a ranking (total, rank, grade)."""
    return Result.objects.filter(Q(period__in=ranking_periods(user).values("pk"))
                                 | Q(pk__in=own_results(user).values("pk")))


def full_results(user):
    """Results whose lines and lineage the user may read: the office's, and an organ's own."""
    return Result.objects.filter(Q(period__in=office_periods(user).values("pk"))
                                 | Q(pk__in=own_results(user).values("pk")))


def may_appraise(user, period: Period) -> bool:
    return office_periods(user).filter(pk=period.pk).exists()


def change_report_periods(user):
    """Periods whose change report the user reads: the office, and supervisors of the class's region or above."""
    return Period.objects.filter(Q(pk__in=office_periods(user).values("pk"))
                                 | Q(pk__in=access.scoped(Period.objects.all(), user, "supervise").values("pk")))
