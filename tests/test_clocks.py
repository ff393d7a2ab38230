"""Clocks: stored deadlines, pauses, extensions, explanations and the monitoring pass."""
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import translation

from xiaoneng.clocks import actions, engine, monitor
from xiaoneng.clocks.models import Clock, ClockEvent, ClockPause

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def start(world, when="2026-09-28T10:00", limit=20, unit="working", **kw):
    return actions.do_start_clock(
        kind="test", start_at=at(when), limit=limit, unit=unit, organ=world.tianhe_bureau, label="测试办件", **kw
    )


def test_a_new_clock_stores_its_due_and_warning_moments(world):
    clock = start(world)
    assert clock.due_at == at("2026-10-31T00:00")  # 24:00 on 2026-10-30
    # 20 working days, warn when max(2, 20 % of 20) = 4 remain: end of the 16th working day.
    assert clock.warn_at == at("2026-10-27T00:00")
    assert clock.next_check_at == clock.warn_at
    assert clock.region_code == world.tianhe.prefix


def test_it_pauses_the_clock_for_expert_review_and_resumes_it(world):
    clock = start(world)
    actions.do_pause_clock(clock, at=at("2026-10-12T09:00"), reason="专家评审", legal_basis="《行政许可法》第四十五条")
    clock.refresh_from_db()
    assert clock.state == Clock.State.PAUSED and clock.due_at is None
    actions.do_resume_clock(clock, at=at("2026-10-14T17:00"))
    clock.refresh_from_db()
    # Stood still 10-13 and 10-14 (the day of suspension was worked): two working days later.
    assert clock.due_at == at("2026-11-04T00:00")


def test_an_extension_needs_reasons_and_an_approver_and_respects_the_legal_maximum(world):
    clock = start(world)
    with pytest.raises(actions.ClockError):
        actions.do_extend_clock(clock, days=10, reason="", approver_name="局长")
    with pytest.raises(actions.ClockError):
        actions.do_extend_clock(clock, days=10, reason="情况复杂")
    with pytest.raises(actions.ClockError):
        actions.do_extend_clock(clock, days=11, reason="情况复杂", approver_name="局长", max_total=10)
    actions.do_extend_clock(clock, days=10, reason="情况复杂", approver_name="局长", max_total=10,
                            at=at("2026-10-20T09:00"))
    clock.refresh_from_db()
    assert clock.extension_days == 10 and clock.due_at == at("2026-11-14T00:00")


def test_it_refuses_an_extension_after_the_period_ended(world):
    clock = start(world)  # due 2026-10-30 24:00
    with pytest.raises(actions.ClockError, match="届满"):
        actions.do_extend_clock(clock, days=5, reason="情况复杂", approver_name="局长", at=at("2026-10-31T09:00"))
    clock.refresh_from_db()
    assert clock.extension_days == 0 and clock.due_at == at("2026-10-31T00:00") and not clock.extensions.exists()
    # while it stands still (an open pause) the period has not run out
    actions.do_pause_clock(clock, at=at("2026-10-29T09:00"), reason="专家评审")
    actions.do_extend_clock(clock, days=5, reason="情况复杂", approver_name="局长", at=at("2026-11-02T09:00"))
    assert Clock.objects.get(pk=clock.pk).extension_days == 5


def test_a_clock_started_at_a_deemed_acceptance_explains_why(world):
    clock = start(world, start_reason="deemed.late_acceptance")
    words = engine.explain_clock(clock)
    assert "视为受理之日" in words and "第三十二条" in words
    assert "视为受理" not in engine.explain_clock(start(world))
    with translation.override("en"):
        assert "deemed accepted" in engine.explain_clock(clock) and "Art. 32" in engine.explain_clock(clock)
    with pytest.raises(actions.ClockError):
        start(world, start_reason="whenever")


def test_a_clock_refuses_naive_times(world):
    with pytest.raises(actions.ClockError):
        actions.do_start_clock(kind="test", start_at=datetime(2026, 9, 28, 10), limit=5, organ=world.tianhe_bureau)


