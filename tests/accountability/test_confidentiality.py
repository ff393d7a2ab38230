"""Personnel data: every read of a record that names a person is audited, and the API gives an
outsider nothing and a wrong input a 400 (never a 500)."""
import pytest
from django.urls import reverse

from tests.accountability.conftest import at
from tests.conftest import make_user
from xiaoneng.accountability.models import Proposal
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


def test_opening_a_proposal_that_names_a_person_is_audited(acct, login, settings):
    # An escalation proposal names the person (and their earlier measures) in its title and evidence.
    settings.XIAONENG_RULES = {
        "accountability_extra_measures": [{"code": "efficiency_caution", "label": "效能告诫", "rank": 35}],
        "accountability_escalation": [{"measure": "efficiency_caution", "count": 1, "propose": "admonish"}],
    }
    acct.decided("2026-03-02T10:00", measure="efficiency_caution")
    proposal = Proposal.objects.get(staff=acct.zhang)
    client = login(acct.world.county_supervisor)
    assert client.get(reverse("accountability:proposal", args=[proposal.pk])).status_code == 200
    entry = AuditEntry.objects.get(action="accountability.read", object_id=str(proposal.pk))
    assert entry.changes.get("page") == "proposal"
    # An outsider's 404 leaves no read on the chain.
    login(acct.world.complaint_officer).get(reverse("accountability:proposal", args=[proposal.pk]))
    assert AuditEntry.objects.filter(action="accountability.read", object_id=str(proposal.pk)).count() == 1


@pytest.mark.parametrize("persona", ["complaint_officer", "county_leader", "appraisal_officer", "shenzhen_auditor"])
def test_no_outsider_reads_a_case_through_the_api(acct, login, persona):
    case, _ = acct.decided()
    world = acct.world
    user = (make_user("sz_auditor", Role.AUDITOR, region=world.sz) if persona == "shenzhen_auditor"
            else getattr(world, persona))
    client = login(user)
    assert client.get("/api/v1/accountability/cases/").json()["results"] == []
    assert client.get(f"/api/v1/accountability/cases/{case.pk}/").status_code == 404
    stats = client.get(reverse("accountability:stats"))
    assert stats.status_code == 404 or '<th scope="row">案件数</th><td>0</td>' in stats.content.decode()
    assert not AuditEntry.objects.filter(action="accountability.read").exists()


def test_wrong_types_in_the_api_are_400s_or_404s_and_writes_are_not_allowed(acct, login):
    case, _ = acct.decided()
    client = login(acct.world.city_supervisor)
    for params in ({"organ": "abc"}, {"region": "广州"}, {"ordering": "password"}, {"status": ["decided", "x"]}):
        response = client.get("/api/v1/accountability/cases/", params)
        assert response.status_code == 400, params
        assert next(iter(params)) in response.content.decode()
    assert client.get("/api/v1/accountability/cases/abc/").status_code == 404
    response = client.post("/api/v1/accountability/cases/", {"title": "x"}, content_type="application/json")
    assert response.status_code in (403, 405)
    response = client.patch(f"/api/v1/accountability/cases/{case.pk}/", {"status": "filed"},
                            content_type="application/json")
    assert response.status_code in (403, 405)
    case.refresh_from_db()
    assert case.status == "decided" and case.decided_at == at("2026-03-02T10:00")


def test_the_proposals_endpoint_is_scoped_audited_and_in_the_schema(acct, login):
    acct.decided()
    proposal = Proposal.objects.get()
    client = login(acct.world.city_supervisor)
    body = client.get("/api/v1/accountability/proposals/", {"source": "media"}).json()
    assert [r["title"] for r in body["results"]] == ["暗访发现窗口推诿"]
    assert client.get("/api/v1/accountability/proposals/", {"source": "red_card"}).json()["results"] == []
    detail = client.get(f"/api/v1/accountability/proposals/{proposal.pk}/").json()
    assert detail["reason"] == "暗访视频显示窗口人员推诿群众" and detail["evidence"][0]["label"] == "暗访视频截图"
    assert AuditEntry.objects.filter(action="accountability.read", object_id=str(proposal.pk)).count() == 1
    assert client.get("/api/v1/accountability/proposals/", {"source": "nonsense"}).status_code == 400
    schema = login(acct.world.admin).get(reverse("api-schema"), {"format": "json"}).content.decode()
    assert "/api/v1/accountability/proposals/{id}/" in schema
    for persona in ("complaint_officer", "county_handler"):
        outsider = login(getattr(acct.world, persona))
        assert outsider.get("/api/v1/accountability/proposals/").json()["results"] == []
        assert outsider.get(f"/api/v1/accountability/proposals/{proposal.pk}/").status_code == 404
    sz = login(make_user("sz_supervisor", Role.SUPERVISOR, region=acct.world.sz))
    assert sz.get("/api/v1/accountability/proposals/").json()["results"] == []
    assert sz.get(f"/api/v1/accountability/proposals/{proposal.pk}/").status_code == 404
    assert AuditEntry.objects.filter(action="accountability.read", object_id=str(proposal.pk)).count() == 1
