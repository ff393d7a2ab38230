"""The drill-down of a quarterly interim result: its lines and, per line, exactly the records it
counted over the year to date; the office's only."""
import re

import pytest
from django.db.models import F
from django.urls import reverse

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import InterimResult
from xiaoneng.clocks.models import Clock

from .conftest import at


@pytest.fixture
def quarters(land):
    th = land.w.tianhe_bureau
    land.march = land.promise(th, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")  # late, due in March
    land.october = land.promise(th, "2026-09-28T10:00", 20, stop="2026-10-30T15:00")  # on time, due in October
    land.yuexiu = land.promise(land.w.yuexiu_bureau, "2026-02-02T09:00", 10, stop="2026-02-04T09:00")
    actions.do_compute_interim(land.period, quarter=1, at=at("2026-04-02T09:00"))
    actions.do_compute_interim(land.period, quarter=4, at=at("2027-01-03T09:00"))
    land.q1 = InterimResult.objects.get(quarter=1, organ=th)
    land.q4 = InterimResult.objects.get(quarter=4, organ=th)
    return land


def records_of(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-record="(\d+)"', page)}


def fraction(row, code) -> tuple[int, int]:
    formula = next(ln for ln in row.lines if ln["code"] == code)["formula"]
    num, den = re.search(r"= (\d+) / (\d+)", formula).groups()
    return int(num), int(den)


def test_the_interim_page_lists_the_lines_and_links_each_to_its_records(quarters, login):
    client = login(quarters.w.appraisal_officer)
    board = client.get(reverse("appraisal:board", args=[quarters.period.pk]), {"quarter": "1"}).content.decode()
    assert reverse("appraisal:interim", args=[quarters.q1.pk]) in board
    page = client.get(reverse("appraisal:interim", args=[quarters.q1.pk])).content.decode()
    assert "2026-03-31" in page and str(quarters.q1.total) in page
    for ln in quarters.q1.lines:
        assert f'data-line="{ln["code"]}"' in page and ln["formula"] in page
        assert reverse("appraisal:interim-records", args=[quarters.q1.pk, ln["code"]]) in page


def test_an_interim_lines_records_are_exactly_those_of_its_year_to_date_window(quarters, login):
    client = login(quarters.w.appraisal_officer)
    q1 = client.get(reverse("appraisal:interim-records", args=[quarters.q1.pk, "1.1"])).content.decode()
    assert records_of(q1) == {quarters.march.pk}  # the clock due in October is not yet counted
    assert fraction(quarters.q1, "1.1") == (0, 1)
    q4 = client.get(reverse("appraisal:interim-records", args=[quarters.q4.pk, "1.1"])).content.decode()
    assert records_of(q4) == {quarters.march.pk, quarters.october.pk}
    on_time, counted = fraction(quarters.q4, "1.1")
    assert counted == len(records_of(q4))
    assert on_time == Clock.objects.filter(pk__in=records_of(q4), stopped_at__lte=F("due_at")).count()
    assert quarters.yuexiu.pk not in records_of(q4)  # another organ's records never


def test_an_unknown_line_or_interim_result_is_404(quarters, login):
    client = login(quarters.w.appraisal_officer)
    assert client.get(reverse("appraisal:interim-records", args=[quarters.q1.pk, "9.9"])).status_code == 404
    assert client.get(reverse("appraisal:interim", args=[quarters.q4.pk + 100])).status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "county_leader", "auditor"])
def test_an_outsider_sees_no_interim_result(quarters, login, persona):
    client = login(getattr(quarters.w, persona))
    assert client.get(reverse("appraisal:interim", args=[quarters.q1.pk])).status_code == 404
    assert client.get(reverse("appraisal:interim-records", args=[quarters.q1.pk, "1.1"])).status_code == 404


def test_an_office_of_another_region_sees_no_interim_result(quarters, login):
    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    client = login(make_user("sz_officer", Role.APPRAISAL_OFFICER, region=quarters.w.sz))
    assert client.get(reverse("appraisal:interim", args=[quarters.q1.pk])).status_code == 404
    assert client.get(reverse("appraisal:interim-records", args=[quarters.q1.pk, "1.1"])).status_code == 404


def test_the_interim_pages_read_in_english(quarters, login):
    client = login(quarters.w.appraisal_officer)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("appraisal:interim", args=[quarters.q1.pk])).content.decode()
    assert "Interim result" in page and "Q1" in page and "Window" in page and "阶段性" not in page
    records = client.get(reverse("appraisal:interim-records", args=[quarters.q1.pk, "1.1"])).content.decode()
    assert "Back to the interim result" in records and "返回" not in records
