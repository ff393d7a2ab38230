"""The `complaints` seed step on the small test province: a consistent, realistic year."""
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from xiaoneng.approvals import actions as approvals
from xiaoneng.clocks import engine
from xiaoneng.clocks.models import Clock, ClockExtension
from xiaoneng.complaints import identity
from xiaoneng.complaints.models import (
    SUB_INDICATORS,
    Category,
    Channel,
    Complaint,
    ComplaintStep,
    ExtensionRequest,
    Rating,
    RatingStep,
    Status,
)
from xiaoneng.complaints.seed import seed_complaints
from xiaoneng.complaints.validation import id_number_error, phone_error
from xiaoneng.complaints.workflow import PUBLIC_KINDS, TRANSITIONS
from xiaoneng.orgs.seed import seed_steps

COMPLAINTS, RATINGS = 150, 400


@pytest.fixture
def seeded(desk, matters):
    """Offices and categories (desk), matters of two bureaus, three finished cases, then the step."""
    now = timezone.now()
    for i in range(3):
        case, _code = approvals.do_submit_case(matter=matters.licence, case_no=f"T-SEED-{i}", applicant_name="张三",
                                               received_at=now - timedelta(days=30 + i))
        approvals.do_refuse_case(case, reasons="申请事项依法不需要取得行政许可", at=now - timedelta(days=29 + i))
    summary = seed_complaints("demo", complaints=COMPLAINTS, ratings=RATINGS)
    return summary


def test_the_step_runs_after_the_cases_and_before_the_rollups():
    autodiscover_modules("seed")
    orders = {s.name: s.order for s in seed_steps()}
    assert orders["cases"] < orders["complaints"] < orders["rollups"]


def test_the_seed_files_complaints_in_every_channel_and_every_status(seeded):
    assert Complaint.objects.count() == COMPLAINTS
    assert set(Complaint.objects.values_list("channel", flat=True)) == set(Channel.values)
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Status.values)
    channels = Counter(Complaint.objects.values_list("channel", flat=True))
    assert channels.most_common(1)[0][0] == "web"
    anonymous = Complaint.objects.filter(anonymous=True).count() / COMPLAINTS
    assert 0.08 < anonymous < 0.35
    assert Category.objects.filter(code="other").exists() and Category.objects.count() == 9


def test_complaints_are_routed_only_to_organs_with_matters_within_their_region(seeded, desk):
    routed = Complaint.objects.filter(organ__isnull=False).select_related("organ", "region")
    assert routed.exists()
    for c in routed:
        assert c.organ.matters.exists()
        assert c.organ.region_code.startswith(c.region.prefix)
        assert c.region_code == c.organ.region_code


def test_each_timeline_follows_the_transition_table_and_ends_at_the_complaints_status(seeded):
    for complaint in Complaint.objects.prefetch_related("steps"):
        changes = [s for s in complaint.steps.all() if s.to_status]
        assert changes[0].kind == "register" and changes[0].from_status == ""
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.from_status == before.to_status, complaint.number
            assert after.to_status in TRANSITIONS[after.from_status], complaint.number
            assert after.at >= before.at
        assert changes[-1].to_status == complaint.status, complaint.number
    assert not ComplaintStep.objects.exclude(public=True).filter(kind__in=PUBLIC_KINDS).exists()
    assert not ComplaintStep.objects.filter(public=True).exclude(kind__in=PUBLIC_KINDS).exists()


def test_clocks_carry_the_deadlines_the_engine_derives(seeded):
    clocks = list(Clock.objects.filter(kind__startswith="complaint.").order_by("?")[:40])
    clocks += list(Clock.objects.filter(kind="rating.rectification").order_by("?")[:20])
    clocks += list(Clock.objects.filter(pauses__isnull=False).distinct())
    assert len(clocks) > 40
    for clock in clocks:
        derived = engine.derive(clock)
        assert (clock.due_at, clock.warn_at) == (derived.due_at, derived.warn_at), clock.label
        assert clock.next_check_at == engine.next_check(clock)
    for c in Complaint.objects.select_related("acceptance_clock", "handling_clock"):
        assert c.acceptance_clock.subject == c
        if c.status in (Status.ROUTED,):
            assert c.handling_clock.state == Clock.State.RUNNING
        if c.status in (Status.CLOSED, Status.REPLIED, Status.NOT_ACCEPTED, Status.MERGED):
            assert c.acceptance_clock.state == Clock.State.STOPPED


