"""Demo data for accountability: a year of coherent cases, made through the actions.

Seed step ``accountability`` (order 85: after ``complaints`` (80), before ``rollups`` (90);
registry: xiaoneng.orgs.seed):

1. Founded complaints of the demo (spread over the year, deterministic) propose
   accountability through `complaints.actions.do_propose_accountability`; like every
   supervision proposal (red cards too, once the monitoring pass has raised them) it is taken
   up here by the signal. Red-card proposals already in the database are used as they are.
2. A few proposals from the other sources (暗访, inspection, leader's instruction) by hand.
3. Each open proposal becomes a case that lives as far as its age allows: registered two days
   after the proposal, the persons concerned (staff of the organ, or the organ itself),
   findings, notice, statement or waiver, error-tolerance review (some 从轻 / 免予), decision
   under the efficiency office's number, service, announcement for some, filing (some late,
   a few not yet), a few appeals (upheld, changed, revoked); a few proposals declined. Recent
   proposals stop at an earlier step, so the lists show every status and open clocks.

Idempotent: a proposal already registered or declined is left alone, complaints that already
proposed are skipped, the hand-made proposals have fixed titles. Deterministic: one random
generator per proposal, seeded by its id; moments move with "now" (nothing in the future).
"""
from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from xiaoneng.conf import rule
from xiaoneng.orgs.models import Organ, Staff
from xiaoneng.orgs.seed import register_seed_step

COMPLAINT_PROPOSALS = 24
MANUAL = [
    ("media", "暗访发现窗口工作人员推诿群众", "明察暗访视频显示，窗口工作人员以“系统故障”为由拒绝受理。"),
    ("inspection", "效能检查发现超期办件未说明理由", "效能检查抽查发现多件办件超过法定期限且未说明延期理由。"),
    ("leader", "领导批示：群众反映办事难问题", "市领导对群众来信反映“办证跑多次”问题作出批示，要求严肃追责。"),
    ("media", "暗访发现工作时间脱岗", "暗访发现工作时间窗口无人值守达四十分钟。"),
    ("inspection", "审计发现专项资金拨付拖延", "审计发现专项资金拨付超过规定时限三个月。"),
]
MEASURES = ["talk", "criticise", "self_inspect", "admonish", "warning", "warning", "demerit", "reassign"]


def _office(organ: Organ) -> Organ:
    """The deciding organ: the efficiency office of the organ's region or the nearest one above it."""
    offices = Organ.objects.filter(short_name=rule("complaint_office_short_name"), is_active=True)
    above = [o for o in offices if organ.region_code.startswith(o.region_code)]
    return max(above, key=lambda o: len(o.region_code)) if above else organ


