"""The appraisal demo seed, on the seeded organisation of the demo province: last year published through
the actions (objections decided, staff graded within the quota), this year open, and a second run
changes nothing."""
import io
from datetime import datetime
from math import floor

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from xiaoneng.appraisal import staff
from xiaoneng.appraisal.models import (
    ManualValue,
    Objection,
    ObjectionStatus,
    OrganClass,
    Period,
    PeriodStatus,
    Result,
    ResultLine,
    Scheme,
    Source,
    StaffGrade,
    StaffGradeValue,
)
from xiaoneng.appraisal.seed import CLASSES, seed_appraisal, years
from xiaoneng.audit.models import AuditEntry
from xiaoneng.clocks import actions as clocks
from xiaoneng.orgs.models import Organ, User
from xiaoneng.orgs.seed import null_progress, organ_credit_code

NOW = timezone.make_aware(datetime(2026, 12, 7, 10, 0))


def fast():
    """Fourteen demo users: Argon2 would spend seconds hashing their passwords."""
    return override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(scope="module")
def province(django_db_setup, django_db_blocker):
    """The organisation part of the demo seed, once for the module, rolled back at its end."""
    with django_db_blocker.unblock(), fast(), transaction.atomic():
        call_command("seed", "--scale", "demo", "--only", "regions,organs,people,users", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(province, db):
    tianhe_land = Organ.objects.get(credit_code=organ_credit_code(8, "1", "440106000000"))
    # One case of 天河区自然资源局 decided late in 2025: the platform figure its objection is about.
    clock = clocks.do_start_clock(kind="case.promise", start_at=timezone.make_aware(datetime(2025, 6, 2, 9)), limit=5,
                                  organ=tianhe_land, label="建设用地规划许可 承诺时限")
    clocks.do_stop_clock(clock, at=timezone.make_aware(datetime(2025, 6, 20, 10)))
    with fast():
        seed_appraisal("demo", null_progress, now=NOW)
        yield tianhe_land


def snapshot():
    return {
        "classes": sorted((c.name, c.region_code, tuple(sorted(c.organs.values_list("pk", flat=True))))
                          for c in OrganClass.objects.all()),
        "schemes": sorted(Scheme.objects.values_list("organ_class__name", "year", "version", "status", "copied_from__year")),
        "periods": sorted(Period.objects.values_list("scheme__organ_class__name", "scheme__year", "status", "published_at")),
        "results": sorted(Result.objects.values_list("period__scheme__year", "organ_id", "total", "rank", "grade")),
        "lines": sorted(ResultLine.objects.values_list("result__organ_id", "indicator__code", "score", "formula")),
        "manual": sorted(ManualValue.objects.values_list("period__scheme__year", "organ_id", "value", "evidence",
                                                         "entered_at")),
        "objections": sorted(Objection.objects.values_list("result__organ_id", "status", "reasons", "decided_at")),
        "grades": sorted(StaffGrade.objects.values_list("staff_id", "year", "grade")),
        "audit": AuditEntry.objects.count(),
    }


def test_the_years_follow_the_clock():
    assert years(NOW) == (2025, 2026)
    assert years(timezone.make_aware(datetime(2027, 1, 20, 9))) == (2025, 2026)  # too early to have published 2026
    assert years(timezone.make_aware(datetime(2027, 3, 2, 9))) == (2026, 2027)


def test_last_year_is_published_and_this_year_open_and_a_second_run_changes_nothing(seeded):
    assert OrganClass.objects.count() == len(CLASSES)
    for organ_class in OrganClass.objects.all():
        assert organ_class.organs.count() == 19  # the government departments of the place
        last = Period.objects.get(scheme__organ_class=organ_class, scheme__year=2025)
        this = Period.objects.get(scheme__organ_class=organ_class, scheme__year=2026)
        assert last.status == PeriodStatus.PUBLISHED and last.published_at < NOW and last.on_public_site
        assert this.status == PeriodStatus.OPEN and this.scheme.copied_from == last.scheme and not this.on_public_site
        assert last.results.count() == 19 and set(last.results.values_list("rank", flat=True)) >= {1}
        # Every organ's value is in (one came late, through its upheld objection); this year's partly.
        assert ManualValue.objects.filter(period=last).count() == 19
        assert 0 < ManualValue.objects.filter(period=this).count() < 19
        decided = list(Objection.objects.filter(result__period=last).order_by("status"))
        assert [o.status for o in decided] == [ObjectionStatus.REJECTED, ObjectionStatus.UPHELD]
        assert all(o.reasons and o.decided_at < last.published_at for o in decided)
        upheld = decided[1]
        assert upheld.line.indicator.source == Source.MANUAL and upheld.line.score > 0  # corrected and recomputed
        assert all(mv.evidence for mv in ManualValue.objects.filter(period__in=[last, this]))
    rejected = Objection.objects.get(result__organ=seeded)
    assert rejected.status == ObjectionStatus.REJECTED and rejected.line.numerator == 0  # the late case counted

    before = snapshot()
    with fast():
        seed_appraisal("demo", null_progress, now=NOW)
    assert snapshot() == before


def test_staff_grades_respect_the_excellent_quota_and_the_organs_grade(seeded):
    organs = Organ.objects.filter(pk__in=StaffGrade.objects.filter(year=2025).values("organ_id"))
    assert organs.count() == 6
    for organ in organs:
        grades = list(StaffGrade.objects.filter(organ=organ, year=2025).values_list("grade", flat=True))
        quota = staff.quota_for(organ, 2025)
        excellent = grades.count(StaffGradeValue.EXCELLENT)
        assert 0 < excellent <= floor(len(grades) * quota + 1e-9)
        assert len(grades) == organ.staff.filter(is_active=True).count()
        organ_excellent = Result.objects.get(organ=organ, period__scheme__year=2025).grade == "excellent"
        assert quota == (0.25 if organ_excellent else 0.2)


def test_the_demo_appraisal_users_and_the_organ_leader_find_it_on_their_home_page(seeded, client):
    last = Period.objects.get(scheme__organ_class__name="天河区区直单位", scheme__year=2025)
    for username in ("gz_appraisal", "gd_appraisal"):
        client.force_login(User.objects.get(username=username), backend="django.contrib.auth.backends.ModelBackend")
        html = client.get(reverse("home")).content.decode()
        assert f'data-period="{last.pk}"' in html and reverse("appraisal:board", args=[last.pk]) in html
        assert "人工指标已填" in html
    client.force_login(User.objects.get(username="tianhe_leader"), backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("home")).content.decode()
    mine = Result.objects.get(period=last, organ__credit_code=organ_credit_code(18, "1", "440106000000"))
    assert f'data-result="{mine.pk}"' in html and f"{mine.rank} / 19" in html
    assert client.get(reverse("appraisal:board", args=[last.pk])).status_code == 200  # the published ranking
    client.force_login(User.objects.get(username="tianhe_handler"), backend="django.contrib.auth.backends.ModelBackend")
    assert 'data-testid="appraisal-home"' not in client.get(reverse("home")).content.decode()
