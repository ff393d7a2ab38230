"""The read-only REST API under /api/v1/: scoped data, filters, ordering, paging,
the deadline calculator, the error format, query counts and the OpenAPI schema.

Who may see what, role by role, is proved in test_scope_roles.py; here the
personas are used only to have a realistic scope."""
import re
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from xiaoneng.clocks import engine
from xiaoneng.clocks.models import Clock, ClockExtension, ClockPause
from xiaoneng.lib.codes import make_credit_code
from xiaoneng.orgs.models import Organ, OrganKind, Post, PostTarget, Region, Staff, Unit

SH = ZoneInfo("Asia/Shanghai")

_bodies = iter(range(90_000_000, 99_999_999))  # clear of the personas' organ codes


def make_organ(name, region, kind=OrganKind.GOVERNMENT, parent=None) -> Organ:
    code = make_credit_code("1", "1", region.code[:6], f"{next(_bodies):08d}")
    return Organ.objects.create(credit_code=code, name=name, kind=kind, region=region, parent=parent)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour), tzinfo=SH)


def make_clock(organ=None, *, region_code=None, start="2026-09-28", limit=20, unit="working", kind="test", **extra):
    clock = Clock.objects.create(
        kind=kind,
        organ=organ,
        region_code=region_code if region_code is not None else organ.region_code,
        start_at=at(start),
        limit=limit,
        unit=unit,
        **extra,
    )
    engine.refresh(clock)
    return clock


def api(name, *args, **kwargs):
    return reverse(f"api-{name}", args=args, kwargs=kwargs)


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def errors_by_field(response) -> dict:
    assert response.status_code == 400, response.content
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.fixture
def staffed(world):
    """Units, posts with targets, and staff in the 天河 and 福田 bureaus."""
    w = world
    w.tianhe_office = Unit.objects.create(organ=w.tianhe_bureau, name="办公室")
    w.tianhe_licensing = Unit.objects.create(organ=w.tianhe_bureau, name="行政审批科")
    w.li = Staff.objects.create(organ=w.tianhe_bureau, unit=w.tianhe_licensing, name="李审批", staff_no="TH001", rank="科员")
    w.wang = Staff.objects.create(organ=w.tianhe_bureau, unit=w.tianhe_office, name="王主任", staff_no="TH002")
    w.retired = Staff.objects.create(organ=w.tianhe_bureau, name="退休人员", staff_no="TH003", is_active=False)
    w.zhao = Staff.objects.create(organ=w.futian_bureau, name="赵福田", staff_no="FT001")
    w.post = Post.objects.create(organ=w.tianhe_bureau, unit=w.tianhe_licensing, title="审批岗", duties="受理与审查")
    PostTarget.objects.create(post=w.post, indicator="办件按时办结率", comparator=">=", value=Decimal("98"), measure="%")
    w.post.holders.add(w.li, w.zhao)  # 赵 belongs to 福田: a 天河-only reader must not see the name
    return w


# --- regions ------------------------------------------------------------------------------
def test_a_city_supervisor_lists_the_regions_of_the_city_only(world, login):
    client = login(world.city_supervisor)
    rows = client.get(api("region-list")).json()["results"]
    assert [r["code"] for r in rows] == ["440100000000", "440104000000", "440106000000", "440106001000"]
    assert rows[0]["parent"] == {"code": "440000000000", "name": "广东省", "level": 1}
    assert rows[0]["level_display"] == "市"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("under=4401", {"广州市", "越秀区", "天河区", "石牌街道"}),
        ("under=440100000000", {"广州市", "越秀区", "天河区", "石牌街道"}),
        ("under=440100", {"广州市", "越秀区", "天河区", "石牌街道"}),
        ("under=440106001", {"石牌街道"}),
        ("under=440106", {"天河区", "石牌街道"}),
        ("level=3", {"越秀区", "天河区", "福田区"}),
        ("level=2&under=44", {"广州市", "深圳市"}),
        ("q=田", {"福田区"}),
    ],
)
def test_the_region_list_filters_by_subtree_level_and_name(world, login, query, expected):
    rows = login(world.province_supervisor).get(api("region-list") + "?" + query).json()["results"]
    assert {r["name"] for r in rows} == expected