def _complaint_proposals(now) -> int:
    from xiaoneng.complaints import actions as complaints
    from xiaoneng.complaints.models import Complaint
    from xiaoneng.supervision.models import AccountabilityProposal

    taken = AccountabilityProposal.objects.filter(complaint__isnull=False).values("complaint_id")
    founded = (Complaint.objects.filter(result="founded", organ__isnull=False, handled_at__isnull=False,
                                        handled_at__lt=now - timedelta(days=3))
               .exclude(pk__in=taken).order_by("handled_at", "pk"))
    missing = COMPLAINT_PROPOSALS - AccountabilityProposal.objects.filter(complaint__isnull=False).count()
    # Spread over the year (every k-th in order of handling), so recent ones stop at earlier steps.
    pool = list(founded.values_list("pk", flat=True))
    picked = pool[::max(1, len(pool) // missing)][:missing] if missing > 0 and pool else []
    made = 0
    for complaint in Complaint.objects.filter(pk__in=picked).order_by("handled_at", "pk"):
        complaints.do_propose_accountability(
            complaint, reason=f"投诉“{complaint.title[:60]}”经核查属实，建议追究相关人员责任。",
            at=complaint.handled_at + timedelta(days=1))
        made += 1
    return made


def _manual_proposals(now) -> int:
    from . import actions
    from .models import Proposal

    organs = list(Organ.objects.filter(is_active=True, staff__isnull=False).exclude(
        short_name=rule("complaint_office_short_name")).distinct().order_by("region_code", "pk")[:40])
    made = 0
    for i, (source, title, reason) in enumerate(MANUAL):
        if not organs or Proposal.objects.filter(source=source, title=title).exists():
            continue
        actions.do_propose_accountability(source=source, organ=organs[(i * 7) % len(organs)], title=title,
                                          reason=reason, at=now - timedelta(days=330 - i * 60),
                                          documents=[("检查记录", reason)], proposed_by="seed")
        made += 1
    return made


def _live(proposal, now) -> str:
    """Take one open proposal as far as its age allows; returns the stage reached."""
    from . import actions
    from .models import Appeal, Responsibility, Tolerance

    rng = random.Random(proposal.pk)
    t0 = proposal.proposed_at
    day = lambda n: t0 + timedelta(days=n, hours=rng.randint(0, 6))  # noqa: E731
    if rng.random() < 0.08:
        if day(5) < now:
            actions.do_decline_proposal(proposal, reason="经初步核实，现有证据不足以认定存在过错责任。", at=day(5))
            return "declined"
        return "open"
    if day(2) >= now:
        return "open"
    organ = proposal.organ
    case = actions.do_register_case(proposal, deciding_organ=_office(organ), at=day(2))
    staff = list(Staff.objects.filter(organ=organ, is_active=True).order_by("pk")[:12])
    parties = []
    if staff:
        parties.append(actions.do_add_party(case, staff=rng.choice(staff), responsibility=Responsibility.DIRECT))
        if rng.random() < 0.3 and len(staff) > 1:
            other = rng.choice([s for s in staff if s.pk != parties[0].staff_id])
            parties.append(actions.do_add_party(case, staff=other, responsibility=Responsibility.IMPORTANT_LEADER))
    else:
        parties.append(actions.do_add_party(case, organ=organ, responsibility=Responsibility.ORGAN))
    if day(10) >= now:
        return "registered"
    actions.do_record_findings(case, findings=f"经调查核实，{proposal.reason.rstrip('。')}，相关人员履职不到位。", at=day(10))
    if day(12) >= now:
        return "investigated"
    for p in parties:
        measure = "circulate" if p.organ_id else rng.choice(MEASURES if p.responsibility == Responsibility.DIRECT
                                                            else MEASURES[:4])
        actions.do_notify_party(p, measure=measure, at=day(12))
    if day(16) >= now:
        return "notified"
    for p in parties:
        if rng.random() < 0.3:
            actions.do_record_statement(p, waived=True, at=day(16))
        else:
            actions.do_record_statement(p, statement="对调查认定的事实无异议，请求从轻处理。", at=day(16))
    if day(18) >= now:
        return "heard"
    for p in parties:
        roll = rng.random()
        if roll < 0.12:
            actions.do_review_tolerance(p, situations=["remedied"], outcome=Tolerance.EXEMPT,
                                        reason="及时采取补救措施，有效消除不良影响。", at=day(18))
        elif roll < 0.3:
            actions.do_review_tolerance(p, situations=["cooperated"], outcome=Tolerance.LIGHTER,
                                        reason="积极配合调查，主动承担责任。", at=day(18))
        else:
            actions.do_review_tolerance(p, situations=[], outcome=Tolerance.NONE, at=day(18))
    case.refresh_from_db()
    parties = [type(p).objects.get(pk=p.pk) for p in parties]
    remaining = [p for p in parties if p.tolerance_outcome not in (Tolerance.NOT, Tolerance.EXEMPT)]
    if day(25) >= now:
        return "reviewed"
    if not remaining:
        actions.do_close_case(case, reason="经容错纠错审查，免予问责。", at=day(25))
        return "closed"
    office = case.deciding_organ
    number = f"{office.short_name or office.name}问〔{day(25).year}〕{case.pk}号"
    actions.do_decide_case(case, decider="集体研究决定", decision_number=number, catch_all=rng.random() < 0.15,
                           measures={p.pk: ([_lighter(p.notified_measure) if p.tolerance_outcome == Tolerance.LIGHTER
                                             else p.notified_measure], None) for p in remaining}, at=day(25))
    if day(27) >= now:
        return "decided"
    actions.do_serve_case(case, at=day(27))
    if rng.random() < 0.4 and day(28) < now:
        # Every other announced case to the public (the portal's 问责通报), the rest within the organ;
        # chosen by the case's id so the random sequence of the rest of the seed stays as it was.
        public = case.pk % 2 == 0
        actions.do_announce_case(case, scope="向社会公开" if public else f"{case.organ.name}内部", public=public,
                                 at=day(28))
    filed = day(rng.choice((30, 32, 35, 60)))  # 60 days: filed late
    if rng.random() < 0.9 and filed < now:
        # Each filing the decision needs: the same level, and the level above where the measure requires it.
        for filing in case.filings.filter(filed_at__isnull=True).order_by("pk"):
            actions.do_file_case(case, filed_with="同级监察委员会" if filing.level == "same" else "上一级监察委员会",
                                 level=filing.level, at=filed)
    decided = [type(p).objects.get(pk=p.pk) for p in remaining]
    person = next((p for p in decided if p.staff_id), None)
    if person is not None and rng.random() < 0.25 and day(50) < now:
        appeal = actions.do_lodge_appeal(person, kind=Appeal.Kind.REVIEW, grounds="认为处理过重，请求复核。",
                                         received_at=day(35))
        outcome = rng.choice((Appeal.Outcome.UPHELD, Appeal.Outcome.UPHELD, Appeal.Outcome.CHANGED,
                              Appeal.Outcome.REVOKED))
        lighter = _lighter(person.measure)
        if outcome == Appeal.Outcome.CHANGED and lighter == person.measure:
            outcome = Appeal.Outcome.UPHELD
        actions.do_decide_appeal(appeal, outcome=outcome, reasons="经复核，依法作出决定。",
                                 new_measure=lighter if outcome == Appeal.Outcome.CHANGED else "",
                                 pay_to_restore="无" if outcome == Appeal.Outcome.REVOKED else "", at=day(50))
    return "filed"


def _lighter(code: str) -> str:
    order = ["talk", "criticise", "self_inspect", "admonish", "warning", "demerit"]
    return order[order.index(code) - 1] if code in order and order.index(code) > 0 else code


def seed_accountability(scale, progress):
    from .models import Proposal, ProposalStatus

    now = timezone.now()
    made = _complaint_proposals(now) + _manual_proposals(now)
    open_ = list(Proposal.objects.filter(status=ProposalStatus.OPEN, staff__isnull=True)
                 .exclude(source="escalation").select_related("organ").order_by("proposed_at", "pk"))
    stages: dict[str, int] = {}
    for i, proposal in enumerate(open_, start=1):
        stage = _live(proposal, now)
        stages[stage] = stages.get(stage, 0) + 1
        progress(i, len(open_))
    return f"{made} proposals made, {len(open_)} taken forward ({', '.join(f'{k} {v}' for k, v in sorted(stages.items()))})"


register_seed_step("accountability", 85, seed_accountability)
