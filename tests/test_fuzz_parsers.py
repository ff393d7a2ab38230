"""Hypothesis against every hand-written parser of outside input: whatever arrives, the answer is the
parser's own refusal (a 4xx, an `Invalid`, a report error), never an exception.

Targets: Open311 intake (POST bodies and GET filters), the exchange (raw body decoding, the batch's
JSON, event validation, the whole pipeline, and its JSON Lines / CSV files), the catalogue and
organisation workbooks (approvals/imports.py, orgs/imports.py), the SMS gateway callback and the
calendar notice. Inputs mix random text with the values that broke parsers before (huge exponents,
bracketed hosts, offsets beyond ±15:59, lone surrogates, NUL, deep nesting). Each test is bounded
(`EXAMPLES`) and derandomized, so it costs the same few seconds in every run and a failure repeats;
all are marked `fuzz`.
"""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from tests.complaints.test_open311 import PERSON
from tests.test_exchange import submitted
from xiaoneng.approvals import imports as matter_imports
from xiaoneng.approvals.exchange import files, keys, pipeline, schema
from xiaoneng.calendar import sources
from xiaoneng.calendar.actions import do_import_notice
from xiaoneng.complaints.open311 import keys as open311_keys
from xiaoneng.lib.codes import make_credit_code
from xiaoneng.orgs import imports as org_imports

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

EXAMPLES = 60
fuzz = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# Values that broke a parser once, or sit on an edge of one.
NASTY = [
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "1e1000000", "-1E+999999999", "1e-1000000000", "NaN", "Infinity",
    "-0", "0x1F", "1_000", "٣", "４４", "²", "9" * 5000, "http://[::1", "http://a]b/", "http://[abc]/x.png",
    "http://a:port/", "https://例子.测试/图.png", "2026-11-02T09:00:00+16:00", "2026-11-02T09:00:00-23:59",
    "2026-11-02T09:00:00+14:00", "2026-11-02T09:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
    "2026-02-30", "2026-09-28", "[" * 400, "{" * 50, "%00", "%ff", "\u202e", "\r\n", "长" * 300, "null", "true",
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=40))
# Offsets a datetime can carry, PostgreSQL's ±15:59 and beyond.
offset = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}")
moment = st.builds(lambda d, o: d.strftime("%Y-%m-%dT%H:%M:%S") + o,
                   st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), offset)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12)


def _client():
    from django.test import Client

    return Client()  # raises any exception the view lets out: exactly what these tests look for


def _encoded(values: dict) -> str:
    """Form / query encoding of any text, lone surrogates too (as the bytes a client could send for them)."""
    return "&".join(f"{quote_plus(k.encode('utf-8', 'surrogatepass'))}={quote_plus(v.encode('utf-8', 'surrogatepass'))}"
                    for k, v in values.items())


# --- Open311 ----------------------------------------------------------------------------------------
OPEN311_FIELDS = ["api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                  "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url",
                  "attribute[window]", "attribute[kind]", "attribute[when]", "attribute[tags][]", "attribute[count]",
                  "attribute[region]", "attribute[]", "attribute[x"]


@pytest.fixture
def open311(desk, settings):
    settings.XIAONENG_RULES = {"open311_per_address_minute": 100_000, "open311_posts_per_key_minute": 100_000}
    desk.delay.attributes = [
        {"variable": True, "code": "window", "datatype": "string", "required": True, "order": 1, "description": "窗口"},
        {"variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description": "类型", "values": [{"key": "wait", "name": "排队过久"}]},
        {"variable": True, "code": "when", "datatype": "datetime", "required": False, "order": 3, "description": "何时"},
        {"variable": True, "code": "tags", "datatype": "multivaluelist", "required": False, "order": 4,
         "description": "标签", "values": [{"key": "a", "name": "甲"}]},
        {"variable": True, "code": "count", "datatype": "number", "required": False, "order": 5, "description": "人数"},
    ]
    desk.delay.save()
    _api_key, secret = open311_keys.do_create_key("模糊测试")
    return secret


def _open311_answer(response, fmt: str, statuses=(200, 400, 403, 404, 413)):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    if fmt == "json":
        json.loads(response.content)
    else:
        ET.fromstring(response.content)


@fuzz
@given(fields=st.dictionaries(st.sampled_from(OPEN311_FIELDS) | text, text, max_size=8),
       fmt=st.sampled_from(["json", "xml"]), code=st.sampled_from(["delay", "attitude", "other", ""]))
def test_open311_intake_answers_any_form_in_its_format(open311, fields, fmt, code):
    values = {"api_key": open311, "service_code": code, "lat": "23.1", "long": "113.2", "description": "窗口拖延",
              "attribute[window]": "3", **PERSON, **fields}
    response = _client().post(f"/open311/v2/requests.{fmt}", _encoded(values),
                              content_type="application/x-www-form-urlencoded")
    _open311_answer(response, fmt)