@pytest.mark.parametrize("query, field", [("level=abc", "level"), ("level=9", "level"), ("under=44x", "under"), ("under=440", "under")])
def test_a_malformed_region_filter_is_a_400_naming_the_parameter(world, login, query, field):
    response = login(world.province_supervisor).get(api("region-list") + "?" + query)
    assert field in errors_by_field(response)


def test_a_region_is_read_by_its_code(world, login):
    response = login(world.county_supervisor).get(api("region-detail", code="440106001000"))
    assert response.status_code == 200
    assert response.json()["name"] == "石牌街道" and response.json()["parent"]["code"] == "440106000000"


def test_a_county_supervisor_gets_404_for_the_shenzhen_region(world, login):
    response = login(world.county_supervisor).get(api("region-detail", code="440300000000"))
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] is None


# --- organs -------------------------------------------------------------------------------
def test_a_city_supervisor_lists_the_organs_of_the_city(world, login):
    rows = login(world.city_supervisor).get(api("organ-list")).json()["results"]
    assert {r["name"] for r in rows} == {
        "广州市市场监督管理局",
        "广州市天河区市场监督管理局",
        "天河区石牌市场监管所",
        "广州市越秀区市场监督管理局",
    }
    row = next(r for r in rows if r["id"] == world.tianhe_bureau.pk)
    assert row["credit_code"] == world.tianhe_bureau.credit_code
    assert row["region"] == {"code": "440106000000", "name": "天河区", "level": 3}
    assert row["kind"] == "government" and row["kind_display"] == "政府工作部门"


def test_organs_are_searched_by_name_and_by_credit_code(world, login):
    client = login(world.province_supervisor)
    assert ids(client.get(api("organ-list"), {"q": "天河"})) == [world.tianhe_bureau.pk, world.tianhe_station.pk]
    assert ids(client.get(api("organ-list"), {"q": world.futian_bureau.credit_code})) == [world.futian_bureau.pk]
    assert ids(client.get(api("organ-list"), {"q": world.futian_bureau.credit_code.lower()})) == [world.futian_bureau.pk]


def test_organs_are_filtered_by_region_subtree_and_kind(world, login):
    court = make_organ("深圳市福田区人民法院", world.futian, kind=OrganKind.COURT)
    client = login(world.province_supervisor)
    assert set(ids(client.get(api("organ-list"), {"region": "440300000000"}))) == {
        world.sz_bureau.pk, world.futian_bureau.pk, court.pk
    }
    assert set(ids(client.get(api("organ-list"), {"region": "440106"}))) == {world.tianhe_bureau.pk, world.tianhe_station.pk}
    assert ids(client.get(api("organ-list"), {"kind": "court"})) == [court.pk]


def test_a_region_filter_cannot_widen_the_scope(world, login):
    client = login(world.county_handler)
    assert ids(client.get(api("organ-list"), {"region": "44"})) == [world.tianhe_bureau.pk, world.tianhe_station.pk]
    assert ids(client.get(api("organ-list"), {"region": "4403"})) == []


def test_an_empty_parameter_is_a_400_naming_each_one_as_the_schema_says(world, login):
    # The schema gives each parameter a type, pattern or choice that "" does not meet; ignoring it
    # silently would list more than the client asked for (README: bad input, API).
    response = login(world.province_supervisor).get(api("organ-list") + "?q=&kind=&region=&ordering=")
    assert response.status_code == 400
    assert set(errors_by_field(response)) == {"q", "kind", "region", "ordering"}


def test_organs_are_ordered_by_name_both_ways(world, login):
    client = login(world.province_supervisor)
    names = [r["name"] for r in client.get(api("organ-list"), {"ordering": "name"}).json()["results"]]
    assert names == sorted(names)
    reverse_names = [r["name"] for r in client.get(api("organ-list"), {"ordering": "-name"}).json()["results"]]
    assert reverse_names == names[::-1]


@pytest.mark.parametrize("query, field", [({"kind": "bank"}, "kind"), ({"ordering": "size"}, "ordering"), ({"region": "abc"}, "region")])
def test_a_malformed_organ_filter_is_a_400_naming_the_parameter(world, login, query, field):
    assert field in errors_by_field(login(world.province_supervisor).get(api("organ-list"), query))


