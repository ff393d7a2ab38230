"""What fuzzing found (issue 11 and 12): each request below was a 500, or an answer in the wrong format.

Each is now a 4xx in the endpoint's own format: the API's `{"detail", "errors"}` under /api/,
GeoReport's error list (JSON or XML, as the URL asks) under /open311/, the site's page elsewhere.
"""
from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.complaints.test_open311 import assert_error, form, post
from tests.test_exchange import submitted
from xiaoneng.approvals.exchange import keys, pipeline
from xiaoneng.approvals.models import ExchangeBatch, ExchangeEvent
from xiaoneng.complaints.models import Complaint
from xiaoneng.complaints.open311 import keys as open311_keys

EXCHANGE = "/api/v1/exchange/events"


@pytest.fixture
def client(db):
    """A client that answers a server error as the server would (a 500), not by raising in the test."""
    return Client(raise_request_exception=False)


@pytest.fixture
def services(desk):
    """The desk's services; 办事拖拉 asks which window (required) and when (a datetime)."""
    desk.delay.attributes = [
        {"variable": True, "code": "window", "datatype": "string", "required": True, "order": 1, "description": "窗口"},
        {"variable": True, "code": "when", "datatype": "datetime", "required": False, "order": 2, "description": "何时"},
    ]
    desk.delay.save()
    return desk


@pytest.fixture
def key(db):
    _api_key, secret = open311_keys.do_create_key("广州市民 App")
    return secret


@pytest.fixture
def source(world, matters):
    src, secret = keys.do_create_source(code="th-fuzz", organ_codes=[world.tianhe_bureau.credit_code], name="天河审批系统")
    src.key = secret
    return src


