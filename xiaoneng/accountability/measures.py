"""Accountability measures (问责方式) and error-tolerance situations (容错情形), as configuration.

The built-in table holds the measures of the law with their legal bases; a province adds its
own (e.g. 效能告诫) through the `accountability_extra_measures` rule (xiaoneng.conf). Each
measure has:

* `family` — organ (for organs and Party organisations), mild, organisational, sanction
  (政务处分) or efficiency (a province's own);
* `rank` — its weight. "Heavier" (政务处分法第四十三条: the decision may not be heavier than
  what was notified; an appeal never makes a measure heavier) compares ranks, and for the same
  measure, the period. Ranks of different families are placed on one scale on purpose: a
  notified 诫勉 does not allow a decided 记过;
* `months` — the sanction period (政务处分法第八条), 0 for none, None for a measure without end
  (开除);
* `effect_months` — how long the person may not be promoted after it (问责条例第十九条 and the
  period of a sanction itself), used by `measures_in_force`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from xiaoneng.conf import rule

ORGAN, MILD, ORGANISATIONAL, SANCTION, EFFICIENCY = "organ", "mild", "organisational", "sanction", "efficiency"
FAMILIES = {
    ORGAN: _("对机关、组织的问责"),
    MILD: _("批评教育类"),
    ORGANISATIONAL: _("组织调整或组织处理"),
    SANCTION: _("政务处分"),
    EFFICIENCY: _("本省效能问责方式"),
}
# 政务处分法第八条 (and its rule on several violations): several sanctions of one kind below
# 撤职 combine to a period of at most this many months.
COMBINED_CAP_MONTHS = 48


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    family: str
    rank: int
    months: int | None = 0
    effect_months: int | None = 0
    legal_basis: str = ""

    @property
    def for_organs(self) -> bool:
        return self.family == ORGAN


_ACCOUNT = "《中国共产党问责条例》第八条"
_MILD = "《中华人民共和国监察法》第四十五条第一款第（一）项"
_SANCTION = "《中华人民共和国公职人员政务处分法》第七条、第八条"
BUILT_IN: tuple[Measure, ...] = (
    Measure("inspect", _("检查"), ORGAN, 10, legal_basis=_ACCOUNT),
    Measure("circulate", _("通报"), ORGAN, 20, legal_basis=_ACCOUNT),
    Measure("reorganise", _("改组"), ORGAN, 30, legal_basis=_ACCOUNT),
    Measure("talk", _("谈话提醒"), MILD, 10, legal_basis=_MILD),
    Measure("criticise", _("批评教育"), MILD, 20, legal_basis=_MILD),
    Measure("self_inspect", _("责令检查"), MILD, 30, legal_basis=_MILD),
    Measure("admonish", _("诫勉"), MILD, 40, effect_months=6, legal_basis=_MILD),
    Measure("suspend", _("停职检查"), ORGANISATIONAL, 50, legal_basis=_ACCOUNT),
    Measure("reassign", _("调整职务"), ORGANISATIONAL, 60, effect_months=12, legal_basis="《中国共产党问责条例》第八条、第十九条"),
    Measure("resign", _("责令辞职"), ORGANISATIONAL, 70, effect_months=24, legal_basis="《中国共产党问责条例》第八条、第十九条"),
    Measure("demote_post", _("降职"), ORGANISATIONAL, 80, effect_months=24, legal_basis="《中国共产党问责条例》第八条、第十九条"),
    Measure("dismiss_post", _("免职"), ORGANISATIONAL, 90, effect_months=24, legal_basis="《中国共产党问责条例》第八条、第十九条"),
    Measure("warning", _("警告"), SANCTION, 100, months=6, effect_months=6, legal_basis=_SANCTION),
    Measure("demerit", _("记过"), SANCTION, 110, months=12, effect_months=12, legal_basis=_SANCTION),
    Measure("major_demerit", _("记大过"), SANCTION, 120, months=18, effect_months=18, legal_basis=_SANCTION),
    Measure("downgrade", _("降级"), SANCTION, 130, months=24, effect_months=24, legal_basis=_SANCTION),
    Measure("removal", _("撤职"), SANCTION, 140, months=24, effect_months=24, legal_basis=_SANCTION),
    Measure("expulsion", _("开除"), SANCTION, 150, months=None, effect_months=None, legal_basis=_SANCTION),
)

# 记过 and above block pay steps (政务处分法第二十二条); 记过 is the first of them.
BLOCKS_PAY_FROM_RANK = 110


def all_measures() -> dict[str, Measure]:
    table = {m.code: m for m in BUILT_IN}
    for extra in rule("accountability_extra_measures") or []:
        table[extra["code"]] = Measure(
            code=extra["code"], label=extra["label"], family=extra.get("family", EFFICIENCY),
            rank=int(extra.get("rank", 35)), months=extra.get("months", 0),
            effect_months=extra.get("effect_months", 0), legal_basis=extra.get("legal_basis", ""),
        )
    return table


def get(code: str) -> Measure:
    return all_measures()[code]


def choices(*, for_organs: bool | None = None) -> list[tuple[str, str]]:
    measures = sorted(all_measures().values(), key=lambda m: (m.for_organs, m.rank))
    return [(m.code, str(m.label)) for m in measures if for_organs is None or m.for_organs == for_organs]


def heavier(a: tuple[str, int | None], b: tuple[str, int | None]) -> bool:
    """Whether measure `a` (code, period in months) is heavier than `b`."""
    ma, mb = get(a[0]), get(b[0])
    if ma.rank != mb.rank:
        return ma.rank > mb.rank
    if a[1] is None or b[1] is None:
        return a[1] is None and b[1] is not None
    return a[1] > b[1]


def period_range(codes: list[str]) -> tuple[str, int | None, int | None]:
    """For one person with several violations: the measure executed and the least and most
    months its period may be (政务处分法: the heaviest is executed; several equal sanctions
    below 撤职 take a period between one and the sum, at most 48 months)."""
    if not codes:
        raise ValueError("no measure")
    measures = [get(c) for c in codes]
    top = max(measures, key=lambda m: m.rank)
    if top.months is None:
        return top.code, None, None
    same = [m for m in measures if m.code == top.code]
    if len(same) > 1 and top.family == SANCTION and top.rank < get("removal").rank:
        return top.code, top.months, min(sum(m.months for m in same), COMBINED_CAP_MONTHS)
    return top.code, top.months, top.months


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (31 Jan + 1 → 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise ValueError(day)


def tolerance_situations() -> list[tuple[str, str]]:
    """The checklist of the error-tolerance review: 问责条例第十七条, then the province's own."""
    built_in = [
        ("explore", _("推进改革中因缺乏经验、先行先试出现的失误，尚无明确限制的探索性试验中的失误，为推动发展的无意过失（问责条例第十七条第一项）")),
        ("objected", _("在集体决策中对错误决策提出明确反对意见或者保留意见（问责条例第十七条第二项）")),
        ("force_majeure", _("在决策实施中已经履职尽责，但因不可抗力、难以预见等因素造成损失（问责条例第十七条第三项）")),
        ("remedied", _("及时采取补救措施，有效挽回损失或者消除不良影响（问责条例第十八条）")),
        ("cooperated", _("积极配合问责调查，主动承担责任（问责条例第十八条）")),
    ]
    return built_in + [(x["code"], x["label"]) for x in (rule("accountability_extra_tolerance") or [])]