def test_a_stopped_clock_knows_whether_it_was_late(world):
    clock = start(world, limit=1)
    actions.do_stop_clock(clock, at=at("2026-09-30T10:00"))
    clock.refresh_from_db()
    assert clock.state == Clock.State.STOPPED and clock.next_check_at is None
    assert clock.is_overdue(at("2027-01-01T00:00")) is True
    actions.do_stop_clock(clock, at=at("2026-10-30T10:00"))  # a replay changes nothing
    clock.refresh_from_db()
    assert clock.stopped_at == at("2026-09-30T10:00")


def test_hour_clocks_count_clock_time(world):
    clock = start(world, when="2026-10-01T10:00", limit=24, unit="hours")
    assert clock.due_at == at("2026-10-02T10:00")


def test_it_explains_itself_in_chinese_and_in_english(world):
    clock = start(world)
    zh = engine.explain_clock(clock)
    assert "国庆节" in zh and "2026-10-30 24:00" in zh
    with translation.override("en"):
        en = engine.explain_clock(clock)
    assert "National Day" in en and "2026-10-30 24:00" in en


def test_bulk_recompute_matches_one_by_one_derivation(world):
    clocks = [start(world, when=f"2026-09-{d:02d}T09:00", limit=n) for d in range(1, 29) for n in (3, 20)]
    Clock.objects.update(due_at=None, warn_at=None)
    assert engine.recompute(Clock.objects.all()) == len(clocks)
    for clock in Clock.objects.all():
        fresh = engine.derive(clock)
        assert (clock.due_at, clock.warn_at) == (fresh.due_at, fresh.warn_at)


def test_the_monitoring_pass_warns_then_marks_overdue_each_once(world):
    clock = start(world)
    monitor.run_pass(at("2026-10-26T12:00"))
    assert not ClockEvent.objects.exists()
    first = monitor.run_pass(at("2026-10-28T12:00"))
    assert first.warned == 1
    assert monitor.run_pass(at("2026-10-29T12:00")).claimed == 0
    later = monitor.run_pass(at("2026-11-02T12:00"))
    assert later.overdue == 1
    assert list(clock.events.values_list("kind", flat=True).order_by("kind")) == ["overdue", "warned"]
    assert monitor.run_pass(at("2026-12-01T12:00")).claimed == 0


def test_the_monitoring_pass_leaves_paused_and_stopped_clocks_alone(world):
    paused = start(world)
    actions.do_pause_clock(paused, at=at("2026-09-29T09:00"), reason="检测检验")
    stopped = start(world)
    actions.do_stop_clock(stopped, at=at("2026-09-29T09:00"))
    result = monitor.run_pass(at("2027-06-01T00:00"))
    assert result.overdue == 0


def test_a_failing_listener_does_not_lose_the_other_clocks(world, monkeypatch):
    good = start(world, limit=1)
    bad = start(world, limit=1)

    def listener(events):
        if any(e.clock_id == bad.pk for e in events):
            raise RuntimeError("boom")

    monkeypatch.setattr(monitor, "_listeners", [listener])
    result = monitor.run_pass(at("2026-10-20T00:00"))
    assert result.failed == 1
    assert ClockEvent.objects.filter(clock=good, kind="overdue").exists()
    bad.refresh_from_db()
    assert bad.overdue_at is None and bad.next_check_at > at("2026-10-20T00:00")  # retried later