def test_some_clocks_are_overdue_for_the_supervision_pages(seeded):
    now = timezone.now()
    running_late = Clock.objects.filter(kind__startswith="complaint.", state="running", due_at__lt=now)
    assert running_late.filter(kind="complaint.acceptance").exists()
    assert running_late.filter(kind="complaint.handling").exists()


def test_extensions_merges_and_grants_are_consistent(seeded):
    approved = ExtensionRequest.objects.filter(approved=True).select_related("complaint__handling_clock")
    for request in approved:
        assert request.complaint.extended
        assert ClockExtension.objects.filter(clock__subject_id=request.complaint_id, clock__kind="complaint.handling",
                                             days=request.days).exists()
    assert ExtensionRequest.objects.filter(approved__isnull=True, complaint__status=Status.ROUTED).exists()
    for merged in Complaint.objects.filter(status=Status.MERGED).select_related("merged_into"):
        assert merged.merged_into.steps.filter(kind="merge", data__merged=merged.number).exists()
        assert merged.closed_at is not None


def test_identities_are_encrypted_and_decrypt_to_valid_people(seeded):
    named = Complaint.objects.filter(anonymous=False)
    assert named.exists()
    for c in named:
        who = identity.decrypt(c.identity_enc)
        assert who.name and c.name_masked == identity.mask_name(who.name)
        assert phone_error(who.phone) is None and c.phone_masked == identity.mask_phone(who.phone)
        assert id_number_error(who.id_number) is None
        assert who.name not in c.identity_enc
    assert not Complaint.objects.filter(anonymous=True).exclude(identity_enc="").exists()
    assert any(identity.decrypt(c.identity_enc).id_number for c in named)


def test_ratings_have_the_sub_indicators_of_their_kind(seeded):
    assert Rating.objects.count() == RATINGS
    assert Rating.objects.filter(case__isnull=False).exists() and Rating.objects.filter(kind="offline").exists()
    for rating in Rating.objects.all():
        assert set(rating.scores) == set(SUB_INDICATORS[rating.kind])
        assert rating.scores["overall"] == rating.level
        assert all(1 <= v <= 5 for v in rating.scores.values())
        if rating.kind == "offline" and rating.case_id is None:
            assert rating.window
    levels = Counter(Rating.objects.values_list("level", flat=True))
    assert levels[5] + levels[4] > 0.8 * RATINGS
    assert RatingStep.objects.filter(kind="rate").count() == RATINGS


def test_named_bad_ratings_wait_on_a_rectification_clock(seeded):
    bad_named = Rating.objects.filter(level__lte=2, named=True)
    assert bad_named.exists()
    for rating in bad_named.select_related("rectification_clock"):
        clock = rating.rectification_clock
        assert clock.kind == "rating.rectification" and clock.unit == "working" and clock.limit == 15
        assert rating.status in ("callback", "rectifying", "rectified", "appealed", "annulled")
        assert (clock.state == "stopped") == (rating.status in ("rectified", "annulled"))
    assert not Rating.objects.filter(named=False, rectification_clock__isnull=False).exists()


def test_running_the_seed_again_adds_nothing(seeded):
    counts = (Complaint.objects.count(), Rating.objects.count(), Clock.objects.count(), ComplaintStep.objects.count())
    summary = seed_complaints("demo", complaints=COMPLAINTS, ratings=RATINGS)
    assert "kept" in summary
    assert (Complaint.objects.count(), Rating.objects.count(), Clock.objects.count(),
            ComplaintStep.objects.count()) == counts


def test_without_organs_that_have_matters_the_step_only_loads_the_categories(world):
    summary = seed_complaints("demo", complaints=10, ratings=10)
    assert "no complaints" in summary
    assert Category.objects.count() == 9 and not Complaint.objects.exists()
