"""Networked roll-ups: on-time rate with open overdue cases, per-100 rates, child regions
summing to their parent, scope, and the pre-aggregate agreeing with a direct count.

The story (promise 10 working days; accepted Mon 2026-09-28 → due 10-16 24:00, the
National Day break skipped and Sat 10-10 a make-up working day):

    天河 A  decided 10-12                       on time   (6 working days used)
    天河 B  decided 10-20                       late      (due in October)
    天河 C  never decided                       late      (open, past its deadline)
    天河 D  accepted 11-16, open, not yet due   not assessed
    天河 E  withdrawn 10-09                     not assessed
    天河 H  suspended 10-09 → resumed 10-14 (4 working days stood still), decided 10-21: on time
    越秀 F  accepted 10-08, decided 10-15       on time
    越秀 J  accepted 09-28, decided 11-03       late in October, decided in November
    广州市局 I  decided 10-14                    on time (the city's own organ)
    福田 G  never decided                       late (Shenzhen)

Monitoring passes on 10-15, 10-17 and 10-31 raise the warnings, yellow cards (with
their supervision orders) and red cards through the real rules.
"""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from xiaoneng.approvals import actions as cases
from xiaoneng.approvals.catalogue import Rules, do_create_matter
from xiaoneng.clocks import monitor
from xiaoneng.supervision import stats
from xiaoneng.supervision.models import Alert
from xiaoneng.supervision.stats_models import OrganDayStat, OrganMonthStat

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=SH)
OCTOBER = stats.Period(date(2026, 10, 1), date(2026, 10, 1))
NOVEMBER = stats.Period(date(2026, 11, 1), date(2026, 11, 1))
AUTUMN = stats.Period(date(2026, 9, 1), date(2026, 11, 1))


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def matter_of(organ, code):
    since = datetime(2025, 1, 1, tzinfo=SH)
    return do_create_matter(code=code, name="食品经营许可", kind="licence", organ=organ,
                            rules=Rules(legal_basis="《食品安全法》第三十五条", legal_limit=20, promised_limit=10,
                                        effective_from=since))


def accepted(matter, no, when="2026-09-28T10:00", accept="2026-09-28T11:00"):
    case, _ = cases.do_submit_case(matter=matter, case_no=no, applicant_name="张三", received_at=at(when))
    return cases.do_accept_case(case, at=at(accept))


def decide(case, when):
    return cases.do_decide_case(case, outcome="granted", at=at(when))


def build_story(world, matters):
    """The cases above, driven through the actions and monitoring passes; roll-ups refreshed."""
    s = type("Story", (), {})()
    tianhe, yuexiu = matters.licence, matter_of(world.yuexiu_bureau, "440104-SP-001")
    futian, city = matter_of(world.futian_bureau, "440304-SP-001"), matter_of(world.gz_bureau, "4401-SP-900")
    s.a, s.b, s.c = accepted(tianhe, "TH-A"), accepted(tianhe, "TH-B"), accepted(tianhe, "TH-C")
    s.e, s.h = accepted(tianhe, "TH-E"), accepted(tianhe, "TH-H")
    s.j, s.g, s.i = accepted(yuexiu, "YX-J"), accepted(futian, "FT-G"), accepted(city, "GZ-I")
    s.f = accepted(yuexiu, "YX-F", "2026-10-08T09:00", "2026-10-08T10:00")
    cases.do_withdraw_case(s.e, reason="申请人撤回", at=at("2026-10-09T09:00"))
    cases.do_suspend_case(s.h, reason="专家评审", announced_days=5, legal_basis="《行政许可法》第四十五条",
                          at=at("2026-10-09T10:00"))
    decide(s.a, "2026-10-12T10:00")
    cases.do_resume_case(s.h, at=at("2026-10-14T09:00"))
    decide(s.i, "2026-10-14T15:00")
    monitor.run_pass(at("2026-10-15T09:00"))
    decide(s.f, "2026-10-15T16:00")
    monitor.run_pass(at("2026-10-17T09:00"))
    decide(s.b, "2026-10-20T10:00")
    decide(s.h, "2026-10-21T10:00")
    monitor.run_pass(at("2026-10-31T09:00"))
    decide(s.j, "2026-11-03T10:00")
    s.d = accepted(tianhe, "TH-D", "2026-11-16T09:00", "2026-11-16T10:00")
    stats.refresh(full=True, now=NOW)
    return s


