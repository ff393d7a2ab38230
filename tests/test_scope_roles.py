"""Every role sees its scope and nothing else — on the API and on the pages.

For each persona of the shared world (conftest.py) the tables below say which organs,
regions and clocks it may see. Every endpoint and page is then checked against the
table: lists hold exactly the visible rows, any other object is a 404 (never a 403,
so existence does not leak), filters cannot widen the scope, and nothing outside the
scope is even named on a page, in a JSON body or in an Excel export.

    广东省 ── 广州市 ── 天河区 ── 石牌街道        organs: gz_bureau, tianhe_bureau,
           │         └─ 越秀区                          tianhe_station (石牌), yuexiu_bureau,
           └─ 深圳市 ── 福田区                          sz_bureau, futian_bureau
"""
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.urls import NoReverseMatch, reverse
from openpyxl import load_workbook

from xiaoneng.clocks import engine
from xiaoneng.clocks.models import Clock
from xiaoneng.orgs.models import Post, Staff, Unit, User

SH = ZoneInfo("Asia/Shanghai")

ORGANS = ["gz_bureau", "sz_bureau", "tianhe_bureau", "tianhe_station", "yuexiu_bureau", "futian_bureau"]
REGIONS = ["gd", "gz", "sz", "tianhe", "yuexiu", "futian", "shipai"]

ALL_ORGANS = set(ORGANS)
GZ_ORGANS = {"gz_bureau", "tianhe_bureau", "tianhe_station", "yuexiu_bureau"}
TIANHE_ORGANS = {"tianhe_bureau", "tianhe_station"}
GZ_REGIONS = {"gz", "tianhe", "yuexiu", "shipai"}

# persona: (organs it may see, regions it may see, may it see clocks, region-only clocks it may see)
SCOPES = {
    "admin": (ALL_ORGANS, set(REGIONS), True, {"tianhe", "futian"}),
    "province_supervisor": (ALL_ORGANS, set(REGIONS), True, {"tianhe", "futian"}),
    "city_supervisor": (GZ_ORGANS, GZ_REGIONS, True, {"tianhe"}),
    "county_supervisor": (TIANHE_ORGANS, {"tianhe", "shipai"}, True, {"tianhe"}),
    # Organ grants: the organ and the organs under it, and the organ's own region only.
    "county_leader": (TIANHE_ORGANS, {"tianhe"}, True, set()),
    "county_handler": (TIANHE_ORGANS, {"tianhe"}, True, set()),
    "complaint_officer": (TIANHE_ORGANS, {"tianhe", "shipai"}, True, {"tianhe"}),
    # Appraisal officers read organisations but not clocks (no clock.view).
    "appraisal_officer": (GZ_ORGANS, GZ_REGIONS, False, set()),
    "auditor": (GZ_ORGANS, GZ_REGIONS, True, {"tianhe"}),
    "shenzhen_handler": ({"futian_bureau"}, {"futian"}, True, set()),
    "outsider": (set(), set(), False, set()),
}
PERSONAS = list(SCOPES)
IN_SCOPE = [p for p in PERSONAS if p != "outsider"]

# Unique names, so "is it named on the page" is a plain substring test.
STAFF_NAME = {
    "gz_bureau": "高一广",
    "sz_bureau": "沈二深",
    "tianhe_bureau": "田三天",
    "tianhe_station": "石四磐",
    "yuexiu_bureau": "岳五秀",
    "futian_bureau": "符六田",
}


def post_title(key: str) -> str:
    return f"岗位-{key}"


@pytest.fixture
def land(world):
    """One unit, post, staff member and clock in every organ; a region-only clock in 天河 and 福田.

    福田's 符六田 also holds the 天河 bureau's post: a 天河 reader must not learn the
    name, and a 福田 reader must not learn the 天河 post.
    """
    w = world
    w.staff, w.clocks, w.region_clocks = {}, {}, {}
    for key in ORGANS:
        organ = getattr(w, key)
        unit = Unit.objects.create(organ=organ, name="办公室")
        staff = Staff.objects.create(organ=organ, unit=unit, name=STAFF_NAME[key], staff_no=f"NO-{key}")
        post = Post.objects.create(organ=organ, unit=unit, title=post_title(key))
        post.holders.add(staff)
        w.staff[key] = staff
        w.clocks[key] = clock(organ=organ, region_code=organ.region_code)
    Post.objects.get(title=post_title("tianhe_bureau")).holders.add(w.staff["futian_bureau"])
    for key in ("tianhe", "futian"):
        w.region_clocks[key] = clock(organ=None, region_code=getattr(w, key).prefix)
    return w