def push(client, source, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    return client.post(EXCHANGE, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {source.key}",
                       **extra)


def by_id(response) -> dict:
    assert response.status_code == 200, response.content
    return {r["event_id"]: r for r in response.json()["results"]}


@pytest.fixture
def wsgi(wsgi_application):
    """Requests straight through the project's WSGI application, as a WSGI server hands them over: some
    headers break Django while the request is built, before the test client's handler could catch it."""
    return lambda method, path, body=b"", **environ: _call(wsgi_application, method, path, body, **environ)


def _call(application, method: str, path: str, body: bytes = b"", **environ) -> tuple[int, dict, bytes]:
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
           "SERVER_PORT": "80", "HTTP_HOST": "testserver", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
           "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": False,
           "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)), **environ}
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    content = b"".join(application(env, start_response))
    return answer["status"], answer["headers"], content


# --- Open311 POST ------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://[::1", "http://a]b/", "http://[abc]/x.png", "http://a.example:port/x.png"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_media_url_with_a_broken_host_is_a_400_naming_it(client, services, key, url, fmt):
    assert_error(post(client, fmt, form(key, media_url=url)), fmt, 400, "media_url:")
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("field, value", [("lat", "1e1000000"), ("long", "-1E+999999999"), ("lat", "1e-1000000000")])
def test_a_coordinate_with_a_huge_exponent_is_a_400_naming_it(client, services, key, field, value):
    # 1e-1000000000 is within ±90, but no coordinate: the complaint keeps six decimal places
    response = post(client, "json", form(key, **{field: value}))
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert_error(response, "json", 400, f"{field}:")
    else:
        assert Complaint.objects.get().lat is not None


def test_a_number_attribute_with_a_huge_exponent_is_a_400_naming_it(client, services, key):
    services.attitude.attributes = [{"variable": True, "code": "count", "datatype": "number", "required": False,
                                     "order": 1, "description": "人数"}]
    services.attitude.save()
    assert_error(post(client, "json", form(key, **{"attribute[count]": "1e1000000"})), "json", 400, "attribute[count]:")
    assert not Complaint.objects.exists()


# --- UTC offsets PostgreSQL refuses --------------------------------------------------------------
@pytest.mark.parametrize("name", ["start_date", "end_date"])
@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59"])
def test_a_date_filter_with_an_offset_postgresql_refuses_is_a_400_naming_it(client, db, name, offset):
    query = urlencode({name: f"2026-11-02T09:00:00{offset}"})
    assert_error(client.get(f"/open311/v2/requests.json?{query}"), "json", 400, f"{name}:")
    assert client.get("/open311/v2/requests.json?" + urlencode({name: "2026-11-02T09:00:00+14:00"})).status_code == 200


def test_a_datetime_attribute_with_an_offset_postgresql_refuses_is_a_400_naming_it(client, services, key):
    answers = {"service_code": "delay", "attribute[window]": "3号窗口", "attribute[when]": "2026-11-02T09:00:00+16:00"}
    assert_error(post(client, "xml", form(key, **answers)), "xml", 400, "attribute[when]:")


@pytest.mark.parametrize("offset", ["+16:00", "-16:00", "+23:59:59"])
def test_an_event_with_an_offset_postgresql_refuses_is_rejected_naming_occurred_at(client, source, offset):
    event = {**submitted("OFF1"), "occurred_at": f"2026-09-28T10:00:00{offset}"}
    result = by_id(push(client, source, [event, submitted("OK1", case_no="TH-2026-0002")]))
    assert result["OFF1"]["result"] == "rejected" and result["OFF1"]["field"] == "occurred_at"
    assert result["OK1"]["result"] == "accepted"


# --- the exchange: a batch nested deep, with a surrogate escape --------------------------------
def _deep_batch(depth: int = 320) -> str:
    deep = "[" * depth + "]" * depth
    # The \ud800 escape makes the inbox look for lone surrogates in every event, the deep one too.
    return ('[{"event_id": "DEEP1", "type": "accepted", "x": ' + deep + '}, {"event_id": "SUR1", "case_no": "\\ud800"}, '
            + json.dumps(submitted("GOOD1")) + "]")


def test_a_batch_with_a_list_nested_hundreds_deep_and_a_surrogate_is_answered_event_by_event(client, source):
    result = by_id(push(client, source, _deep_batch()))
    assert result["DEEP1"]["result"] == "rejected" and result["DEEP1"]["field"] == "x"
    assert result["SUR1"]["result"] == "rejected" and result["SUR1"]["field"] == "case_no"
    assert result["GOOD1"]["result"] == "accepted"
    assert not ExchangeBatch.objects.filter(processed_at__isnull=True).exists()


def test_process_held_processes_a_stored_batch_nested_hundreds_deep(source):
    text = _deep_batch()
    batch = pipeline.store_raw(source, text.encode(), text, received_at=timezone.now() - timedelta(hours=1))
    call_command("exchange", "process-held", stdout=io.StringIO())
    batch.refresh_from_db()
    assert batch.processed_at is not None and batch.error == ""
    assert ExchangeEvent.objects.get(event_id="GOOD1").state == "applied"


def test_a_batch_that_keeps_failing_ends_rejected_with_its_reason_instead_of_waiting_forever(
        client, source, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the rules broke")

    monkeypatch.setattr(pipeline, "apply_events", broken)
    monkeypatch.setitem(pipeline.DEFAULTS, "exchange_batch_max_attempts", 3)
    response = push(client, source, [submitted("E1")])
    assert response.status_code == 500 and response.json()["errors"][0]["code"] == "processing_failed"
    batch = ExchangeBatch.objects.get()
    ExchangeBatch.objects.filter(pk=batch.pk).update(received_at=timezone.now() - timedelta(hours=1))
    outcomes = [pipeline.process_held()["batches"] for _attempt in range(3)]
    batch.refresh_from_db()
    assert outcomes == [0, 0, 0]
    assert batch.processed_at is not None and batch.results["refused"] == "unprocessable"
    assert batch.results["attempts"] == 3 and "RuntimeError" in batch.results["last_error"]
    assert "RuntimeError" in batch.error and "3" in batch.error
    assert not pipeline.unprocessed(timedelta(0)).exists()  # nobody tries it again


def test_a_batch_that_overflows_the_stack_is_rejected_at_once_with_its_reason(client, source, monkeypatch):
    def too_deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pipeline, "apply_events", too_deep)
    response = push(client, source, [submitted("E1")])
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "unprocessable"
    assert ExchangeBatch.objects.get().processed_at is not None


# --- headers Django could not read ----------------------------------------------------------------
def test_a_content_length_that_is_not_a_number_is_a_400_on_the_exchange(client, source):
    response = push(client, source, [submitted("E1")], CONTENT_LENGTH="abc")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "Content-Length"
    assert not ExchangeBatch.objects.exists()


@pytest.mark.parametrize("path", ["/login/", "/public/complaints/sms/", "/open311/v2/requests.xml"])
def test_a_content_length_that_is_not_a_number_is_a_400_on_form_posts(client, db, path):
    response = client.post(path, "a=b", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH="1x")
    assert response.status_code == 400
    if path.endswith(".xml"):
        assert ET.fromstring(response.content).find("error/code").text == "400"
    elif path.startswith("/public/"):
        assert response.json()["errors"][0]["field"] == "Content-Length"


@pytest.mark.parametrize("path, kind", [("/api/v1/regions/", "json"), ("/login/", "html"),
                                        ("/open311/v2/services.xml", "xml"), ("/open311/v2/services.json", "json")])
def test_a_nul_in_the_content_type_charset_is_a_400_in_the_endpoints_format(wsgi, path, kind):
    status, headers, content = wsgi("GET", path, CONTENT_TYPE="text/plain; charset=ut\x00f-8")
    assert status == 400
    if kind == "json":
        assert headers["Content-Type"].startswith("application/json") and "Content-Type" in content.decode()
    elif kind == "xml":
        assert ET.fromstring(content).find("error/code").text == "400"
    else:
        assert headers["Content-Type"].startswith("text/html")


def test_a_nul_in_the_content_type_of_a_form_post_is_a_400(wsgi):
    status, _headers, _content = wsgi("POST", "/login/", b"username=a&password=b",
                                      CONTENT_TYPE="application/x-www-form-urlencoded; charset=\x00")
    assert status == 400


# --- every API and Open311 path answers in its own format (issue 12) -----------------------------
@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v1/regions/abc/", "/api/v2/", "/api/"])
def test_an_unmatched_api_path_is_a_json_404(client, world, login, path):
    response = login(world.province_supervisor).get(path)
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("path, fmt", [("/open311/", "json"), ("/open311/v3/services.xml", "xml"),
                                       ("/open311/v2/nothing.xml", "xml"), ("/open311/v2/nothing", "json")])
def test_an_unmatched_open311_path_is_a_404_in_open311s_error_format(client, db, path, fmt):
    assert_error(client.get(path), fmt, 404)


def test_a_list_page_past_the_end_is_a_json_404_and_documented(client, world, login):
    response = login(world.province_supervisor).get("/api/v1/regions/?page=99")
    assert response.status_code == 404 and response.json()["errors"]
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "404" in schema["paths"]["/api/v1/regions/"]["get"]["responses"]


@pytest.fixture
def ten_seconds_into_a_minute(monkeypatch):
    """The throttle's clock stopped 10 s into a minute: its window is not over before the test is."""
    from xiaoneng.complaints.open311 import throttle

    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: 1_800_000_000 - 50.0))