def test_an_organ_shows_its_units_posts_targets_holders_and_staff_count(staffed, login):
    w = staffed
    data = login(w.county_supervisor).get(api("organ-detail", w.tianhe_bureau.pk)).json()
    assert [u["name"] for u in data["units"]] == ["办公室", "行政审批科"]
    assert data["staff_count"] == 2  # the retired member is not counted
    [post] = data["posts"]
    assert post["title"] == "审批岗" and post["unit"] == "行政审批科" and post["duties"] == "受理与审查"
    assert post["targets"] == [
        {"indicator": "办件按时办结率", "comparator": ">=", "value": "98.00", "measure": "%", "text": "办件按时办结率 ≥ 98.00%"}
    ]
    # 赵 of 福田 holds the post as well, but a 天河 supervisor may not see 福田's staff.
    assert post["holders"] == [{"id": w.li.pk, "name": "李审批"}]


def test_a_province_supervisor_sees_every_holder_of_a_post(staffed, login):
    data = login(staffed.province_supervisor).get(api("organ-detail", staffed.tianhe_bureau.pk)).json()
    assert {h["name"] for h in data["posts"][0]["holders"]} == {"李审批", "赵福田"}


def test_an_organ_names_its_parent_only_when_the_reader_may_see_it(world, login):
    city = login(world.city_supervisor).get(api("organ-detail", world.tianhe_bureau.pk)).json()
    assert city["parent"] == {"id": world.gz_bureau.pk, "name": "广州市市场监督管理局"}
    county = login(world.county_handler).get(api("organ-detail", world.tianhe_bureau.pk)).json()
    assert county["parent"] is None


def test_a_nonexistent_organ_is_a_404_like_a_hidden_one(world, login):
    client = login(world.province_supervisor)
    assert client.get(api("organ-detail", 999_999)).status_code == 404
    assert client.get("/api/v1/organs/99999999999999999999999/").status_code == 404
    assert client.get("/api/v1/organs/abc/").status_code == 404


# --- staff --------------------------------------------------------------------------------
def test_the_staff_list_shows_organ_unit_and_posts(staffed, login):
    w = staffed
    rows = login(w.county_supervisor).get(api("staff-list"), {"ordering": "staff_no"}).json()["results"]
    assert [r["name"] for r in rows] == ["李审批", "王主任", "退休人员"]
    assert rows[0]["organ"] == {"id": w.tianhe_bureau.pk, "name": "广州市天河区市场监督管理局"}
    assert rows[0]["unit"] == {"id": w.tianhe_licensing.pk, "name": "行政审批科"}
    assert rows[0]["posts"] == ["审批岗"]
    assert rows[2]["unit"] is None and rows[2]["is_active"] is False


def test_a_shenzhen_reader_does_not_see_a_tianhe_post_held_by_its_own_staff(staffed, login):
    rows = login(staffed.shenzhen_handler).get(api("staff-list")).json()["results"]
    assert [(r["name"], r["posts"]) for r in rows] == [("赵福田", [])]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"q": "王"}, ["王主任"]),
        ({"q": "TH001"}, ["李审批"]),
        ({"is_active": "false"}, ["退休人员"]),
        ({"region": "4403"}, ["赵福田"]),
    ],
)
def test_staff_are_searched_and_filtered(staffed, login, query, expected):
    rows = login(staffed.province_supervisor).get(api("staff-list"), query).json()["results"]
    assert [r["name"] for r in rows] == expected


def test_staff_are_filtered_by_organ_and_unit(staffed, login):
    client = login(staffed.province_supervisor)
    assert len(ids(client.get(api("staff-list"), {"organ": staffed.futian_bureau.pk}))) == 1
    assert ids(client.get(api("staff-list"), {"unit": staffed.tianhe_office.pk})) == [staffed.wang.pk]
    assert "organ" in errors_by_field(client.get(api("staff-list"), {"organ": "x"}))


