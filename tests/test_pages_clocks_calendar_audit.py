"""Pages for clocks, the calendar and the audit log: scoped, filterable, exportable, sturdy."""
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.audit.models import AuditEntry
from xiaoneng.calendar.models import CalendarDay, CalendarYear
from xiaoneng.clocks import actions

SH = ZoneInfo("Asia/Shanghai")


def make_clock(organ, label, when="2026-09-28T10:00", limit=20):
    return actions.do_start_clock(
        kind="test", label=label, start_at=datetime.fromisoformat(when).replace(tzinfo=SH), limit=limit, organ=organ
    )


@pytest.fixture
def clocks(world):
    return {
        "tianhe": make_clock(world.tianhe_bureau, "天河办件"),
        "station": make_clock(world.tianhe_station, "石牌办件"),
        "futian": make_clock(world.futian_bureau, "福田办件"),
    }


def labels(response):
    return {c.label for c in response.context["rows"]}


def test_a_county_handler_sees_only_clocks_of_his_bureau_and_below(world, clocks, login):
    client = login(world.county_handler)
    assert labels(client.get(reverse("clocks:index"))) == {"天河办件", "石牌办件"}
    assert client.get(reverse("clocks:detail", args=[clocks["futian"].pk])).status_code == 404
    assert client.get(reverse("clocks:detail", args=[clocks["tianhe"].pk])).status_code == 200


def test_the_province_supervisor_sees_every_clock_and_the_outsider_none(world, clocks, login, client):
    assert labels(login(world.province_supervisor).get(reverse("clocks:index"))) == {"天河办件", "石牌办件", "福田办件"}
    client.logout()
    outsider = login(world.outsider)
    assert labels(outsider.get(reverse("clocks:index"))) == set()
    assert outsider.get(reverse("clocks:detail", args=[clocks["tianhe"].pk])).status_code == 404


def test_the_clock_page_explains_the_deadline(world, clocks, login):
    page = login(world.county_handler).get(reverse("clocks:detail", args=[clocks["tianhe"].pk]))
    assert "国庆节" in page.content.decode() and "2026-10-30 24:00" in page.content.decode()


def test_clock_filters_and_bad_filter_values(world, clocks, login):
    client = login(world.province_supervisor)
    overdue = client.get(reverse("clocks:index"), {"status": "overdue"})
    assert labels(overdue) == {"天河办件", "石牌办件", "福田办件"}  # all were due 2026-10-30
    assert labels(client.get(reverse("clocks:index"), {"region": "440304000000"})) == {"福田办件"}
    bad = client.get(reverse("clocks:index"), {"due_from": "2026-13-01"})
    assert bad.status_code == 200 and labels(bad) == set() and "due_from" in bad.context["form"].errors
    backwards = client.get(reverse("clocks:index"), {"due_from": "2026-11-01", "due_to": "2026-10-01"})
    assert "due_to" in backwards.context["form"].errors


