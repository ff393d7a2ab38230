"""Statistics tables of hundreds of organs: paged (page size, sort and filters kept in every link),
sticky headers, charts of the top and bottom N, exports with every row, a fixed query count."""
from io import BytesIO

import pytest
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.complaints import actions as act
from xiaoneng.web import stat_tables
from xiaoneng.web.stat_tables import Sort

STATS = reverse("complaints:stats")


# --- the helpers on known data ------------------------------------------------------------------
def test_the_chart_takes_the_n_highest_and_the_n_lowest_rows():
    rows = [{"name": f"机关{i:02d}", "n": i} for i in range(1, 26)]
    top, bottom = stat_tables.top_bottom(rows, lambda r: r["n"], 3)
    assert [r["n"] for r in top] == [25, 24, 23]
    assert [r["n"] for r in bottom] == [3, 2, 1]


def test_rows_without_a_value_are_left_out_and_few_rows_make_one_chart():
    rows = [{"n": 5}, {"n": None}, {"n": 7}, {"n": 1}]
    top, bottom = stat_tables.top_bottom(rows, lambda r: r["n"], 2)
    assert [r["n"] for r in top] == [7, 5, 1] and bottom == []


@override_settings(XIAONENG_RULES={"stats_chart_top_n": 1})
def test_the_chart_size_is_a_programme_rule():
    chart = stat_tables.chart_pair("件数", [3, 9, 4, 1], float, str)
    assert chart["top"]["labels"] == ["9"] and chart["bottom"]["labels"] == ["1"]
    assert chart["n"] == 1 and chart["total"] == 4 and chart["split"]


def test_a_table_pages_sorts_and_keeps_every_other_parameter_in_its_links():
    rows = [{"name": f"机关{i:02d}", "n": i % 7} for i in range(60)]
    sorts = {"name": Sort("机关", lambda r: r["name"]), "n": Sort("件数", lambda r: r["n"], numeric=True)}
    request = RequestFactory().get("/s/", {"received_from": "2026-11-01", "other_sort": "-count",
                                           "organ_sort": "-n", "organ_per_page": "25", "organ_page": "2"})
    table = stat_tables.paged(request, "organ", rows, sorts, default_sort="name")
    assert table.total == 60 and len(table.rows) == 25 and table.page.number == 2
    assert [r["n"] for r in table.rows] == sorted([r["n"] for r in table.rows], reverse=True)
    for href in (table.prev_href, table.next_href, table.sorts["name"].href):
        assert "received_from=2026-11-01" in href and "other_sort=-count" in href and "organ_per_page=25" in href
    assert "organ_page=3" in table.next_href and "organ_page=1" in table.prev_href
    assert "organ_page" not in table.sorts["name"].href  # a new sort starts on page 1
    assert table.sorts["n"].state == "descending" and "organ_sort=n#" in table.sorts["n"].href  # clicked again: ascending
    assert ("received_from", "2026-11-01") in table.hidden and not any(k == "organ_page" for k, _v in table.hidden)


def test_bad_paging_parameters_fall_back_to_the_defaults():
    rows = list(range(30))
    request = RequestFactory().get("/s/", {"t_sort": "drop table", "t_per_page": "7", "t_page": "x"})
    table = stat_tables.paged(request, "t", rows, {"v": Sort("v", int)}, default_sort="v")
    assert table.sort == "v" and table.per_page == 25 and table.page.number == 1


# --- the complaint statistics with 27 organs ----------------------------------------------------
@pytest.fixture
def many(desk):
    """27 organs of 天河: 机关01 and 机关02 got 3 complaints each, 机关03 two, every other one."""
    from conftest import make_organ

    organs = [make_organ(f"天河区测试机关{i:02d}", desk.w.tianhe) for i in range(1, 28)]
    for i, organ in enumerate(organs, start=1):
        for k in range(3 if i <= 2 else 2 if i == 3 else 1):
            complaint, _secret = desk.file(title=f"件{i}-{k}", content=f"件{i}-{k}")
            act.do_accept(complaint)
            act.do_route(complaint, organ=organ)
    desk.organs = organs
    return desk


def organ_names(response):
    return [r.label for r in next(t for t in response.context["tables"] if t["key"] == "organ")["t"].rows]


@override_settings(XIAONENG_RULES={"stats_chart_top_n": 2})
def test_the_organ_table_is_paged_and_its_chart_shows_the_top_and_bottom_two(many, login):
    client = login(many.w.city_supervisor)
    first = client.get(STATS, {"received_from": "2026-01-01"})
    assert len(organ_names(first)) == 25
    table = next(t for t in first.context["tables"] if t["key"] == "organ")
    assert table["chart"]["top"]["labels"] == ["天河区测试机关01", "天河区测试机关02"]
    assert table["chart"]["top"]["values"] == [3, 3]
    assert table["chart"]["bottom"]["labels"] == ["天河区测试机关26", "天河区测试机关27"]
    body = first.content.decode()
    assert 'id="complaint-chart-organ-bottom"' in body and "查看全部" in body
    assert 'class="table-sticky"' in body
    # The next page of the organ table keeps the filter; the channel table stays where it was.
    nxt = table["t"].next_href
    assert "received_from=2026-01-01" in nxt and "organ_page=2" in nxt
    second = client.get(STATS + nxt.split("#")[0])
    assert organ_names(second) == ["天河区测试机关26", "天河区测试机关27"]
    # Sorted by name, descending, 50 a page.
    by_name = client.get(STATS, {"organ_sort": "-label", "organ_per_page": "50"})
    assert organ_names(by_name)[:2] == ["天河区测试机关27", "天河区测试机关26"] and len(organ_names(by_name)) == 27


