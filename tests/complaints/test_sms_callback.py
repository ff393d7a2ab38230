"""Complaints by SMS: the gateway posts received messages; each message id makes one complaint."""
import json

import pytest
from django.urls import reverse

from xiaoneng.complaints import actions
from xiaoneng.complaints.models import Complaint
from xiaoneng.notify.models import Message

URL = reverse("complaints-public:sms")
TOKEN = "gateway-secret-token-2026"
GOOD = {"from": "+86 139 1234 5678", "text": "天河区政务大厅窗口推诿，材料齐全仍不受理。",
        "received_at": "2026-10-09T08:30:00+08:00", "message_id": "gw-0001"}


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.XIAONENG_SMS_GATEWAY_TOKEN = TOKEN


def post(client, data=None, *, token=TOKEN, as_json=False, raw=None):
    headers = {"HTTP_X_GATEWAY_TOKEN": token} if token is not None else {}
    if raw is not None:
        return client.post(URL, raw, content_type="application/json", **headers)
    if as_json:
        return client.post(URL, json.dumps(data or GOOD), content_type="application/json", **headers)
    return client.post(URL, data or GOOD, **headers)


def test_a_message_from_the_gateway_becomes_an_sms_complaint_answered_by_sms(client, desk):
    response = post(client)
    assert response.status_code == 201
    body = response.json()
    complaint = Complaint.objects.get()
    assert body == {"number": complaint.number}
    assert complaint.channel == "sms" and complaint.reply_channel == "sms"
    assert complaint.source_ref == "sms:gw-0001"
    assert complaint.region == desk.w.gd and complaint.category == desk.other
    assert complaint.content == GOOD["text"] and complaint.title == GOOD["text"][:30]
    assert complaint.phone_masked == "139****5678"
    assert complaint.received_at.isoformat().startswith("2026-10-09T00:30:00")


def test_the_secret_goes_by_sms_and_never_in_the_http_answer(client, desk):
    response = post(client)
    message = Message.objects.get(kind="complaint.registered")
    assert message.to == "13912345678"
    secret = message.text.split("查询码 ")[1][:8]
    assert secret not in response.content.decode()
    assert actions.check_secret(Complaint.objects.get(), secret)


def test_json_is_accepted_too(client, desk):
    assert post(client, as_json=True).status_code == 201


def test_the_same_message_id_twice_makes_one_complaint(client, desk):
    first = post(client).json()
    second = post(client, as_json=True)
    assert second.status_code == 200
    assert second.json()["number"] == first["number"] and second.json()["duplicate"] is True
    assert Complaint.objects.count() == 1
    assert Message.objects.filter(kind="complaint.registered").count() == 1


def test_a_second_delivery_racing_the_first_past_the_check_still_makes_one_complaint(client, desk, monkeypatch):
    from xiaoneng.complaints import sms

    first = post(client).json()
    # The second delivery looked before the first committed (another web process): it saw nothing.
    real, calls = sms._registered, []
    monkeypatch.setattr(sms, "_registered", lambda ref: calls.append(ref) or (real(ref) if len(calls) > 1 else None))
    second = post(client)
    assert second.status_code == 200 and second.json() == {"number": first["number"], "duplicate": True}
    assert Complaint.objects.count() == 1 and len(calls) == 2


def test_an_unset_token_setting_turns_the_endpoint_off(client, desk, settings):
    settings.XIAONENG_SMS_GATEWAY_TOKEN = ""
    assert post(client, token="").status_code == 404
    assert post(client).status_code == 404
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN + "x", TOKEN[:-1]])
def test_a_missing_or_wrong_token_is_refused(client, desk, token):
    response = post(client, token=token)
    assert response.status_code == 403
    assert response.json()["field"] == "X-Gateway-Token"
    assert not Complaint.objects.exists()


def test_only_post_is_allowed(client, desk):
    assert client.get(URL, HTTP_X_GATEWAY_TOKEN=TOKEN).status_code == 405


@pytest.mark.parametrize("overrides, field", [
    ({"received_at": "2026-10-09T08:30:00"}, "received_at"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"received_at": "2026-13-45T08:30:00+08:00"}, "received_at"),
    ({"received_at": ""}, "received_at"),
    ({"from": ""}, "from"),
    ({"from": "12345"}, "from"),
    ({"from": "020-12345678"}, "from"),
    ({"text": "   "}, "text"),
    ({"message_id": ""}, "message_id"),
    ({"message_id": "id with spaces"}, "message_id"),
    ({"message_id": "x" * 91}, "message_id"),
])
def test_bad_fields_are_refused_naming_the_field(client, desk, overrides, field):
    response = post(client, {**GOOD, **overrides})
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["error"]
    assert not Complaint.objects.exists()


def test_a_naive_time_is_refused_with_a_message_about_the_zone(client, desk):
    response = post(client, {**GOOD, "received_at": "2026-10-09T08:30:00"})
    assert "时区" in response.json()["error"]


def test_text_longer_than_the_content_rule_is_refused_on_text(client, desk, settings):
    settings.XIAONENG_RULES = {"complaint_max_content_chars": 20}
    response = post(client, {**GOOD, "text": "拖" * 21})
    assert response.status_code == 400 and response.json()["field"] == "text"


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"just a string"', b"\xff\xfe{}", '{"from": 13912345678}'])
def test_a_broken_json_body_is_refused(client, desk, raw):
    response = post(client, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Complaint.objects.exists()


def test_a_huge_body_is_refused(client, desk):
    response = post(client, {**GOOD, "text": "拖" * 20000})
    assert response.status_code == 413
    assert not Complaint.objects.exists()


def test_without_the_default_category_the_gateway_is_told_to_retry_later(client, desk):
    desk.other.is_active = False
    desk.other.save()
    response = post(client)
    assert response.status_code == 503
    assert not Complaint.objects.exists()


def test_the_callback_needs_no_csrf_token(client, desk):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, GOOD, HTTP_X_GATEWAY_TOKEN=TOKEN).status_code == 201
