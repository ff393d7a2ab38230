"""The data exchange inbox: organs' own systems push case events; nothing is lost, nothing applied twice."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin import AdminSite
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import include, path
from django.utils import timezone

import xiaoneng.urls
from xiaoneng.approvals.exchange import admin as exchange_admin
from xiaoneng.approvals.exchange import keys, pipeline
from xiaoneng.approvals.models import (
    Case,
    CaseEvent,
    CaseStep,
    ExchangeBatch,
    ExchangeEvent,
    StatusChange,
)
from xiaoneng.audit.models import AuditEntry
from xiaoneng.clocks.models import Clock
from xiaoneng.notify.models import Message

SH = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/exchange/events"

# The endpoint is routed here until xiaoneng/api/urls.py includes it (the first match wins, so a
# second route to the same view once it does is harmless); the admin pages on a site of their own.
_site = AdminSite(name="exchange_admin_test")
exchange_admin.register(_site)
urlpatterns = [path("api/v1/", include("xiaoneng.approvals.exchange.api")), path("xadmin/", _site.urls),
               *xiaoneng.urls.urlpatterns]


@pytest.fixture(autouse=True)
def exchange_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def source(world, matters):
    src, key = keys.do_create_source(code="th-approvals", organ_codes=[world.tianhe_bureau.credit_code], name="天河审批系统")
    src.key = key
    return src


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=SH).isoformat()


def ev(event_id, type_, when, case_no="TH-2026-0001", matter="440106-SP-001", organ=None, **extra):
    from xiaoneng.approvals.models import Matter
    from xiaoneng.orgs.models import Organ

    if organ is None:
        owner = Matter.objects.filter(code=matter).first()
        organ = (owner.organ if owner else Organ.objects.get(name="广州市天河区市场监督管理局")).credit_code
    return {"event_id": event_id, "type": type_, "occurred_at": at(when), "case_no": case_no, "matter_code": matter,
            "organ_code": organ, **extra}


def submitted(event_id="E1", case_no="TH-2026-0001", when="2026-09-28T10:00", **extra):
    return ev(event_id, "submitted", when, case_no, applicant_name="张三", applicant_phone="13800000000", **extra)


def post(client, key, body, **headers):
    data = body if isinstance(body, bytes | str) else json.dumps(body, ensure_ascii=False)
    headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
    return client.post(URL, data=data, content_type=headers.pop("content_type", "application/json"), **headers)


def results(response):
    return {r["event_id"]: r for r in response.json()["results"]}


def life(case_no="TH-2026-0001", prefix="E"):
    """A licence case from submission to certificate, as the organ's system would report it."""
    return [
        submitted(f"{prefix}1", case_no),
        ev(f"{prefix}2", "accepted", "2026-09-29T09:00", case_no),
        ev(f"{prefix}3", "step_completed", "2026-10-09T09:00", case_no, step="审查", handler="王五"),
        ev(f"{prefix}4", "step_completed", "2026-10-12T09:00", case_no, step="决定"),
        ev(f"{prefix}5", "decided", "2026-10-12T15:00", case_no, outcome="granted"),
        ev(f"{prefix}6", "certificate_issued", "2026-10-14T10:00", case_no),
    ]


# --- a batch, its results, replays -------------------------------------------------------------
def test_a_batch_is_applied_event_by_event_and_answered_per_event(client, source):
    response = post(client, source.key, life())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 6 and body["rejected"] == 0
    assert all(r["result"] == "accepted" and r["field"] is None for r in body["results"])
    case = Case.objects.get(case_no="TH-2026-0001")
    assert case.status == "certified" and case.outcome == "granted" and case.source == source
    assert list(StatusChange.objects.filter(case=case).values_list("to_status", "actor_label")) == [
        ("accepted", "exchange:th-approvals"), ("decided", "exchange:th-approvals"),
        ("certified", "exchange:th-approvals")]
    assert ExchangeBatch.objects.get(pk=body["batch"]).processed_at is not None
    assert ExchangeEvent.objects.filter(state="applied").count() == 6


def test_the_applicant_is_notified_by_the_background_sender_not_while_the_batch_is_answered(client, source, settings,
                                                                                           tmp_path):
    settings.XIAONENG_NOTIFY_BACKEND = "xiaoneng.notify.backends.FileBackend"
    settings.XIAONENG_NOTIFY_FILE = str(tmp_path / "out.jsonl")
    for fast in (True, False):
        no = f"TH-N-{fast}"
        pipeline.receive(source, json.dumps(life(no, prefix=f"{no}-"), ensure_ascii=False).encode(), fast=fast)
        queued = Message.objects.filter(ref=no)
        assert queued.count() == 4 and {m.state for m in queued} == {Message.State.PENDING}
        # each its own idempotency id for the gateway (the bulk writer's default would give the batch one)
        assert None not in {m.key for m in queued} and len({m.key for m in queued}) == 4
    assert not (tmp_path / "out.jsonl").exists()
    call_command("notify", "send", stdout=StringIO())
    assert set(Message.objects.values_list("state", flat=True)) == {Message.State.SENT}
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == 8


def test_a_replayed_batch_is_all_duplicate_and_changes_nothing(client, source):
    post(client, source.key, life())
    before = (Case.objects.count(), StatusChange.objects.count(), Clock.objects.count(), CaseEvent.objects.count())
    again = post(client, source.key, life())
    assert again.status_code == 200
    assert {r["result"] for r in again.json()["results"]} == {"duplicate"}
    assert (Case.objects.count(), StatusChange.objects.count(), Clock.objects.count(), CaseEvent.objects.count()) == before
    assert ExchangeBatch.objects.count() == 2  # the replay itself is kept


