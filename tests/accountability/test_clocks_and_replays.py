"""The accountability clocks at month ends and around holidays, every step replayed, and what a
revocation or a lighter measure does to an organisational measure not yet carried out."""
from datetime import date

import pytest
from django.urls import reverse

from tests.accountability.conftest import at
from xiaoneng.accountability import actions
from xiaoneng.accountability import measures as M
from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.accountability.models import Appeal, CaseStep, Status
from xiaoneng.clocks.models import Clock, ClockExtension

pytestmark = pytest.mark.django_db


# --- month ends, make-up working days, holidays ---------------------------------------------------
def test_a_case_registered_on_31_august_is_decided_by_the_last_day_of_february(acct):
    # 28 February 2026 is a Saturday but a make-up working day of the Spring Festival: the limit stays.
    case = acct.register("2025-08-31T10:00")
    assert case.decision_clock.due_at == at("2026-03-01T00:00")
    # In a leap year the last day of February is the 29th.
    case = acct.register("2023-08-31T10:00")
    assert case.decision_clock.due_at == at("2024-03-01T00:00")
    assert M.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)


def test_a_six_month_limit_ending_on_a_saturday_rest_day_moves_to_monday(acct):
    # 31 July + 6 months = 31 January 2026, a Saturday without make-up work: the last day is 2 February.
    case = acct.register("2025-07-31T10:00")
    assert case.decision_clock.due_at == at("2026-02-03T00:00")


def test_the_twelve_month_extension_also_ends_on_the_last_day_of_the_month(acct):
    case = acct.register("2025-02-28T10:00")
    actions.do_extend_decision(case, reason="案情复杂", approver_name="区委书记", at=at("2025-08-01T10:00"))
    case.decision_clock.refresh_from_db()
    # 28 February 2026 (a make-up working Saturday) is twelve months after 立案.
    assert case.decision_clock.due_at == at("2026-03-01T00:00")


def test_the_decision_limit_is_extended_only_while_it_runs(acct, login):
    case = acct.register("2026-01-15T10:00")  # six months end at 24:00 on 15 July
    with pytest.raises(AccountabilityError) as exc:
        actions.do_extend_decision(case, reason="案情复杂", approver_name="区委书记", at=at("2026-07-16T09:00"))
    assert exc.value.field == "reason" and "届满" in exc.value.message
    case.refresh_from_db()
    assert not case.decision_extended and not ClockExtension.objects.exists()
    assert not case.steps.filter(kind=CaseStep.Kind.EXTEND).exists()
    # The page says the same instead of failing (the request is made after the limit ended: today).
    client = login(acct.world.county_supervisor)
    response = client.post(reverse("accountability:case-act", args=[case.pk, "extend"]),
                           {"rev": str(case.steps.count()), "reason": "案情复杂", "approver_name": "区委书记"})
    assert response.status_code == 200 and "届满" in response.content.decode()
    case.refresh_from_db()
    assert not case.decision_extended


def test_a_direct_appeal_is_lodged_within_30_days_of_service_over_national_day(acct):
    # Served on 1 September: 30 days end on 1 October, inside National Day (1–7 October), so on 8 October.
    case, (zhang,) = acct.decided("2026-08-31T10:00", measure="demerit")
    actions.do_serve_case(case, at=at("2026-09-01T10:00"))
    zhang.refresh_from_db()
    with pytest.raises(AccountabilityError) as exc:
        actions.do_lodge_appeal(zhang, kind="appeal", grounds="不服", received_at=at("2026-10-09T09:00"))
    assert exc.value.field == "received_at" and "2026-10-08" in exc.value.message
    appeal = actions.do_lodge_appeal(zhang, kind="appeal", grounds="不服", received_at=at("2026-10-08T09:00"))
    # Decided within 60 days of receipt: 7 December, a Monday.
    assert appeal.clock.limit == 60 and appeal.clock.due_at == at("2026-12-08T00:00")


