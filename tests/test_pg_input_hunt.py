"""A hunt for server errors that bad input causes on PostgreSQL (and, where noted, on SQLite too).

PostgreSQL refuses what SQLite stores or compares without a word: a NUL character in any
text it is sent (psycopg: "PostgreSQL text fields cannot contain NUL (0x00) bytes"), a
string longer than a varchar column, a number wider than a numeric column. Lone UTF-16
surrogates (JSON "\\ud800") cannot be encoded for either database. The standard is the
suite's: bad input is a 4xx or a form error naming the field, and nothing is written.

Each test states the correct behaviour for a defect the hunt found (most failed on PostgreSQL
only) or for a road no other test covers; all must pass on both databases.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.test_input_hunt import push, submitted
from xiaoneng.approvals import actions as case_actions
from xiaoneng.approvals.exchange import keys
from xiaoneng.approvals.models import Case, CaseEvent, ExchangeBatch, StatusChange
from xiaoneng.complaints.models import Complaint, Rating

NUL = "\x00"
LONE_SURROGATE = "\ud800"
HUGE = "99999999999999999999"
SMS = "/public/complaints/sms/"
SMS_TOKEN = "gateway-secret-token-2026"
TOP_FEE = "9999999999.99"  # the largest amount numeric(12, 2) holds; twice that does not fit


@pytest.fixture
def source(world, matters):
    src, key = keys.do_create_source(code="th-approvals", organ_codes=[world.tianhe_bureau.credit_code])
    src.key = key
    return src


def sms(client, as_json=False, **overrides):
    data = {"from": "+86 139 1234 5678", "text": "天河区政务大厅窗口推诿，材料齐全仍不受理。",
            "received_at": "2026-10-09T08:30:00+08:00", "message_id": "gw-0001", **overrides}
    if as_json:
        return client.post(SMS, json.dumps(data), content_type="application/json", HTTP_X_GATEWAY_TOKEN=SMS_TOKEN)
    return client.post(SMS, data, HTTP_X_GATEWAY_TOKEN=SMS_TOKEN)


# --- a NUL in the address bar: a 400 naming where it is (web.middleware.NulGuardMiddleware) ----------
def refused_for_nul(response, name: str) -> bool:
    return response.status_code == 400 and f"“{name}”含有 NUL 字符" in response.content.decode()


@pytest.mark.parametrize("url, name", [("/dashboard/region/%00/", "path"), ("/dashboard/organs/?region=%00", "region"),
                                       ("/dashboard/board/?region=%00", "region")])
def test_a_dashboard_region_code_holding_a_nul_is_a_bad_request_naming_it(world, login, url, name):
    assert refused_for_nul(login(world.province_supervisor).get(url), name)


@pytest.mark.parametrize("url, name", [("/orgs/regions/%00/", "path"), ("/orgs/staff/?region=%00", "region"),
                                       ("/orgs/?region=%00", "region")])
def test_a_region_code_holding_a_nul_in_the_organisation_browser_is_a_bad_request_naming_it(world, login, url, name):
    assert refused_for_nul(login(world.province_supervisor).get(url), name)


# --- the public complaint form ----------------------------------------------------------------------
@pytest.mark.parametrize("query", ["province=440000000000&city=4401%00"])
def test_the_region_selects_of_the_complaint_form_refuse_a_code_holding_a_nul(client, desk, query):
    assert refused_for_nul(client.get(f"/public/complaints/new/regions/?{query}"), "city")


@pytest.mark.parametrize("field, value", [("province", NUL)])
def test_a_complaint_posted_with_a_nul_in_a_region_code_is_a_form_error_and_nothing_is_filed(
        client, desk, field, value):
    response = client.post("/public/complaints/new/", {"province": "440000000000", field: value, "title": "x"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Complaint.objects.exists()


# --- public window rating (QR code) ---------------------------------------------------------------
def test_a_window_name_holding_a_nul_is_not_found_and_no_rating_is_stored(client, world):
    data = {"level": "5", "score_efficiency": "5", "score_competence": "5", "score_attitude": "5", "comment": "好"}
    assert refused_for_nul(client.post(f"/ratings/public/window/{world.tianhe_bureau.pk}/A%00B/", data), "path")
    assert client.post(f"/ratings/public/window/{world.tianhe_bureau.pk}/A%E2%80%A8B/", data).status_code == 404
    assert not Rating.objects.exists()


# --- SMS gateway callback ---------------------------------------------------------------------------
@pytest.mark.parametrize("as_json", [False, True])
def test_an_sms_whose_text_holds_a_nul_is_refused_on_text(client, desk, settings, as_json):
    settings.XIAONENG_SMS_GATEWAY_TOKEN = SMS_TOKEN
    response = sms(client, as_json=as_json, text="窗口\x00推诿")
    assert response.status_code == 400 and response.json()["field"] == "text"
    assert not Complaint.objects.exists()


def test_an_sms_whose_json_text_holds_a_lone_surrogate_is_refused_on_text(client, desk, settings):
    settings.XIAONENG_SMS_GATEWAY_TOKEN = SMS_TOKEN
    response = sms(client, as_json=True, text="窗口" + LONE_SURROGATE)
    assert response.status_code == 400 and response.json()["field"] == "text"
    assert not Complaint.objects.exists()


# --- exchange inbox ---------------------------------------------------------------------------------
@pytest.mark.parametrize("field, extra", [
    ("applicant_name", {"applicant_name": "张" + LONE_SURROGATE}),
    ("case_no", {"case_no": "TH" + LONE_SURROGATE}),
    ("x\ud800", {"x\ud800": 1}),
])
def test_an_event_holding_a_lone_surrogate_is_rejected_on_that_field_and_nothing_is_applied(
        client, source, world, field, extra):
    response = push(client, source, [{**submitted(world), **extra}])
    assert response.status_code == 200, response.content[:300]
    result = response.json()["results"][0]
    assert result["result"] == "rejected" and result["field"]
    assert not Case.objects.exists() and not ExchangeBatch.objects.filter(error__gt="").exists()


def test_an_event_id_holding_a_lone_surrogate_is_rejected_on_event_id(client, source, world):
    response = push(client, source, [submitted(world, "E" + LONE_SURROGATE)])
    assert response.status_code == 200
    assert (response.json()["results"][0]["result"], response.json()["results"][0]["field"]) == ("rejected", "event_id")
    assert not Case.objects.exists()


def test_a_fee_event_taking_the_case_total_past_the_column_is_rejected_on_amount(client, source, world):
    code, paid = world.tianhe_bureau.credit_code, "440106-SP-002"
    assert push(client, source, [submitted(world, "F0", "TH-F-1", matter_code=paid)]).json()["accepted"] == 1
    results = []
    for n in (1, 2):
        fee = {"event_id": f"F{n}", "type": "fee_charged", "occurred_at": f"2026-09-29T10:0{n}:00+08:00",
               "case_no": "TH-F-1", "organ_code": code, "matter_code": paid, "amount": TOP_FEE}
        response = push(client, source, [fee])
        assert response.status_code == 200, response.content[:300]
        results.append(response.json()["results"][0])
    assert results[0]["result"] == "accepted"
    assert (results[1]["result"], results[1]["field"]) == ("rejected", "amount")
    assert str(Case.objects.get(case_no="TH-F-1").fee_charged) == TOP_FEE


# --- case page: fee ---------------------------------------------------------------------------------
def test_a_fee_taking_the_case_total_past_the_column_is_a_form_error_on_amount(world, matters, login):
    case, _code = case_actions.do_submit_case(matter=matters.paid, case_no="TH-FEE", applicant_name="张三",
                                              applicant_phone="13800001234",
                                              received_at=timezone.now() - timedelta(hours=2))
    # A standard as large as the column: the page refuses fees above the standard (Art. 59) before their size.
    case.matter_version.__class__.objects.filter(pk=case.matter_version_id).update(fee_standard=TOP_FEE)
    client = login(world.county_handler)

    def charge():
        rev = StatusChange.objects.filter(case=case).count() + CaseEvent.objects.filter(case=case).count()
        return client.post(reverse("approvals:act", args=[case.pk, "fee"]), {"rev": str(rev), "amount": TOP_FEE})

    assert charge().status_code == 302
    second = charge()
    assert second.status_code == 200 and "amount" in second.context["form"].errors
    assert str(Case.objects.get(pk=case.pk).fee_charged) == TOP_FEE


# --- login ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_a_username_too_long_for_any_account_is_a_failed_login_not_a_server_error(client, world, url):
    response = client.post(url, {"username": "a" * 300, "password": "wrong"})
    assert response.status_code in (200, 429)


def test_a_login_whose_user_agent_holds_a_nul_is_a_failed_login_not_a_server_error(client, world):
    response = client.post("/login/", {"username": "admin", "password": "wrong"}, HTTP_USER_AGENT="Mozilla\x00/5.0")
    assert response.status_code in (200, 429)


def test_a_username_holding_a_nul_is_a_form_error_on_username(client, world):
    response = client.post("/login/", {"username": "ad\x00min", "password": "wrong"})
    assert response.status_code == 200 and "username" in response.context["form"].errors


# --- admin ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/admin/complaints/complaint/?status__exact=%00", "/admin/clocks/clock/?kind=%00"])
def test_an_admin_list_filter_holding_a_nul_is_an_invalid_filter_not_a_server_error(
        client, world, django_user_model, url):
    client.force_login(django_user_model.objects.create_superuser("root", password="Root-Password-2026!"))
    assert client.get(url).status_code in (200, 302, 400)


def test_an_admin_search_or_list_filter_holding_a_nul_is_a_bad_request_not_a_server_error(
        client, world, login, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="Root-Password-2026!")
    for user in (root, world.admin):
        page = login(user)
        for url in ("/admin/complaints/complaint/?q=%00", "/admin/orgs/organ/?q=%00", "/admin/orgs/user/?q=%00",
                    "/admin/complaints/complaint/?status__exact=%00", "/admin/clocks/clock/?kind=%00"):
            assert page.get(url).status_code == 400, (user, url)


# --- what PostgreSQL also answered correctly ---------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/v1/organs/?q=%00", "/api/v1/clocks/?kind=%00"])
def test_an_api_text_filter_holding_a_nul_is_a_400(world, login, url):
    assert login(world.province_supervisor).get(url).status_code == 400


@pytest.mark.parametrize("url", [f"/cases/{HUGE}/", f"/supervision/orders/{HUGE}/", f"/dashboard/organ/{HUGE}/",
                                 f"/ratings/public/window/{HUGE}/A/"])
def test_an_id_in_the_path_too_large_for_bigint_is_a_404(world, login, url):
    assert login(world.province_supervisor).get(url).status_code == 404