@pytest.fixture
def story(world, matters):
    return build_story(world, matters)


def figures(user, period, prefix=None):
    return stats.total(stats.trend(user, period, prefix))


# --- the on-time rate --------------------------------------------------------------------------
def test_the_on_time_rate_counts_open_cases_already_past_their_deadline_as_late(world, story):
    october = figures(world.county_supervisor, OCTOBER)
    assert (october.on_time, october.late) == (2, 2)  # A and H on time; B decided late, C still open
    assert october.on_time_rate == pytest.approx(50.0)
    assert stats.live(world.county_supervisor, None, now=NOW)["open_overdue"] == 1  # C, right now


def test_a_late_decision_counts_late_when_it_fell_due_and_decided_when_it_was_decided(world, story):
    yuexiu = "440104"
    october, november = figures(world.province_supervisor, OCTOBER, yuexiu), figures(world.province_supervisor, NOVEMBER, yuexiu)
    assert (october.on_time, october.late, october.decided) == (1, 1, 1)  # F on time; J due in October, open then
    assert (november.on_time, november.late, november.decided) == (0, 0, 1)  # J decided in November, late once only


def test_cases_not_yet_due_or_withdrawn_in_time_are_not_assessed(world, story):
    november = figures(world.county_supervisor, NOVEMBER)
    assert november.received == 1 and november.assessed == 0 and november.on_time_rate is None  # D


def test_handling_time_counts_working_days_against_the_limit_without_the_days_stood_still(world, story):
    october = figures(world.county_supervisor, OCTOBER)
    # A: (09-28, 10-12] = 09-29, 09-30, 10-08, 10-09, Sat 10-10, 10-12 → 6 of 10
    # B: (09-28, 10-20] → 12 of 10
    # H: (09-28, 10-21] = 13, less Sat 10-10, 10-12, 10-13, 10-14 stood still → 9 of 10 (its deadline moved to 10-22)
    story.h.promise_clock.refresh_from_db()
    assert story.h.promise_clock.due_at == at("2026-10-23T00:00")
    assert october.timed == 3 and october.limit_days == 30
    assert october.used_days == 6 + 12 + 9
    assert october.avg_used == pytest.approx(27 / 3) and october.use_ratio == pytest.approx(100 * 27 / 30)


# --- per 100 cases -------------------------------------------------------------------------------
def test_alerts_and_cards_are_counted_per_100_cases_received(world, story):
    f = figures(world.province_supervisor, AUTUMN, "440106")
    raised = Alert.objects.filter(region_code__startswith="440106")
    warnings, yellows, reds = (raised.filter(level=x).count() for x in ("warning", "yellow", "red"))
    assert yellows and reds, "the story should raise yellow and red cards in 天河"
    assert (f.warnings, f.yellows, f.reds) == (warnings, yellows, reds)
    assert f.received == 6  # A B C D E H
    assert f.yellows_per_100 == pytest.approx(100 * yellows / 6)
    assert f.reds_per_100 == pytest.approx(100 * reds / 6)
    assert f.cards_per_100 == pytest.approx(100 * (yellows + reds) / 6)


def test_per_100_rates_are_undefined_without_cases():
    f = stats.Figures(warnings=3)
    assert f.warnings_per_100 is None and f.on_time_rate is None and f.use_ratio is None


# --- networked levels ----------------------------------------------------------------------------
def test_a_city_is_the_sum_of_its_counties_and_its_own_organs(world, story):
    user = world.province_supervisor
    children, own = stats.by_child(user, AUTUMN, world.gz, NOW)
    assert [c.label for c in children] == ["越秀区", "天河区"]
    whole = figures(user, AUTUMN, "4401")
    parts = stats.total([*children, own])
    assert parts.numbers() == whole.numbers()
    assert own.on_time == 1 and own.label == "本级机关"  # 广州市局 I
    assert parts.open_overdue == stats.live(user, "4401", now=NOW)["open_overdue"] == 1  # C
    province_children, _ = stats.by_child(user, AUTUMN, world.gd, NOW)
    gz = next(c for c in province_children if c.key == "4401")
    assert gz.numbers() == whole.numbers()