# --- clocks -------------------------------------------------------------------------------
@pytest.fixture
def clocks(world):
    """Clocks in 天河 as of 2026-11-27 (the tests run against the real now)."""
    w = world
    w.late = make_clock(w.tianhe_bureau, start="2024-03-01", kind="licence")  # long overdue, still running
    w.future = make_clock(w.tianhe_bureau, start="2030-01-07", kind="licence")  # not yet due
    w.national_day = make_clock(w.tianhe_bureau, start="2026-09-28", kind="complaint")  # due 2026-10-30
    w.national_day.state = Clock.State.STOPPED
    w.national_day.stopped_at = at("2026-10-20")  # stopped in time
    w.national_day.save()
    w.stopped_late = make_clock(w.tianhe_bureau, start="2025-01-02", kind="complaint")
    w.stopped_late.state = Clock.State.STOPPED
    w.stopped_late.stopped_at = at("2026-06-01")  # stopped, but after its deadline
    w.stopped_late.save()
    w.paused = make_clock(w.tianhe_bureau, start="2026-11-02", kind="licence", state=Clock.State.PAUSED)
    ClockPause.objects.create(clock=w.paused, started_at=at("2026-11-10"), reason="专家评审", legal_basis="行政许可法第四十五条")
    engine.refresh(w.paused)  # an open pause: no deadline while it lasts
    w.elsewhere = make_clock(w.futian_bureau, start="2024-03-01", kind="licence")
    return w


def test_the_clock_list_orders_by_deadline_with_undated_clocks_last(clocks, login):
    w = clocks
    client = login(w.county_supervisor)
    assert w.paused.due_at is None
    assert ids(client.get(api("clock-list"))) == [w.late.pk, w.stopped_late.pk, w.national_day.pk, w.future.pk, w.paused.pk]
    assert ids(client.get(api("clock-list"), {"ordering": "-due_at"})) == [
        w.future.pk, w.national_day.pk, w.stopped_late.pk, w.late.pk, w.paused.pk
    ]


def test_overdue_means_past_due_now_or_stopped_after_the_deadline(clocks, login):
    w = clocks
    client = login(w.county_supervisor)
    assert ids(client.get(api("clock-list"), {"overdue": "true"})) == [w.late.pk, w.stopped_late.pk]
    assert ids(client.get(api("clock-list"), {"overdue": "false"})) == [w.national_day.pk, w.future.pk, w.paused.pk]
    flags = {r["id"]: r["is_overdue"] for r in client.get(api("clock-list")).json()["results"]}
    assert flags == {w.late.pk: True, w.stopped_late.pk: True, w.national_day.pk: False, w.future.pk: False, w.paused.pk: False}


def test_clocks_are_filtered_by_state_kind_and_due_dates(clocks, login):
    w = clocks
    client = login(w.county_supervisor)
    assert ids(client.get(api("clock-list"), {"state": "stopped"})) == [w.stopped_late.pk, w.national_day.pk]
    assert ids(client.get(api("clock-list"), {"kind": "complaint"})) == [w.stopped_late.pk, w.national_day.pk]
    # Due 2026-10-30 (stored as 2026-10-31 00:00): inclusive on both sides.
    assert ids(client.get(api("clock-list"), {"due_after": "2026-10-30", "due_before": "2026-10-30"})) == [w.national_day.pk]
    assert ids(client.get(api("clock-list"), {"due_before": "2026-10-29", "due_after": "2025-01-01"})) == [w.stopped_late.pk]
    assert ids(client.get(api("clock-list"), {"due_after": "2026-10-31"})) == [w.future.pk]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"due_before": "notadate"}, "due_before"),
        ({"due_after": "2026-02-30"}, "due_after"),
        ({"overdue": "maybe"}, "overdue"),
        ({"state": "sleeping"}, "state"),
        ({"ordering": "label"}, "ordering"),
        ({"due_after": "2026-12-01", "due_before": "2026-11-01"}, "due_after"),
    ],
)
def test_a_malformed_clock_filter_is_a_400_naming_the_parameter(clocks, login, query, field):
    assert field in errors_by_field(login(clocks.county_supervisor).get(api("clock-list"), query))


def test_a_clock_shows_its_pauses_extensions_and_explanation(world, login):
    clock = make_clock(world.tianhe_bureau, start="2026-09-28")
    ClockPause.objects.create(clock=clock, started_at=at("2026-10-12"), ended_at=at("2026-10-14", 17), reason="专家评审")
    ClockExtension.objects.create(clock=clock, days=10, reason="情况复杂", approver_name="局长", at=at("2026-10-20"))
    clock.extension_days = 10
    clock.save()
    engine.refresh(clock)
    data = login(world.county_handler).get(api("clock-detail", clock.pk)).json()
    assert data["pauses"][0]["reason"] == "专家评审"
    assert data["extensions"] == [{"days": 10, "reason": "情况复杂", "approver_name": "局长", "at": "2026-10-20T09:00:00+08:00"}]
    assert data["organ"] == {"id": world.tianhe_bureau.pk, "name": "广州市天河区市场监督管理局"}
    assert data["due_at"] == clock.due_at.astimezone(SH).isoformat()
    assert data["due_label"] == "2026-11-17 24:00" and data["due_label"] in data["explanation"]
    assert "国庆节" in data["explanation"] and "专家评审" in data["explanation"]