def clock(**where) -> Clock:
    c = Clock.objects.create(kind="test", start_at=datetime(2026, 9, 28, 9, tzinfo=SH), limit=20, **where)
    engine.refresh(c)
    return c


def scope(persona):
    """(organ keys, region keys, may see clocks, region-only clocks) of a persona."""
    return SCOPES[persona]


def visible_clock_ids(w, persona) -> set[int]:
    organs, _regions, may_see_clocks, region_clocks = scope(persona)
    if not may_see_clocks:
        return set()
    return {w.clocks[k].pk for k in organs} | {w.region_clocks[k].pk for k in region_clocks}


def all_rows(client, url, **params):
    response = client.get(url, {"page_size": 500, **params})
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.fixture
def as_persona(land, login):
    def _as(persona):
        return login(getattr(land, persona))

    return _as


# --- API: lists hold exactly the scope ----------------------------------------------------
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_organ_list_holds_exactly_the_organs_in_scope(land, as_persona, persona):
    rows = all_rows(as_persona(persona), reverse("api-organ-list"))
    assert {r["id"] for r in rows} == {getattr(land, k).pk for k in scope(persona)[0]}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_region_list_holds_exactly_the_regions_in_scope(land, as_persona, persona):
    rows = all_rows(as_persona(persona), reverse("api-region-list"))
    assert {r["code"] for r in rows} == {getattr(land, k).code for k in scope(persona)[1]}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_staff_list_holds_exactly_the_staff_in_scope(land, as_persona, persona):
    rows = all_rows(as_persona(persona), reverse("api-staff-list"))
    assert {r["name"] for r in rows} == {STAFF_NAME[k] for k in scope(persona)[0]}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_clock_list_holds_exactly_the_clocks_in_scope(land, as_persona, persona):
    rows = all_rows(as_persona(persona), reverse("api-clock-list"))
    assert {r["id"] for r in rows} == visible_clock_ids(land, persona)


# --- API: everything else is a 404 --------------------------------------------------------
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_organ_outside_the_scope_is_a_404_and_every_one_inside_opens(land, as_persona, persona):
    client = as_persona(persona)
    for key in ORGANS:
        expected = 200 if key in scope(persona)[0] else 404
        assert client.get(reverse("api-organ-detail", args=[getattr(land, key).pk])).status_code == expected, key


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_region_outside_the_scope_is_a_404_and_every_one_inside_opens(land, as_persona, persona):
    client = as_persona(persona)
    for key in REGIONS:
        expected = 200 if key in scope(persona)[1] else 404
        assert client.get(reverse("api-region-detail", args=[getattr(land, key).code])).status_code == expected, key


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_staff_member_outside_the_scope_is_a_404(land, as_persona, persona):
    client = as_persona(persona)
    for key, staff in land.staff.items():
        expected = 200 if key in scope(persona)[0] else 404
        assert client.get(reverse("api-staff-detail", args=[staff.pk])).status_code == expected, key


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_clock_outside_the_scope_is_a_404(land, as_persona, persona):
    client = as_persona(persona)
    visible = visible_clock_ids(land, persona)
    for c in [*land.clocks.values(), *land.region_clocks.values()]:
        expected = 200 if c.pk in visible else 404
        assert client.get(reverse("api-clock-detail", args=[c.pk])).status_code == expected, c


def test_a_county_handler_gets_404_for_a_shenzhen_organ(land, as_persona):
    response = as_persona("county_handler").get(reverse("api-organ-detail", args=[land.futian_bureau.pk]))
    assert response.status_code == 404


def test_a_hidden_organ_and_a_missing_one_give_the_same_answer(land, as_persona):
    client = as_persona("county_handler")
    hidden = client.get(reverse("api-organ-detail", args=[land.futian_bureau.pk]))
    missing = client.get(reverse("api-organ-detail", args=[999_999]))
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


