"""A service rating's life (好差评) through the actions: rating, call-back, rectification,
telling the rater, appeals, and the overdue alert from the monitoring pass."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.approvals import actions as cases
from xiaoneng.audit.log import acting_as
from xiaoneng.audit.models import AuditEntry
from xiaoneng.clocks import monitor
from xiaoneng.clocks.models import Clock
from xiaoneng.complaints import ratings as r
from xiaoneng.complaints.identity import Identity, decrypt
from xiaoneng.complaints.models import Rating, RatingStatus, RatingStep
from xiaoneng.notify.models import Message
from xiaoneng.supervision.models import Alert

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 9, 0, tzinfo=CN)  # Monday; no holiday in November
ONLINE_GOOD = {"overall": 5, "efficiency": 5, "guide": 4, "convenience": 5, "usability": 4}
OFFLINE_BAD = {"overall": 1, "efficiency": 2, "competence": 2, "attitude": 1}
RATER = Identity.of(name="李四", phone="13900001111")


def decided_case(matters, no="TH-2026-0100", matter=None):
    case, _code = cases.do_submit_case(matter=matter or matters.paid, case_no=no, applicant_name="李四",
                                       applicant_phone="13900001111", received_at=MON - timedelta(days=20),
                                       verify_code="123456")
    cases.do_accept_case(case, at=MON - timedelta(days=19))
    return cases.do_decide_case(case, outcome="granted", at=MON - timedelta(days=1))


def rate_bad_window(world, **kw):
    values = dict(kind="offline", organ=world.tianhe_bureau, level=1, scores=OFFLINE_BAD, comment="窗口人员态度恶劣",
                  window="3号窗口", channel="窗口评价器", rater=RATER, rated_at=MON)
    values.update(kw)
    return r.do_rate_service(**values)


def fresh(rating):
    return Rating.objects.select_related("rectification_clock").get(pk=rating.pk)


# --- good and anonymous ratings --------------------------------------------------------------
def test_a_good_rating_of_a_decided_case_takes_the_matter_from_the_case_and_needs_nothing_more(world, matters):
    case = decided_case(matters)
    rating = r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, case=case,
                               channel="pc", rater=RATER, rated_at=MON)
    assert rating.level == 5 and rating.status == RatingStatus.DONE and rating.rectification_clock is None
    assert rating.matter == matters.paid and rating.region_code == world.tianhe_bureau.region_code
    assert rating.named and rating.name_masked == "李*" and rating.phone_masked == "139****1111"
    assert "13900001111" not in rating.identity_enc and decrypt(rating.identity_enc).phone == "13900001111"
    assert list(rating.steps.values_list("kind", flat=True)) == [RatingStep.Kind.RATE]
    assert AuditEntry.objects.filter(action="rating.rate").exists()


def test_an_anonymous_bad_rating_is_counted_but_has_no_call_back_and_no_clock(world):
    rating = rate_bad_window(world, rater=None)
    assert rating.is_bad and not rating.named and rating.identity_enc == ""
    assert rating.status == RatingStatus.DONE and rating.rectification_clock_id is None
    assert not Clock.objects.filter(kind="rating.rectification").exists()


def test_a_rating_of_a_parallel_application_for_a_co_organ_lands_on_that_organs_sub_case(world, matters):
    case, _code = cases.do_submit_case(matter=matters.parallel, case_no="GZ-BL-0100", applicant_name="李四",
                                       received_at=MON - timedelta(days=20))
    sub = case.subcases.get(organ=world.tianhe_bureau)
    cases.do_accept_case(sub, at=MON - timedelta(days=19))
    cases.do_decide_case(sub, outcome="granted", at=MON - timedelta(days=2))
    rating = r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, case=case, rated_at=MON)
    assert rating.case == sub and rating.matter == matters.parallel


# --- the bad named rating's life -------------------------------------------------------------
def test_a_named_bad_rating_is_called_back_rectified_and_the_rater_told(world):
    with acting_as(world.county_handler, channel="web"):
        rating = rate_bad_window(world)
        assert rating.status == RatingStatus.CALLBACK
        clock = rating.rectification_clock
        assert clock.kind == "rating.rectification" and clock.limit == 15 and clock.unit == "working"
        assert clock.organ == world.tianhe_bureau and clock.subject == rating
        assert clock.due_at == datetime(2026, 11, 24, tzinfo=CN)  # 15 working days: Mon 11-23 24:00

        r.do_callback(rating, note="已致电评价人，了解到等候时间过长", at=MON + timedelta(days=1))
        assert fresh(rating).status == RatingStatus.RECTIFYING
        r.do_report_rectification(rating, report="增设取号机，窗口人员培训", at=MON + timedelta(days=5))
        rating = fresh(rating)
        assert rating.status == RatingStatus.RECTIFIED and rating.rectification_clock.state == Clock.State.STOPPED
        r.do_tell_rater(rating, text="已增设取号机。", at=MON + timedelta(days=6))
    rating = fresh(rating)
    assert rating.rater_told_at == MON + timedelta(days=6)
    message = Message.objects.get(kind="rating.rectified")
    assert message.to == "13900001111" and "已增设取号机" in message.text and "李四" not in message.text
    assert AuditEntry.objects.filter(action="identity.use").count() == 1
    assert list(rating.steps.values_list("kind", flat=True)) == ["rate", "callback", "report", "tell"]
    assert rating.steps.last().actor_label
    with pytest.raises(r.RatingError) as err:
        r.do_tell_rater(rating, text="再告知一次", at=MON + timedelta(days=7))
    assert err.value.field == "text" and Message.objects.count() == 1


def test_steps_out_of_order_are_refused_with_their_reason(world):
    rating = rate_bad_window(world)
    with pytest.raises(r.RatingError):
        r.do_report_rectification(rating, report="已整改", at=MON)
    with pytest.raises(r.RatingError):
        r.do_tell_rater(rating, text="x", at=MON)
    with pytest.raises(r.RatingError) as err:
        r.do_callback(rating, note="  ", at=MON)
    assert err.value.field == "note"
    assert fresh(rating).status == RatingStatus.CALLBACK


def test_an_unrectified_bad_review_past_its_limit_raises_a_yellow_card_from_the_monitoring_pass(world):
    rating = rate_bad_window(world)
    monitor.run_pass(MON + timedelta(days=25))
    alert = Alert.objects.get(rule="bad_review_rectification_overdue")
    assert alert.organ == world.tianhe_bureau and alert.clock_id == rating.rectification_clock_id


def test_a_rectification_in_time_raises_no_overdue_alert(world):
    rating = rate_bad_window(world)
    r.do_callback(rating, note="已回访", at=MON + timedelta(days=1))
    r.do_report_rectification(rating, report="已整改", at=MON + timedelta(days=3))
    monitor.run_pass(MON + timedelta(days=40))
    assert not Alert.objects.filter(rule="bad_review_rectification_overdue").exists()


# --- appeals ---------------------------------------------------------------------------------
def test_an_upheld_appeal_annuls_the_review_and_stops_its_clock(world):
    rating = rate_bad_window(world)
    r.do_appeal_rating(rating, reasons="评价人当日未到窗口办事，系恶意评价", at=MON + timedelta(days=2))
    rating = fresh(rating)
    assert rating.status == RatingStatus.APPEALED and rating.rectification_clock.state == Clock.State.PAUSED
    r.do_decide_rating_appeal(rating, upheld=True, reasons="经查监控属实", actor=world.county_supervisor,
                              at=MON + timedelta(days=3))
    rating = fresh(rating)
    assert rating.status == RatingStatus.ANNULLED and rating.rectification_clock.state == Clock.State.STOPPED
    assert rating.appeal_decision == "经查监控属实"
    monitor.run_pass(MON + timedelta(days=40))
    assert not Alert.objects.filter(rule="bad_review_rectification_overdue").exists()


def test_a_refused_appeal_returns_the_review_to_where_it_was_and_the_clock_runs_again(world):
    rating = rate_bad_window(world)
    r.do_callback(rating, note="已回访", at=MON + timedelta(hours=3))
    r.do_appeal_rating(rating, reasons="系误评", at=MON + timedelta(days=1))
    r.do_decide_rating_appeal(rating, upheld=False, reasons="理由不成立", actor=world.city_supervisor,
                              at=MON + timedelta(days=2))
    rating = fresh(rating)
    assert rating.status == RatingStatus.RECTIFYING and rating.rectification_clock.state == Clock.State.RUNNING
    with pytest.raises(r.RatingError, match="一次"):
        r.do_appeal_rating(rating, reasons="再申诉", at=MON + timedelta(days=3))


def test_an_appeal_after_the_five_working_days_is_refused(world):
    rating = rate_bad_window(world)
    with pytest.raises(r.RatingError, match="申诉期限") as err:
        r.do_appeal_rating(rating, reasons="系误评", at=MON + timedelta(days=8))  # Tue 11-10, after Mon 11-09 24:00
    assert err.value.field == "reasons" and fresh(rating).status == RatingStatus.CALLBACK
    r.do_appeal_rating(rating, reasons="系误评", at=datetime(2026, 11, 9, 23, 0, tzinfo=CN))


def test_only_bad_reviews_are_appealed_and_only_a_supervisor_over_the_organ_decides(world):
    good = rate_bad_window(world, level=5, scores={"overall": 5, "efficiency": 5, "competence": 5, "attitude": 5})
    with pytest.raises(r.RatingError, match="差评"):
        r.do_appeal_rating(good, reasons="x", at=MON)
    rating = rate_bad_window(world, rater=None)
    r.do_appeal_rating(rating, reasons="误评", at=MON + timedelta(days=1))
    for actor in (world.county_handler, world.outsider, None):
        with pytest.raises(r.RatingError):
            r.do_decide_rating_appeal(rating, upheld=True, reasons="核销", actor=actor, at=MON + timedelta(days=2))
    assert fresh(rating).status == RatingStatus.APPEALED
    r.do_decide_rating_appeal(rating, upheld=False, reasons="不核销", actor=world.province_supervisor,
                              at=MON + timedelta(days=2))
    assert fresh(rating).status == RatingStatus.DONE


# --- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("scores,field", [
    ({**OFFLINE_BAD, "speed": 3}, "scores"),                       # unknown indicator
    ({"overall": 1, "efficiency": 2, "competence": 2}, "scores"),   # missing indicator
    ({**OFFLINE_BAD, "attitude": 0}, "scores.attitude"),
    ({**OFFLINE_BAD, "attitude": 6}, "scores.attitude"),
    ({**OFFLINE_BAD, "attitude": "x"}, "scores.attitude"),
    ({**OFFLINE_BAD, "attitude": 2.5}, "scores.attitude"),
    ({**OFFLINE_BAD, "attitude": True}, "scores.attitude"),
    ({**OFFLINE_BAD, "overall": 2}, "level"),                       # overall disagrees with the level
    ("overall=1", "scores"),
])
def test_bad_sub_indicators_are_refused_with_their_field(world, scores, field):
    with pytest.raises(r.RatingError) as err:
        rate_bad_window(world, scores=scores)
    assert err.value.field == field and err.value.message
    assert not Rating.objects.exists() and not Clock.objects.exists()


@pytest.mark.parametrize("level", [0, 6, "x", None, -1, 3.5])
def test_a_level_outside_the_five_is_refused(world, level):
    scores = {k: v for k, v in OFFLINE_BAD.items() if k != "overall"}
    with pytest.raises(r.RatingError) as err:
        rate_bad_window(world, level=level, scores=scores)
    assert err.value.field in ("level", "scores") and not Rating.objects.exists()


def test_the_level_may_be_taken_from_the_overall_indicator(world):
    assert rate_bad_window(world, level=None).level == 1


def test_a_case_of_another_organ_is_refused(world, matters):
    case = decided_case(matters)
    with pytest.raises(r.RatingError) as err:
        r.do_rate_service(kind="online", organ=world.futian_bureau, scores=ONLINE_GOOD, case=case, rated_at=MON)
    assert err.value.field == "case" and not Rating.objects.exists()


def test_a_case_still_in_handling_cannot_be_rated(world, matters):
    case, _code = cases.do_submit_case(matter=matters.paid, case_no="TH-OPEN", applicant_name="李四",
                                       received_at=MON - timedelta(days=1))
    with pytest.raises(r.RatingError, match="办结") as err:
        r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, case=case, rated_at=MON)
    assert err.value.field == "case"


def test_a_second_rating_of_the_same_case_is_refused_and_a_replay_changes_nothing(world, matters):
    case = decided_case(matters)
    values = dict(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, case=case, rater=RATER, rated_at=MON)
    r.do_rate_service(**values)
    for _attempt in range(2):
        with pytest.raises(r.RatingError, match="只能评价一次") as err:
            r.do_rate_service(**values)
        assert err.value.field == "case"
    with pytest.raises(r.RatingError):  # anyone else holding the case number and code: the first rating stands
        r.do_rate_service(**{**values, "rater": None})
    assert Rating.objects.count() == 1


def test_a_naive_time_is_refused(world):
    with pytest.raises(r.RatingError) as err:
        rate_bad_window(world, rated_at=datetime(2026, 11, 2, 9, 0))
    assert err.value.field == "rated_at"
    rating = rate_bad_window(world)
    with pytest.raises(r.RatingError) as err:
        r.do_callback(rating, note="已回访", at=datetime(2026, 11, 3, 9, 0))
    assert err.value.field == "at" and fresh(rating).status == RatingStatus.CALLBACK


@pytest.mark.parametrize("overrides,field", [
    ({"window": ""}, "window"),                             # a window visit names its window
    ({"kind": "kiosk"}, "kind"),
    ({"rater": Identity.of(name="李四")}, "phone"),          # named without a phone: no call-back possible
    ({"rater": Identity.of(phone="12345")}, "phone"),
    ({"comment": "很" * 2001}, "comment"),
    ({"organ": None}, "organ"),
])
def test_other_bad_input_is_refused_with_its_field(world, overrides, field):
    with pytest.raises(r.RatingError) as err:
        rate_bad_window(world, **overrides)
    assert err.value.field == field and not Rating.objects.exists()


def test_an_online_rating_without_a_case_needs_a_matter_of_the_organ(world, matters):
    with pytest.raises(r.RatingError) as err:
        r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, rated_at=MON)
    assert err.value.field == "case"
    with pytest.raises(r.RatingError) as err:
        r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, matter=matters.parallel,
                          rated_at=MON)
    assert err.value.field == "matter"
    assert r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=ONLINE_GOOD, matter=matters.paid,
                             rated_at=MON).matter == matters.paid