# --- calendar -----------------------------------------------------------------------------
def test_the_calendar_shows_national_day_and_the_makeup_saturday(world, login):
    rows = login(world.county_handler).get(api("calendar-day-list"), {"year": 2026, "month": 10}).json()["results"]
    assert len(rows) == 31
    by_date = {r["date"]: r for r in rows}
    assert by_date["2026-10-01"]["is_working"] is False and by_date["2026-10-01"]["name"] == "国庆节"
    assert by_date["2026-10-10"]["is_working"] is True and by_date["2026-10-10"]["kind"] == "makeup"
    assert by_date["2026-10-10"]["weekday"] == 6
    assert not any(r["provisional"] for r in rows)


def test_the_calendar_lists_a_whole_year_on_one_page_when_asked(world, login):
    data = login(world.county_handler).get(api("calendar-day-list"), {"year": 2026, "page_size": 500}).json()
    assert data["count"] == 365 and len(data["results"]) == 365 and data["next"] is None
    working = login(world.county_handler).get(api("calendar-day-list"), {"year": 2026, "is_working": "true"}).json()
    assert working["count"] == sum(r["is_working"] for r in data["results"])


def test_a_year_not_loaded_is_shown_with_its_statutory_holidays_and_marked_provisional(world, login):
    rows = login(world.county_handler).get(api("calendar-day-list"), {"year": 2041, "month": 1}).json()["results"]
    assert all(r["provisional"] for r in rows)
    # 2041-01-01 is a Tuesday: New Year's Day by law, then the weekend rule.
    assert [r["is_working"] for r in rows[:7]] == [False, True, True, True, False, False, True]
    assert (rows[0]["kind"], rows[0]["name"]) == ("holiday", "元旦") and rows[1]["kind"] == "workday"


@pytest.mark.parametrize("query", [{}, {"year": "abc"}, {"year": 1999}, {"year": 2026, "month": 13}])
def test_a_malformed_calendar_query_is_a_400(world, login, query):
    field = "month" if "month" in query else "year"
    assert field in errors_by_field(login(world.county_handler).get(api("calendar-day-list"), query))


# --- deadline calculator ------------------------------------------------------------------
def deadline(client, **params):
    return client.get(api("deadline"), params)


def test_twenty_working_days_from_2026_09_28_end_on_october_30(world, login):
    data = deadline(login(world.county_handler), start="2026-09-28", days=20).json()
    assert data["due_date"] == "2026-10-30"
    assert data["due_at"] == "2026-10-31T00:00:00+08:00" and data["due_label"] == "2026-10-30 24:00"
    assert data["working_days_counted"] == 20 and data["provisional"] is False
    # National Day is skipped and the make-up Saturday 10-10 counts.
    assert "国庆节 10-01 至 10-07" in data["explanation"] and "10-10" in data["explanation"]


def test_a_pause_over_three_working_days_moves_the_deadline_to_november_4(world, login):
    data = deadline(login(world.county_handler), start="2026-09-28", days=20, pause="2026-10-12:2026-10-14", extend=0).json()
    assert data["due_date"] == "2026-11-04"
    assert data["pauses"] == [{"first": "2026-10-12", "last": "2026-10-14"}]


def test_the_makeup_saturday_counts_as_a_working_day(world, login):
    # From Friday 10-09, one working day ends on Saturday 10-10, a make-up working day.
    assert deadline(login(world.county_handler), start="2026-10-09", days=1).json()["due_date"] == "2026-10-10"


