"""/api/v1/accountability/cases/: scoped, audited, in the OpenAPI schema, bad parameters are 400s."""
import pytest
from django.urls import reverse

from tests.conftest import make_user
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


def test_a_supervisor_reads_the_case_with_its_persons_and_the_read_is_audited(acct, login):
    case, (zhang,) = acct.decided(measure="demerit")
    client = login(acct.world.city_supervisor)
    body = client.get("/api/v1/accountability/cases/").json()
    assert [r["number"] for r in body["results"]] == [case.number]
    detail = client.get(f"/api/v1/accountability/cases/{case.pk}/").json()
    (person,) = detail["parties"]
    assert (person["name"], person["measure"], person["months"], person["ends_on"]) == ("张三", "demerit", 12, "2027-03-02")
    assert AuditEntry.objects.filter(action="accountability.read", object_id=str(case.pk)).count() == 1


@pytest.mark.parametrize("persona", ["county_handler", "auditor", "shenzhen"])
def test_an_outsider_gets_an_empty_list_and_a_404(acct, login, persona):
    case, _ = acct.decided()
    user = make_user("sz_supervisor", Role.SUPERVISOR, region=acct.world.sz) if persona == "shenzhen" else getattr(acct.world, persona)
    client = login(user)
    assert client.get("/api/v1/accountability/cases/").json()["results"] == []
    assert client.get(f"/api/v1/accountability/cases/{case.pk}/").status_code == 404
    assert not AuditEntry.objects.filter(action="accountability.read").exists()


def test_a_bad_parameter_is_a_400_naming_it(acct, login):
    client = login(acct.world.city_supervisor)
    response = client.get("/api/v1/accountability/cases/", {"status": "nonsense"})
    assert response.status_code == 400 and "status" in response.content.decode()


def test_the_endpoints_are_in_the_openapi_schema(world, login):
    client = login(world.admin)
    schema = client.get(reverse("api-schema"), {"format": "json"}).content.decode()
    assert "/api/v1/accountability/cases/" in schema and "/api/v1/accountability/cases/{id}/" in schema