def test_a_county_supervisor_sees_a_clock_of_the_county_that_has_no_organ_but_a_handler_does_not(land, as_persona):
    url = reverse("api-clock-detail", args=[land.region_clocks["tianhe"].pk])
    assert as_persona("county_supervisor").get(url).status_code == 200
    assert as_persona("county_handler").get(url).status_code == 404


def test_an_appraisal_officer_reads_organisations_but_no_clocks(land, as_persona):
    client = as_persona("appraisal_officer")
    assert all_rows(client, reverse("api-organ-list"))
    assert all_rows(client, reverse("api-clock-list")) == []


def test_a_superuser_without_grants_sees_everything(land, login):
    root = User.objects.create_superuser("root", password=None)
    client = login(root)
    assert len(all_rows(client, reverse("api-organ-list"))) == len(ORGANS)
    assert client.get(reverse("api-clock-detail", args=[land.region_clocks["futian"].pk])).status_code == 200


# --- API: filters cannot widen the scope --------------------------------------------------
@pytest.mark.parametrize("persona", PERSONAS)
def test_no_filter_widens_the_scope(land, as_persona, persona):
    client = as_persona(persona)
    organs = {getattr(land, k).pk for k in scope(persona)[0]}
    for region in ("44", "440300000000", "440304"):
        rows = all_rows(client, reverse("api-organ-list"), region=region)
        assert {r["id"] for r in rows} <= organs
        assert {r["code"] for r in all_rows(client, reverse("api-region-list"), under=region)} <= {
            getattr(land, k).code for k in scope(persona)[1]
        }
    for key in ORGANS:
        if key not in scope(persona)[0]:
            assert all_rows(client, reverse("api-staff-list"), organ=getattr(land, key).pk) == []
            assert all_rows(client, reverse("api-clock-list"), organ=getattr(land, key).pk) == []
    assert {r["id"] for r in all_rows(client, reverse("api-organ-list"), q="市场监督")} <= organs


# --- API: nothing outside the scope is named ----------------------------------------------
@pytest.mark.parametrize("persona", IN_SCOPE)
def test_no_api_body_names_staff_or_posts_outside_the_scope(land, as_persona, persona):
    client = as_persona(persona)
    organs = scope(persona)[0]
    hidden_names = [STAFF_NAME[k] for k in ORGANS if k not in organs]
    hidden_posts = [post_title(k) for k in ORGANS if k not in organs]
    bodies = [client.get(reverse("api-staff-list"), {"page_size": 500}).content.decode()]
    bodies += [client.get(reverse("api-organ-detail", args=[getattr(land, k).pk])).content.decode() for k in organs]
    for body in bodies:
        for hidden in hidden_names + hidden_posts:
            assert hidden not in body


# --- API: the outsider gets nothing from any endpoint -------------------------------------
OUTSIDER_LISTS = ["api-region-list", "api-organ-list", "api-staff-list", "api-clock-list"]


@pytest.mark.parametrize("name", OUTSIDER_LISTS)
def test_an_outsider_gets_an_empty_list_from_every_list_endpoint(land, as_persona, name):
    data = as_persona("outsider").get(reverse(name)).json()
    assert data["count"] == 0 and data["results"] == []


def test_an_outsider_gets_no_calendar_days(land, as_persona):
    data = as_persona("outsider").get(reverse("api-calendar-day-list"), {"year": 2026}).json()
    assert data["count"] == 0


def test_an_outsider_may_not_use_the_deadline_calculator(land, as_persona):
    response = as_persona("outsider").get(reverse("api-deadline"), {"start": "2026-09-28", "days": 20})
    assert response.status_code == 403


@pytest.mark.parametrize("kind", ["organ", "region", "staff", "clock"])
def test_an_outsider_gets_404_for_every_object(land, as_persona, kind):
    client = as_persona("outsider")
    objects = {
        "organ": [getattr(land, k).pk for k in ORGANS],
        "region": [getattr(land, k).code for k in REGIONS],
        "staff": [s.pk for s in land.staff.values()],
        "clock": [c.pk for c in [*land.clocks.values(), *land.region_clocks.values()]],
    }[kind]
    for key in objects:
        assert client.get(reverse(f"api-{kind}-detail", args=[key])).status_code == 404