def test_the_clock_export_holds_exactly_the_scoped_rows(world, clocks, login):
    response = login(world.city_supervisor).get(reverse("clocks:index"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    names = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {"天河办件", "石牌办件"}


def test_the_clock_list_query_count_does_not_grow_with_rows(world, login, django_assert_max_num_queries):
    for i in range(30):
        make_clock(world.tianhe_bureau, f"办件{i}")
    client = login(world.province_supervisor)
    with django_assert_max_num_queries(12):
        client.get(reverse("clocks:index"), {"per_page": 100})


def test_everyone_with_a_role_can_read_the_calendar_but_the_outsider_cannot(world, login, client):
    page = login(world.county_handler).get(reverse("calendar:year"), {"year": 2026})
    assert page.status_code == 200 and "国庆节" in page.content.decode()
    assert page.context["can_manage"] is False
    client.logout()
    assert login(world.outsider).get(reverse("calendar:year")).status_code == 404


def test_a_handler_cannot_change_the_calendar(world, login):
    response = login(world.county_handler).post(
        reverse("calendar:set-day"), {"date": "2026-11-04", "is_working": "0", "reason": "x"}
    )
    assert response.status_code == 404
    assert CalendarDay.objects.get(date="2026-11-04").is_working


def test_an_administrator_changes_a_day_and_the_change_is_audited(world, login):
    client = login(world.admin)
    response = client.post(
        reverse("calendar:set-day"), {"date": "2026-11-04", "is_working": "0", "name": "台风", "reason": "省政府通知"}, follow=True
    )
    assert response.status_code == 200
    assert not CalendarDay.objects.get(date="2026-11-04").is_working
    entry = AuditEntry.objects.filter(action="calendar.set_day").latest("id")
    assert entry.actor == world.admin and entry.channel == "web"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"date": "2026-02-30", "is_working": "0", "reason": "x"}, "日期"),
        ({"date": "2026-11-04", "is_working": "maybe", "reason": "x"}, "类型"),
        ({"date": "2026-11-04", "is_working": "0", "reason": ""}, "修改原因"),
        ({"date": "1999-01-01", "is_working": "0", "reason": "x"}, "2000"),
    ],
)
def test_a_bad_day_form_says_what_is_wrong_and_changes_nothing(world, login, data, message):
    before = AuditEntry.objects.count()
    response = login(world.admin).post(reverse("calendar:set-day"), data, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert message in text
    assert AuditEntry.objects.count() == before


def test_an_administrator_imports_a_notice_through_the_page(world, login):
    notice = "year: 2027\nholiday: 2027-01-01..2027-01-03 元旦\nworkday: 2027-02-20 春节调休\n".encode()
    response = login(world.admin).post(
        reverse("calendar:import"), {"file": SimpleUploadedFile("2027.txt", notice)}, follow=True
    )
    assert response.status_code == 200 and CalendarYear.objects.filter(year=2027).exists()


def test_a_notice_in_the_wrong_encoding_is_refused_with_a_clear_message(world, login):
    notice = "year: 2027\nholiday: 2027-01-01 元旦\n".encode("gbk")
    response = login(world.admin).post(
        reverse("calendar:import"), {"file": SimpleUploadedFile("2027.txt", notice)}, follow=True
    )
    assert any("UTF-8" in str(m) for m in response.context["messages"])
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_the_calendar_year_exports_to_excel(world, login):
    response = login(world.county_handler).get(reverse("calendar:year"), {"year": 2026, "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 365


def test_the_audit_log_is_scoped_to_the_auditors_region(world, login, client):
    guangzhou = login(world.auditor).get(reverse("audit:index"), {"per_page": 100})
    shown = {e.object_repr for e in guangzhou.context["rows"]}
    assert "广州市天河区市场监督管理局" in shown and "深圳市福田区市场监督管理局" not in shown
    client.logout()
    assert login(world.county_handler).get(reverse("audit:index")).status_code == 404


def test_the_audit_page_verifies_the_chain(world, login):
    response = login(world.admin).post(reverse("audit:verify"), follow=True)
    assert any("完整" in str(m) for m in response.context["messages"])


def test_a_deadline_shows_in_one_legal_form_on_the_page_the_list_and_the_export(world, clocks, login):
    client = login(world.county_handler)
    detail = client.get(reverse("clocks:detail", args=[clocks["tianhe"].pk])).content.decode()
    assert "2026-10-30 24:00" in detail and "2026-10-31 00:00" not in detail
    listing = client.get(reverse("clocks:index")).content.decode()
    assert "2026-10-30 24:00" in listing and "2026-10-31 00:00" not in listing
    sheet = load_workbook(io.BytesIO(client.get(reverse("clocks:index"), {"export": "xlsx"}).content)).active
    header = [c.value for c in sheet[1]]
    due = {row[header.index("到期时间")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert due == {"2026-10-30 24:00"}


def test_a_clock_paused_on_its_last_day_is_not_shown_overdue(world, clocks, login):
    actions.do_pause_clock(clocks["tianhe"], at=datetime(2026, 10, 30, 10, tzinfo=SH), reason="检测检验",
                           legal_basis="《行政许可法》第四十五条")
    page = login(world.county_handler).get(reverse("clocks:detail", args=[clocks["tianhe"].pk]))
    assert not page.context["overdue"] and "暂停中" in page.content.decode()
