"""The Open311 GeoReport v2 interface: every endpoint in JSON and XML, its errors, and no complainant data."""
import json
from datetime import timedelta
from io import StringIO
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from xiaoneng.audit.models import AuditEntry
from xiaoneng.complaints import actions as act
from xiaoneng.complaints.models import ApiKey, Category, Complaint, ComplaintStep, Status
from xiaoneng.complaints.open311 import keys
from xiaoneng.lib.apikeys import hash_key

FORMATS = ["json", "xml"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
                  "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
PERSON = {"first_name": "Sanfeng", "last_name": "Zhang", "phone": "13812345678", "email": "zsf@example.com",
          "device_id": "device-abc-123", "account_id": "acct-778899"}
SECRETS_OF_THE_PERSON = ["Sanfeng", "Zhang", "13812345678", "zsf@example.com", "device-abc-123", "acct-778899",
                         "张三丰", "天河路1号", "11010519491231002X"]


@pytest.fixture
def services(desk):
    desk.delay.attributes = [
        {"variable": True, "code": "window", "datatype": "string", "required": True, "datatype_description": "",
         "order": 1, "description": "哪个窗口？"},
        {"variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description": "拖延类型", "values": [{"key": "wait", "name": "排队过久"}, {"key": "again", "name": "多次跑腿"}]},
        {"variable": True, "code": "when", "datatype": "datetime", "required": False, "order": 3, "description": "何时"},
        {"variable": True, "code": "tags", "datatype": "multivaluelist", "required": False, "order": 4,
         "description": "标签", "values": [{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}]},
    ]
    desk.delay.save()
    return desk


@pytest.fixture
def key(db):
    _api_key, secret = keys.do_create_key("广州市民 App")
    return secret


def form(key, **overrides):
    values = {"api_key": key, "service_code": "attitude", "lat": "23.1291", "long": "113.2644",
              "description": "办事窗口工作人员态度恶劣，拒绝解答问题。", **PERSON}
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def post(client, fmt="json", data=None, **extra):
    return client.post(f"/open311/v2/requests.{fmt}", urlencode(data or {}, doseq=True),
                       content_type="application/x-www-form-urlencoded", **extra)


def body(response, fmt):
    """JSON as Python; XML as the root element."""
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        return json.loads(response.content)
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


def assert_error(response, fmt, status, mentions=""):
    assert response.status_code == status
    parsed = body(response, fmt)
    if fmt == "json":
        assert isinstance(parsed, list) and parsed[0]["code"] == status
        description = parsed[0]["description"]
    else:
        assert parsed.tag == "errors" and parsed.find("error/code").text == str(status)
        description = parsed.find("error/description").text
    assert mentions in description
    return description


# --- discovery and services ---------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_specification_the_endpoint_and_both_formats(client, db, fmt):
    response = client.get(f"/open311/v2/discovery.{fmt}")
    assert response.status_code == 200
    parsed = body(response, fmt)
    if fmt == "json":
        assert set(parsed) == {"changeset", "contact", "key_service", "endpoints"}
        endpoint = parsed["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2" and endpoint["type"] == "production"
        assert endpoint["formats"] == ["application/json", "text/xml"]
    else:
        assert parsed.tag == "discovery" and parsed.find("key_service").text
        endpoint = parsed.find("endpoints/endpoint")
        assert endpoint.find("specification").text == "http://wiki.open311.org/GeoReport_v2"
        assert [f.text for f in endpoint.findall("formats/format")] == ["application/json", "text/xml"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_lists_the_active_categories_with_the_spec_fields(client, services, fmt):
    Category.objects.create(code="retired", name="停用类别", is_active=False)
    parsed = body(client.get(f"/open311/v2/services.{fmt}"), fmt)
    if fmt == "json":
        assert [s["service_code"] for s in parsed] == ["delay", "attitude", "other"]
        assert all(list(s) == SERVICE_FIELDS for s in parsed)
        assert parsed[0]["metadata"] is True and parsed[1]["metadata"] is False
        assert parsed[0]["type"] == "realtime" and parsed[0]["service_name"] == "办事拖拉" and parsed[0]["group"] == "效能"
    else:
        items = parsed.findall("service")
        assert parsed.tag == "services" and [s.find("service_code").text for s in items] == ["delay", "attitude", "other"]
        assert [c.tag for c in items[0]] == SERVICE_FIELDS
        assert items[0].find("metadata").text == "true" and items[1].find("metadata").text == "false"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_its_attributes_and_an_unknown_service_is_a_404(client, services, fmt):
    parsed = body(client.get(f"/open311/v2/services/delay.{fmt}"), fmt)
    if fmt == "json":
        assert parsed["service_code"] == "delay"
        first, kind = parsed["attributes"][:2]
        assert first == {"variable": True, "code": "window", "datatype": "string", "required": True,
                         "datatype_description": "", "order": 1, "description": "哪个窗口？"}
        assert kind["values"] == [{"key": "wait", "name": "排队过久"}, {"key": "again", "name": "多次跑腿"}]
    else:
        assert parsed.tag == "service_definition" and parsed.find("service_code").text == "delay"
        kind = parsed.findall("attributes/attribute")[1]
        assert kind.find("datatype").text == "singlevaluelist" and kind.find("required").text == "false"
        assert [v.find("key").text for v in kind.findall("values/value")] == ["wait", "again"]
    assert_error(client.get(f"/open311/v2/services/nope.{fmt}"), fmt, 404, "service_code")


def test_an_unknown_format_or_path_is_a_404_in_the_error_format(client, db):
    assert_error(client.get("/open311/v2/services.csv"), "json", 404, "csv")
    assert_error(client.get("/open311/v2/services"), "json", 404)
    assert_error(client.get("/open311/v2/nothing/here.json"), "json", 404)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_method_an_endpoint_does_not_serve_is_a_405_in_the_error_format(client, db, fmt):
    response = client.delete(f"/open311/v2/services.{fmt}")
    assert_error(response, fmt, 405, "DELETE")
    assert "GET" in response["Allow"]


# --- filing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_client_with_a_key_files_a_complaint_and_gets_its_number(client, services, key, world, fmt):
    response = post(client, fmt, form(key))
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    parsed = body(response, fmt)
    if fmt == "json":
        assert list(parsed[0]) == ["service_request_id", "service_notice", "account_id"]
        assert parsed[0]["service_request_id"] == complaint.number and parsed[0]["account_id"] == "acct-778899"
        notice = parsed[0]["service_notice"]
    else:
        request = parsed.find("request")
        assert parsed.tag == "service_requests" and request.find("service_request_id").text == complaint.number
        notice = request.find("service_notice").text
    assert complaint.number in notice and "查询码" in notice
    assert complaint.channel == "open311" and complaint.api_key.name == "广州市民 App"
    assert complaint.category.code == "attitude" and complaint.region == world.gd
    assert complaint.title == "办事窗口工作人员态度恶劣，拒绝解答问题。"[:30]
    assert str(complaint.lat) == "23.129100" and complaint.reply_channel == "email" and not complaint.anonymous
    assert complaint.name_masked == "S***" and complaint.phone_masked == "138****5678"


def test_a_post_needs_no_csrf_token_since_the_api_key_authenticates_it(services, key):
    response = post(Client(enforce_csrf_checks=True), "json", form(key))
    assert response.status_code == 200 and Complaint.objects.count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("given", ["missing", "wrong", "malformed", "revoked"])
def test_a_filing_without_a_valid_key_is_refused_with_403(client, services, key, fmt, given):
    if given == "revoked":
        keys.do_revoke_key(ApiKey.objects.get())
    value = {"missing": None, "wrong": key[:-4] + "AAAA", "malformed": "let-me-in", "revoked": key}[given]
    assert_error(post(client, fmt, form(value)), fmt, 403, "api_key")
    assert not Complaint.objects.exists()


def test_the_jurisdiction_is_optional_but_another_one_is_not_found(client, services, key):
    assert post(client, "json", form(key, jurisdiction_id="gd.gov.cn")).status_code == 200
    assert_error(post(client, "json", form(key, jurisdiction_id="sf.gov")), "json", 404, "jurisdiction_id")
    assert_error(client.get("/open311/v2/services.xml?jurisdiction_id=sf.gov"), "xml", 404, "jurisdiction_id")
    assert Complaint.objects.count() == 1


@pytest.mark.parametrize("overrides,field", [
    ({"service_code": None}, "service_code"),
    ({"service_code": "no-such"}, "service_code"),
    ({"lat": None, "long": None}, "lat"),
    ({"long": None}, "long"),
    ({"lat": "north"}, "lat"),
    ({"lat": "91"}, "lat"),
    ({"long": "NaN"}, "long"),
    ({"description": "   "}, "description"),
    ({"description": "长" * 6000}, "description"),
    ({"phone": "12345"}, "phone"),
    ({"email": "not-an-email"}, "email"),
    ({"first_name": "名" * 60}, "first_name"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
    ({"service_code": ["attitude", "delay"]}, "service_code"),
    ({"attribute[colour]": "red"}, "attribute[colour]"),
    ({"attribute[region]": "999999"}, "attribute[region]"),
    ({"attribute[region]": "44abc"}, "attribute[region]"),
    ({"description": "a\x00b"}, "description"),
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_field_is_a_400_naming_it_and_nothing_is_filed(client, services, key, overrides, field, fmt):
    description = assert_error(post(client, fmt, form(key, **overrides)), fmt, 400)
    assert description.startswith(field + ":")
    assert not Complaint.objects.exists()


@pytest.mark.parametrize("answers,field", [
    ({}, "attribute[window]"),
    ({"attribute[window]": "3号窗口", "attribute[kind]": "lost"}, "attribute[kind]"),
    ({"attribute[window]": "3号窗口", "attribute[when]": "2026-11-02T09:00:00"}, "attribute[when]"),
    ({"attribute[window]": "3号窗口", "attribute[when]": "yesterday"}, "attribute[when]"),
    ({"attribute[window]": "3号窗口", "attribute[tags][]": ["a", "z"]}, "attribute[tags]"),
    ({"attribute[window]": ["1", "2"]}, "attribute[window]"),
])
def test_the_services_attributes_are_enforced(client, services, key, answers, field):
    description = assert_error(post(client, "json", form(key, service_code="delay", **answers)), "json", 400)
    assert description.startswith(field + ":")
    assert not Complaint.objects.exists()


def test_attribute_answers_media_url_and_address_id_are_kept_for_the_office(client, services, key):
    response = post(client, "json", form(key, service_code="delay", **{
        "attribute[window]": "3号窗口", "attribute[kind]": "again", "attribute[when]": "2026-11-02T09:00:00+08:00",
        "attribute[tags][]": ["a", "b"], "media_url": "https://img.example.cn/1.jpg", "address_id": "GZ-778"}))
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert "哪个窗口？：3号窗口" in complaint.content and "拖延类型：多次跑腿" in complaint.content
    assert "标签：甲、乙" in complaint.content and "https://img.example.cn/1.jpg" in complaint.content
    data = ComplaintStep.objects.get(complaint=complaint, kind="register").data["open311"]
    assert data["attributes"]["tags"] == ["a", "b"] and data["address_id"] == "GZ-778"
    request = body(client.get(f"/open311/v2/requests/{complaint.number}.json"), "json")[0]
    assert request["media_url"] == "https://img.example.cn/1.jpg" and request["address_id"] == "GZ-778"


def test_an_address_alone_locates_the_complaint_and_a_region_attribute_places_it(client, services, key, world):
    response = post(client, "json", form(key, lat=None, long=None, address_string="天河区体育西路 1 号",
                                         **{"attribute[region]": "440106"}))
    assert response.status_code == 200
    complaint = Complaint.objects.get()
    assert complaint.region == world.tianhe and complaint.office == services.tianhe_office
    assert complaint.address_string == "天河区体育西路 1 号" and complaint.lat is None


@pytest.mark.parametrize("contact,anonymous,reply", [
    ({"first_name": None, "last_name": None, "phone": None, "email": None, "device_id": None}, True, "web"),
    ({"email": None}, False, "sms"),
    ({"phone": None}, False, "email"),
    ({"phone": None, "email": None}, False, "web"),
    ({"first_name": None, "last_name": None, "phone": None}, False, "email"),  # an e-mail alone is enough
])
def test_the_complainant_is_anonymous_without_contact_and_is_answered_by_the_channel_given(
        client, services, key, contact, anonymous, reply):
    assert post(client, "json", form(key, **contact)).status_code == 200
    complaint = Complaint.objects.get()
    assert complaint.anonymous is anonymous and complaint.reply_channel == reply
    assert (complaint.identity_enc == "") is anonymous


def test_a_replayed_post_files_a_second_complaint_flagged_as_a_possible_duplicate(client, services, key):
    first = body(post(client, "json", form(key)), "json")[0]["service_request_id"]
    second = body(post(client, "json", form(key)), "json")[0]["service_request_id"]
    assert first != second
    assert Complaint.objects.get(number=second).possible_duplicate == Complaint.objects.get(number=first)


def test_a_huge_payload_is_a_413_and_a_body_that_is_not_utf8_is_a_400(client, services, key):
    huge = urlencode(form(key, description="长" * 30000))
    response = client.post("/open311/v2/requests.json", huge, content_type="application/x-www-form-urlencoded")
    assert_error(response, "json", 413)
    latin = "description=caf\xe9&api_key=".encode("latin-1") + key.encode()
    response = client.post("/open311/v2/requests.xml", latin, content_type="application/x-www-form-urlencoded")
    assert_error(response, "xml", 400, "UTF-8")
    escaped = urlencode(form(key)) + "&description=%E9%FF"
    response = client.post("/open311/v2/requests.json", escaped, content_type="application/x-www-form-urlencoded")
    assert_error(response, "json", 400, "UTF-8")
    response = client.post("/open311/v2/requests.json", urlencode(form(key)),
                           content_type="application/x-www-form-urlencoded; charset=gbk")
    assert_error(response, "json", 400, "UTF-8")
    response = client.post("/open311/v2/requests.json", json.dumps(form(key)), content_type="application/json")
    assert_error(response, "json", 400, "Content-Type")
    assert not Complaint.objects.exists()


def test_filings_per_key_are_throttled(client, services, key, settings):
    settings.XIAONENG_RULES = {"open311_posts_per_key_minute": 2}
    assert post(client, "json", form(key)).status_code == 200
    assert post(client, "json", form(key, description="第二件事")).status_code == 200
    assert_error(post(client, "xml", form(key, description="第三件事")), "xml", 429)
    assert Complaint.objects.count() == 2


def test_calls_per_address_are_throttled(client, db, settings):
    settings.XIAONENG_RULES = {"open311_per_address_minute": 3}
    assert [client.get("/open311/v2/services.json").status_code for _i in range(4)] == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="10.0.0.9").get("/open311/v2/services.json").status_code == 200


# --- reading --------------------------------------------------------------------------------
def _filed(client, key, **overrides) -> Complaint:
    number = body(post(client, "json", form(key, **overrides)), "json")[0]["service_request_id"]
    return Complaint.objects.get(number=number)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_requests_gives_the_spec_fields_of_open311_filings_only(client, services, key, fmt):
    filed = _filed(client, key)
    web, _secret = services.file()  # the public web form is between the complainant and the office
    hotline, _secret = services.file(channel="hotline", source_ref="12345-1", title="热线工单", content="热线内容")
    parsed = body(client.get(f"/open311/v2/requests.{fmt}"), fmt)
    if fmt == "json":
        assert {r["service_request_id"] for r in parsed} == {filed.number}
        assert all(list(r) == REQUEST_FIELDS for r in parsed)
        mine = next(r for r in parsed if r["service_request_id"] == filed.number)
        assert mine["status"] == "open" and mine["status_notes"] == "已登记" and mine["service_code"] == "attitude"
        assert mine["lat"] == 23.1291 and mine["requested_datetime"].endswith("+08:00")
        assert mine["expected_datetime"] == filed.acceptance_clock.due_at.astimezone(
            timezone.get_default_timezone()).isoformat(timespec="seconds")
    else:
        requests = parsed.findall("request")
        assert parsed.tag == "service_requests"
        assert {r.find("service_request_id").text for r in requests} == {filed.number}
        assert all([c.tag for c in r] == REQUEST_FIELDS for r in requests)
    assert_error(client.get(f"/open311/v2/requests/{hotline.number}.{fmt}"), fmt, 404, "service_request_id")
    assert_error(client.get(f"/open311/v2/requests/{web.number}.{fmt}"), fmt, 404, "service_request_id")
    assert_error(client.get(f"/open311/v2/tokens/{hotline.token}.{fmt}"), fmt, 404, "token")


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_and_its_token_can_be_followed(client, services, key, fmt):
    filed = _filed(client, key)
    one = body(client.get(f"/open311/v2/requests/{filed.number}.{fmt}"), fmt)
    token = body(client.get(f"/open311/v2/tokens/{filed.token}.{fmt}"), fmt)
    if fmt == "json":
        assert one[0]["service_request_id"] == filed.number and len(one) == 1
        assert token == [{"service_request_id": filed.number, "token": str(filed.token)}]
    else:
        assert one.find("request/service_request_id").text == filed.number
        assert token.find("request/service_request_id").text == filed.number
        assert token.find("request/token").text == str(filed.token)
    assert_error(client.get(f"/open311/v2/requests/TS00000000000000.{fmt}"), fmt, 404)
    assert_error(client.get(f"/open311/v2/tokens/not-a-uuid.{fmt}"), fmt, 404)


def test_requests_are_filtered_by_id_service_status_and_dates(client, services, key):
    a = _filed(client, key)
    b = _filed(client, key, service_code="other", description="另一件事")
    old, _secret = services.file(received_at=timezone.now() - timedelta(days=120), title="旧事", content="旧的投诉",
                                 channel="open311")
    act.do_not_accept(b, reasons="不属于效能投诉范围")

    def ids(query):
        response = client.get("/open311/v2/requests.json?" + urlencode(query, doseq=True))
        assert response.status_code == 200, response.content
        return {r["service_request_id"] for r in json.loads(response.content)}

    assert ids({}) == {a.number, b.number}  # the last 90 days by default
    assert ids({"service_request_id": f"{a.number},{old.number}"}) == {a.number, old.number}
    assert ids({"service_code": "other"}) == {b.number}
    assert ids({"status": "closed"}) == {b.number} and ids({"status": "open"}) == {a.number}
    assert ids({"status": "open,closed"}) == {a.number, b.number}
    since = (timezone.now() - timedelta(days=130)).isoformat()
    assert ids({"start_date": since}) == {old.number}  # start + 90 days
    assert ids({"end_date": (timezone.now() - timedelta(days=100)).isoformat()}) == {old.number}


@pytest.mark.parametrize("query,field", [
    ({"start_date": "2026-11-02T09:00:00"}, "start_date"),
    ({"end_date": "2026-11-02"}, "end_date"),
    ({"start_date": "last week"}, "start_date"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "end_date"),
    ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "end_date"),
    ({"status": "pending"}, "status"),
    ({"end_date": "0001-01-02T00:00:00Z"}, "end_date"),
    ({"start_date": "9999-12-30T00:00:00Z"}, "start_date"),
    ({"service_code": "a\x00"}, "service_code"),
    ({"service_request_id": "TS\x00"}, "service_request_id"),
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_bad_filter_is_a_400_naming_it(client, db, query, field, fmt):
    description = assert_error(client.get(f"/open311/v2/requests.{fmt}?" + urlencode(query)), fmt, 400)
    assert description.startswith(field + ":")


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_notes_and_agency_follow_the_complaint_without_staff_or_complainant(client, services, key, world, fmt):
    filed = _filed(client, key, description="窗口拖延，联系我 13900001111 或 me@example.org")
    act.do_accept(filed)
    act.do_route(filed, organ=world.tianhe_bureau, note="请天河区局核查，经办人李四")
    routed = body(client.get(f"/open311/v2/requests/{filed.number}.json"), "json")[0]
    assert routed["agency_responsible"] == "广州市天河区市场监督管理局" and routed["status_notes"] == "已转办"
    assert routed["expected_datetime"] is not None
    assert "13900001111" not in routed["description"] and "me@example.org" not in routed["description"]
    act.do_report_handling(filed, report="已约谈窗口负责人", result="founded")
    act.do_reply(filed, text="经核查属实，已责令整改。")
    texts = [client.get(f"/open311/v2/{path}.{fmt}").content.decode()
             for path in ("requests", f"requests/{filed.number}", f"tokens/{filed.token}")]
    assert "经核查属实，已责令整改。" in texts[1] and "李四" not in "".join(texts)
    act.do_rate(filed, level=5)
    closed = body(client.get(f"/open311/v2/requests/{filed.number}.json"), "json")[0]
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["updated_datetime"] >= closed["requested_datetime"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_response_ever_carries_the_complainants_identity(client, services, key, world, fmt):
    filed = _filed(client, key, **{"first_name": "Sanfeng", "media_url": "https://img.example.cn/x.jpg"})
    services.file()  # a web complaint by 张三丰, 13812345678, 天河路1号
    seen = [post(client, fmt, form(key)).content]
    act.do_accept(filed)
    act.do_route(filed, organ=world.tianhe_bureau)
    act.do_report_handling(filed, report="已整改", result="founded")
    act.do_reply(filed, text="已责令整改。")
    for path in ("requests", f"requests/{filed.number}", f"tokens/{filed.token}", "services", "services/attitude",
                 "discovery"):
        seen.append(client.get(f"/open311/v2/{path}.{fmt}").content)
    text = b"".join(seen).decode()
    assert filed.number in text
    for secret in SECRETS_OF_THE_PERSON:
        # The filing's own answer echoes account_id to the client that sent it, as the spec asks; nothing else does.
        assert text.count(secret) == (1 if secret == "acct-778899" else 0), secret


# --- keys: command and admin ----------------------------------------------------------------
def test_the_command_prints_the_key_on_its_last_line_and_the_key_files_requests(client, services):
    out = StringIO()
    call_command("open311_key", "create", "12345 热线系统", stdout=out)
    new_key = out.getvalue().strip().splitlines()[-1]
    assert new_key.startswith("o311_")
    assert post(client, "json", form(new_key)).status_code == 200
    assert Complaint.objects.get().api_key.name == "12345 热线系统"
    listing = StringIO()
    call_command("open311_key", "list", stdout=listing)
    assert "12345 热线系统" in listing.getvalue() and new_key not in listing.getvalue()


def test_a_revoked_key_is_refused_at_once(client, services, key):
    call_command("open311_key", "revoke", "广州市民 App", stdout=StringIO())
    assert_error(post(client, "json", form(key)), "json", 403, "api_key")
    assert not Complaint.objects.exists()


def test_the_command_names_what_is_wrong(db):
    from django.core.management.base import CommandError

    keys.do_create_key("taken")
    with pytest.raises(CommandError, match="name"):
        call_command("open311_key", "create", "taken", stdout=StringIO())
    with pytest.raises(CommandError, match="nobody"):
        call_command("open311_key", "revoke", "nobody", stdout=StringIO())


def test_an_administrator_creates_a_key_in_the_admin_and_sees_it_once(client, services, login, world):
    admin = login(world.admin)
    response = admin.post("/admin/complaints/apikey/add/", {"name": "深圳 i深圳", "is_active": "on"}, follow=True)
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    new_key = next(m for m in shown if "o311_" in m).split("：")[-1].strip()
    api_key = ApiKey.objects.get(name="深圳 i深圳")
    assert api_key.key_hash == hash_key(new_key) and new_key not in api_key.key_hash
    assert new_key not in admin.get(f"/admin/complaints/apikey/{api_key.pk}/change/").content.decode()
    assert post(Client(), "json", form(new_key)).status_code == 200


def test_the_admin_refuses_a_malformed_attribute_list(services, login, world):
    admin = login(world.admin)
    response = admin.post(f"/admin/complaints/category/{services.other.pk}/change/", {
        "code": "other", "name": "其他", "order": 9, "is_active": "on",
        "attributes": json.dumps([{"code": "x y", "datatype": "colour"}])})
    assert response.status_code == 200 and "datatype" in response.content.decode()
    services.other.refresh_from_db()
    assert services.other.attributes == []


def test_the_complaint_admin_is_read_only_and_shows_only_the_masked_complainant(services, login, world):
    complaint, _secret = services.file()
    world.province_supervisor.is_staff = True
    world.province_supervisor.save()
    page = login(world.province_supervisor)
    listing = page.get("/admin/complaints/complaint/")
    detail = page.get(f"/admin/complaints/complaint/{complaint.pk}/change/")
    assert listing.status_code == 200 and detail.status_code == 200
    text = listing.content.decode() + detail.content.decode()
    assert complaint.number in text and "张**" in text
    assert "张三丰" not in text and "13812345678" not in text and complaint.identity_enc not in text
    assert page.post(f"/admin/complaints/complaint/{complaint.pk}/delete/").status_code == 403
    assert Complaint.objects.filter(status=Status.REGISTERED).count() == 1


def test_text_xml_cannot_carry_is_dropped_from_xml_and_the_answer_still_parses(client, services, key):
    filed = _filed(client, key, description="窗口\x0b拖延\x01三小时")
    parsed = body(client.get(f"/open311/v2/requests/{filed.number}.xml"), "xml")
    assert parsed.find("request/description").text == "窗口拖延三小时"


def test_an_english_client_gets_the_english_service_names(client, services):
    parsed = body(client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="en"), "json")
    assert parsed[0]["service_name"] == "Delays"


def test_the_request_list_costs_the_same_few_queries_however_many_requests(
        client, services, key, django_assert_max_num_queries):
    for n in range(6):
        _filed(client, key, description=f"第 {n} 件事")
    with django_assert_max_num_queries(4):
        parsed = body(client.get("/open311/v2/requests.json"), "json")
    assert len(parsed) == 6


def test_the_rating_admin_lists_for_those_who_may_see_ratings_and_nobody_else(db, login, world):
    world.auditor.is_staff = world.outsider.is_staff = True
    world.auditor.save()
    world.outsider.save()
    assert login(world.auditor).get("/admin/complaints/rating/").status_code == 200
    assert login(world.outsider).get("/admin/complaints/rating/").status_code == 403
    assert login(world.outsider).get("/admin/complaints/apikey/").status_code == 403


def test_a_nul_character_in_the_path_is_refused_not_a_server_error(client, db):
    assert_error(client.get("/open311/v2/requests/TS%00.json"), "json", 400, "service_request_id:")
    assert_error(client.get("/open311/v2/services/a%00b.xml"), "xml", 400, "service_code:")


# --- texts written to the complainant, as the public interface shows them --------------------
def test_a_reply_that_greets_the_complainant_by_name_is_published_with_the_name_masked(client, services, key, world):
    filed = _filed(client, key, first_name="三丰", last_name="张", email="", phone="13812345678")
    act.do_accept(filed)
    act.do_route(filed, organ=world.tianhe_bureau)
    act.do_report_handling(filed, report="已整改", result="founded")
    act.do_reply(filed, text="张三丰同志：您好！您反映的问题属实，已责令整改。如有疑问请拨打 13812345678。")
    note = body(client.get(f"/open311/v2/requests/{filed.number}.json"), "json")[0]["status_notes"]
    assert note == "答复：张**同志：您好！您反映的问题属实，已责令整改。如有疑问请拨打 ***。"
    filed.refresh_from_db()
    assert filed.reply.startswith("张三丰同志")  # the complainant is answered in full
    uses = AuditEntry.objects.filter(action="identity.use", object_id=str(filed.pk))
    assert [u.changes["purpose"] for u in uses if "Open311" in u.changes["purpose"]] == [
        "mask the complainant in the public Open311 status notes"]


def test_reasons_for_not_accepting_and_the_filers_own_signature_are_masked_too(client, services, key):
    filed = _filed(client, key, first_name="Sanfeng", last_name="Zhang",
                   description="窗口拒收材料。投诉人 Sanfeng Zhang，zsf@example.com")
    act.do_not_accept(filed, reasons="Sanfeng Zhang 反映的事项已由法院受理，不属于效能投诉范围。")
    request = body(client.get(f"/open311/v2/requests/{filed.number}.json"), "json")[0]
    assert request["description"] == "窗口拒收材料。投诉人 S***，***"
    assert request["status_notes"] == "不予受理。理由：S*** 反映的事项已由法院受理，不属于效能投诉范围。"


def test_a_complaint_without_a_masked_text_shows_its_status_name_never_the_text(client, services, key, world):
    filed = _filed(client, key)
    act.do_not_accept(filed, reasons="Zhang Sanfeng 反映的事项不属于受理范围")
    Complaint.objects.filter(pk=filed.pk).update(public_note="")  # as recorded before texts were masked
    request = body(client.get(f"/open311/v2/requests/{filed.number}.json"), "json")[0]
    assert request["status_notes"] == "不予受理"


def test_texts_of_complaints_the_public_interface_does_not_show_are_not_masked_nor_decrypted(services):
    web, _secret = services.file()
    act.do_not_accept(web, reasons="张三丰反映的事项不属于受理范围")
    web.refresh_from_db()
    assert web.public_note == "" and web.public_content == ""
    assert not [u for u in AuditEntry.objects.filter(action="identity.use") if "Open311" in u.changes["purpose"]]