def test_the_organ_export_has_every_row_not_one_page(many, login):
    response = login(many.w.city_supervisor).get(STATS, {"export": "organ", "organ_page": "2", "organ_per_page": "25"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("按承办机关", "件数") and len(rows) == 1 + 27
    assert sum(n for _name, n in rows[1:]) == 32


def _queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(STATS, params).status_code == 200
    return len(ctx.captured_queries)


def test_the_statistics_page_costs_the_same_queries_on_any_page_and_for_any_number_of_organs(desk, login):
    from conftest import make_organ

    client = login(desk.w.city_supervisor)
    complaint, _secret = desk.file()
    act.do_accept(complaint)
    act.do_route(complaint, organ=desk.w.tianhe_bureau)
    few = _queries(client, {})
    for i in range(30):
        complaint, _secret = desk.file(title=f"多{i}", content=f"多{i}")
        act.do_accept(complaint)
        act.do_route(complaint, organ=make_organ(f"天河区多余机关{i:02d}", desk.w.tianhe))
    assert _queries(client, {}) == few
    assert _queries(client, {"organ_page": "2"}) == few
    assert _queries(client, {"organ_sort": "-count", "organ_per_page": "100"}) == few


def test_an_outsider_sees_no_statistics_table_chart_or_export(many, login):
    client = login(many.w.outsider)
    for params in ({}, {"organ_page": "2"}, {"export": "organ"}):
        assert client.get(STATS, params).status_code == 404
    assert login(many.w.outsider).get(reverse("ratings:stats"), {"organ_page": "2"}).context["organs"] == []


# --- the supervision dashboard's organ ranking --------------------------------------------------
@pytest.fixture
def story(world, matters):
    from test_rollups import build_story

    return build_story(world, matters)


@pytest.fixture
def frozen(monkeypatch):
    from test_rollups import NOW

    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


PERIOD = {"from": "2026-09", "to": "2026-11"}


@override_settings(XIAONENG_RULES={"stats_chart_top_n": 1})
def test_the_dashboard_charts_the_best_and_the_worst_organ_and_links_to_the_whole_ranking(world, story, login, frozen):
    from xiaoneng.supervision import stats

    client = login(world.province_supervisor)
    region = client.get(reverse("dashboard:region", args=[world.gz.code]), PERIOD)
    charts = region.context["ranking_charts"]
    judged = [f for f in stats.rank(stats.by_organ(world.province_supervisor, stats.period_from(PERIOD), world.gz.prefix))
              if f.on_time_rate is not None]
    assert len(judged) == 3 and charts["split"]  # three organs: the best and the worst, not the middle one
    assert charts["top"]["labels"] == [judged[0].label] and charts["bottom"]["labels"] == [judged[-1].label]
    assert charts["top"]["values"][0] >= charts["bottom"]["values"][0]
    body = region.content.decode()
    assert 'id="dash-ranking-bottom"' in body and "查看全部" in body
    assert f'{reverse("dashboard:organs")}?region={world.gz.code}' in region.context["organs_url"]


def test_the_organ_ranking_keeps_its_page_size_sort_and_period_in_its_links(world, story, login, frozen):
    client = login(world.province_supervisor)
    page = client.get(reverse("dashboard:organs"), {"region": world.gz.code, "sort": "late", "per_page": "25", **PERIOD})
    assert page.context["per_page"] == 25 and page.context["page"].paginator.per_page == 25
    assert ("per_page", "25") in page.context["hidden"] and "per_page=25" in page.context["extra_query"]
    assert ("sort", "late") in page.context["pager_hidden"] and ("from", "2026-09") in page.context["pager_hidden"]
    body = page.content.decode()
    assert 'class="table-sticky"' in body and 'name="per_page"' in body
    # A page size not on offer falls back to 50, never an error.
    assert client.get(reverse("dashboard:organs"), {"region": world.gz.code, "per_page": "100000"}).context["per_page"] == 50


def test_an_outsider_sees_no_organ_ranking(world, story, login, frozen):
    client = login(world.outsider)
    assert client.get(reverse("dashboard:organs"), {"region": world.gz.code, "per_page": "25"}).status_code == 404
    assert client.get(reverse("dashboard:organs"), {"region": world.gz.code, "export": "xlsx"}).status_code == 404
