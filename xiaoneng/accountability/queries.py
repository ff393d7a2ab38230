"""What accountability means for a person on a given day — the one query appraisal uses.

Nothing here is stored by a nightly job: a measure is in force on day D when it started on or
before D, its effect has not ended by D (`effect_ends_on`, exclusive; none for 开除) and it was
not revoked on or before D. Periods therefore end by themselves on their date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import measures as M
from .models import Case, Party, Status

DECIDED_STATES = (Status.DECIDED, Status.SERVED, Status.ANNOUNCED, Status.FILED)


@dataclass(frozen=True)
class InForce:
    party: Party
    measure: M.Measure
    starts_on: date
    ends_on: date | None  # the sanction period's end (exclusive); None without a period
    effect_ends_on: date | None  # the end of its effects (exclusive); None = never (开除)

    @property
    def blocks_promotion(self) -> bool:
        return True

    @property
    def blocks_pay_step(self) -> bool:
        """记过 and above (政务处分法第二十二条)."""
        return self.measure.family == M.SANCTION and self.measure.rank >= M.BLOCKS_PAY_FROM_RANK

    @property
    def excludes_excellent(self) -> bool:
        """Not eligible for 优秀 in the year's appraisal while in force."""
        return True


def in_force_q(on: date) -> Q:
    return (
        Q(case__status__in=DECIDED_STATES, starts_on__lte=on)
        & ~Q(measure="")
        & (Q(effect_ends_on__gt=on) | Q(effect_ends_on__isnull=True, measure__in=_permanent_codes()))
        & (Q(revoked_on__isnull=True) | Q(revoked_on__gt=on))
    )


def _permanent_codes() -> list[str]:
    return [code for code, m in M.all_measures().items() if m.months is None]


def measures_in_force(staff, on: date) -> list[InForce]:
    """The measures in force for `staff` on day `on` (one query)."""
    table = M.all_measures()
    rows = Party.objects.filter(in_force_q(on), staff=staff).select_related("case").order_by("starts_on", "pk")
    return [InForce(p, table[p.measure], p.starts_on, p.ends_on, p.effect_ends_on) for p in rows]


PHASE_LABELS = {
    "in_force": _("执行期内"),
    "expired": _("已期满"),
    "revoked": _("已撤销"),
}


def case_phase(case: Case, on: date) -> str:
    """For a decided case: "in_force" while any measure's effect runs on `on`, "revoked" when every
    measure was revoked, else "expired"; "" before the decision."""
    if case.status not in DECIDED_STATES:
        return ""
    parties = [p for p in case.parties.all() if p.measure]
    if parties and all(p.revoked_on and p.revoked_on <= on for p in parties):
        return "revoked"
    if Party.objects.filter(in_force_q(on), case=case).exists():
        return "in_force"
    return "expired"
