"""A merged complaint's number is shown only to readers who may open that complaint, and
Open311 never publishes the complainant's device id."""
from urllib.parse import urlencode

import pytest

from tests.conftest import make_organ, make_user
from xiaoneng.complaints import actions as complaints
from xiaoneng.complaints.open311 import keys
from xiaoneng.orgs.models import Role


@pytest.fixture
def merged(world, desk):
    """A (routed to the 天河 bureau) and B (routed to the 天河 housing bureau, then merged into A)."""
    housing = make_organ("广州市天河区住房和城乡建设局", world.tianhe)
    first, _s = desk.file(title="市场监管窗口推诿", content="窗口一再推诿。")
    complaints.do_accept(first)
    complaints.do_route(first, organ=world.tianhe_bureau)
    second, _s = desk.file(title="住建窗口推诿", content="住建窗口也推诿。")
    complaints.do_accept(second)
    complaints.do_route(second, organ=housing)
    complaints.do_merge(second, into=first, note="同一事项")
    first.refresh_from_db()
    second.refresh_from_db()
    return first, second, make_user("housing_handler", Role.HANDLER, organ=housing)


def test_the_handler_of_the_merged_complaint_does_not_see_the_number_of_the_one_it_went_into(merged, login):
    first, second, housing_handler = merged
    client = login(housing_handler)
    page = client.get(f"/complaints/{second.pk}/").content.decode()
    assert "合并至另一件投诉（不在您的查看范围内）" in page and "另有一件，不在您的查看范围内" in page
    assert first.number not in page
    api = client.get(f"/api/v1/complaints/{second.pk}/").json()
    assert api["merged_into"] is None and first.number not in str(api)


def test_the_handler_of_the_target_does_not_see_the_number_of_the_complaint_merged_into_it(merged, world, login):
    first, second, _h = merged
    client = login(world.county_handler)
    page = client.get(f"/complaints/{first.pk}/").content.decode()
    assert "另一件投诉（不在您的查看范围内）已并入本件" in page and second.number not in page
    assert second.number not in client.get(f"/api/v1/complaints/{first.pk}/").content.decode()


def test_the_office_that_merged_them_sees_both_numbers(merged, world, login):
    first, second, _h = merged
    client = login(world.complaint_officer)
    assert f"合并至 {first.number}" in client.get(f"/complaints/{second.pk}/").content.decode()
    assert f"并入 {second.number}" in client.get(f"/complaints/{first.pk}/").content.decode()
    assert client.get(f"/api/v1/complaints/{second.pk}/").json()["merged_into"] == first.number


def test_open311_never_publishes_the_device_id_even_when_the_app_writes_it_into_the_description(client, desk):
    _api_key, key = keys.do_create_key("广州市民 App")
    device = "IMEI-864209031234567-ab"
    data = {"api_key": key, "service_code": "attitude", "lat": "23.1291", "long": "113.2644",
            "description": f"窗口态度恶劣。（来自设备 {device}）", "first_name": "三丰", "last_name": "张",
            "device_id": device, "account_id": "acct-1"}
    filed = client.post("/open311/v2/requests.json", urlencode(data), content_type="application/x-www-form-urlencoded")
    assert filed.status_code == 200 and device not in filed.content.decode()
    number = filed.json()[0]["service_request_id"]
    for path in ("requests.json", f"requests/{number}.json", "requests.xml", f"requests/{number}.xml"):
        response = client.get(f"/open311/v2/{path}")
        assert response.status_code == 200 and number in response.content.decode()
        assert device not in response.content.decode(), path