def test_an_appeal_decision_limit_ending_on_national_day_moves_past_it(acct):
    case, (zhang,) = acct.decided("2026-07-15T10:00", measure="demerit")
    actions.do_serve_case(case, at=at("2026-07-20T10:00"))
    zhang.refresh_from_db()
    # Received on 2 August: 60 days end on 1 October, so the last day is 8 October.
    appeal = actions.do_lodge_appeal(zhang, kind="appeal", grounds="不服", received_at=at("2026-08-02T09:00"))
    assert appeal.clock.due_at == at("2026-10-09T00:00")
    # A complex case gets 30 days more, approved while the 60 days run, counted on the 60 (not on the
    # holiday's roll-over): 90 days from 2 August end on 31 October, a Saturday, so on 2 November.
    actions.do_extend_appeal(appeal, reason="案情复杂", approver_name="区监委", at=at("2026-10-08T10:00"))
    appeal.clock.refresh_from_db()
    assert appeal.clock.due_at == at("2026-11-03T00:00")


def test_a_review_received_on_a_holiday_counts_from_that_day(acct):
    # Served on a make-up working Sunday (20 September), received on National Day (3 October).
    case, (zhang,) = acct.decided("2026-09-18T10:00", measure="warning")
    actions.do_serve_case(case, at=at("2026-09-20T10:00"))
    zhang.refresh_from_db()
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-10-03T10:00"))
    # 30 days from 3 October: 2 November, a Monday.
    assert review.clock.due_at == at("2026-11-03T00:00")


# --- replays ----------------------------------------------------------------------------------------
def _unchanged(case):
    return (Status(type(case).objects.get(pk=case.pk).status), case.steps.count())


def test_every_step_replayed_is_a_clear_refusal_that_changes_nothing(acct):
    case, (zhang,) = acct.decided("2026-03-02T10:00", measure="warning")
    before = _unchanged(case)
    with pytest.raises(AccountabilityError) as exc:  # deciding twice
        actions.do_decide_case(case, decider="王局长", decision_number="天效问〔2026〕9号",
                               measures={zhang.pk: (["warning"], None)})
    assert exc.value.field == "status" and _unchanged(case) == before
    for replay in (
        lambda: actions.do_record_findings(case, findings="再查"),
        lambda: actions.do_notify_party(zhang, measure="warning"),
        lambda: actions.do_record_statement(zhang, statement="再说"),
        lambda: actions.do_review_tolerance(zhang, situations=[], outcome="none"),
        lambda: actions.do_close_case(case, reason="再结"),
    ):
        with pytest.raises(AccountabilityError):
            replay()
        assert _unchanged(case) == before
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    actions.do_announce_case(case, scope="本单位内部", at=at("2026-03-04T10:00"))
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-05T10:00"))
    case.refresh_from_db()
    before = _unchanged(case)
    for replay in (
        lambda: actions.do_serve_case(case, at=at("2026-03-06T10:00")),
        lambda: actions.do_announce_case(case, scope="全区", at=at("2026-03-06T10:00")),
        lambda: actions.do_file_case(case, filed_with="另一机关", at=at("2026-03-06T10:00")),
    ):
        with pytest.raises(AccountabilityError) as exc:
            replay()
        assert exc.value.field == "status" and exc.value.message
        assert _unchanged(case) == before
    case.refresh_from_db()
    assert (case.announcement_scope, case.filed_with) == ("本单位内部", "天河区监察委员会")


def test_a_second_appeal_after_the_review_is_refused(acct):
    case, (zhang,) = acct.decided("2026-03-02T10:00", measure="demerit")
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    zhang.refresh_from_db()
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-03-10T09:00"))
    actions.do_decide_appeal(review, outcome="upheld", reasons="维持", at=at("2026-03-20T10:00"))
    appeal = actions.do_lodge_appeal(zhang, kind="appeal", grounds="仍不服", received_at=at("2026-03-23T09:00"))
    actions.do_decide_appeal(appeal, outcome="upheld", reasons="维持", at=at("2026-03-25T10:00"))
    with pytest.raises(AccountabilityError) as exc:  # still inside the 15 days of the review's result
        actions.do_lodge_appeal(zhang, kind="appeal", grounds="再申诉", received_at=at("2026-03-26T09:00"))
    assert exc.value.field == "kind"
    assert zhang.appeals.count() == 2
    with pytest.raises(AccountabilityError):  # and the decided appeal is not decided again
        actions.do_decide_appeal(appeal, outcome="revoked", reasons="改判")
    appeal.refresh_from_db()
    assert appeal.outcome == Appeal.Outcome.UPHELD


