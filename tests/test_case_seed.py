"""Demo data for approvals: the catalogue per bureau, a year of cases through the workflow,
the bulk path for benchmark scales, and the demo exchange source.

The demo seed runs once for the module (with a small case count) inside a transaction
that is rolled back at the end, so the other modules start from an empty database.
"""
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.test import override_settings

from xiaoneng.approvals import seed, seed_bulk
from xiaoneng.approvals.catalogue import Rules, StepSpec, check
from xiaoneng.approvals.exchange import keys
from xiaoneng.approvals.models import Case, Matter, StatusChange
from xiaoneng.audit.models import AuditEntry
from xiaoneng.clocks import engine
from xiaoneng.clocks.models import Clock, ClockExtension, ClockPause
from xiaoneng.orgs.models import Organ

DEMO_COUNT = 150


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The output of `xiaoneng seed --scale demo` with 150 demo cases, its data in place for the module."""
    mp = pytest.MonkeyPatch()
    mp.setenv(seed.CASES_ENV, str(DEMO_COUNT))
    # This module is about approvals: keep the complaint centre's share of the demo small.
    mp.setenv("XIAONENG_SEED_COMPLAINTS", "60")
    mp.setenv("XIAONENG_SEED_RATINGS", "100")
    with django_db_blocker.unblock(), override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ), transaction.atomic():
        out = io.StringIO()
        call_command("seed", "--scale", "demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)
    mp.undo()


@pytest.fixture
def seeded(demo, db):
    return demo


def demo_cases():
    return Case.objects.filter(case_no__startswith=seed.DEMO_CASE_MARK)


def organ(name):
    return Organ.objects.get(name=name)


# --- the catalogue ------------------------------------------------------------------------------


def test_every_catalogue_entry_passes_the_catalogue_checks():
    for spec in seed.catalogue_specs():
        rules = spec.rules([Organ(pk=1)] if spec.parallel else [], datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai")))
        assert check(rules) == {}, spec.name
        assert all(isinstance(s, StepSpec) for s in rules.steps) and isinstance(rules, Rules)
    codes = [(s.template, s.n) for s in seed.catalogue_specs()]
    assert len(codes) == len(set(codes))


def test_bureaus_get_real_sounding_matters_at_their_levels(seeded):
    tianhe = organ("广州市天河区市场监督管理局")
    names = set(Matter.objects.filter(organ=tianhe).values_list("name", flat=True))
    assert {"食品经营许可", "特种设备使用登记"} <= names
    assert Matter.objects.filter(organ=organ("广州市住房和城乡建设局"), name="商品房预售许可").exists()
    assert Matter.objects.filter(organ=organ("广州市天河区住房和城乡建设局"), name="建筑工程施工许可").exists()
    assert Matter.objects.filter(organ=organ("深圳市卫生健康委员会"), name="医疗机构执业登记").exists()
    assert Matter.objects.filter(organ=organ("广州市生态环境局"), name="建设项目环境影响报告书审批").exists()
    assert not Matter.objects.filter(organ__name__contains="人民法院").exists()
    food = Matter.objects.get(organ=tianhe, name="食品经营许可")
    assert food.code == "440106-XK-1801" and food.current.promised_limit <= food.current.legal_limit


def test_investment_projects_are_approved_in_parallel_with_three_co_organs(seeded):
    project = Matter.objects.get(organ=organ("广州市发展和改革局"), name="企业投资项目核准")
    v = project.current
    assert v.is_parallel and v.joint_limit == 45
    assert set(v.co_organs.values_list("name", flat=True)) == {"广州市自然资源局", "广州市生态环境局", "广州市住房和城乡建设局"}


def test_some_matters_charge_fees_and_some_need_a_first_review(seeded):
    paid = Matter.objects.filter(current__is_free=False)
    assert paid.filter(name="不动产登记").exists() and paid.filter(name="普通护照签发").exists()
    assert not paid.filter(current__fee_standard__isnull=True).exists()
    reviewed = Matter.objects.get(organ=organ("广州市市场监督管理局"), name="食品生产许可")
    assert reviewed.current.needs_first_review and reviewed.current.steps.get(order=1).is_first_review


# --- the demo cases -----------------------------------------------------------------------------


def test_the_demo_year_has_cases_in_several_statuses(seeded):
    apps = demo_cases().filter(parent__isnull=True)
    assert apps.count() == DEMO_COUNT
    statuses = dict(apps.values_list("status").annotate(n=Count("id")))
    assert statuses.get("closed", 0) > DEMO_COUNT // 2
    assert len(statuses) >= 3, statuses
    assert any(s not in ("closed", "refused", "withdrawn") for s in statuses), "some applications are still open"
    received = list(apps.order_by("received_at").values_list("received_at", flat=True))
    assert (received[-1] - received[0]).days > 300  # a year of applications
    assert demo_cases().filter(first_review_organ__isnull=False).exists() or demo_cases().filter(is_parallel=True).exists()


def test_the_tianhe_handler_finds_open_cases_of_the_last_working_week_in_the_to_do(seeded):
    from django.contrib.auth import get_user_model

    from xiaoneng.inbox.todo import sections

    handler = get_user_model().objects.get(username="tianhe_handler")
    cases = next(s for s in sections(handler) if s.key == "cases")
    assert cases.count >= 3 and cases.items, "the demo handler has cases to act on"
    assert all(item.link.startswith("/cases/") for item in cases.items)


def test_each_case_status_is_its_last_status_change(seeded):
    last = StatusChange.objects.filter(case=OuterRef("pk")).order_by("-at", "-id").values("to_status")[:1]
    cases = demo_cases().annotate(last=Subquery(last))
    assert not cases.exclude(last__isnull=True).exclude(status=F("last")).exists()
    assert not cases.filter(last__isnull=True).exclude(status="submitted").exists()


def test_the_demo_clocks_are_exactly_what_the_engine_derives(seeded):
    clocks = Clock.objects.filter(label__startswith=seed.DEMO_CASE_MARK)
    assert clocks.count() > 3 * DEMO_COUNT
    assert engine.recompute(clocks) == 0


def test_the_demo_cases_carry_the_paths_the_law_describes(seeded):
    assert demo_cases().filter(status="closed", outcome="granted", certified_at__isnull=False).exists()
    assert Clock.objects.filter(label__startswith=seed.DEMO_CASE_MARK, kind="case.step").exists()
    late = Clock.objects.filter(label__startswith=seed.DEMO_CASE_MARK, kind="case.promise", state="stopped",
                                stopped_at__gt=F("due_at"))
    on_time = Clock.objects.filter(label__startswith=seed.DEMO_CASE_MARK, kind="case.promise", state="stopped",
                                   stopped_at__lte=F("due_at"))
    assert on_time.count() > 3 * late.count()  # most are decided within the promise
    assert not demo_cases().exclude(applicant_phone="").filter(parent__isnull=False).exists()
    assert not demo_cases().filter(parent__isnull=True, applicant_phone="").exists()


def test_the_command_prints_case_progress_the_lookup_code_and_the_exchange_key(seeded):
    assert "matters:" in seeded and "cases:" in seeded
    assert f"{DEMO_COUNT} demo cases through the workflow" in seeded
    assert f"cases {DEMO_COUNT}/{DEMO_COUNT}" in seeded  # progress
    assert "public look-up: case XN440106" in seeded
    line = next(x for x in seeded.splitlines() if "demo exchange source" in x)
    key = line.split("key: ")[1].split()[0]
    source = keys.authenticate(key)
    assert source is not None and source.code == seed.DEMO_SOURCE
    assert list(source.organs.values_list("name", flat=True)) == ["广州市天河区市场监督管理局"]
    assert not AuditEntry.objects.filter(object_repr__contains=key[:14]).exists()


def test_a_public_lookup_code_opens_the_printed_case(seeded):
    from xiaoneng.approvals.actions import check_verify_code

    line = next(x for x in seeded.splitlines() if "public look-up" in x)
    words = line.split("public look-up: case ")[1].split()
    case = Case.objects.get(case_no=words[0])
    assert check_verify_code(case, words[2])
    assert not AuditEntry.objects.filter(action="seed", object_repr__contains=words[2]).exists()


def test_running_the_steps_again_adds_nothing(seeded):
    """(The module's demo seed ran with XIAONENG_SEED_CASES=150, which is still set here.)"""
    before = (Matter.objects.count(), Case.objects.count(), Clock.objects.count(), StatusChange.objects.count())
    assert "0 new" in seed.seed_matters("demo")
    assert "(kept)" in seed.seed_cases("demo")
    assert (Matter.objects.count(), Case.objects.count(), Clock.objects.count(), StatusChange.objects.count()) == before


def test_an_interrupted_demo_run_is_topped_up_on_the_next(seeded, monkeypatch):
    middle = demo_cases().filter(parent__isnull=True, is_parallel=False).order_by("case_no")[DEMO_COUNT // 2]
    middle.delete()
    assert f"1 demo cases through the workflow ({DEMO_COUNT - 1} kept)" in seed.seed_cases("demo")
    assert demo_cases().filter(parent__isnull=True).count() == DEMO_COUNT
    assert demo_cases().values("case_no").distinct().count() == demo_cases().count()


def test_a_rerun_rotates_the_demo_key(seeded):
    old = seeded.split("key: ")[1].split()[0]
    notes = []
    summary = seed.seed_exchange("demo", lambda done, total, note="": notes.append(note))
    new = notes[-1].split("key: ")[1]
    assert "xn_" not in summary  # the summary goes to the audit log; the key must not
    assert new != old and keys.authenticate(old) is None and keys.authenticate(new).code == seed.DEMO_SOURCE


# --- the bulk path ---------------------------------------------------------------------------------


def test_the_bulk_path_makes_n_linked_cases_whose_deadlines_match_the_engine(seeded):
    summary = seed_bulk.load(3000)
    assert summary.startswith("3000 bulk cases")
    bulk = Case.objects.filter(case_no__startswith=seed_bulk.BULK_MARK)
    assert bulk.count() == 3000
    clocks = Clock.objects.filter(label__startswith=seed_bulk.BULK_MARK)
    assert engine.recompute(clocks) == 0  # stored warn_at/due_at are exactly what the engine derives
    # The links: each case points at clocks about itself, of its organ.
    assert bulk.filter(correction_clock__subject_id=F("pk"), correction_clock__organ=F("organ")).count() == 3000
    assert not bulk.filter(promise_clock__isnull=False).exclude(promise_clock__subject_id=F("pk")).exists()
    assert not bulk.filter(accepted_at__isnull=False, legal_clock__isnull=True).exists()
    assert not bulk.filter(outcome="granted", certificate_clock__isnull=True).exists()
    assert not bulk.filter(status="closed", closed_at__isnull=True).exists()
    # Status is the last status change, as set_status writes them.
    last = StatusChange.objects.filter(case=OuterRef("pk")).order_by("-at", "-id").values("to_status")[:1]
    assert not bulk.annotate(last=Subquery(last)).exclude(last__isnull=True).exclude(status=F("last")).exists()
    statuses = set(bulk.values_list("status", flat=True))
    assert {"closed", "refused", "accepted"} <= statuses
    assert ClockPause.objects.filter(clock__label__startswith=seed_bulk.BULK_MARK).exists()
    assert ClockExtension.objects.filter(clock__label__startswith=seed_bulk.BULK_MARK).exists()
    # Idempotent: the same target adds nothing; a bigger one tops up.
    assert "(kept)" in seed_bulk.load(3000)
    seed_bulk.load(3400)
    assert bulk.count() == 3400 and bulk.values("case_no").distinct().count() == 3400


def test_the_bulk_path_matches_a_workflow_case_of_the_same_matter(seeded):
    """A bulk case's correction clock is due when the workflow's would be, for the same receipt."""
    from xiaoneng.approvals import actions

    seed_bulk.load(500)
    case = Case.objects.filter(case_no__startswith=seed_bulk.BULK_MARK).select_related("correction_clock").first()
    twin, _code = actions.do_submit_case(matter=case.matter_version.matter, case_no="TWIN-1", applicant_name="张三",
                                         received_at=case.received_at)
    twin.refresh_from_db()
    assert twin.correction_clock.due_at == case.correction_clock.due_at
    assert twin.correction_clock.warn_at == case.correction_clock.warn_at


@pytest.mark.postgres
def test_a_big_load_drops_and_rebuilds_the_indexes_on_postgresql(seeded, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("index rebuild and COPY are PostgreSQL-only")

    def indexes():
        with connection.cursor() as cur:
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
                        "('approvals_case', 'clocks_clock', 'approvals_statuschange') ORDER BY 1")
            return cur.fetchall()

    before = indexes()
    Case.objects.filter(case_no__startswith=seed_bulk.BULK_MARK).delete()
    monkeypatch.setattr(seed_bulk, "REBUILD_FROM", 100)
    present = Case.objects.count()
    summary = seed_bulk.load(present + 200)
    assert "COPY" in summary and "indexes rebuilt" in summary
    assert indexes() == before
    assert Case.objects.filter(case_no__startswith=seed_bulk.BULK_MARK).count() == present + 200


def test_the_province_scale_needs_postgresql(seeded, monkeypatch):
    if connection.vendor == "postgresql":
        pytest.skip("on PostgreSQL the province scale loads; tested with a small count above")
    monkeypatch.delenv(seed.CASES_ENV)
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed.seed_cases("province")


def test_the_case_count_override_must_be_a_number(seeded, monkeypatch):
    monkeypatch.setenv(seed.CASES_ENV, "lots")
    with pytest.raises(CommandError, match=seed.CASES_ENV):
        seed.seed_cases("large")