def test_several_pauses_and_an_extension_are_accepted(world, login):
    client = login(world.county_handler)
    response = client.get(
        api("deadline") + "?start=2026-09-28&days=20&pause=2026-10-12:2026-10-12&pause=2026-10-14:2026-10-14&extend=10"
    )
    assert response.status_code == 200
    assert len(response.json()["pauses"]) == 2


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "2026-02-30", "days": 20}, "start"),
        ({"start": "2026-09-28", "days": -1}, "days"),
        ({"start": "2026-09-28", "days": "twenty"}, "days"),
        ({"start": "2026-09-28", "days": 20, "pause": "2026-10-14:2026-10-12"}, "pause"),
        ({"start": "2026-09-28", "days": 20, "pause": "2026-09-01:2026-09-02"}, "pause"),
        ({"start": "2026-09-28", "days": 20, "pause": "2026-10-12"}, "pause"),
        ({"start": "2026-09-28", "days": 20, "unit": "foo"}, "unit"),
        ({"start": "2026-09-28", "days": 20, "extend": "-3"}, "extend"),
        ({"days": 20}, "start"),
        ({"start": "2026-09-28"}, "days"),
    ],
)
def test_bad_deadline_input_is_a_400_naming_the_field(world, login, params, field):
    response = deadline(login(world.county_handler), **params)
    errors = errors_by_field(response)
    assert field in errors and errors[field]


