"""The accountability demo seed: every old enough proposal taken forward through the actions, nothing in
the future, and a second run changes nothing."""
from datetime import timedelta

import pytest
from django.utils import timezone

from xiaoneng.accountability.models import Case, CaseStep, Party, Proposal, ProposalStatus, Source, Status
from xiaoneng.accountability.seed import MANUAL, seed_accountability
from xiaoneng.clocks import actions as clocks
from xiaoneng.orgs.seed import null_progress
from xiaoneng.supervision.models import AccountabilityProposal, Alert, Level

pytestmark = pytest.mark.django_db


def red_card(world, days_ago):
    moment = timezone.now() - timedelta(days=days_ago)
    clock = clocks.do_start_clock(kind="case.legal", start_at=moment - timedelta(days=40), limit=20,
                                  organ=world.tianhe_bureau, label="食品经营许可 法定时限")
    alert = Alert.objects.create(rule="overdue_legal", level=Level.RED, organ=world.tianhe_bureau,
                                 region_code=world.tianhe_bureau.region_code, clock=clock, message="超过法定时限",
                                 subject_label=f"SP-{days_ago}", raised_at=moment, dedup_key=f"seed-{days_ago}")
    return AccountabilityProposal.objects.create(alert=alert, organ=world.tianhe_bureau, reason="红牌：超过法定时限",
                                                 region_code=world.tianhe_bureau.region_code, proposed_at=moment)


def test_the_seed_takes_red_cards_and_other_sources_through_the_actions_and_a_rerun_changes_nothing(acct):
    world = acct.world
    for days in (200, 120, 90):
        red_card(world, days)
    seed_accountability("demo", null_progress)
    proposals = Proposal.objects.exclude(source=Source.ESCALATION)
    assert proposals.filter(source=Source.RED_CARD).count() == 3
    assert proposals.exclude(source=Source.RED_CARD).count() == len(MANUAL)
    # Every proposal older than 60 days is past its last seeded step: declined, or a case decided or closed.
    assert not proposals.filter(status=ProposalStatus.OPEN).exists()
    cases = Case.objects.all()
    assert cases.exists() and all(c.status in (Status.FILED, Status.SERVED, Status.ANNOUNCED, Status.CLOSED)
                                  for c in cases)
    assert all(p.heard_at or p.hearing_waived for p in Party.objects.all())  # never decided without a hearing
    assert not CaseStep.objects.filter(at__gt=timezone.now()).exists()
    counts = (Proposal.objects.count(), Case.objects.count(), CaseStep.objects.count())
    seed_accountability("demo", null_progress)
    assert (Proposal.objects.count(), Case.objects.count(), CaseStep.objects.count()) == counts


def test_a_recent_proposal_stops_at_an_early_step(acct):
    red_card(acct.world, 5)
    seed_accountability("demo", null_progress)
    recent = Proposal.objects.get(source=Source.RED_CARD)
    assert recent.status == ProposalStatus.OPEN or recent.case.status in (Status.REGISTERED,)