# --- an organisational measure revoked or made lighter before it was carried out ------------------------
def test_a_revoked_reassignment_no_longer_waits_to_be_carried_out(acct):
    case, (zhang,) = acct.decided("2026-03-02T10:00", measure="reassign")
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    zhang.refresh_from_db()
    assert zhang.adjustment_clock.state != Clock.State.STOPPED
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-03-10T09:00"))
    actions.do_decide_appeal(review, outcome="revoked", reasons="事实不清", at=at("2026-03-20T10:00"))
    zhang.adjustment_clock.refresh_from_db()
    # Nothing is left to carry out: the clock stops, so no overdue alert is raised against it.
    assert zhang.adjustment_clock.state == Clock.State.STOPPED
    assert not zhang.adjustment_clock.is_overdue(at("2026-05-01T00:00"))
    with pytest.raises(AccountabilityError):
        actions.do_record_adjustment(zhang, at=at("2026-03-25T10:00"))


def test_a_reassignment_changed_to_criticism_no_longer_waits_to_be_carried_out(acct):
    case, (zhang,) = acct.decided("2026-03-02T10:00", measure="reassign")
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    zhang.refresh_from_db()
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T09:00"))
    actions.do_decide_appeal(review, outcome="changed", new_measure="criticise", reasons="情节较轻",
                             at=at("2026-03-20T10:00"))
    zhang.refresh_from_db()
    zhang.adjustment_clock.refresh_from_db()
    assert zhang.adjustment_clock.state == Clock.State.STOPPED
    assert (zhang.measure, zhang.measure_codes) == ("criticise", ["criticise"])


# --- dates out of order, times without a zone -----------------------------------------------------------
def test_a_step_dated_before_the_one_it_follows_is_refused_and_changes_nothing(acct):
    case, (zhang,) = acct.decided("2026-03-02T10:00", measure="reassign")
    with pytest.raises(AccountabilityError) as exc:
        actions.do_serve_case(case, at=at("2026-03-01T10:00"))
    assert exc.value.field == "at"
    actions.do_serve_case(case, at=at("2026-03-05T15:00"))
    zhang.refresh_from_db()
    for late, field in (
        (lambda: actions.do_announce_case(case, scope="全区", at=at("2026-03-04T10:00")), "at"),
        (lambda: actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-04T10:00")), "at"),
        (lambda: actions.do_record_adjustment(zhang, at=at("2026-03-01T10:00")), "at"),
        (lambda: actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-03-04T10:00")),
         "received_at"),
    ):
        with pytest.raises(AccountabilityError) as exc:
            late()
        assert exc.value.field == field and "2026-03-0" in exc.value.message
    case.refresh_from_db()
    zhang.refresh_from_db()
    assert case.status == Status.SERVED and zhang.adjusted_at is None and not zhang.appeals.exists()
    # Received on the day of service, earlier in the day than the service was recorded: the same day counts.
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-03-05T12:00"))
    with pytest.raises(AccountabilityError) as exc:
        actions.do_decide_appeal(review, outcome="upheld", reasons="维持", at=at("2026-03-04T18:00"))
    assert exc.value.field == "at"
    review.refresh_from_db()
    assert review.outcome == Appeal.Outcome.PENDING


def test_a_decision_before_registration_or_a_time_without_a_zone_is_refused(acct):
    from datetime import datetime

    case, (zhang,) = acct.heard("2026-03-02T10:00")
    with pytest.raises(AccountabilityError) as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["warning"], None)},
                               at=at("2026-03-01T10:00"))
    assert exc.value.field == "at"
    with pytest.raises(AccountabilityError) as exc:
        actions.do_decide_case(case, decider="王局长", decision_number="1号", measures={zhang.pk: (["warning"], None)},
                               at=datetime(2026, 3, 3, 10, 0))
    assert exc.value.field == "at" and "时区" in exc.value.message
    with pytest.raises(AccountabilityError) as exc:
        actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at="2026-03-03")
    assert exc.value.field == "received_at"
    case.refresh_from_db()
    assert case.status == Status.REVIEWED and not case.decision_number


def test_an_appeal_received_tomorrow_is_refused_on_the_page(acct, login):
    from datetime import timedelta

    from django.utils import timezone

    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    case, (zhang,) = acct.decided(f"{day}T09:00", measure="warning", number="天效问〔X〕1号")
    actions.do_serve_case(case, at=at(f"{day}T10:00"))
    client = login(acct.world.county_supervisor)
    response = client.post(reverse("accountability:case-act", args=[case.pk, "appeal"]), {
        "rev": str(case.steps.count()), "party": zhang.pk, "kind": "review", "grounds": "不服",
        "received_on": (timezone.localdate() + timedelta(days=1)).isoformat()})
    assert response.status_code == 200 and "不能晚于今天" in response.content.decode()
    assert not Appeal.objects.exists()