def test_open311s_429_says_when_to_retry(client, db, settings, ten_seconds_into_a_minute):
    settings.XIAONENG_RULES = {"open311_per_address_minute": 1}
    assert client.get("/open311/v2/services.json").status_code == 200
    response = client.get("/open311/v2/services.xml")
    assert_error(response, "xml", 429)
    assert response["Retry-After"] == "50"


def test_a_filing_key_over_its_limit_gets_a_429_with_retry_after(client, services, key, settings,
                                                                  ten_seconds_into_a_minute):
    settings.XIAONENG_RULES = {"open311_posts_per_key_minute": 1}
    assert post(client, "json", form(key)).status_code == 200
    response = post(client, "json", form(key, description="又一件事"))
    assert_error(response, "json", 429)
    assert response["Retry-After"] == "50"


def _parameter(schema, path, name):
    return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]


def test_the_schema_states_the_limits_the_server_enforces(client, world, login):
    schema = client.get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/organs/", "/api/v1/clocks/", "/api/v1/calendar/days/"):
        assert _parameter(schema, path, "page")["minimum"] == 1
        assert _parameter(schema, path, "page_size")["minimum"] == 1
    assert _parameter(schema, "/api/v1/deadline/", "days")["minimum"] == 0
    pattern = _parameter(schema, "/api/v1/organs/", "region")["pattern"]
    assert pattern == _parameter(schema, "/api/v1/regions/", "under")["pattern"]
    # … and the server refuses what the schema refuses, naming the parameter
    supervisor = login(world.province_supervisor)
    for query, name in [("page=0", "page"), ("page_size=0", "page_size"), ("page=", "page"), ("region=4", "region"),
                        ("region=%EF%BC%94%EF%BC%94", "region"), ("region=%204401", "region"), ("kind=", "kind")]:
        response = supervisor.get(f"/api/v1/organs/?{query}")
        assert response.status_code == 400 and response.json()["errors"][0]["field"] == name, query
    response = supervisor.get("/api/v1/deadline/?start=2026-09-28&days=-1")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "days"


