"""Charts: the JSON each page carries is the right numbers, and only what the reader may see."""
import json
import re

from django.urls import reverse

from xiaoneng.appraisal import actions

from .conftest import at


def chart(html: str, name: str):
    found = re.search(rf'<script id="chart-{name}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_the_radar_sets_each_top_level_indicator_against_the_class_average(published, login):
    html = login(published.w.county_leader).get(reverse("appraisal:result", args=[published.th.pk])).content.decode()
    radar = chart(html, "radar")
    assert [i["name"] for i in radar["indicators"]] == ["办件效能", "作风建设"]
    # 天河: 办件效能 = on time 0 × 70 % + cards 100 × 30 % = 30; 作风建设 = 100 × 50 % + 100 × 25 % + goal 0 × 25 % = 75.
    # 越秀: 100 and 75. The average is over the class, never another organ's own figure.
    assert radar["series"] == [{"name": published.w.tianhe_bureau.name, "values": [30.0, 75.0]},
                               {"name": "类别平均", "values": [65.0, 75.0]}]
    assert published.w.yuexiu_bureau.name not in json.dumps(radar, ensure_ascii=False)
    assert "vendor/echarts/echarts.min.js" in html and "appraisal/js/charts.js" in html


def test_the_trend_shows_only_the_years_the_organ_may_read(two_years, login):
    land = two_years
    # A 2027 period computed but not yet announced: the organ must not see its total in the trend.
    s27 = actions.do_create_scheme(organ_class=land.cls, year=2027, title="2027年方案", rows=_tree())
    p27 = actions.do_activate_scheme(s27)
    actions.do_close_period(p27, at=at("2028-01-05T09:00"))
    actions.do_compute_period(p27, at=at("2028-01-05T09:30"))
    client = login(land.w.county_leader)
    trend = chart(client.get(reverse("appraisal:result", args=[land.th.pk])).content.decode(), "trend")
    assert trend["labels"] == ["2025", "2026"]
    assert trend["series"] == [{"name": land.w.tianhe_bureau.name, "values": [90.0, 48.0]},
                               {"name": "类别平均", "values": [90.0, 69.0]}]
    office = chart(login(land.w.appraisal_officer).get(reverse("appraisal:board", args=[p27.pk])).content.decode(),
                   "trend")
    assert office["labels"] == ["2025", "2026", "2027"]  # the office sees every computed year


def _tree():
    from .conftest import TREE

    return [dict(r) for r in TREE]


def test_the_ranking_bar_lists_the_class_by_rank(published, login):
    html = login(published.w.county_leader).get(reverse("appraisal:board", args=[published.period.pk])).content.decode()
    bar = chart(html, "ranking")
    assert bar["labels"] == [f"1. {published.w.yuexiu_bureau.name}", f"2. {published.w.tianhe_bureau.name}"]
    assert bar["values"] == [90.0, 48.0] and bar["cut"] is False and bar["more_url"] == ""


def test_a_large_class_shows_the_first_and_last_n_with_a_link_to_the_full_list(published, login, settings):
    settings.XIAONENG_RULES = {"appraisal_chart_ranking_n": 1}
    from tests.conftest import make_organ

    w = published.w
    extra = [make_organ(f"区县局{n}", w.tianhe) for n in range(3)]
    published.promise(extra[0], "2027-03-02T09:00", 5, stop="2027-03-20T10:00")  # one late case: the last place
    s27 = actions.do_create_scheme(organ_class=published.cls, year=2027, title="2027年方案", rows=_tree())
    published.cls.organs.add(*extra)
    p27 = actions.do_activate_scheme(s27)
    actions.do_close_period(p27, at=at("2028-01-05T09:00"))
    actions.do_compute_period(p27, at=at("2028-01-05T09:30"))
    html = login(w.appraisal_officer).get(reverse("appraisal:board", args=[p27.pk])).content.decode()
    bar = chart(html, "ranking")
    assert len(bar["labels"]) == 2 and bar["cut"] is True and bar["total"] == 5
    ordered = list(p27.results.select_related("organ").order_by("rank", "organ__name"))
    assert bar["labels"] == [f"{r.rank}. {r.organ.name}" for r in (ordered[0], ordered[-1])]
    assert bar["more_url"] == f"{reverse('appraisal:scores')}?period={p27.pk}"
    assert 'data-testid="ranking-more"' in html


def test_an_organ_sees_no_chart_of_a_provisional_class_ranking(land, login):
    land.promise(land.w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    client = login(land.w.county_leader)
    assert client.get(reverse("appraisal:board", args=[land.period.pk])).status_code == 404
