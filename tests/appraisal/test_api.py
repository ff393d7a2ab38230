"""The appraisal REST API: read-only, in the OpenAPI schema, scoped exactly like the pages."""
import pytest
from django.urls import reverse

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Result
from xiaoneng.orgs.models import Grant, Role

from .conftest import at


def api(name, *args):
    return reverse(f"api-appraisal-{name}", args=args)


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def provisional(land):
    land.promise(land.w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    land.th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    land.yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    return land


def test_the_schema_documents_the_appraisal_endpoints(world, client):
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    for path in ("/api/v1/appraisal/schemes/", "/api/v1/appraisal/schemes/{id}/", "/api/v1/appraisal/periods/",
                 "/api/v1/appraisal/results/", "/api/v1/appraisal/results/{id}/", "/api/v1/appraisal/rankings/",
                 "/api/v1/appraisal/rankings/{id}/"):
        assert set(paths[path]) == {"get"}, path  # read-only


def test_the_office_reads_the_scheme_with_its_indicator_tree(land, login):
    client = login(land.w.appraisal_officer)
    assert ids(client.get(api("scheme-list"))) == [land.scheme.pk]
    tree = client.get(api("scheme-detail", land.scheme.pk)).json()["indicators"]
    assert [(i["code"], i["parent_code"], i["weight"]) for i in tree][:3] == [("1", None, "60.00"), ("1.1", "1", "70.00"),
                                                                              ("1.2", "1", "30.00")]
    assert tree[1]["source"] == "on_time" and tree[1]["params"] == {"worst": 80, "best": 100}


def test_an_organ_reads_its_own_provisional_result_with_its_lineage_and_nothing_else(provisional, login):
    client = login(provisional.w.county_leader)
    assert ids(client.get(api("result-list"))) == [provisional.th.pk]
    detail = client.get(api("result-detail", provisional.th.pk)).json()
    line = next(ln for ln in detail["lines"] if ln["code"] == "1.1")
    assert line["formula"].startswith("准时办结率") and line["query"]["source"] == "on_time"
    assert line["query"]["organ"] == provisional.w.tianhe_bureau.pk
    assert client.get(api("result-detail", provisional.yx.pk)).status_code == 404
    assert ids(client.get(api("ranking-list"))) == []  # not yet published
    assert client.get(api("ranking-detail", provisional.period.pk)).status_code == 404
    assert ids(client.get(api("scheme-list"))) == []
    assert client.get(api("scheme-detail", provisional.scheme.pk)).status_code == 404
    assert ids(client.get(api("period-list"))) == [provisional.period.pk]  # the period of its own result


def test_after_publication_an_organ_reads_the_ranking_but_not_the_others_lines(provisional, login):
    actions.do_publish_results(provisional.period, at=at("2027-01-15T11:00"))
    client = login(provisional.w.county_leader)
    ranking = client.get(api("ranking-detail", provisional.period.pk)).json()["ranking"]
    assert [(r["organ_name"], r["total"], r["rank"], r["grade"]) for r in ranking] == [
        (provisional.w.yuexiu_bureau.name, "90.00", 1, "excellent"), (provisional.w.tianhe_bureau.name, "48.00", 2, "poor")]
    assert "lines" not in ranking[0]
    assert client.get(api("result-detail", provisional.yx.pk)).status_code == 404


def test_the_office_reads_every_result_of_its_region_and_filters_them(provisional, login):
    client = login(provisional.w.appraisal_officer)
    assert ids(client.get(api("result-list"), {"ordering": "rank"})) == [provisional.yx.pk, provisional.th.pk]
    assert ids(client.get(api("result-list"), {"grade": "poor"})) == [provisional.th.pk]
    response = client.get(api("result-list"), {"grade": "bad"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "grade"


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "shenzhen_handler", "auditor", "province_supervisor"])
def test_an_outsider_gets_nothing_from_the_appraisal_api(provisional, login, persona):
    actions.do_publish_results(provisional.period, at=at("2027-01-15T11:00"))
    client = login(getattr(provisional.w, persona))
    for name in ("scheme", "period", "result", "ranking"):
        assert ids(client.get(api(f"{name}-list"))) == [], name
    assert client.get(api("scheme-detail", provisional.scheme.pk)).status_code == 404
    assert client.get(api("period-detail", provisional.period.pk)).status_code == 404
    assert client.get(api("result-detail", provisional.th.pk)).status_code == 404
    assert client.get(api("ranking-detail", provisional.period.pk)).status_code == 404


def test_a_deputy_reads_the_published_ranking_of_the_region_only(provisional, login):
    from tests.conftest import make_user

    deputy = make_user("gz_deputy", Role.DEPUTY, region=provisional.w.gz)
    sz_deputy = make_user("sz_deputy")
    Grant.objects.create(user=sz_deputy, role=Role.DEPUTY, region=provisional.w.sz)
    client = login(deputy)
    assert ids(client.get(api("ranking-list"))) == []  # provisional: not public yet
    actions.do_publish_results(provisional.period, at=at("2027-01-15T11:00"))
    assert ids(client.get(api("ranking-list"))) == [provisional.period.pk]
    assert ids(client.get(api("result-list"))) == []  # lines and lineage are not the public's
    assert ids(login(sz_deputy).get(api("ranking-list"))) == []