def test_a_county_supervisor_never_sees_another_countys_figures(world, story):
    county, province = world.county_supervisor, world.province_supervisor
    assert figures(county, AUTUMN, "44").numbers() == figures(province, AUTUMN, "440106").numbers()
    assert figures(county, AUTUMN, "440104").received == 0  # asking for 越秀 gives nothing
    children, own = stats.by_child(county, AUTUMN, world.gz, NOW)
    yuexiu = next(c for c in children if c.key == "440104")
    assert yuexiu.numbers() == stats.Figures().numbers() and own.received == 0
    organs = {f.key for f in stats.by_organ(county, AUTUMN, None, NOW)}
    assert organs == {world.tianhe_bureau.pk}
    assert stats.live(county, "44", now=NOW)["open_overdue"] == 1  # C, not 福田's G
    assert stats.live(province, "44", now=NOW)["open_overdue"] == 2
    assert all(a.region_code.startswith("440106") for a in stats.board(county, None))


def test_outsiders_and_handlers_get_no_rows(world, story):
    for user in (world.outsider, world.county_handler):
        assert figures(user, AUTUMN).numbers() == stats.Figures().numbers()


# --- the pre-aggregate agrees with the source tables -----------------------------------------------
def test_the_pre_aggregate_equals_a_direct_computation(world, story):
    for prefix in (None, "44", "4401", "440106", "440104", "4403"):
        for period in (OCTOBER, NOVEMBER, AUTUMN):
            rolled = figures(world.province_supervisor, period, prefix)
            direct = stats.direct(prefix, period.first, period.end, now=NOW)
            assert rolled.numbers() == direct.numbers(), (prefix, period)
            assert any(rolled.numbers().values()) or (prefix, period) == ("4403", NOVEMBER)


def test_an_incremental_refresh_folds_in_new_decisions(world, story):
    before = OrganDayStat.objects.filter(day__lt=date(2026, 11, 18)).count()
    decide(story.d, "2026-11-19T10:00")
    later = datetime(2026, 11, 20, 18, 0, tzinfo=SH)
    run = stats.refresh(date(2026, 11, 18), now=later)
    assert run.since == date(2026, 11, 18)
    assert OrganDayStat.objects.filter(day__lt=date(2026, 11, 18)).count() == before  # older days untouched
    november = figures(world.county_supervisor, NOVEMBER)
    assert (november.decided, november.on_time) == (1, 1)
    assert november.numbers() == stats.direct("440106", NOVEMBER.first, NOVEMBER.end, now=later).numbers()


def test_a_refresh_without_a_date_continues_from_the_last_one(world, story):
    assert stats.default_since(NOW) == stats.last_run().started_at.astimezone(SH).date() - stats.timedelta(days=1)
    months = OrganMonthStat.objects.count()
    stats.refresh(now=NOW)
    assert OrganMonthStat.objects.count() == months


def test_the_stats_command_refreshes_with_progress(world, story, capsys):
    call_command("stats", "refresh", "--since", "2026-10-01")
    out = capsys.readouterr().out
    assert "[1/" in out and "2026-10" in out and "统计已刷新" in out


# --- the benchmarks run (their speed goals are read from their output, not asserted) ------------
@pytest.fixture
def postgres_only(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the benchmark measures PostgreSQL")


@pytest.mark.postgres
def test_the_monitor_benchmark_runs_small_and_raises_every_warning(postgres_only, capsys):
    from bench import monitor as bench

    assert bench.main(["--small", "--in-place", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio 100,000/10,000" in out and "1,000 near-deadline warnings raised for 1,000 due clocks" in out


@pytest.mark.postgres
def test_the_dashboard_benchmark_runs_against_the_story(postgres_only, world, story, settings, capsys):
    from bench import dashboard as bench

    settings.ROOT_URLCONF = settings.ROOT_URLCONF  # restored after the test whatever the benchmark routes
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS]
    assert bench.main(["--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "region page" in out and "baseline" in out and "worst dashboard request" in out
