"""好差评 for the demo year (part of the ``complaints`` seed step, see xiaoneng.complaints.seed).

A share of the finished demo cases is rated (by the case's organ, online or at the
window), the rest are online ratings of the organs' matters and window-visit ratings,
spread over the year: mostly 非常满意/满意, a few bad. A named bad rating lives as
`ratings.py` would have it: on a ``rating.rectification`` clock
(`bad_review_rectification_working_days` working days) through callback → rectifying →
rectified (most raters told), a few appealed (the clock paused while the supervisor
decides) and some of those annulled; some late, for the monitoring pass to find. An
anonymous bad rating has no clock and stays "done" (nobody can be called back).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from xiaoneng.conf import rule

from . import identity as ident
from . import seed_texts as T
from .models import SUB_INDICATORS, Rating, RatingStep
from .seed import When, World, mobile, person_name, received_moment
from .seed_rows import ClockPlan, insert_rows, reserve_ids, write_clocks

RATING_LEVELS = {5: 80, 4: 14, 3: 3.5, 2: 1.5, 1: 1}


@dataclass
class RatingPlan:
    fields: dict
    steps: list = field(default_factory=list)
    clock: ClockPlan | None = None
    pk: int | None = None


def _scores(rng: random.Random, kind: str, level: int) -> dict[str, int]:
    scores = {}
    for key in SUB_INDICATORS[kind]:
        drift = 0 if key == "overall" else rng.choice((0, 0, 0, -1) if level >= 4 else (0, 0, 1, -1))
        scores[key] = min(5, max(1, level + drift))
    return scores


def _rating_moment(rng: random.Random, when: When, now: datetime, offline: bool) -> datetime:
    return received_moment(rng, when, now, "visit" if offline else "web")


def plan_ratings(world: World, count: int, now: datetime, rng: random.Random, progress) -> list[RatingPlan]:
    """A share of the finished demo cases rated, the rest matter and window ratings, up to `count`."""
    from xiaoneng.approvals.models import Case

    from .ratings import LEGAL_BASIS

    when = When(rng)
    rated = set(Rating.objects.filter(case__isnull=False).values_list("case_id", flat=True))
    cases = Case.objects.filter(parent__isnull=True, organ__in=world.organs, status__in=("refused", "decided",
                                "certified", "closed")).exclude(pk__in=rated).order_by("pk")
    case_rows = [c for c in cases.values_list("pk", "organ_id", "matter_version__matter_id", "decided_at", "closed_at")
                 if rng.random() < 0.6]
    organs = {o.pk: o for o in world.organs}
    plans: list[RatingPlan] = []
    limit = int(rule("bad_review_rectification_working_days"))
    for n in range(count):
        if n < len(case_rows):
            case_id, organ_id, matter_id, decided, closed = case_rows[n]
            organ = organs[organ_id]
            offline = rng.random() < 0.3
            base = closed or decided or now - timedelta(days=1)
            at = min(base + timedelta(hours=rng.uniform(0.2, 72)), now - timedelta(minutes=10))
        else:
            case_id = None
            organ = rng.choices(world.organs, world.weights)[0]
            offline = rng.random() < 0.5
            matter_id = None if offline and rng.random() < 0.5 else rng.choice(world.matters[organ.pk])[0]
            at = _rating_moment(rng, when, now, offline)
        kind = "offline" if offline else "online"
        level = rng.choices(list(RATING_LEVELS), list(RATING_LEVELS.values()))[0]
        bad = level <= 2
        named = rng.random() < (0.6 if bad else 0.3)
        who = ident.Identity.of(name=person_name(rng), phone=mobile(rng)) if named else ident.Identity()
        comment = rng.choice(T.RATING_COMMENTS[level])
        plan = RatingPlan(dict(
            kind=kind, channel=rng.choice(("窗口评价器", "窗口评价器", "二维码")) if offline else rng.choice(("pc", "app", "app", "短信")),
            case_id=case_id, matter_id=matter_id, organ=organ, region_code=organ.region_code,
            window=f"办事大厅{rng.choice(T.WINDOWS)}" if offline else "", level=level, scores=_scores(rng, kind, level),
            comment=comment, rated_at=at, named=named, status="done", **ident.stored(who)))
        plan.steps.append(dict(kind="rate", at=at, actor_label=_("评价人"), text=comment))
        if bad and named:
            plan.clock = ClockPlan("rating.rectification", at, limit, "working", organ, organ.region_code, "",
                                   LEGAL_BASIS, plan)
            _bad_review_life(plan, rng, when, now)
        plans.append(plan)
        if n % 2000 == 0:
            progress(n, count, "ratings planned")
    return plans


def _bad_review_life(plan: RatingPlan, rng: random.Random, when: When, now: datetime) -> None:
    """callback → rectifying → rectified (told), a few appealed (clock paused) and annulled."""
    f, clock = plan.fields, plan.clock
    f["status"] = "callback"
    organ_label = f["organ"].name[:150]

    def step(kind, at, text, status=None):
        plan.steps.append(dict(kind=kind, at=at, actor_label=organ_label if kind != "decide" else _("效能办"), text=text))
        if status:
            f["status"] = status

    t = f["rated_at"]
    if rng.random() < 0.08:
        appeal = when.wd(t, rng.randint(1, 3))
        if appeal > now:
            return
        reasons = rng.choice(T.RATING_APPEALS)
        f.update(appeal_reasons=reasons, appealed_at=appeal)
        step("appeal", appeal, reasons, "appealed")
        clock.pauses.append((appeal, None, _("差评申诉待审核"), clock.basis))
        clock.paused_at = appeal
        decided = when.wd(appeal, rng.randint(2, 6))
        if decided > now:
            return
        upheld = rng.random() < 0.5
        text = rng.choice(T.RATING_DECISIONS_UPHELD if upheld else T.RATING_DECISIONS_REFUSED)
        f.update(appeal_decision=text, decided_at=decided)
        clock.pauses[0] = (appeal, decided, clock.pauses[0][2], clock.basis)
        clock.paused_at = None
        step("decide", decided, (_("核销：%(r)s") if upheld else _("不予核销：%(r)s")) % {"r": text},
             "annulled" if upheld else "callback")
        if upheld:
            clock.stop(decided)
            return
        t = decided
    callback = when.wd(t, rng.randint(1, 3))
    if callback > now:
        return
    note = rng.choice(T.CALLBACK_NOTES)
    f.update(callback_at=callback, callback_note=note)
    step("callback", callback, note, "rectifying")
    late = rng.random() < 0.1
    report = max(when.wd(f["rated_at"], rng.randint(16, 25) if late else rng.randint(5, 13)), when.wd(callback, 1))
    if report > now:
        return
    text = rng.choice(T.RECTIFICATION_REPORTS)
    f.update(rectification_report=text, rectified_at=report)
    step("report", report, text, "rectified")
    clock.stop(report)
    if rng.random() < 0.8:
        told = when.wd(report, rng.randint(0, 2))
        if told <= now:
            f["rater_told_at"] = told
            step("tell", told, rng.choice(T.TELL_TEXTS))


def write_ratings(plans: list[RatingPlan], progress) -> None:
    if not plans:
        return
    first = reserve_ids(Rating, len(plans))
    for i, p in enumerate(plans):
        p.pk = first + i
        if p.clock:
            p.clock.label = f"{_('差评整改')} #{p.pk} {p.fields['organ'].name}"
    write_clocks([p.clock for p in plans if p.clock], Rating)
    insert_rows(Rating, [dict(p.fields, id=p.pk, rectification_clock_id=p.clock.pk if p.clock else None)
                         for p in plans])
    progress(len(plans) // 2, len(plans), "ratings written")
    insert_rows(RatingStep, [dict(s, rating_id=p.pk) for p in plans for s in p.steps])
    progress(len(plans), len(plans), "rating steps written")