@pytest.mark.parametrize("persona", IN_SCOPE)
def test_every_role_reads_the_calendar_and_uses_the_deadline_calculator(land, as_persona, persona):
    client = as_persona(persona)
    assert client.get(reverse("api-calendar-day-list"), {"year": 2026}).json()["count"] == 365
    assert client.get(reverse("api-deadline"), {"start": "2026-09-28", "days": 20}).json()["due_date"] == "2026-10-30"


# --- Pages: the organisation browser ------------------------------------------------------
def page_url(name, *args):
    try:
        return reverse(f"orgs:{name}", args=args)
    except NoReverseMatch:  # the browser is being built alongside the API
        pytest.skip(f"orgs:{name} is not routed yet")


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_organ_page_outside_the_scope_is_a_404_and_every_one_inside_opens(land, as_persona, persona):
    client = as_persona(persona)
    for key in ORGANS:
        expected = 200 if key in scope(persona)[0] else 404
        assert client.get(page_url("organ", getattr(land, key).pk)).status_code == expected, key


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_region_page_outside_the_scope_is_a_404_and_every_one_inside_opens(land, as_persona, persona):
    client = as_persona(persona)
    for key in REGIONS:
        expected = 200 if key in scope(persona)[1] else 404
        assert client.get(page_url("region", getattr(land, key).code)).status_code == expected, key


def test_a_county_handler_gets_404_for_the_shenzhen_organ_page(land, as_persona):
    assert as_persona("county_handler").get(page_url("organ", land.futian_bureau.pk)).status_code == 404


def assert_names_exactly(body: str, visible: set[str], every: list[str]):
    for name in every:
        if name in visible:
            assert name in body, f"{name} should be listed"
        else:
            assert name not in body, f"{name} is outside the scope but named"


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_organ_index_page_lists_exactly_the_organs_in_scope(land, as_persona, persona):
    response = as_persona(persona).get(page_url("index"))
    assert response.status_code == 200
    organs = scope(persona)[0]
    assert_names_exactly(
        response.content.decode(), {getattr(land, k).name for k in organs}, [getattr(land, k).name for k in ORGANS]
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_staff_page_lists_exactly_the_staff_in_scope_and_no_post_outside_it(land, as_persona, persona):
    response = as_persona(persona).get(page_url("staff"))
    assert response.status_code == 200
    organs = scope(persona)[0]
    body = response.content.decode()
    assert_names_exactly(body, {STAFF_NAME[k] for k in organs}, list(STAFF_NAME.values()))
    for key in ORGANS:
        if key not in organs:
            assert post_title(key) not in body


@pytest.mark.parametrize("persona", IN_SCOPE)
def test_no_organ_page_names_staff_organs_or_posts_outside_the_scope(land, as_persona, persona):
    client = as_persona(persona)
    organs = scope(persona)[0]
    hidden = [STAFF_NAME[k] for k in ORGANS if k not in organs]
    hidden += [post_title(k) for k in ORGANS if k not in organs]
    hidden += [getattr(land, k).name for k in ORGANS if k not in organs]
    for key in organs:
        body = client.get(page_url("organ", getattr(land, key).pk)).content.decode()
        for name in hidden:
            assert name not in body, f"{name} named on the page of {key}"


def xlsx_cells(response) -> set[str]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    return {str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value}


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_staff_export_holds_exactly_the_staff_in_scope(land, as_persona, persona):
    cells = xlsx_cells(as_persona(persona).get(page_url("staff"), {"export": "xlsx"}))
    organs = scope(persona)[0]
    assert {name for name in STAFF_NAME.values() if name in cells} == {STAFF_NAME[k] for k in organs}
    assert not any(post_title(k) in cell for k in ORGANS if k not in organs for cell in cells)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_organ_export_holds_exactly_the_organs_in_scope(land, as_persona, persona):
    cells = xlsx_cells(as_persona(persona).get(page_url("index"), {"export": "xlsx"}))
    assert {k for k in ORGANS if getattr(land, k).name in cells} == scope(persona)[0]


@pytest.mark.parametrize("name", ["index", "staff"])
def test_an_anonymous_visitor_is_sent_to_log_in(land, client, name):
    response = client.get(page_url(name))
    assert response.status_code == 302 and reverse("login") in response["Location"]