# --- the complex-case extension of a 申诉 through the case page ----------------------------------------
def test_an_officer_extends_a_complex_appeal_on_the_case_page_once(acct, login, settings):
    from datetime import timedelta

    from django.utils import timezone

    # Decided, served and appealed in the last days, so the 60 days still run when the page is used.
    day = (timezone.localdate() - timedelta(days=3)).isoformat()
    case, (zhang,) = acct.decided(f"{day}T09:00", measure="demerit", number="天效问〔X〕1号")
    actions.do_serve_case(case, at=at(f"{day}T10:00"))
    zhang.refresh_from_db()
    appeal = actions.do_lodge_appeal(zhang, kind="appeal", grounds="不服", received_at=at(f"{day}T11:00"))
    client = login(acct.world.county_supervisor)
    page = client.get(reverse("accountability:case", args=[case.pk])).content.decode()
    assert 'act/extend_appeal/' in page
    url = reverse("accountability:case-act", args=[case.pk, "extend_appeal"])
    data = {"rev": str(case.steps.count()), "appeal": appeal.pk, "reason": "", "approver_name": "区监委"}
    response = client.post(url, data)
    assert response.status_code == 200 and 'data-testid="field-error"' in response.content.decode()
    assert client.post(url, {**data, "reason": "案情复杂"}).status_code == 302
    appeal.refresh_from_db()
    appeal.clock.refresh_from_db()
    assert appeal.complex_case and appeal.clock.extension_days == 30
    assert case.steps.filter(kind=CaseStep.Kind.EXTEND, data__appeal=appeal.pk).count() == 1
    # The same form sent again (a double click) extends nothing more.
    response = client.post(url, {**data, "reason": "案情复杂"})
    assert response.status_code == 200
    appeal.clock.refresh_from_db()
    assert appeal.clock.extension_days == 30


def test_the_proposal_form_sent_twice_makes_one_proposal(acct, login):
    import re

    from xiaoneng.accountability.models import Proposal

    client = login(acct.world.county_supervisor)
    url = reverse("accountability:proposal-new")
    key = re.search(r'name="key" value="([^"]+)"', client.get(url).content.decode()).group(1)
    data = {"source": "media", "organ": acct.world.tianhe_bureau.pk, "title": "暗访窗口推诿", "reason": "暗访视频",
            "document": "视频截图", "document_text": "3 号窗口", "key": key}
    first = client.post(url, data)
    again = client.post(url, data)
    proposal = Proposal.objects.get()
    assert first["Location"] == again["Location"] == reverse("accountability:proposal", args=[proposal.pk])
    assert proposal.evidence.count() == 1
    # A new form (a new key) is a new proposal.
    key2 = re.search(r'name="key" value="([^"]+)"', client.get(url).content.decode()).group(1)
    assert key2 != key
    client.post(url, {**data, "key": key2})
    assert Proposal.objects.count() == 2


def test_a_revoked_caution_does_not_count_towards_escalation(acct, settings):
    from xiaoneng.accountability.models import Proposal, Source

    settings.XIAONENG_RULES = {
        "accountability_extra_measures": [{"code": "efficiency_caution", "label": "效能告诫", "rank": 35}],
        "accountability_escalation": [{"measure": "efficiency_caution", "count": 2, "propose": "admonish"}],
    }
    first, (zhang,) = acct.decided("2026-02-02T10:00", measure="efficiency_caution", number="天效问〔2026〕1号")
    actions.do_serve_case(first, at=at("2026-02-03T10:00"))
    zhang.refresh_from_db()
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="不服", received_at=at("2026-02-05T10:00"))
    actions.do_decide_appeal(review, outcome="revoked", reasons="事实不清", at=at("2026-02-20T10:00"))
    acct.decided("2026-05-06T10:00", measure="efficiency_caution", number="天效问〔2026〕2号")
    assert not Proposal.objects.filter(source=Source.ESCALATION).exists()
    acct.decided("2026-08-03T10:00", measure="efficiency_caution", number="天效问〔2026〕3号")
    (raised,) = Proposal.objects.filter(source=Source.ESCALATION)
    assert "天效问〔2026〕2号" in raised.reason and "天效问〔2026〕1号" not in raised.reason
