"""Statistics and the health of the practice (问责工作统计), over the cases a user may see.

The figures answer the usual complaint about accountability in practice (问责泛化: too many
people held accountable for one incident, decisions resting on catch-all clauses, error
tolerance never applied) as much as they count cases. They are computed set-wise: a fixed
number of aggregate queries whatever the number of cases (asserted in the tests), each over
the same scoped and filtered set of cases (region, organ, period of 立案).

Definitions (also on the page):

* by source — cases per source of their proposals (a case taken up from two sources counts
  under each);
* by measure, by rank — persons decided, per measure executed and per 职务职级;
* by outcome — cases per status, and appeals per outcome;
* time from proposal to decision — days from a case's earliest proposal to its decision,
  average and longest, over decided cases;
* filings late — filings of decided cases (same level, and the level above where required)
  whose filing clock ran past its due time (filed late, or not filed and past due now);
* appeal reversal rate — appeals decided as changed or revoked ÷ appeals decided;
* persons per incident — persons given a measure ÷ decided cases;
* catch-all share — decided cases whose decision rests on a catch-all clause ÷ decided cases;
* error tolerance — persons reviewed with at least one situation ticked or an outcome other
  than "none" (the applications), per outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, Min, Q
from django.utils.translation import gettext as _

from . import measures as M
from .models import Appeal, Party, Proposal, Source, Status, Tolerance
from .queries import DECIDED_STATES


@dataclass
class Row:
    label: str
    value: int
    params: dict = field(default_factory=dict)  # the case-list filter this row drills down to


@dataclass
class Health:
    cases: int = 0
    decided: int = 0
    persons: int = 0
    per_incident: float | None = None
    avg_days: float | None = None
    max_days: float | None = None
    filings_due: int = 0
    filings_late: int = 0
    appeals_decided: int = 0
    appeals_reversed: int = 0
    reversal_rate: float | None = None
    catch_all: int = 0
    catch_all_share: float | None = None


@dataclass
class Report:
    health: Health
    by_source: list[Row]
    by_measure: list[Row]
    by_rank: list[Row]
    by_status: list[Row]
    appeals: list[Row]
    tolerance: list[Row]
    by_organ: list[Row]


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _measure_label(code: str) -> str:
    try:
        return str(M.get(code).label)
    except KeyError:
        return code


def compute(cases, now: datetime) -> Report:
    """The statistics of `cases` (a scoped, filtered queryset of Case): nine queries."""
    ids = cases.values("pk")
    decided_q = Q(status__in=DECIDED_STATES)
    # One row per filing joined in (a case may need two: same level and the level above), so the
    # case counts are distinct.
    totals = cases.aggregate(
        cases=Count("pk", distinct=True),
        decided=Count("pk", filter=decided_q, distinct=True),
        catch_all=Count("pk", filter=decided_q & Q(catch_all=True), distinct=True),
        filings_due=Count("filings", filter=decided_q & Q(filings__clock__isnull=False)),
        filings_late=Count("filings", filter=decided_q & Q(filings__clock__due_at__isnull=False) & (
            Q(filings__filed_at__gt=F("filings__clock__due_at"))
            | Q(filings__filed_at__isnull=True, filings__clock__due_at__lt=now))),
    )
    h = Health(cases=totals["cases"], decided=totals["decided"], catch_all=totals["catch_all"],
               filings_due=totals["filings_due"], filings_late=totals["filings_late"])
    h.catch_all_share = _ratio(h.catch_all, h.decided)

    # Days from the earliest proposal to the decision: one row per decided case, reduced here
    # (a duration average is not portable between SQLite and PostgreSQL).
    spans = [(decided - first).total_seconds() / 86400 for first, decided in
             cases.filter(decided_at__isnull=False).annotate(first=Min("proposals__proposed_at"))
             .filter(first__isnull=False).values_list("first", "decided_at")]
    if spans:
        h.avg_days, h.max_days = round(sum(spans) / len(spans), 1), round(max(spans), 1)

    people = Party.objects.filter(case__in=ids, case__status__in=DECIDED_STATES).exclude(measure="")
    by_measure = [Row(_measure_label(r["measure"]), r["n"], {"measure": r["measure"]})
                  for r in people.values("measure").annotate(n=Count("pk")).order_by("-n", "measure")]
    h.persons = sum(r.value for r in by_measure)
    h.per_incident = round(h.persons / h.decided, 2) if h.decided else None
    by_rank = [Row(r["rank"] or _("（未填写）"), r["n"], {"rank": r["rank"]} if r["rank"] else {})
               for r in people.values("rank").annotate(n=Count("pk")).order_by("-n", "rank")]

    by_source = [Row(str(Source(r["source"]).label), r["n"], {"source": r["source"]})
                 for r in Proposal.objects.filter(case__in=ids).values("source")
                 .annotate(n=Count("case", distinct=True)).order_by("-n", "source")]
    by_status = [Row(str(Status(r["status"]).label), r["n"], {"status": r["status"]})
                 for r in cases.values("status").annotate(n=Count("pk")).order_by("-n", "status")]

    appeal_rows = (Appeal.objects.filter(party__case__in=ids).values("kind", "outcome")
                   .annotate(n=Count("pk")).order_by("kind", "outcome"))
    appeals = [Row(f"{Appeal.Kind(r['kind']).label} · {Appeal.Outcome(r['outcome']).label}", r["n"]) for r in appeal_rows]
    h.appeals_decided = sum(r["n"] for r in appeal_rows if r["outcome"] != Appeal.Outcome.PENDING)
    h.appeals_reversed = sum(r["n"] for r in appeal_rows
                             if r["outcome"] in (Appeal.Outcome.CHANGED, Appeal.Outcome.REVOKED))
    h.reversal_rate = _ratio(h.appeals_reversed, h.appeals_decided)

    applied = (Party.objects.filter(case__in=ids).exclude(tolerance_outcome="")
               .filter(~Q(tolerance_outcome=Tolerance.NONE) | ~Q(tolerance_situations=[])))
    tolerance = [Row(str(Tolerance(r["tolerance_outcome"]).label), r["n"], {"tolerance": r["tolerance_outcome"]})
                 for r in applied.values("tolerance_outcome").annotate(n=Count("pk")).order_by("-n", "tolerance_outcome")]

    by_organ = [Row(r["organ__name"], r["n"], {"organ": r["organ"]})
                for r in cases.values("organ", "organ__name").annotate(n=Count("pk")).order_by("-n", "organ__name")]
    return Report(h, by_source, by_measure, by_rank, by_status, appeals, tolerance, by_organ)