def test_bad_events_are_rejected_with_field_and_reason_and_the_good_ones_applied(client, source):
    batch = [
        submitted("OK1", "TH-2026-0001"),
        {**submitted("BAD1", "TH-2026-0002"), "applicant_name": 42},
        {**submitted("BAD2", "TH-2026-0003"), "type": "approved"},
        ev("BAD3", "refused", "2026-09-29T09:00", "TH-2026-0001"),  # no reasons
        {**submitted("BAD4", "TH-2026-0004"), "colour": "red"},
        ev("BAD5", "accepted", "2026-09-29T09:00", "TH-2026-0001", reasons="x"),
        {**submitted("BAD6", "TH-2026-0006"), "organ_code": "91440106MA5CXXXXXX"},
        submitted("BAD7", "TH-2026-0007", matter="NO-SUCH-MATTER"),
        ev("OK2", "fee_charged", "2026-09-29T10:00", "TH-2026-0001", amount="12.50"),
        ev("BAD8", "fee_charged", "2026-09-29T10:00", "TH-2026-0001", amount="1.001"),
        ev("BAD9", "fee_charged", "2026-09-29T10:00", "TH-2026-0001", amount=True),
        ev("BAD10", "suspended", "2026-09-29T10:00", "TH-2026-0001", reasons="专家评审", announced_days="5"),
        ev("BAD11", "decided", "2026-09-29T10:00", "TH-2026-0001", outcome="denied"),
        ev("BAD12", "correction_requested", "2026-09-29T10:00", "TH-2026-0001", items=[" ", ""]),
        "not an object",
        {"type": "accepted"},
    ]
    response = post(client, source.key, batch)
    assert response.status_code == 200
    r = results(response)
    assert r["OK1"]["result"] == "accepted" and r["OK2"]["result"] == "accepted"
    expected = {"BAD1": "applicant_name", "BAD2": "type", "BAD3": "reasons", "BAD4": "colour", "BAD5": "reasons",
                "BAD6": "organ_code", "BAD7": "matter_code", "BAD8": "amount", "BAD9": "amount",
                "BAD10": "announced_days", "BAD11": "reasons", "BAD12": "items"}
    for event_id, field in expected.items():
        assert r[event_id]["result"] == "rejected" and r[event_id]["field"] == field, (event_id, r[event_id])
        assert r[event_id]["reason"]
    anonymous = [x for x in response.json()["results"] if x["event_id"] is None]
    assert [(x["index"], x["field"]) for x in anonymous] == [(14, None), (15, "event_id")]
    assert Case.objects.get(case_no="TH-2026-0001").fee_charged == Decimal("12.50")
    assert not Case.objects.filter(case_no__in=["TH-2026-0002", "TH-2026-0003", "TH-2026-0004"]).exists()
    assert ExchangeEvent.objects.get(event_id="BAD1").state == "rejected"


def test_a_rejected_event_may_be_sent_again_corrected_under_the_same_id(client, source):
    post(client, source.key, [{**submitted("E1"), "applicant_name": " "}])
    assert ExchangeEvent.objects.get(event_id="E1").state == "rejected"
    again = post(client, source.key, [submitted("E1")])
    assert results(again)["E1"]["result"] == "accepted"
    assert ExchangeEvent.objects.get(event_id="E1").state == "applied"


def test_the_same_event_id_twice_in_one_batch_is_applied_once(client, source):
    response = post(client, source.key, [submitted("E1"), submitted("E1", case_no="TH-2026-0002")])
    assert [r["result"] for r in response.json()["results"]] == ["accepted", "duplicate"]
    assert not Case.objects.filter(case_no="TH-2026-0002").exists()


