"""The period's journey: provisional results, the objection window on a working-day clock, decisions,
publication and the frozen snapshot."""
from decimal import Decimal as D

import pytest

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import ObjectionStatus, PeriodStatus, Result
from xiaoneng.audit.models import AuditEntry

from .conftest import at


@pytest.fixture
def provisional(land):
    land.promise(land.w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    # Announced Thursday 7 January: the five working days are 8, 11, 12, 13 and 14 January (the day of
    # announcement not counted, the weekend skipped).
    return actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))


def result_of(land, organ):
    return Result.objects.get(period=land.period, organ=organ)


def test_the_objection_window_is_a_clock_of_five_working_days(land, provisional):
    clock = provisional.objection_clock
    assert (clock.limit, clock.unit, clock.kind) == (5, "working", "appraisal.objection")
    assert clock.due_at == at("2027-01-15T00:00")
    mine = result_of(land, land.w.tianhe_bureau)
    objection = actions.do_object(mine, grounds="3 月一件系申请人要求暂停", evidence="申请人书面申请",
                                  line=mine.lines.get(indicator__code="1.1"), at=at("2027-01-14T17:00"))
    assert objection.status == ObjectionStatus.PENDING
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_object(mine, grounds="再提一次", evidence="无", at=at("2027-01-15T09:00"))
    assert "异议期已于 2027-01-14 24:00 届满" in err.value.message


def test_the_window_length_is_configuration(land, settings):
    settings.XIAONENG_RULES = {"appraisal_objection_working_days": 2}
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    period = actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    assert period.objection_clock.due_at == at("2027-01-12T00:00")  # Friday 8, Monday 11


def test_an_objection_needs_grounds_and_evidence(land, provisional):
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_object(result_of(land, land.w.tianhe_bureau), grounds="不服", evidence="",
                          at=at("2027-01-08T10:00"))
    assert err.value.field == "evidence"


def test_publication_waits_for_the_window_and_every_decision_then_freezes_the_results(land, provisional):
    mine = result_of(land, land.w.tianhe_bureau)
    objection = actions.do_object(mine, grounds="数据有误", evidence="说明", at=at("2027-01-08T10:00"))
    with pytest.raises(actions.AppraisalError, match="异议期尚未届满"):
        actions.do_publish_results(land.period, at=at("2027-01-12T10:00"))
    with pytest.raises(actions.AppraisalError, match="仍有未决定的异议"):
        actions.do_publish_results(land.period, at=at("2027-01-15T10:00"))
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_decide_objection(objection, upheld=False, reasons=" ", at=at("2027-01-15T10:00"))
    assert err.value.field == "reasons"
    actions.do_decide_objection(objection, upheld=False, reasons="暂停未经批准，不予认可", by="考评办",
                                at=at("2027-01-15T10:00"))
    period = actions.do_publish_results(land.period, at=at("2027-01-15T11:00"))
    assert period.status == PeriodStatus.PUBLISHED
    period.objection_clock.refresh_from_db()
    assert period.objection_clock.state == "stopped"
    before = result_of(land, land.w.tianhe_bureau).total
    with pytest.raises(actions.AppraisalError, match="结果已公布"):
        actions.do_compute_period(land.period, at=at("2027-02-01T10:00"))
    assert result_of(land, land.w.tianhe_bureau).total == before == D("48.00")
    assert AuditEntry.objects.filter(action="appraisal.status", changes__status=["provisional", "published"]).exists()