def test_deadline_errors_speak_the_users_language(world, login):
    response = login(world.county_handler).get(
        api("deadline"), {"start": "2026-02-30", "days": 20}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.json()["errors"] == [
        {"field": "start", "message": "start：“2026-02-30”不是有效日期，应为 YYYY-MM-DD", "code": "invalid"}
    ]


def test_errors_are_in_english_for_an_english_reader(world, login):
    client = login(world.county_handler)
    response = client.get(api("deadline"), {"start": "2026-02-30", "days": 20}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["errors"][0]["message"] == 'start: "2026-02-30" is not a valid date; use YYYY-MM-DD'
    response = client.get(api("organ-list"), {"page": "abc", "region": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert errors_by_field(response)["region"].startswith("must be a region code")


# --- paging, errors, authentication -------------------------------------------------------
def test_lists_are_paged_with_a_page_size_parameter(world, login):
    client = login(world.province_supervisor)
    first = client.get(api("organ-list"), {"page_size": 4, "ordering": "id"}).json()
    assert first["count"] == 6 and len(first["results"]) == 4 and first["next"] and first["previous"] is None
    second = client.get(api("organ-list"), {"page_size": 4, "ordering": "id", "page": 2}).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])


def test_the_default_page_size_comes_from_settings_and_the_largest_is_500(world, login, settings):
    villages = [
        Region(code=f"440106001{n:03d}", prefix=f"440106001{n:03d}", name=f"村{n}", level=5, parent=world.shipai)
        for n in range(1, 521)
    ]
    Region.objects.bulk_create(villages)
    client = login(world.province_supervisor)
    assert len(client.get(api("region-list")).json()["results"]) == settings.REST_FRAMEWORK["PAGE_SIZE"]
    assert len(client.get(api("region-list"), {"page_size": 1000}).json()["results"]) == 500


@pytest.mark.parametrize("query, field", [({"page": "abc"}, "page"), ({"page": 0}, "page"), ({"page_size": "lots"}, "page_size")])
def test_a_malformed_page_parameter_is_a_400(world, login, query, field):
    assert field in errors_by_field(login(world.province_supervisor).get(api("organ-list"), query))


def test_a_page_past_the_end_is_a_404(world, login):
    assert login(world.province_supervisor).get(api("organ-list"), {"page": 9}).status_code == 404


ENDPOINTS = [
    "/api/v1/regions/",
    "/api/v1/regions/440100000000/",
    "/api/v1/organs/",
    "/api/v1/organs/1/",
    "/api/v1/staff/",
    "/api/v1/staff/1/",
    "/api/v1/clocks/",
    "/api/v1/clocks/1/",
    "/api/v1/calendar/days/?year=2026",
    "/api/v1/deadline/?start=2026-09-28&days=20",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_an_anonymous_caller_is_refused_everywhere(world, client, url):
    response = client.get(url)
    assert response.status_code in (401, 403)
    assert response.json()["errors"][0]["code"] == "not_authenticated"


@pytest.mark.parametrize("url", [u for u in ENDPOINTS if "?" not in u and not u.endswith("/1/")])
def test_the_api_is_read_only(world, login, url):
    assert login(world.admin).post(url, {}).status_code == 405


# --- query counts -------------------------------------------------------------------------
_organ_numbers = iter(range(100_000))


def many_organs(world, n):
    for i in (next(_organ_numbers) for _ in range(n)):
        organ = make_organ(f"天河区测试机关{i}", world.tianhe, parent=world.tianhe_bureau)
        unit = Unit.objects.create(organ=organ, name="办公室")
        staff = Staff.objects.create(organ=organ, unit=unit, name=f"员工{i}")
        post = Post.objects.create(organ=organ, unit=unit, title="岗位")
        post.holders.add(staff)
        make_clock(organ)


# Session, user, grants; then the page count and the page itself; then prefetches.
@pytest.mark.parametrize(
    "url, queries",
    [
        ("/api/v1/regions/", 5),
        ("/api/v1/organs/", 5),
        ("/api/v1/staff/", 6),  # + posts of the page's staff
        ("/api/v1/clocks/", 5),
        ("/api/v1/calendar/days/?year=2026", 5),  # session, user, grants, days, year loaded?
    ],
)
def test_a_list_costs_the_same_number_of_queries_for_few_rows_and_many(world, login, django_assert_num_queries, url, queries):
    client = login(world.province_supervisor)
    many_organs(world, 2)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
    many_organs(world, 20)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_an_organ_detail_costs_a_fixed_number_of_queries(staffed, login, django_assert_num_queries):
    client = login(staffed.province_supervisor)
    # session, user, grants, organ (+ staff count), units, posts (+ unit), targets, holders, visible parent
    with django_assert_num_queries(9):
        client.get(api("organ-detail", staffed.tianhe_bureau.pk))
    for i in range(10):
        post = Post.objects.create(organ=staffed.tianhe_bureau, title=f"岗位{i}")
        PostTarget.objects.create(post=post, indicator="指标", value=1)
        post.holders.add(Staff.objects.create(organ=staffed.tianhe_bureau, name=f"员工{i}"))
        Unit.objects.create(organ=staffed.tianhe_bureau, name=f"科室{i}")
    with django_assert_num_queries(9):
        client.get(api("organ-detail", staffed.tianhe_bureau.pk))


def test_a_clock_detail_costs_a_fixed_number_of_queries(world, login, django_assert_num_queries):
    clock = make_clock(world.tianhe_bureau)
    for day in ("2026-10-12", "2026-10-19"):
        ClockPause.objects.create(clock=clock, started_at=at(day), ended_at=at(day, 17), reason="检验")
    client = login(world.province_supervisor)
    # session, user, grants, clock, pauses, extensions, calendar revision
    with django_assert_num_queries(7):
        assert client.get(api("clock-detail", clock.pk)).status_code == 200


# --- OpenAPI schema and documentation pages -----------------------------------------------
def test_the_schema_is_valid_openapi_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_the_schema_documents_every_endpoint_and_its_parameters(world, login):
    response = login(world.county_handler).get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/v1/regions/", "/api/v1/regions/{code}/", "/api/v1/organs/", "/api/v1/organs/{id}/",
        "/api/v1/staff/", "/api/v1/staff/{id}/", "/api/v1/clocks/", "/api/v1/clocks/{id}/",
        "/api/v1/calendar/days/", "/api/v1/deadline/",
    ]:
        assert path in paths, path
    clock_params = {p["name"] for p in paths["/api/v1/clocks/"]["get"]["parameters"]}
    assert {"state", "kind", "overdue", "due_before", "due_after", "ordering", "page", "page_size"} <= clock_params
    deadline_op = paths["/api/v1/deadline/"]["get"]
    assert {p["name"] for p in deadline_op["parameters"]} == {"start", "days", "unit", "pause", "extend"}
    assert "400" in deadline_op["responses"]


@pytest.mark.parametrize("name", ["api-docs", "api-redoc"])
def test_the_documentation_pages_load_only_local_assets(db, client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r"""(?:src|href)=["']((?:https?:)?//[^"']+)""", html)
    assert external == []
    scripts = re.findall(r"""<script[^>]*src=["']([^"']+)""", html)
    assert scripts and all(s.startswith("/") for s in scripts)
    # The site's Content-Security-Policy forbids inline scripts: every script has a src.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html) == []


def test_the_swagger_start_up_script_is_served_separately(db, client):
    response = client.get(reverse("api-docs"), {"script": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


def test_the_documentation_assets_are_served_by_the_project(db, client):
    html = client.get(reverse("api-docs")).content.decode()
    bundle = re.search(r"""src=["']([^"']*swagger-ui-bundle\.js)""", html).group(1)
    response = client.get(bundle)
    assert response.status_code == 200