# --- filing with the level above ----------------------------------------------------------------
FILE_ALL, FILE_LEADERS = "all", "leaders"


def is_leading_cadre(rank: str, responsibility: str) -> bool:
    """Whether a person counts as a leading cadre (领导干部) for the filing rule
    (`accountability_leading_cadre`): held with a leader's responsibility, or a leading post by rank."""
    conf = rule("accountability_leading_cadre") or {}
    if responsibility in (conf.get("responsibilities") or ()):
        return True
    rank = rank or ""
    return (any(w in rank for w in conf.get("rank_words") or ())
            and not any(w in rank for w in conf.get("not_rank_words") or ()))


def files_above(code: str, *, rank: str = "", responsibility: str = "") -> bool:
    """Whether a decided measure must also be filed with the level above (`accountability_filing_above`)."""
    how = (rule("accountability_filing_above") or {}).get(code)
    if how == FILE_ALL:
        return True
    return how == FILE_LEADERS and is_leading_cadre(rank, responsibility)


def filing_above_reasons(parties) -> list[str]:
    """For the persons of a decision (with `name`, `measure`, `rank`, `responsibility`, `staff_id`):
    who calls for filing with the level above, e.g. ["李四（副局长）：撤职"]; empty when none does."""
    reasons = []
    for p in parties:
        if not p.measure or not p.staff_id:
            continue
        if files_above(p.measure, rank=p.rank, responsibility=p.responsibility):
            label = all_measures()[p.measure].label if p.measure in all_measures() else p.measure
            reasons.append(f"{p.name}（{p.rank}）：{label}" if p.rank else f"{p.name}：{label}")
    return reasons