def test_the_one_statement_check_agrees_with_the_python_rules_for_every_clock_state(world):
    if connection.vendor != "postgresql":
        pytest.skip("check_batch is the PostgreSQL path; SQLite always takes the Python rules")
    from copy import copy
    from itertools import product

    now, early, late = at("2026-10-20T12:00"), at("2026-10-19T00:00"), at("2026-10-25T00:00")
    # Pauses: none, open since before every deadline, open since between them, resumed.
    pause_kinds = (None, (at("2026-10-18T09:00"), None), (at("2026-10-19T09:00"), None),
                   (at("2026-10-18T09:00"), at("2026-10-18T15:00")))
    grid = list(product(Clock.State.values, (None, early, late), (None, early, late, now), (None, early), (None, early),
                        pause_kinds))
    clocks = Clock.objects.bulk_create(
        Clock(kind="test", organ=world.tianhe_bureau, start_at=at("2026-10-01T09:00"), limit=5, state=state,
              warn_at=warn, due_at=due, warned_at=warned, overdue_at=overdue, next_check_at=at("2026-10-20T11:00"))
        for state, warn, due, warned, overdue, _pause in grid
    )
    ClockPause.objects.bulk_create(ClockPause(clock=clock, started_at=pause[0], ended_at=pause[1], reason="检测检验")
                                   for clock, (*_rest, pause) in zip(clocks, grid, strict=True) if pause)
    holding = monitor.held(clocks, now)
    assert holding  # the grid has held clocks
    expected = {}
    for clock in clocks:
        mine = copy(clock)
        kinds = [e.kind for e in monitor._events_for(mine, now, "w", clock.pk in holding)]
        expected[clock.pk] = (kinds, mine.warned_at, mine.overdue_at, mine.next_check_at)

    taken, events = monitor.check_batch(now, 10_000, "w")

    assert len(taken) == len(clocks) == 3 * 3 * 4 * 2 * 2 * 4
    recorded = {pk: [] for pk in expected}
    for clock_id, kind in ClockEvent.objects.values_list("clock_id", "kind"):
        recorded[clock_id].append(kind)
    actual = {c.pk: (recorded[c.pk], c.warned_at, c.overdue_at, c.next_check_at) for c in Clock.objects.all()}
    assert actual == expected
    assert sorted((e.clock.pk, e.kind) for e in events) == sorted(
        (pk, kind) for pk, (kinds, *_rest) in expected.items() for kind in kinds)


def test_an_event_another_worker_recorded_first_is_not_handed_to_the_listeners_again(world):
    if connection.vendor != "postgresql":
        pytest.skip("check_batch is the PostgreSQL path")
    clock = start(world, limit=1)
    ClockEvent.objects.create(clock=clock, kind="overdue", at=at("2026-10-01T00:00"), worker="other")
    taken, events = monitor.check_batch(at("2026-10-20T00:00"), 10, "w")
    assert [c.pk for c in taken] == [clock.pk] and events == []
    clock.refresh_from_db()
    assert clock.overdue_at == at("2026-10-20T00:00") and clock.next_check_at is None


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_handle_each_due_clock_exactly_once(world):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL; SQLite has a single writer (see the sequential test above)")
    Clock.objects.bulk_create(
        Clock(
            kind="test", organ=world.tianhe_bureau, region_code=world.tianhe.prefix, start_at=at("2026-09-01T09:00"),
            limit=1, due_at=at("2026-09-03T00:00"), warn_at=at("2026-09-02T00:00"), warned_at=at("2026-09-02T00:00"),
            next_check_at=at("2026-09-03T00:00"),
        )
        for _ in range(400)
    )
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker(name):
        try:
            barrier.wait()
            results.append(monitor.run_pass(at("2026-09-10T00:00"), batch_size=25, worker=name))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.claimed for r in results) == 400
    assert all(r.claimed > 0 for r in results), "both workers should have taken a share"
    assert ClockEvent.objects.filter(kind="overdue").count() == 400
    assert set(ClockEvent.objects.values_list("worker", flat=True)) == {"w0", "w1"}