# --- keys ----------------------------------------------------------------------------------------
def test_a_wrong_or_missing_key_is_401_and_nothing_is_stored(client, source):
    for headers in ({"HTTP_AUTHORIZATION": "Bearer xn_0000000000_" + "A" * 43}, {"HTTP_AUTHORIZATION": "Bearer nonsense"},
                    {"HTTP_AUTHORIZATION": ""}, {"HTTP_AUTHORIZATION": f"Basic {source.key}"},
                    {"HTTP_AUTHORIZATION": f"Bearer {source.key[:-1]}x"}):
        response = post(client, source.key, life(), **headers)
        assert response.status_code == 401, headers
        assert response.json()["errors"][0]["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert ExchangeBatch.objects.count() == 0 and Case.objects.count() == 0


def test_the_key_also_works_as_x_api_key(client, source):
    response = post(client, source.key, [submitted()], HTTP_AUTHORIZATION="", HTTP_X_API_KEY=source.key)
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_an_inactive_source_is_refused(client, source):
    keys.do_set_source_active(source, False)
    assert post(client, source.key, [submitted()]).status_code == 401
    assert ExchangeBatch.objects.count() == 0


def test_keys_are_stored_hashed_and_a_rotated_key_replaces_the_old_one(client, source):
    source.refresh_from_db()
    assert source.key not in (source.key_hash, source.key_prefix) and len(source.key_hash) == 64
    assert source.key.startswith(f"xn_{source.key_prefix}_")
    new = keys.do_rotate_key(source)
    assert post(client, source.key, [submitted()]).status_code == 401
    assert post(client, new, [submitted()]).status_code == 200


def test_the_endpoint_needs_no_csrf_token_and_sets_no_session(source):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = post(client, source.key, [submitted()])
    assert response.status_code == 200 and "sessionid" not in response.cookies


def test_each_source_is_throttled_on_its_own(client, source, settings, world, monkeypatch):
    from django.core.cache import cache

    from xiaoneng.approvals.exchange import api
    from xiaoneng.conf import DEFAULTS

    cache.clear()
    monkeypatch.setattr(api, "DEFAULT_RATE", "2/min")
    if "exchange_throttle_rate" in DEFAULTS:  # once the rule is in xiaoneng.conf
        settings.XIAONENG_RULES = {"exchange_throttle_rate": "2/min"}
    _other, other_key = keys.do_create_source(code="yx", organ_codes=[world.yuexiu_bureau.credit_code])
    try:
        assert [post(client, source.key, []).status_code for _ in range(3)] == [200, 200, 429]
        assert post(client, other_key, []).status_code == 200
    finally:
        cache.clear()


# --- the source's organs ------------------------------------------------------------------------
def test_a_source_may_report_only_for_its_own_organs(client, source, world, matters):
    foreign = ev("F1", "submitted", "2026-11-02T09:00", "GZ-2026-0001", matter="4401-SP-003",
                 applicant_name="李四")
    response = post(client, source.key, [foreign])
    r = results(response)["F1"]
    assert r["result"] == "rejected" and r["field"] == "organ_code"
    assert not Case.objects.filter(case_no="GZ-2026-0001").exists()


def test_a_matter_of_another_organ_is_rejected(client, source, world):
    # the 天河 source reporting a 广州 matter as if 天河 handled it
    wrong = ev("W1", "submitted", "2026-11-02T09:00", "GZ-2026-0002", matter="4401-SP-003",
               organ=world.tianhe_bureau.credit_code, applicant_name="李四")
    r = results(post(client, source.key, [wrong]))["W1"]
    assert r["result"] == "rejected" and r["field"] == "matter_code"


def test_a_case_number_of_another_organ_is_rejected(client, source, world, matters):
    from xiaoneng.approvals import actions

    actions.do_submit_case(matter=matters.first_review, case_no="TH-2026-0001", applicant_name="王",
                           received_at=datetime(2026, 9, 28, 9, tzinfo=SH))
    r = results(post(client, source.key, [submitted("S1"), ev("S2", "accepted", "2026-09-29T09:00")]))
    assert r["S1"]["result"] == "rejected" and r["S1"]["field"] == "case_no"
    assert r["S2"]["result"] == "rejected" and r["S2"]["field"] in ("organ_code", "matter_code")
    assert Case.objects.get(case_no="TH-2026-0001").organ == world.gz_bureau


# --- order and time --------------------------------------------------------------------------------
def test_an_event_before_its_case_is_held_and_applied_when_the_submission_arrives(client, source):
    events = life()
    first = post(client, source.key, [events[1], events[2]])
    r = results(first)
    assert r["E2"]["result"] == "held" and r["E3"]["result"] == "held"
    assert not Case.objects.exists()
    assert ExchangeEvent.objects.filter(state="held").count() == 2
    second = post(client, source.key, [events[0]])
    assert results(second)["E1"]["result"] == "accepted"
    case = Case.objects.get(case_no="TH-2026-0001")
    assert case.status == "accepted" and case.steps.get(step__name="审查").completed_at is not None
    assert ExchangeEvent.objects.filter(state="applied").count() == 3
    # the rest, reversed, in one batch: applied in occurred_at order
    third = post(client, source.key, list(reversed(events[3:])))
    assert {r["result"] for r in third.json()["results"]} == {"accepted"}
    case.refresh_from_db()
    assert case.status == "certified"


@pytest.mark.parametrize("fast", [True, False])
def test_an_extension_reported_after_the_legal_period_is_recorded_but_the_case_stays_overdue(source, fast):
    from xiaoneng.clocks import monitor
    from xiaoneng.supervision.models import Alert

    events = [submitted("L1", when="2026-10-08T10:00"), ev("L2", "accepted", "2026-10-09T09:00"),
              ev("L3", "extended", "2026-11-20T09:00", days=10, reasons="需现场核查", approver="李局长")]
    receipt = pipeline.receive(source, json.dumps(events[:2]).encode(), fast=fast)
    assert receipt.status == 200
    case = Case.objects.select_related("legal_clock", "promise_clock").get(case_no="TH-2026-0001")
    legal_due, promise_due = case.legal_clock.due_at, case.promise_clock.due_at
    receipt = pipeline.receive(source, json.dumps(events[2:]).encode(), fast=fast)
    assert [r.result for r in receipt.results] == ["accepted"]  # what the organ did is recorded
    case = Case.objects.select_related("legal_clock", "promise_clock").get(case_no="TH-2026-0001")
    assert (case.legal_clock.due_at, case.promise_clock.due_at) == (legal_due, promise_due)
    assert case.legal_clock.extension_days == 0 and not case.extended
    extend = CaseEvent.objects.get(case=case, kind="extend")
    assert extend.data["late"] is True and extend.data["days"] == 10
    assert not Message.objects.filter(ref=case.case_no, kind="case.extended").exists()
    finding = Alert.objects.get(rule="extension_irregular", subject_id=case.pk)
    assert finding.legal_basis == "《行政许可法》第四十二条" and "届满" in finding.message
    monitor.run_pass(datetime(2026, 11, 21, 9, tzinfo=SH))
    assert Alert.objects.filter(rule="overdue_legal", subject_id=case.pk).exists()


@pytest.mark.parametrize("fast", [True, False])
def test_a_late_acceptance_from_the_exchange_starts_every_acceptance_clock_at_receipt(source, fast):
    from xiaoneng.clocks.engine import explain_clock

    events = [submitted("D1", when="2026-09-28T10:00"), ev("D2", "accepted", "2026-10-15T09:00")]
    assert pipeline.receive(source, json.dumps(events).encode(), fast=fast).status == 200
    case = Case.objects.select_related("legal_clock", "promise_clock").get(case_no="TH-2026-0001")
    step = case.steps.select_related("clock").get(step__name="审查")
    assert case.deemed_accepted
    for clock in (case.legal_clock, case.promise_clock, step.clock):
        assert clock.start_at == case.received_at and clock.start_reason == "deemed.late_acceptance", clock.kind
    assert "视为受理" in explain_clock(step.clock)


def test_a_later_step_waits_for_the_current_one(client, source):
    events = life()
    post(client, source.key, events[:2])
    r = results(post(client, source.key, [events[3]]))
    assert r["E4"]["result"] == "held" and r["E4"]["field"] == "step"
    r = results(post(client, source.key, [events[2]]))
    assert r["E3"]["result"] == "accepted"
    assert ExchangeEvent.objects.get(event_id="E4").state == "applied"


def test_an_event_the_case_can_no_longer_reach_is_rejected_not_held(client, source):
    events = life()
    post(client, source.key, events)
    r = results(post(client, source.key, [ev("X1", "refused", "2026-10-20T09:00", reasons="材料不全")]))
    assert r["X1"]["result"] == "rejected" and r["X1"]["field"] == "status"


def test_held_events_expire_after_the_timeout_and_are_flagged(client, source):
    post(client, source.key, [ev("E2", "accepted", "2026-09-29T09:00")])
    ExchangeEvent.objects.filter(event_id="E2").update(received_at=timezone.now() - timedelta(hours=25))
    out = StringIO()
    call_command("exchange", "process-held", stdout=out)
    row = ExchangeEvent.objects.get(event_id="E2")
    assert row.state == "expired" and "超时" in row.error_reason
    assert "1" in out.getvalue()
    # its turn may still come: the submission arrives, the expired event is applied
    post(client, source.key, [submitted("E1")])
    assert ExchangeEvent.objects.get(event_id="E2").state == "applied"
    assert Case.objects.get(case_no="TH-2026-0001").status == "accepted"


def test_naive_future_and_ancient_timestamps_are_rejected(client, source):
    now = timezone.now()
    batch = [
        {**submitted("N1"), "occurred_at": "2026-09-28T10:00:00"},
        {**submitted("N2"), "occurred_at": (now + timedelta(hours=1)).isoformat()},
        {**submitted("N3"), "occurred_at": "1999-12-31T10:00:00+08:00"},
        {**submitted("N4"), "occurred_at": "yesterday"},
        {**submitted("N5"), "occurred_at": 1727488800},
        {**submitted("N6", case_no="TH-OK"), "occurred_at": (now + timedelta(minutes=1)).isoformat()},
    ]
    r = results(post(client, source.key, batch))
    for event_id in ("N1", "N2", "N3", "N4", "N5"):
        assert r[event_id]["result"] == "rejected" and r[event_id]["field"] == "occurred_at", r[event_id]
    assert "时区" in r["N1"]["reason"]
    assert r["N6"]["result"] == "accepted"  # within the allowed clock skew


def test_huge_strings_and_control_characters_are_rejected(client, source):
    batch = [
        {**submitted("H1"), "applicant_name": "张" * 101},
        {**submitted("H2", case_no="X" * 65)},
        {**submitted("H3"), "applicant_name": "张\x00三"},
        {**submitted("H4"), "event_id": "E" * 101},
        ev("H5", "refused", "2026-09-29T09:00", reasons="理" * 100_000),
        {**submitted("H6"), "x\u0000y": 1},
        {**submitted("H7"), "type": "sub\u0000mitted"},
    ]
    response = post(client, source.key, batch)
    assert response.status_code == 200
    r = results(response)
    assert r["H1"]["field"] == "applicant_name" and "过长" in r["H1"]["reason"]
    assert r["H2"]["field"] == "case_no" and r["H3"]["field"] == "applicant_name"
    assert r["H5"]["field"] == "reasons"
    assert [x for x in response.json()["results"] if x["index"] == 3][0]["field"] == "event_id"
    stored = ExchangeEvent.objects.get(event_id="H5")
    assert stored.state == "rejected" and len(json.dumps(stored.payload)) < 10_000
    assert r["H6"]["result"] == "rejected" and r["H7"]["field"] == "type"
    assert ExchangeEvent.objects.get(event_id="H6").state == "rejected"  # stored although jsonb refuses NUL


def test_sources_are_listed_and_deactivated_from_the_command_line(client, source):
    out = StringIO()
    call_command("exchange_source", "list", stdout=out)
    assert "th-approvals" in out.getvalue() and source.key not in out.getvalue()
    call_command("exchange_source", "deactivate", "th-approvals", stdout=StringIO())
    assert post(client, source.key, [submitted()]).status_code == 401
    call_command("exchange_source", "activate", "th-approvals", stdout=StringIO())
    assert post(client, source.key, [submitted()]).status_code == 200


def test_late_events_have_their_lag_recorded(client, source):
    response = post(client, source.key, [submitted("L1", when="2026-09-28T10:00")])
    row = ExchangeEvent.objects.get(event_id="L1")
    expected = (row.received_at - datetime(2026, 9, 28, 10, tzinfo=SH)).total_seconds()
    assert abs(row.lag_seconds - expected) < 1 and row.lag_seconds > 24 * 3600
    assert response.json()["late"] == 1
    fresh = post(client, source.key, [submitted("L2", "TH-NOW", when=timezone.localtime(timezone.now(), SH)
                                                .replace(tzinfo=None).isoformat(timespec="seconds"))])
    assert fresh.json()["late"] == 0 and ExchangeEvent.objects.get(event_id="L2").lag_seconds < 60


# --- whole-batch refusals -------------------------------------------------------------------------
def test_malformed_json_is_400_and_the_raw_body_is_kept(client, source):
    response = post(client, source.key, b'[{"event_id": "E1",')
    assert response.status_code == 400
    body = response.json()
    assert "JSON" in body["detail"] and body["errors"][0]["code"] == "malformed"
    batch = ExchangeBatch.objects.get(pk=body["batch"])
    assert batch.raw == '[{"event_id": "E1",' and batch.error


def test_a_body_that_is_not_an_array_is_400(client, source):
    response = post(client, source.key, {"event_id": "E1"})
    assert response.status_code == 400 and "数组" in response.json()["detail"]


def test_a_body_that_is_not_utf8_is_400_and_kept_byte_for_byte(client, source):
    raw = json.dumps([submitted()], ensure_ascii=False).encode("gbk")
    response = post(client, source.key, raw)
    assert response.status_code == 400 and "UTF-8" in response.json()["detail"]
    batch = ExchangeBatch.objects.get(pk=response.json()["batch"])
    assert pipeline.raw_bytes(batch) == raw
    # declared honestly, the same bytes are read
    ok = client.generic("POST", URL, raw, content_type="application/json; charset=GBK",
                        HTTP_AUTHORIZATION=f"Bearer {source.key}")
    assert ok.status_code == 200 and ok.json()["accepted"] == 1


def test_an_oversized_batch_is_413_and_nothing_is_applied(client, source, settings):
    settings.XIAONENG_RULES = {"exchange_batch_max_events": 3}
    response = post(client, source.key, life())
    assert response.status_code == 413
    assert "3" in response.json()["detail"] and response.json()["max_events"] == 3
    assert Case.objects.count() == 0 and ExchangeEvent.objects.count() == 0
    assert ExchangeBatch.objects.get(pk=response.json()["batch"]).results["refused"] == "too_large"


def test_a_body_too_large_to_read_is_413_and_only_the_refusal_is_recorded(client, source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post(client, source.key, life())
    assert response.status_code == 413
    batch = ExchangeBatch.objects.get()
    assert batch.raw == "" and batch.size > 100 and batch.results["refused"] == "too_large"


def test_the_raw_batch_survives_a_crash_and_is_processed_later(client, source, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pipeline, "apply_events", boom)
    response = post(client, source.key, life())
    assert response.status_code == 500 and "已保存" in response.json()["detail"]
    batch = ExchangeBatch.objects.get()
    assert batch.processed_at is None and "disk on fire" in batch.error
    assert json.loads(batch.raw)[0]["event_id"] == "E1" and Case.objects.count() == 0
    monkeypatch.undo()
    out = StringIO()
    call_command("exchange", "reprocess", stdout=out)
    batch.refresh_from_db()
    assert batch.processed_at is not None and Case.objects.get().status == "certified"


def test_an_event_that_crashes_is_held_and_does_not_block_the_others(client, source, monkeypatch):
    from xiaoneng.approvals.exchange import slow

    real = slow._call

    def flaky(ev, case, ctx):
        if ev.case_no == "TH-BOOM":
            raise RuntimeError("bug")
        return real(ev, case, ctx)

    monkeypatch.setattr(slow, "_call", flaky)
    response = post(client, source.key, [submitted("B1", "TH-BOOM"), ev("X1", "suspended", "2026-10-01T09:00",
                                                                        "TH-BOOM", reasons="专家评审", announced_days=3)],
                    )
    r = results(response)
    assert r["B1"]["result"] in ("accepted", "held")
    ok = post(client, source.key, [submitted("G1", "TH-GOOD")])
    assert results(ok)["G1"]["result"] == "accepted"


# --- commands --------------------------------------------------------------------------------------
def test_the_source_command_prints_the_key_on_its_last_line_and_the_key_works(client, world, matters):
    out = StringIO()
    call_command("exchange_source", "create", "yx-system", "--organ", world.yuexiu_bureau.credit_code,
                 "--organ", world.tianhe_bureau.credit_code, "--name", "越秀系统", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    assert key.startswith("xn_")
    response = post(client, key, [submitted()])
    assert response.status_code == 200 and response.json()["accepted"] == 1
    with pytest.raises(CommandError):
        call_command("exchange_source", "create", "bad", "--organ", "123", stdout=StringIO())
    out = StringIO()
    call_command("exchange_source", "rotate-key", "yx-system", stdout=out)
    assert post(client, key, [submitted("E9", "TH-9")]).status_code == 401
    assert post(client, out.getvalue().strip().splitlines()[-1], [submitted("E9", "TH-9")]).status_code == 200


def test_the_hyphenated_command_name_works_through_the_console_script(world, matters, monkeypatch, capsys):
    import sys

    from xiaoneng import __main__ as cli

    if "exchange-source" not in getattr(cli, "ALIASES", {}):
        pytest.skip("alias not installed")
    monkeypatch.setattr(sys, "argv", ["xiaoneng", "exchange-source", "create", "cli-src", "--organ",
                                      world.tianhe_bureau.credit_code])
    cli.main()
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("xn_")


def test_a_jsonl_file_is_imported_with_line_numbered_errors(source, tmp_path):
    lines = [json.dumps(e, ensure_ascii=False) for e in life()]
    lines.insert(2, "")
    lines.insert(3, "{not json")
    lines.append(json.dumps({**submitted("BAD", "TH-2"), "applicant_phone": 13800000000}))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("exchange", "import", str(path), "--source", source.code, stdout=StringIO(), stderr=err)
    assert "拒收 2" in str(info.value)
    assert "第 4 行" in err.getvalue() and "第 9 行 BAD" in err.getvalue() and "applicant_phone" in err.getvalue()
    assert Case.objects.get(case_no="TH-2026-0001").status == "certified"
    batch = ExchangeBatch.objects.get()
    assert batch.channel == "file" and batch.results["format"] == "jsonl"


def test_a_csv_file_is_imported_with_row_numbered_errors(source, tmp_path):
    header = "event_id,type,occurred_at,case_no,matter_code,organ_code,applicant_name,applicant_phone,items,step,announced_days,reasons\n"
    code = source.organs.get().credit_code
    rows = [
        f"C1,submitted,{at('2026-09-28T10:00')},TH-C-1,440106-SP-001,{code},张三,13800000000,,,,\n",
        f"C2,correction_requested,{at('2026-09-29T10:00')},TH-C-1,440106-SP-001,{code},,,缺申请书|缺照片,,,\n",
        f"C3,corrected,{at('2026-09-30T10:00')},TH-C-1,440106-SP-001,{code},,,,,,\n",
        f"C4,accepted,{at('2026-10-08T10:00')},TH-C-1,440106-SP-001,{code},,,,,,\n",
        f"C5,suspended,{at('2026-10-09T10:00')},TH-C-1,440106-SP-001,{code},,,,,五天,专家评审\n",
        f'C6,step_completed,{at("2026-10-09T11:00")},TH-C-1,440106-SP-001,{code},,,,"审查",,\n',
    ]
    path = tmp_path / "events.csv"
    path.write_text(header + "".join(rows), encoding="utf-8-sig")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("exchange", "import", str(path), "--source", source.code, stdout=StringIO(), stderr=err)
    assert "第 6 行 C5" in err.getvalue() and "announced_days" in err.getvalue()
    case = Case.objects.get(case_no="TH-C-1")
    assert case.status == "accepted" and case.steps.get(step__name="审查").completed_at is not None
    assert CaseEvent.objects.get(case=case, kind="correction").data["items"] == ["缺申请书", "缺照片"]


def test_a_file_in_the_wrong_encoding_is_refused_with_its_line(source, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(json.dumps(e, ensure_ascii=False).encode("gbk") for e in life()))
    with pytest.raises(CommandError, match="第 1 行"):
        call_command("exchange", "import", str(path), "--source", source.code, stdout=StringIO())
    assert ExchangeBatch.objects.count() == 0
    call_command("exchange", "import", str(path), "--source", source.code, "--encoding", "gb18030", stdout=StringIO())
    assert Case.objects.get().status == "certified"


def test_an_administrator_creates_a_source_in_the_admin_and_sees_its_key_once(client, world, matters, login):
    admin = login(world.admin)
    response = admin.post("/xadmin/approvals/exchangesource/add/", {
        "code": "admin-made", "name": "后台建的来源", "organs": [world.tianhe_bureau.pk], "is_active": "on"},
        follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = next(m for m in shown if "admin-made" in m).rsplit("：", 1)[-1]
    assert post(client, key, [submitted()]).status_code == 200
    assert "admin-made" in admin.get("/xadmin/approvals/exchangesource/").content.decode()
    assert "admin-made" in admin.get("/xadmin/approvals/exchangebatch/").content.decode()  # its batch, in scope
    assert admin.get("/xadmin/approvals/exchangeevent/?state__exact=applied").status_code == 200
    assert login(world.county_handler).get("/xadmin/approvals/exchangesource/").status_code in (302, 403)


# --- audit ---------------------------------------------------------------------------------------
def test_what_the_exchange_applies_is_audited_under_the_source(client, source):
    post(client, source.key, life())
    entries = AuditEntry.objects.filter(actor_label="exchange:th-approvals")
    assert entries.exists()
    assert entries.filter(channel="api").exists()


# --- OpenAPI --------------------------------------------------------------------------------------
def test_the_schema_publishes_the_event_and_the_key_schemes(client, world, login):
    schema = login(world.county_handler).get("/api/v1/schema/", {"format": "json"}).json()
    op = schema["paths"]["/api/v1/exchange/events"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    event = schema["components"]["schemas"][body["items"]["$ref"].rsplit("/", 1)[-1]]
    for name in ("event_id", "type", "occurred_at", "case_no", "matter_code", "organ_code", "reasons", "amount",
                 "step", "items", "announced_days", "days", "outcome", "approver"):
        assert name in event["properties"], name
    type_enum = event["properties"]["type"]
    ref = type_enum.get("$ref") or type_enum["allOf"][0]["$ref"]
    enum = type_enum.get("enum") or schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]["enum"]
    assert "certificate_issued" in enum and len(enum) == 13
    assert {"ExchangeBearer", "ExchangeApiKey"} <= set(schema["components"]["securitySchemes"])
    assert {"200", "400", "401", "413"} <= set(op["responses"])


def test_the_schema_with_the_exchange_endpoint_is_valid_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--urlconf", __name__,
                 "--file", str(tmp_path / "schema.yml"))


# --- fast path == per-event path ----------------------------------------------------------------
def stream(world):
    """Cases of every common shape, plus events that must wait or be refused."""
    th = world.tianhe_bureau.credit_code
    events = []
    n = 0

    def add(type_, when, case_no, matter="440106-SP-001", **extra):
        nonlocal n
        n += 1
        events.append(ev(f"S{n:04d}", type_, when, case_no, matter=matter, organ=th, **extra))

    for i in range(6):  # the happy path, some accepted late (deemed accepted)
        no = f"TH-F-{i}"
        add("submitted", f"2026-09-{21 + i}T10:00", no, applicant_name=f"申请人{i}", applicant_phone=f"138000000{i:02d}")
        add("accepted", f"2026-10-{9 + i * 2:02d}T09:00", no)
        add("step_completed", f"2026-10-{20 + i}T09:00", no, step="审查", handler="王五")
        add("step_completed", f"2026-10-{26 + i}T09:00", no, step="2")
        add("decided", f"2026-10-{26 + i}T15:00", no, outcome="granted" if i % 3 else "denied", reasons="" if i % 3 else "不符合条件")
        if i % 3:
            add("certificate_issued", f"2026-11-0{2 + i}T10:00", no)
    add("submitted", "2026-09-28T10:00", "TH-C-1", applicant_name="补正", applicant_phone="13900000000")
    add("correction_requested", "2026-09-29T10:00", "TH-C-1", items=["缺申请书", "照片不清"])
    add("corrected", "2026-10-10T10:00", "TH-C-1")
    add("accepted", "2026-10-12T10:00", "TH-C-1")
    add("submitted", "2026-09-28T10:00", "TH-C-2", applicant_name="迟补正")
    add("correction_requested", "2026-10-20T10:00", "TH-C-2", items=["缺申请书"])  # late: deemed accepted
    add("corrected", "2026-10-22T10:00", "TH-C-2")
    add("accepted", "2026-10-23T10:00", "TH-C-2")
    add("submitted", "2026-10-08T10:00", "TH-R-1", applicant_name="拒")
    add("refused", "2026-10-09T10:00", "TH-R-1", reasons="不属于本机关职权范围")
    add("submitted", "2026-10-08T10:00", "TH-FEE", matter="440106-SP-002", applicant_name="收费")
    add("accepted", "2026-10-09T10:00", "TH-FEE", matter="440106-SP-002")
    add("fee_charged", "2026-10-09T11:00", "TH-FEE", matter="440106-SP-002", amount="150.00")
    add("decided", "2026-10-19T10:00", "TH-FEE", matter="440106-SP-002", outcome="granted")
    add("submitted", "2026-10-08T10:00", "TH-S-1", applicant_name="暂停")
    add("accepted", "2026-10-09T10:00", "TH-S-1")
    add("suspended", "2026-10-12T09:00", "TH-S-1", reasons="专家评审", legal_basis="《行政许可法》第四十五条", announced_days=5)
    add("step_completed", "2026-10-14T09:00", "TH-S-1", step="审查")  # waits for the resumption
    add("resumed", "2026-10-16T17:00", "TH-S-1")
    add("extended", "2026-10-20T09:00", "TH-S-1", days=10, reasons="需现场核查", approver="李局长")
    add("step_completed", "2026-10-21T09:00", "TH-S-1", step="审查")  # a second report of the same step: refused
    add("submitted", "2026-10-08T10:00", "TH-W-1", applicant_name="撤回")
    add("withdrawn", "2026-10-10T10:00", "TH-W-1", reasons="申请人撤回")
    add("accepted", "2026-10-12T10:00", "TH-W-1")  # can never apply
    add("accepted", "2026-10-12T10:00", "TH-MISSING")  # no submission: held
    add("step_completed", "2026-10-12T10:00", "TH-C-1", step="决定")  # a later step: held
    # accepted and suspended close together; withdrawn while suspended (open pauses closed)
    add("submitted", "2026-10-12T10:00", "TH-S-2", applicant_name="同批暂停", applicant_phone="13700000000")
    add("accepted", "2026-10-13T10:00", "TH-S-2")
    add("suspended", "2026-10-13T15:00", "TH-S-2", reasons="检测", announced_days=10)
    add("extended", "2026-10-14T15:00", "TH-S-2", days=11, reasons="超限", approver="李局长")  # over the maximum
    add("resumed", "2026-10-13T12:00", "TH-S-2")  # before its suspension: refused by the clock
    add("withdrawn", "2026-10-20T10:00", "TH-S-2")
    # extensions after the legal period (recorded, extend nothing) and after the promise only (legal extended)
    add("submitted", "2026-10-08T10:00", "TH-X-1", applicant_name="逾期延长", applicant_phone="13500000000")
    add("accepted", "2026-10-09T09:00", "TH-X-1")
    add("extended", "2026-11-20T09:00", "TH-X-1", days=10, reasons="需现场核查", approver="李局长")
    add("submitted", "2026-10-08T10:00", "TH-X-2", applicant_name="承诺期满后延长", applicant_phone="13500000001")
    add("accepted", "2026-10-09T09:00", "TH-X-2")
    add("extended", "2026-10-28T09:00", "TH-X-2", days=5, reasons="需现场核查", approver="李局长")
    add("submitted", "2026-10-12T10:00", "TH-D-1", applicant_name="不予许可")
    add("accepted", "2026-10-13T10:00", "TH-D-1")
    add("step_completed", "2026-10-14T10:00", "TH-D-1", step="1")
    add("decided", "2026-10-15T10:00", "TH-D-1", outcome="denied", reasons="不符合条件")
    add("certificate_issued", "2026-10-16T10:00", "TH-D-1")  # no certificate for a denial
    add("fee_charged", "2026-10-16T11:00", "TH-D-1", amount=5)
    # first review by a lower organ, and parallel approval (per-event path) with its sub-cases
    gz, yx = world.gz_bureau.credit_code, world.yuexiu_bureau.credit_code
    n += 1
    events.append(ev(f"S{n:04d}", "submitted", "2026-11-02T09:00", "GZ-FR-1", matter="4401-SP-003", organ=gz,
                     applicant_name="初审", first_review_organ_code=th))
    for type_, when, no, organ, extra in [
        ("accepted", "2026-11-03T09:00", "GZ-FR-1", gz, {}),
        ("step_completed", "2026-11-10T09:00", "GZ-FR-1", gz, {"step": "区局初审"}),
        ("submitted", "2026-11-02T09:00", "GZ-BL-1", gz, {"applicant_name": "并联", "applicant_phone": "13600000000"}),
        ("accepted", "2026-11-03T09:00", "GZ-BL-1", gz, {}),
        ("decided", "2026-11-06T09:00", "GZ-BL-1", gz, {"outcome": "granted"}),  # waits for the sub-cases
        ("extended", "2026-11-04T09:00", "GZ-BL-1", gz, {"days": 15, "reasons": "复杂", "approver": "市长"}),
        ("decided", "2026-11-05T09:00", "GZ-BL-1-01", gz, {"outcome": "granted"}),
        ("decided", "2026-11-05T10:00", "GZ-BL-1-02", th, {"outcome": "granted"}),
        ("decided", "2026-11-05T11:00", "GZ-BL-1-03", yx, {"outcome": "granted"}),
        ("certificate_issued", "2026-11-09T11:00", "GZ-BL-1", gz, {}),
    ]:
        matter = "4401-SP-003" if no.startswith("GZ-FR") else "4401-BL-001"
        n += 1
        events.append(ev(f"S{n:04d}", type_, when, no, matter=matter, organ=organ, **extra))
    return events


def snapshot():
    """Everything the two paths must agree on, keyed by case number (ids and random codes left out)."""
    def clock(c):
        if c is None:
            return None
        return (c.kind, c.label, c.start_at, c.start_reason, c.limit, c.unit, c.legal_basis, c.state, c.stopped_at, c.warn_at, c.due_at,
                c.provisional, c.next_check_at, c.extension_days, c.organ_id, c.region_code,
                sorted((p.started_at, p.ended_at, p.reason, p.legal_basis, p.announced_days) for p in c.pauses.all()),
                sorted((x.days, x.reason, x.approver_name, x.at) for x in c.extensions.all()))

    from django.contrib.contenttypes.models import ContentType

    case_type = ContentType.objects.get_for_model(Case)
    out = {}
    for case in Case.objects.order_by("case_no"):
        out[case.case_no] = {
            "case": {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields
                     if f.attname not in ("id", "verify_hash", "created_at", "correction_clock_id", "promise_clock_id",
                                          "legal_clock_id", "certificate_clock_id", "parent_id")},
            "clocks": [clock(getattr(case, s)) for s in ("correction_clock", "promise_clock", "legal_clock",
                                                         "certificate_clock")],
            "all_clocks": sorted(map(repr, (clock(c) for c in Clock.objects.filter(subject_type=case_type,
                                                                                    subject_id=case.pk)))),
            "changes": list(StatusChange.objects.filter(case=case).values_list("from_status", "to_status", "at",
                                                                               "actor_label", "note")),
            "timeline": list(CaseEvent.objects.filter(case=case).values_list("kind", "at", "data", "actor_label")),
            "steps": [(s.step.name, s.organ_id, s.started_at, s.completed_at, s.handler, clock(s.clock))
                      for s in CaseStep.objects.filter(case=case).select_related("step", "clock")],
            "messages": sorted((m.to, m.kind, m.text if m.kind != "case.submitted" else m.text[:20])
                               for m in Message.objects.filter(ref=case.case_no)),
        }
    out["_events"] = sorted(ExchangeEvent.objects.values_list("event_id", "state", "error_field", "error_reason",
                                                              "lag_seconds"))
    from django.apps import apps

    if apps.is_installed("xiaoneng.supervision"):  # what electronic supervision made of it
        from xiaoneng.supervision.models import Alert, EarlyCompletion

        out["_alerts"] = sorted((a.rule, a.level, a.organ_id, a.subject_label, a.dedup_key.split(":")[0],
                                 repr(sorted((k, v) for k, v in a.evidence.items() if k != "lag_seconds")))
                                for a in Alert.objects.all())  # a late report's lag is counted to the second
        out["_early"] = sorted((e.clock.kind, e.clock.label, e.working_days_saved, e.at)
                               for e in EarlyCompletion.objects.select_related("clock"))
    return out


def run_stream(source, events, fast, batch_size):
    from django.db import transaction

    sid = transaction.savepoint()
    for i in range(0, len(events), batch_size):
        body = json.dumps(events[i:i + batch_size], ensure_ascii=False).encode()
        receipt = pipeline.receive(source, body, fast=fast)
        assert receipt.status == 200, receipt.body
    shot = snapshot()
    shot["_fast"] = sum(len(e.changes["events"]) for e in AuditEntry.objects.filter(action="exchange.apply"))
    transaction.savepoint_rollback(sid)
    return shot


@pytest.mark.parametrize("batch_size", [1000, 7, 1])
def test_the_fast_path_leaves_exactly_what_the_per_event_path_leaves(world, matters, batch_size):
    source, _key = keys.do_create_source(code="wide", organ_codes=[
        world.tianhe_bureau.credit_code, world.gz_bureau.credit_code, world.yuexiu_bureau.credit_code])
    events = stream(world)
    slow_shot = run_stream(source, events, False, batch_size)
    fast_shot = run_stream(source, events, True, batch_size)
    assert slow_shot.pop("_fast") == 0
    applied = sum(1 for _e, state, *_ in slow_shot["_events"] if state == "applied")
    assert fast_shot.pop("_fast") >= applied - 12  # all but the parallel application's events
    assert set(fast_shot) == set(slow_shot)
    for key in slow_shot:
        if key == "_events":
            strip = [(e, s, f, r) for e, s, f, r, _lag in slow_shot[key]]
            assert [(e, s, f, r) for e, s, f, r, _lag in fast_shot[key]] == strip
            continue
        if key.startswith("_"):
            assert fast_shot[key] == slow_shot[key], key
            continue
        for part in slow_shot[key]:
            assert fast_shot[key][part] == slow_shot[key][part], (key, part)
    assert slow_shot["TH-S-1"]["case"]["extended"] is True
    assert slow_shot["TH-C-2"]["case"]["deemed_accepted"] is True
    # a deemed acceptance starts the first step's clock at receipt too, saying why
    for no, reason in (("TH-C-2", "deemed.late_correction"), ("TH-F-5", "deemed.late_acceptance")):
        first = slow_shot[no]["steps"][0]
        assert first[2] == slow_shot[no]["case"]["received_at"] and first[5][2:4] == (first[2], reason), no
    late = slow_shot["TH-X-1"]
    extension_days = 13  # in snapshot's clock tuple
    assert late["case"]["extended"] is False and late["clocks"][2][extension_days] == 0  # the legal clock kept its date
    assert [d for kind, _at, d, _a in late["timeline"] if kind == "extend"][0]["late"] is True
    assert ("extension_irregular", "TH-X-1") in {(a[0], a[3]) for a in slow_shot["_alerts"]}
    promise_only = slow_shot["TH-X-2"]
    assert promise_only["case"]["extended"] is True
    assert (promise_only["clocks"][1][extension_days], promise_only["clocks"][2][extension_days]) == (0, 5)
    assert slow_shot["TH-S-2"]["case"]["status"] == "withdrawn"
    assert slow_shot["GZ-BL-1"]["case"]["status"] == "certified"
    assert slow_shot["GZ-FR-1"]["steps"][0][1] == world.tianhe_bureau.pk
    states = {e["case_no"] + ":" + e["type"]: s for e, (_id, s, *_rest) in zip(events, sorted(
        slow_shot["_events"], key=lambda row: row[0]), strict=True)}
    assert states["TH-MISSING:accepted"] == "held" and states["TH-W-1:accepted"] == "rejected"
    assert states["TH-C-1:step_completed"] == "held"


def test_the_fast_path_writes_in_a_fixed_number_of_queries(source, world, monkeypatch):
    from xiaoneng.approvals import signals as approval_signals
    from xiaoneng.clocks import signals as clock_signals

    # The listeners (electronic supervision) do their own work per event; this counts the inbox's.
    for signal in (approval_signals.case_event, approval_signals.exchange_processed, clock_signals.clock_stopped):
        monkeypatch.setattr(signal, "has_listeners", lambda sender=None: False)
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (10, 40):
        cases = [life(f"TH-Q{n}-{i}", prefix=f"Q{n}-{i}-") for i in range(n)]
        pipeline.receive(source, json.dumps([e for c in cases for e in c[:2]], ensure_ascii=False).encode())
        rest = [e for c in cases for e in c[2:]]
        with CaptureQueriesContext(connection) as queries:
            receipt = pipeline.receive(source, json.dumps(rest, ensure_ascii=False).encode())
        assert receipt.body["accepted"] == len(rest)
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[1] <= 40, counts  # 4× the events, not one query more


# --- the benchmark ---------------------------------------------------------------------------------
@pytest.mark.postgres
def test_the_ingest_benchmark_runs_small_on_postgresql(db, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the ingest benchmark measures PostgreSQL")
    from bench import ingest

    assert ingest.main(["--events", "600", "--in-place", "--batch", "200"]) == 0
    out = capsys.readouterr().out
    assert "events/s" in out and "ratio" in out


# --- what the answer tells ------------------------------------------------------------------------
def answers(receipt):
    return {(r["index"], r["event_id"]): r for r in receipt.body["results"]}


@pytest.mark.parametrize("fast", [True, False])
def test_a_duplicate_answer_carries_the_state_of_the_event_received_before(source, fast):
    def send(events):
        receipt = pipeline.receive(source, json.dumps(events, ensure_ascii=False).encode(), fast=fast)
        assert receipt.status == 200, receipt.body
        return {r["event_id"]: r for r in receipt.body["results"] if r["result"] == "duplicate"}

    bad = {**submitted("E4", "TH-2026-0004"), "applicant_name": 42}
    send([submitted("E1"), ev("E2", "accepted", "2026-09-29T09:00", "TH-2026-0002")])  # E2 waits for its case
    first = send([submitted("E1"), ev("E2", "accepted", "2026-09-29T09:00", "TH-2026-0002"),
                  bad, bad, submitted("E5", "TH-2026-0005"), submitted("E5", "TH-2026-0005")])
    assert {k: (v["state"], v["field"]) for k, v in first.items()} == {
        "E1": ("applied", "event_id"), "E2": ("held", "event_id"), "E4": ("rejected", "event_id"),
        "E5": ("applied", "event_id")}
    assert all(v["reason"] for v in first.values())
    # The submission lets E2 through in the same batch: its duplicate says what it is now.
    again = send([submitted("E6", "TH-2026-0002"), ev("E2", "accepted", "2026-09-29T09:00", "TH-2026-0002")])
    assert again["E2"]["state"] == "applied" == ExchangeEvent.objects.get(event_id="E2").state


@pytest.mark.parametrize("fast", [True, False])
def test_a_parallel_submission_answers_each_organ_its_sub_case_number(world, matters, fast):
    source, _key = keys.do_create_source(code="gz", organ_codes=[world.gz_bureau.credit_code])
    gz = world.gz_bureau.credit_code
    events = [ev("P1", "submitted", "2026-11-02T09:00", "GZ-BL-9", matter="4401-BL-001", organ=gz,
                 applicant_name="并联"),
              ev("P2", "submitted", "2026-11-02T09:00", "GZ-SP-9", matter="4401-SP-003", organ=gz,
                 applicant_name="单独")]
    receipt = pipeline.receive(source, json.dumps(events, ensure_ascii=False).encode(), fast=fast)
    r = answers(receipt)
    expected = [{"organ_code": c.organ.credit_code, "case_no": c.case_no}
                for c in Case.objects.filter(parent__case_no="GZ-BL-9").select_related("organ").order_by("case_no")]
    assert r[(0, "P1")]["result"] == "accepted" and r[(0, "P1")]["sub_cases"] == expected
    assert {s["organ_code"] for s in expected} == {gz, world.tianhe_bureau.credit_code, world.yuexiu_bureau.credit_code}
    assert r[(1, "P2")]["result"] == "accepted" and r[(1, "P2")]["sub_cases"] is None
    # A system that lost the answer sends the submission again and learns the numbers from the duplicate.
    replay = answers(pipeline.receive(source, json.dumps(events[:1], ensure_ascii=False).encode(), fast=fast))
    assert replay[(0, "P1")]["result"] == "duplicate" and replay[(0, "P1")]["state"] == "applied"
    assert replay[(0, "P1")]["sub_cases"] == expected


def test_both_paths_answer_a_stream_identically(world, matters):
    source, _key = keys.do_create_source(code="wide", organ_codes=[
        world.tianhe_bureau.credit_code, world.gz_bureau.credit_code, world.yuexiu_bureau.credit_code])
    from django.db import transaction

    events = stream(world)
    replies = {}
    for fast in (False, True):
        sid = transaction.savepoint()
        replies[fast] = []
        for i in range(0, len(events), 20):
            for chunk in (events[i:i + 20], events[i:i + 20]):  # each batch twice: the second all duplicates
                receipt = pipeline.receive(source, json.dumps(chunk, ensure_ascii=False).encode(), fast=fast)
                replies[fast].append({k: v for k, v in receipt.body.items() if k != "batch"})
        transaction.savepoint_rollback(sid)
    assert replies[True] == replies[False]
    told = [r for reply in replies[False] for r in reply["results"] if r["sub_cases"]]
    assert [r["result"] for r in told] == ["accepted", "duplicate"]
    assert {r["state"] for reply in replies[False] for r in reply["results"] if r["result"] == "duplicate"} >= {
        "applied", "held"}


def test_the_schema_documents_the_duplicates_state_and_the_sub_cases(client, world, login):
    schema = login(world.county_handler).get("/api/v1/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    ok = schema["paths"]["/api/v1/exchange/events"]["post"]["responses"]["200"]["content"]["application/json"]
    batch = components[ok["schema"]["$ref"].rsplit("/", 1)[-1]]
    result = components[batch["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert {"state", "sub_cases"} <= set(result["properties"]) and {"state", "sub_cases"} <= set(result["required"])
    sub_case = components[result["properties"]["sub_cases"]["items"]["$ref"].rsplit("/", 1)[-1]]
    assert set(sub_case["properties"]) == {"organ_code", "case_no"}
    examples = [e["value"] for e in ok["examples"].values()]
    assert all(set(r) == {"index", "event_id", "result", "field", "reason", "state", "sub_cases"}
               for e in examples for r in e["results"])