@fuzz
@given(body=st.binary(max_size=300), content_type=st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=gbk", "application/json",
    "application/x-www-form-urlencoded; charset=\"utf-8\"", "text/plain", "multipart/form-data; boundary=x"]))
def test_open311_intake_answers_any_raw_body(open311, body, content_type):
    _open311_answer(_client().generic("POST", "/open311/v2/requests.json", body, content_type=content_type), "json")


@fuzz
@given(params=st.dictionaries(st.sampled_from(["start_date", "end_date", "status", "service_code",
                                               "service_request_id", "jurisdiction_id"]) | text,
                              moment | text, max_size=4), fmt=st.sampled_from(["json", "xml"]))
def test_open311_request_filters_are_answered_in_the_format_asked(open311, params, fmt):
    _open311_answer(_client().get(f"/open311/v2/requests.{fmt}?{_encoded(params)}"), fmt)


# --- the exchange -------------------------------------------------------------------------------------
EVENT_FIELDS = ["event_id", "type", "occurred_at", "case_no", "matter_code", "organ_code", "applicant_name",
                "items", "reasons", "announced_days", "days", "approver", "outcome", "amount", "step", "handler"]


ORGAN_CODE = make_credit_code("1", "1", "440106", "00000001")  # valid, and no organ's: the rules refuse it


def _mutated_event(changes: dict, organ_code: str = ORGAN_CODE) -> dict:
    event = dict(submitted("F1", organ=organ_code))
    for name, value in changes.items():
        if value is None and name in event:
            del event[name]
        else:
            event[name] = value
    return event


changes = st.dictionaries(st.sampled_from(EVENT_FIELDS) | text,
                          json_value | moment | st.sampled_from(schema.EVENT_TYPES), max_size=4)
events = st.builds(_mutated_event, changes)


@fuzz
@given(raw=json_value | events)
def test_event_validation_returns_an_event_or_names_the_field(raw):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    try:
        ev = schema.validate(raw, now)
    except schema.Invalid as exc:
        assert isinstance(exc.field, str) and exc.reason
    else:
        assert abs(ev.occurred_at.utcoffset()) <= timedelta(hours=15, minutes=59)


@fuzz
@given(body=st.binary(max_size=200) | text.map(lambda t: t.encode("utf-8", "surrogatepass")),
       content_type=st.sampled_from(["application/json", "application/json; charset=gbk", "application/json; charset=x",
                                     "application/json; charset=\"utf8\"", ""]))
def test_the_exchange_decodes_and_parses_any_body_or_says_why_not(body, content_type):
    text_, _charset, problem = pipeline.decode(body, content_type)
    assert (text_ is None) == bool(problem)
    if text_ is not None:
        try:
            assert isinstance(pipeline.parse_array(text_), list)
        except ValueError as exc:
            assert str(exc)


@pytest.fixture
def exchange_source(world, matters):
    source, _key = keys.do_create_source(code="fuzz", organ_codes=[world.tianhe_bureau.credit_code], name="模糊测试")
    return source


@settings(fuzz, max_examples=30)
@given(batch=st.lists(changes | json_value, max_size=4), deep=st.integers(min_value=0, max_value=700))
def test_the_exchange_pipeline_answers_any_batch_event_by_event(exchange_source, world, batch, deep):
    organ = world.tianhe_bureau.credit_code  # the source's own organ: events get as far as the rules
    batch = [_mutated_event(item, organ) if isinstance(item, dict) else item for item in batch]
    body = json.dumps(batch, ensure_ascii=True)
    if deep and batch:  # a list nested `deep` levels inside the first item
        body = "[" + json.dumps({"event_id": f"D{deep}", "x": None})[:-5] + "[" * deep + "]" * deep + "}" + \
            ("," + body[1:] if len(body) > 2 else "]")
    receipt = pipeline.receive(exchange_source, body.encode("utf-8", "surrogatepass"))
    assert receipt.status in (200, 400, 413), receipt.body
    receipt.batch.refresh_from_db()
    assert receipt.batch.processed_at is not None


@fuzz
@given(content=st.lists(json_value.map(lambda v: json.dumps(v)) | text, max_size=6),
       fmt=st.sampled_from(["jsonl", "csv"]))
def test_exchange_files_parse_or_refuse_line_by_line(content, fmt):
    header = "event_id,type,occurred_at,items,days,amount"
    data = "\n".join(content if fmt == "jsonl" else [header, *content])
    try:
        for _raw, items, _extra in files.batches(data, fmt, 100):
            assert all(isinstance(n, int) for n, _item in items)
    except files.FileError as exc:
        assert str(exc)


@fuzz
@given(data=st.binary(max_size=300), encoding=st.sampled_from(["utf-8", "gb18030", "latin-9", "nonsense"]))
def test_exchange_file_decoding_refuses_with_a_reason(data, encoding):
    try:
        assert isinstance(files.decode(data, encoding), str)
    except files.FileError as exc:
        assert str(exc)


