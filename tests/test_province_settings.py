"""Province-wide settings need a grant at the province (root region): the working-day calendar,
complaint categories, Open311 keys and the region tree. A county or city administrator manages
his own subtree, never these."""
import pytest
from django.urls import reverse

from tests.conftest import make_user
from xiaoneng.calendar.models import CalendarDay
from xiaoneng.complaints.models import ApiKey, Category
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Region, Role

SATURDAY = "2026-11-07"


@pytest.fixture
def county_admin(world):
    return make_user("tianhe_admin", Role.ADMIN, region=world.tianhe, is_staff=True)


@pytest.fixture
def city_admin(world):
    return make_user("gz_admin", Role.ADMIN, region=world.gz, is_staff=True)


def test_the_rule_asks_for_the_permission_on_the_root_region(world, county_admin, city_admin):
    assert access.may_manage_province_settings(world.admin, "calendar.manage")
    assert not access.may_manage_province_settings(county_admin, "calendar.manage")
    assert not access.may_manage_province_settings(city_admin)
    assert not access.may_manage_province_settings(world.province_supervisor)  # root region, but not an administrator


@pytest.mark.parametrize("who", ["county_admin", "city_admin"])
def test_a_county_or_city_administrator_cannot_turn_a_weekend_into_a_working_day(world, login, who, request):
    client = login(request.getfixturevalue(who))
    page = client.get(reverse("calendar:year"), {"year": 2026})
    assert page.status_code == 200 and page.context["can_manage"] is False  # he may read the calendar
    response = client.post(reverse("calendar:set-day"),
                           {"date": SATURDAY, "is_working": "1", "name": "调休", "reason": "县里加班"})
    assert response.status_code == 403
    assert not CalendarDay.objects.get(date=SATURDAY).is_working
    notice = client.post(reverse("calendar:import"), {})
    assert notice.status_code == 403


def test_a_province_administrator_changes_the_calendar(world, login):
    client = login(world.admin)
    assert client.get(reverse("calendar:year"), {"year": 2026}).context["can_manage"] is True
    response = client.post(reverse("calendar:set-day"),
                           {"date": SATURDAY, "is_working": "1", "name": "调休", "reason": "国务院通知"})
    assert response.status_code == 302 and CalendarDay.objects.get(date=SATURDAY).is_working


PROVINCE_ADMIN_PAGES = ["/admin/workcalendar/calendarday/", "/admin/workcalendar/calendarday/add/",
                        "/admin/workcalendar/calendaryear/", "/admin/complaints/category/", "/admin/complaints/category/add/",
                        "/admin/complaints/apikey/", "/admin/complaints/apikey/add/", "/admin/orgs/region/add/"]


def test_a_county_administrator_opens_none_of_the_province_s_settings_in_the_admin(world, desk, county_admin, login):
    client = login(county_admin)
    day = CalendarDay.objects.get(date=SATURDAY)
    pages = [*PROVINCE_ADMIN_PAGES, f"/admin/workcalendar/calendarday/{day.pk}/change/",
             f"/admin/complaints/category/{desk.delay.pk}/change/"]
    for url in pages:
        assert client.get(url).status_code == 403, url
    index = client.get("/admin/").content.decode()
    assert "/admin/complaints/category/" not in index and "/admin/workcalendar/" not in index
    assert "/admin/complaints/apikey/" not in index
    # nothing changes by posting either
    assert client.post(f"/admin/complaints/category/{desk.delay.pk}/change/", {
        "code": "delay", "name": "改名", "order": 1, "attributes": "[]", "is_active": "on"}).status_code == 403
    assert client.post("/admin/complaints/apikey/add/", {"name": "县里的钥匙", "is_active": "on"}).status_code == 403
    assert client.post(f"/admin/orgs/region/{world.tianhe.pk}/change/", {
        "code": "440106000000", "name": "改名区", "level": 3}).status_code == 403
    assert Category.objects.get(pk=desk.delay.pk).name == "办事拖拉" and not ApiKey.objects.exists()
    assert Region.objects.get(pk=world.tianhe.pk).name == "天河区"
    # his own subtree stays his to read (the region, read-only) and to manage (its organs)
    region_page = client.get(f"/admin/orgs/region/{world.tianhe.pk}/change/")
    assert region_page.status_code == 200 and 'name="_save"' not in region_page.content.decode()
    assert client.get(f"/admin/orgs/organ/{world.tianhe_bureau.pk}/change/").status_code == 200


def test_a_province_administrator_opens_them(world, desk, login):
    client = login(world.admin)
    for url in PROVINCE_ADMIN_PAGES:
        assert client.get(url).status_code == 200, url
    assert client.get(f"/admin/orgs/region/{world.tianhe.pk}/change/").status_code == 200
