"""The supervisory organ's periodic report to the government (监察部门定期向政府报告问责工作情况).

For one region (its whole subtree) and one period — a quarter or a year — the figures come from the
same queries as the statistics page (`stats.compute`), over two sets of the region's cases:

* registered — cases registered (立案) in the period: how many, by source;
* concluded — cases decided in the period, or closed without accountability in it: the decided,
  the persons held accountable by measure and rank, filings and late filings, appeals against
  these decisions and their reversal rate, error-tolerance outcomes, the health figures;

plus the flow of appeals in the period (received, decided by outcome: one aggregate), and the same
for the previous period (the quarter before, or the year before) to compare with. Periods run from
local midnight of their first day to local midnight after their last (Asia/Shanghai), so a case
registered at 23:59 on 31 March is in the first quarter and one at 00:00 on 1 April in the second.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import stats
from .models import Appeal, CaseStep, Status

PERIOD_RE = re.compile(r"^(\d{4})(?:-?[Qq]([1-4]))?$")
QUARTER_LABELS = {1: gettext_lazy("%(y)d年第一季度"), 2: gettext_lazy("%(y)d年第二季度"),
                  3: gettext_lazy("%(y)d年第三季度"), 4: gettext_lazy("%(y)d年第四季度")}


class PeriodError(ValueError):
    """A period parameter that names no quarter or year the report can cover."""


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int = 0  # 0: the whole year

    @classmethod
    def parse(cls, text: str) -> Period:
        """"2026-Q1" (or 2026Q1, 2026q1) for a quarter, "2026" for a year."""
        m = PERIOD_RE.match((text or "").strip())
        if not m:
            raise PeriodError(_("报告期应为年度（如 2026）或季度（如 2026-Q1）"))
        year = int(m.group(1))
        if not 2000 <= year <= 2100:
            raise PeriodError(_("报告年度应在 2000 至 2100 之间"))
        return cls(year, int(m.group(2) or 0))

    @classmethod
    def containing(cls, day: date) -> Period:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def code(self) -> str:
        return f"{self.year}-Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def label(self) -> str:
        if self.quarter:
            return str(QUARTER_LABELS[self.quarter]) % {"y": self.year}
        return _("%(y)d年度") % {"y": self.year}

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2 if self.quarter else 1, 1)

    @property
    def end_day(self) -> date:
        """The day after the last (exclusive)."""
        if not self.quarter:
            return date(self.year + 1, 1, 1)
        return date(self.year + 1, 1, 1) if self.quarter == 4 else date(self.year, 3 * self.quarter + 1, 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end_day.toordinal() - 1)

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return datetime.combine(self.first_day, time(0), tz), datetime.combine(self.end_day, time(0), tz)

    def previous(self) -> Period:
        if not self.quarter:
            return Period(self.year - 1)
        return Period(self.year, self.quarter - 1) if self.quarter > 1 else Period(self.year - 1, 4)


@dataclass
class Figures:
    period: Period
    registered: stats.Report
    concluded: stats.Report
    closed: int = 0
    appeals_received: int = 0
    appeals_decided: int = 0
    appeals_upheld: int = 0
    appeals_changed: int = 0
    appeals_revoked: int = 0

    @property
    def tolerance_applied(self) -> int:
        return sum(r.value for r in self.concluded.tolerance)


@dataclass
class Comparison:
    label: str
    current: str
    previous: str
    change: str
    values: tuple[float | None, float | None] = (None, None)


@dataclass
class GovReport:
    region: object
    period: Period
    current: Figures
    previous: Figures
    comparison: list[Comparison] = field(default_factory=list)


def _in(field_name: str, period: Period) -> Q:
    start, end = period.bounds()
    return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})


def figures(cases, period: Period, now: datetime) -> Figures:
    """The figures of one period over `cases` (the region's cases the user may see)."""
    start, end = period.bounds()
    closed_in = Exists(CaseStep.objects.filter(case=OuterRef("pk"), kind=CaseStep.Kind.CLOSE, at__gte=start, at__lt=end))
    registered = cases.filter(_in("registered_at", period))
    concluded = cases.filter(_in("decided_at", period) | (Q(status=Status.CLOSED) & closed_in))
    f = Figures(period, stats.compute(registered, now), stats.compute(concluded, now))
    f.closed = next((r.value for r in f.concluded.by_status if r.params.get("status") == Status.CLOSED), 0)
    outcome = Appeal.Outcome
    decided_in = _in("decided_at", period)
    flow = Appeal.objects.filter(party__case__in=cases.values("pk")).aggregate(
        received=Count("pk", filter=_in("received_at", period)),
        decided=Count("pk", filter=decided_in & ~Q(outcome=outcome.PENDING)),
        upheld=Count("pk", filter=decided_in & Q(outcome=outcome.UPHELD)),
        changed=Count("pk", filter=decided_in & Q(outcome=outcome.CHANGED)),
        revoked=Count("pk", filter=decided_in & Q(outcome=outcome.REVOKED)),
    )
    f.appeals_received, f.appeals_decided = flow["received"], flow["decided"]
    f.appeals_upheld, f.appeals_changed, f.appeals_revoked = flow["upheld"], flow["changed"], flow["revoked"]
    return f


def _num(x) -> str:
    return "—" if x is None else f"{x:g}"


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _change(a, b, pct=False) -> str:
    if a is None or b is None:
        return "—"
    d = a - b
    if pct:
        return f"{d * 100:+.1f}" + _("个百分点")
    return f"{d:+g}"


def compare(cur: Figures, prev: Figures) -> list[Comparison]:
    """The headline figures side by side with the previous period."""
    ch, ph = cur.concluded.health, prev.concluded.health
    rows = [
        (_("立案（件）"), cur.registered.health.cases, prev.registered.health.cases, False),
        (_("作出问责决定（件）"), ch.decided, ph.decided, False),
        (_("不予问责结案（件）"), cur.closed, prev.closed, False),
        (_("受到问责的人数"), ch.persons, ph.persons, False),
        (_("每起事件问责人数"), ch.per_incident, ph.per_incident, False),
        (_("从提出线索到作出决定的平均天数"), ch.avg_days, ph.avg_days, False),
        (_("应备案（件次）"), ch.filings_due, ph.filings_due, False),
        (_("逾期备案（件次）"), ch.filings_late, ph.filings_late, False),
        (_("受理复核申诉（件）"), cur.appeals_received, prev.appeals_received, False),
        (_("复核申诉改变原决定（变更、撤销，件）"), cur.appeals_changed + cur.appeals_revoked,
         prev.appeals_changed + prev.appeals_revoked, False),
        (_("容错纠错申请（人）"), cur.tolerance_applied, prev.tolerance_applied, False),
        (_("依据兜底条款作出决定的比例"), ch.catch_all_share, ph.catch_all_share, True),
    ]
    return [Comparison(str(label), _pct(a) if pct else _num(a), _pct(b) if pct else _num(b), _change(a, b, pct),
                       (a, b)) for label, a, b, pct in rows]


def build(cases, region, period: Period, now: datetime | None = None) -> GovReport:
    """The report of `region` for `period`: `cases` must already be scoped to the user and the region."""
    now = now or timezone.now()
    cur, prev = figures(cases, period, now), figures(cases, period.previous(), now)
    return GovReport(region, period, cur, prev, compare(cur, prev))


def region_cases(cases, region):
    return cases.filter(region_code__under=region.prefix)


def tables(report: GovReport) -> list[tuple[str, str, list[stats.Row]]]:
    """The detail tables of the current period, in the order of the report."""
    cur = report.current
    return [
        ("registered_source", _("本期立案：按来源（件）"), cur.registered.by_source),
        ("decided_source", _("本期作出决定及结案：按来源（件）"), cur.concluded.by_source),
        ("measure", _("受到问责的人员：按问责方式（人）"), cur.concluded.by_measure),
        ("rank", _("受到问责的人员：按职务职级（人）"), cur.concluded.by_rank),
        ("appeals", _("本期决定的复核申诉：按结果（件）"), cur.concluded.appeals),
        ("tolerance", _("容错纠错申请及结论（人）"), cur.concluded.tolerance),
        ("organ", _("按涉及机关（件）"), cur.concluded.by_organ),
    ]


def health_rows(f: Figures) -> list[tuple[str, str]]:
    """The health of the practice in the period, worded as on the statistics page."""
    h = f.concluded.health
    return [
        (_("作出问责决定的案件"), str(h.decided)),
        (_("受到问责的人数"), str(h.persons)),
        (_("每起事件问责人数"), _num(h.per_incident)),
        (_("从提出线索到作出决定的平均天数"), _num(h.avg_days)),
        (_("从提出线索到作出决定的最长天数"), _num(h.max_days)),
        (_("逾期备案（件次）"), f"{h.filings_late} / {h.filings_due}"),
        (_("复核申诉改变率（变更、撤销 ÷ 已办结）"), f"{_pct(h.reversal_rate)}（{h.appeals_reversed} / {h.appeals_decided}）"),
        (_("依据兜底条款作出决定的比例"), f"{_pct(h.catch_all_share)}（{h.catch_all} / {h.decided}）"),
        (_("本期受理复核申诉（件）"), str(f.appeals_received)),
        (_("本期办结复核申诉：维持 / 变更 / 撤销"), f"{f.appeals_upheld} / {f.appeals_changed} / {f.appeals_revoked}"),
    ]


def summary(f: Figures) -> dict:
    h = f.concluded.health
    return {
        "registered": f.registered.health.cases, "decided": h.decided, "closed": f.closed, "persons": h.persons,
        "per_incident": h.per_incident, "avg_days": h.avg_days, "filings_due": h.filings_due,
        "filings_late": h.filings_late, "appeals_received": f.appeals_received, "appeals_decided": f.appeals_decided,
        "appeals_upheld": f.appeals_upheld, "appeals_changed": f.appeals_changed, "appeals_revoked": f.appeals_revoked,
        "reversal_rate": h.reversal_rate, "catch_all": h.catch_all, "catch_all_share": h.catch_all_share,
        "tolerance_applied": f.tolerance_applied,
    }


def snapshot(report: GovReport) -> dict:
    """What the issued report said, kept with it (JSON): the document is written from this."""
    return {
        "period": report.period.code,
        "period_label": report.period.label,
        "previous_label": report.period.previous().label,
        "region": report.region.code,
        "region_name": report.region.name,
        "generated_at": timezone.now().isoformat(),
        "current": summary(report.current),
        "previous": summary(report.previous),
        "comparison": [[c.label, c.current, c.previous, c.change] for c in report.comparison],
        "health": [list(r) for r in health_rows(report.current)],
        "tables": {key: [[r.label, r.value] for r in rows] for key, _title, rows in tables(report)},
    }


def chart_rows(report: GovReport) -> list[stats.Row]:
    """The comparison as bars: each headline count for this period and the previous."""
    rows = []
    for c in report.comparison[:4] + report.comparison[7:10]:
        a, b = c.values
        rows.append(stats.Row(f"{c.label} · {_('本期')}", int(a or 0)))
        rows.append(stats.Row(f"{c.label} · {_('上期')}", int(b or 0)))
    return rows