# --- workbooks -------------------------------------------------------------------------------------
cell = st.one_of(st.none(), text, st.integers(min_value=-(10**15), max_value=10**15),
                 st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                 st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)))


def _workbook(sheets: dict[str, tuple[tuple[str, ...], list[list]]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, (headers, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(list(headers))
        for row in rows:
            ws.append([_cell_value(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell_value(value):
    if isinstance(value, str):  # what a spreadsheet cell can hold at all (openpyxl refuses control characters)
        return "".join(c for c in value if c >= " " and not 0xD800 <= ord(c) <= 0xDFFF)[:200]
    return value


def rows_of(headers) -> st.SearchStrategy:
    return st.lists(st.lists(cell, min_size=len(headers), max_size=len(headers)), min_size=1, max_size=4)


@settings(fuzz, max_examples=30)
@given(data=st.data())
def test_the_catalogue_import_reports_any_workbook_row_by_row(world, data):
    matters = data.draw(rows_of(matter_imports.MATTER_HEADERS))
    steps = data.draw(rows_of(matter_imports.STEP_HEADERS))
    book = _workbook({matter_imports.SHEET_MATTERS: (matter_imports.MATTER_HEADERS, matters),
                      matter_imports.SHEET_STEPS: (matter_imports.STEP_HEADERS, steps)})
    report = matter_imports.import_matters(book, dry_run=True)
    assert report.ok or all(str(e) for e in report.errors)


@settings(fuzz, max_examples=30)
@given(data=st.data(), kind=st.sampled_from(["regions", "organs"]))
def test_the_organisation_imports_report_any_workbook_row_by_row(world, data, kind):
    headers = org_imports.REGION_HEADERS if kind == "regions" else org_imports.ORGAN_HEADERS
    book = _workbook({"Sheet": (headers, data.draw(rows_of(headers)))})
    report = (org_imports.import_regions if kind == "regions" else org_imports.import_organs)(book, dry_run=True)
    assert report.ok or all(str(e) for e in report.errors)


@fuzz
@given(data=st.binary(max_size=400))
def test_every_workbook_import_refuses_bytes_that_are_no_workbook(db, data):
    for report in (matter_imports.import_matters(data, dry_run=True), org_imports.import_regions(data, dry_run=True),
                   org_imports.import_organs(data, dry_run=True)):
        assert not report.ok and str(report.errors[0])


# --- SMS -------------------------------------------------------------------------------------------
@pytest.fixture
def gateway(desk, settings):
    settings.XIAONENG_SMS_GATEWAY_TOKEN = "gw-token"
    return desk


@settings(fuzz, max_examples=40)
@given(fields=st.fixed_dictionaries({}, optional={"from": text | st.just("13812345678"), "text": text,
                                                  "received_at": moment | text, "message_id": text | st.just("gw-1")}),
       as_json=st.booleans(), extra=json_value)
def test_the_sms_callback_answers_any_message_with_a_field_or_a_number(gateway, fields, as_json, extra):
    client = _client()
    if as_json:
        body = json.dumps({**fields, "extra": extra}, ensure_ascii=True)
        response = client.post("/public/complaints/sms/", body, content_type="application/json",
                               HTTP_X_GATEWAY_TOKEN="gw-token")
    else:
        response = client.post("/public/complaints/sms/", _encoded(fields),
                               content_type="application/x-www-form-urlencoded", HTTP_X_GATEWAY_TOKEN="gw-token")
    assert response.status_code in (200, 201, 400, 409, 413), response.content[:300]
    json.loads(response.content)


# --- the calendar notice ----------------------------------------------------------------------------
notice_line = st.one_of(
    text,
    st.builds(lambda k, v: f"{k}: {v}", st.sampled_from(["year", "source", "holiday", "workday", "YEAR", "假日"]),
              text | st.integers(min_value=1990, max_value=2070).map(str)),
    st.builds(lambda k, a, b, n: f"{k}：{a}..{b} {n}", st.sampled_from(["holiday", "workday"]),
              st.dates(min_value=datetime(2024, 1, 1).date(), max_value=datetime(2028, 12, 31).date()),
              st.dates(min_value=datetime(2024, 1, 1).date(), max_value=datetime(2028, 12, 31).date()), text),
)


@settings(fuzz, max_examples=40)
@given(lines=st.lists(notice_line, max_size=8), year=st.integers(min_value=2024, max_value=2028))
def test_the_calendar_notice_is_imported_or_refused_line_by_line(db, lines, year):
    raw = "\n".join([f"year: {year}", *lines]).encode("utf-8", "surrogatepass")
    try:
        do_import_notice(raw)
    except sources.NoticeError as exc:
        assert str(exc)
