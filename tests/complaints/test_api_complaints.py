"""The read-only complaint API: scoped like the pages, paginated, filterable, documented,
and never carrying the complainant's identity."""
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import make_user
from xiaoneng.complaints import actions as act
from xiaoneng.orgs.models import Role

LIST = "/api/v1/complaints/"
NAME, PHONE = "张三丰", "13812345678"


def one(pk):
    return f"{LIST}{pk}/"


def routed(desk, organ=None, **kw):
    complaint, _secret = desk.file(**kw)
    act.do_accept(complaint)
    return act.do_route(complaint, organ=organ or desk.w.tianhe_bureau)


@pytest.fixture
def land(desk):
    """Unrouted in 天河, routed to the 天河 bureau, anonymous in 天河, routed in 越秀."""
    w = desk.w
    w.yuexiu_handler = make_user("yuexiu_handler", Role.HANDLER, organ=w.yuexiu_bureau)
    land = {
        "unrouted": desk.file(title="尚未转办", content="一")[0],
        "tianhe": routed(desk, title="天河局", content="二"),
        "anonymous": desk.file(anonymous=True, reply_channel="web", title="匿名", content="三")[0],
        "yuexiu": routed(desk, organ=w.yuexiu_bureau, region=w.yuexiu, title="越秀局", content="四"),
    }
    return land


# persona: which of the land's complaints it sees
SEES = {
    "province_supervisor": {"unrouted", "tianhe", "anonymous", "yuexiu"},
    "city_supervisor": {"unrouted", "tianhe", "anonymous", "yuexiu"},
    "auditor": {"unrouted", "tianhe", "anonymous", "yuexiu"},
    "county_supervisor": {"unrouted", "tianhe", "anonymous"},
    "complaint_officer": {"unrouted", "tianhe", "anonymous"},
    "county_handler": {"tianhe"},
    "county_leader": {"tianhe"},
    "yuexiu_handler": {"yuexiu"},
    "shenzhen_handler": set(),
    "appraisal_officer": set(),
    "outsider": set(),
}


@pytest.mark.parametrize("persona", list(SEES))
def test_every_role_sees_its_scope_of_complaints_and_nothing_else(desk, land, login, persona):
    client = login(getattr(desk.w, persona))
    response = client.get(LIST, {"page_size": 500})
    assert response.status_code == 200
    body = response.json()
    assert {r["number"] for r in body["results"]} == {land[k].number for k in SEES[persona]}
    for key, complaint in land.items():
        expected = 200 if key in SEES[persona] else 404
        assert client.get(one(complaint.pk)).status_code == expected
    text = response.content.decode()
    assert NAME not in text and PHONE not in text


def test_the_api_shows_only_the_masked_name_or_anonymous(desk, land, login):
    client = login(desk.w.complaint_officer)
    rows = {r["number"]: r for r in client.get(LIST).json()["results"]}
    assert rows[land["tianhe"].number]["complainant"] == "张**"
    assert rows[land["anonymous"].number]["complainant"] == "匿名"
    detail = client.get(one(land["tianhe"].pk))
    text = detail.content.decode()
    assert NAME not in text and PHONE not in text and "11010519491231002X" not in text
    body = detail.json()
    assert body["organ"]["name"] == desk.w.tianhe_bureau.name
    assert [s["kind"] for s in body["steps"]][:3] == ["register", "accept", "route"]
    assert "identity_enc" not in body and "phone_masked" not in body


def test_filters_narrow_and_never_widen(desk, land, login):
    client = login(desk.w.complaint_officer)

    def numbers(**params):
        response = client.get(LIST, params)
        assert response.status_code == 200, response.content
        return {r["number"] for r in response.json()["results"]}

    assert numbers(status="routed") == {land["tianhe"].number}
    assert numbers(anonymous="true") == {land["anonymous"].number}
    assert numbers(organ=desk.w.yuexiu_bureau.pk) == set()
    assert numbers(region="440104") == set()
    assert numbers(q="天河局") == {land["tianhe"].number}
    assert numbers(category="delay") == {land[k].number for k in ("unrouted", "tianhe", "anonymous")}
    assert numbers(received_after="2000-01-01", received_before="2000-01-02") == set()
    assert numbers(overdue="false") == {land[k].number for k in ("unrouted", "tianhe", "anonymous")}


@pytest.mark.parametrize("params,field", [
    ({"status": "nonsense"}, "status"),
    ({"received_after": "yesterday"}, "received_after"),
    ({"received_after": "2026-02-02", "received_before": "2026-01-01"}, "received_after"),
    ({"region": "abc"}, "region"),
    ({"organ": "-1"}, "organ"),
    ({"page_size": "many"}, "page_size"),
    ({"ordering": "identity_enc"}, "ordering"),
])
def test_bad_parameters_are_400s_naming_the_parameter(desk, land, login, params, field):
    response = login(desk.w.complaint_officer).get(LIST, params)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}


def test_an_anonymous_request_is_refused(client, land):
    assert client.get(LIST).status_code in (401, 403)


def test_the_list_costs_the_same_number_of_queries_however_many_rows(desk, login):
    client = login(desk.w.complaint_officer)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    routed(desk, title="一", content="一")
    few = count()
    for i in range(6):
        routed(desk, title=f"多{i}", content=f"多{i}")
    assert count() == few


def test_the_schema_documents_the_complaint_endpoints(db, tmp_path, world, login):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = login(world.county_handler).get(reverse("api-schema"), {"format": "json"}).json()
    assert "/api/v1/complaints/" in schema["paths"] and "/api/v1/complaints/{id}/" in schema["paths"]
    names = {p["name"] for p in schema["paths"]["/api/v1/complaints/"]["get"]["parameters"]}
    assert {"status", "channel", "region", "overdue", "page", "page_size"} <= names