# --- found by the parser fuzzers (tests/test_fuzz_parsers.py) -------------------------------------
def test_a_catalogue_fee_too_large_for_cents_is_a_row_error_not_a_crash(world):
    import io as _io

    from openpyxl import Workbook

    from xiaoneng.approvals import imports

    wb = Workbook()
    wb.active.title = imports.SHEET_MATTERS
    wb.active.append(list(imports.MATTER_HEADERS))
    row = dict.fromkeys(imports.MATTER_HEADERS, "")
    row.update({imports.M_CODE: "X-1", imports.M_NAME: "事项", imports.M_FEE: "是", imports.M_FEE_STANDARD: 1e300})
    wb.active.append([row[h] for h in imports.MATTER_HEADERS])
    wb.create_sheet(imports.SHEET_STEPS).append(list(imports.STEP_HEADERS))
    out = _io.BytesIO()
    wb.save(out)
    report = imports.import_matters(out.getvalue(), dry_run=True)
    assert any(e.column == imports.M_FEE_STANDARD and "过大" in e.message for e in report.errors)


def test_a_csv_items_cell_nested_too_deep_is_left_to_the_schema_to_refuse():
    from xiaoneng.approvals.exchange import files

    items = files.parse_csv('event_id,items\nE1,"' + "[" * 100_000 + '"\n')
    assert items[0][1]["items"].startswith("[[[")  # text, which the event's validation refuses as not a list


def test_an_sms_received_at_with_an_offset_postgresql_refuses_is_a_400_naming_it(client, desk, settings):
    settings.XIAONENG_SMS_GATEWAY_TOKEN = "gw-token"
    response = client.post("/public/complaints/sms/", {"from": "13812345678", "text": "窗口拖延", "message_id": "gw-9",
                                                       "received_at": "2026-10-09T08:30:00+16:00"},
                           HTTP_X_GATEWAY_TOKEN="gw-token")
    assert response.status_code == 400 and response.json()["field"] == "received_at"


def test_a_workbook_cell_xml_cannot_carry_is_a_clear_import_error_not_a_crash():
    """Found by the organisation-import fuzzer: openpyxl writes U+FFFE into a sheet, then cannot parse it back."""
    from openpyxl import Workbook

    from xiaoneng.lib.xlsx import WorkbookError, read_rows

    book = Workbook()
    book.active.append(["code", "name"])
    book.active.append(["440000", "\ufffe"])
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(WorkbookError, match="工作表内容已损坏或含有无效字符"):
        read_rows(data.getvalue(), ["code", "name"])