def test_the_monitoring_command_runs_one_pass_with_once(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("runclocks", "--once", verbosity=2, stdout=out)
    assert "claimed 0, warned 0, overdue 0, failed 0" in out.getvalue()


# --- a pause that begins on the last day (issue 11, item 3) ----------------------------------------
def test_a_pause_that_begins_on_the_last_day_holds_the_clock_until_it_resumes(world):
    clock = start(world)  # due 2026-10-30 24:00 (a Friday)
    actions.do_pause_clock(clock, at=at("2026-10-30T10:00"), reason="检测检验", legal_basis="《行政许可法》第四十五条")
    clock.refresh_from_db()
    assert clock.state == Clock.State.PAUSED and clock.due_at is None
    assert "暂停始于时限最后一日 2026-10-30" in engine.explain_clock(clock)
    assert not clock.is_overdue(at("2026-11-03T09:00"))
    assert monitor.run_pass(at("2026-11-03T09:00")).overdue == 0
    assert not ClockEvent.objects.filter(clock=clock, kind="overdue").exists()
    actions.do_resume_clock(clock, at=at("2026-11-04T15:00"))
    clock.refresh_from_db()
    # The rest of the last day resumes with the clock: due at 24:00 of the resumption day (a Wednesday).
    assert clock.due_at == at("2026-11-05T00:00")
    assert "2026-11-04 24:00" in engine.explain_clock(clock)


def test_a_pause_resumed_on_a_rest_day_leaves_the_rest_of_the_next_working_day(world):
    clock = start(world)
    actions.do_pause_clock(clock, at=at("2026-10-30T10:00"), reason="专家评审")
    actions.do_resume_clock(clock, at=at("2026-10-31T11:00"))  # a Saturday
    clock.refresh_from_db()
    assert clock.due_at == at("2026-11-03T00:00")  # Monday 2026-11-02 24:00


def test_a_pause_that_begins_after_the_deadline_does_not_undo_the_lateness(world):
    clock = start(world)  # due 2026-10-30 24:00
    actions.do_pause_clock(clock, at=at("2026-10-31T10:00"), reason="检测检验")
    clock.refresh_from_db()
    assert clock.due_at == at("2026-10-31T00:00") and clock.is_overdue(at("2026-11-02T09:00"))


def test_the_monitoring_pass_never_marks_overdue_a_clock_held_by_a_pause_begun_before_its_deadline(world):
    """Even if the stored deadline is stale (derived before the pause was recorded), neither path of the
    pass records an overdue event for it, and it stops looking at the clock until it resumes."""
    clock = start(world)
    actions.do_pause_clock(clock, at=at("2026-10-30T10:00"), reason="检测检验")
    late = start(world)
    actions.do_pause_clock(late, at=at("2026-10-31T10:00"), reason="检测检验")  # after its deadline
    Clock.objects.filter(pk=clock.pk).update(due_at=at("2026-10-31T00:00"), next_check_at=at("2026-10-31T00:00"))
    result = monitor.run_pass(at("2026-11-03T09:00"))
    assert result.overdue == 1
    assert list(ClockEvent.objects.filter(kind="overdue").values_list("clock_id", flat=True)) == [late.pk]
    clock.refresh_from_db()
    assert clock.overdue_at is None and clock.next_check_at is None


# --- warnings of short clocks (issue 11, item 4) ---------------------------------------------------
@pytest.mark.parametrize("limit", [1, 2])
def test_a_one_or_two_day_clock_does_not_warn_the_moment_it_starts(world, limit):
    clock = start(world, when="2026-11-02T10:00", limit=limit)  # a Monday
    assert clock.warn_at > clock.start_at
    monitor.run_pass(at("2026-11-02T10:05"))
    assert not ClockEvent.objects.filter(clock=clock, kind="warned").exists()


def test_a_two_day_clock_warns_when_one_day_is_left(world):
    clock = start(world, when="2026-11-02T10:00", limit=2)  # due Wednesday 11-04 24:00
    assert clock.due_at == at("2026-11-05T00:00") and clock.warn_at == at("2026-11-04T00:00")


def test_the_warning_threshold_is_configuration(world, settings):
    settings.XIAONENG_RULES = {"clock_warn_max_share": 1.0}
    clock = start(world, when="2026-11-02T10:00", limit=2)
    assert clock.warn_at == clock.start_at  # a deployment may choose to warn at once


def test_bulk_recompute_matches_one_by_one_derivation_for_short_clocks(world):
    clocks = [start(world, when=f"2026-11-{d:02d}T09:00", limit=n) for d in range(1, 15) for n in (1, 2, 3, 5)]
    Clock.objects.update(due_at=None, warn_at=None)
    assert engine.recompute(Clock.objects.all()) == len(clocks)
    for clock in Clock.objects.all():
        fresh = engine.derive(clock)
        assert (clock.due_at, clock.warn_at) == (fresh.due_at, fresh.warn_at)
