"""Complaint statistics: the figures per dimension, reply times and on-time rate, scoped,
computed by aggregate queries, charted and exported per table."""
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.complaints import actions as act
from xiaoneng.complaints import stats
from xiaoneng.complaints.models import Complaint

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 9, 0, tzinfo=CN)
STATS = reverse("complaints:stats")


def replied(desk, days: int, organ=None, region=None, **kw):
    """A complaint registered on MON and replied `days` later."""
    complaint, _s = desk.file(received_at=MON, region=region or desk.w.tianhe, **kw)
    act.do_accept(complaint, at=MON + timedelta(hours=1))
    act.do_route(complaint, organ=organ or desk.w.tianhe_bureau, at=MON + timedelta(hours=2))
    act.do_report_handling(complaint, report="已办", result="founded", at=MON + timedelta(days=days, hours=-1))
    return act.do_reply(complaint, text="答复", at=MON + timedelta(days=days))


@pytest.fixture
def figures(desk):
    replied(desk, 2, title="甲", content="甲")
    replied(desk, 4, title="乙", content="乙", channel="hotline", source_ref="12345-1")
    replied(desk, 9, title="丙", content="丙", organ=desk.w.yuexiu_bureau, region=desk.w.yuexiu)
    desk.file(title="丁", content="丁", anonymous=True, reply_channel="web", category=desk.attitude)
    return desk


def rows_of(dimension, queryset, root):
    return {r.label: r.count for r in stats.dimension_rows(queryset, dimension, root)}


def test_counts_per_dimension_for_a_city_supervisor(figures):
    w = figures.w
    everything = Complaint.objects.all()
    root = stats.scope_root(w.city_supervisor)
    assert root == w.gz
    assert rows_of("region", everything, root) == {"天河区": 3, "越秀区": 1}
    assert rows_of("channel", everything, root) == {"网上投诉": 3, "民声热线": 1}
    assert rows_of("category", everything, root) == {"办事拖拉": 3, "服务态度": 1}
    assert rows_of("result", everything, root) == {"属实": 3, "（尚无结论）": 1}
    assert rows_of("status", everything, root) == {"已登记": 1, "已答复": 3}
    assert rows_of("organ", everything, root) == {w.tianhe_bureau.name: 2, w.yuexiu_bureau.name: 1, "（尚未转办）": 1}


def test_reply_times_are_the_average_and_median_in_days(figures):
    times = stats.reply_times(Complaint.objects.all())
    assert times == {"count": 3, "average": 5.0, "median": 4.0}
    assert stats.reply_times(Complaint.objects.none()) == {"count": 0, "average": None, "median": None}


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(desk):
    for days in (1, 3, 5, 11):
        replied(desk, days, title=f"件{days}", content=f"件{days}")
    assert stats.reply_times(Complaint.objects.all())["median"] == 4.0


def test_the_on_time_rate_counts_handling_clocks_finished_in_time(figures):
    result = stats.on_time(Complaint.objects.all(), now=MON + timedelta(days=60))
    assert result["in_time"] == 3 and result["late"] == 0 and result["rate"] == 100.0


def test_the_statistics_cost_a_fixed_number_of_queries(desk):
    def count():
        with CaptureQueriesContext(connection) as queries:
            stats.compute(Complaint.objects.all(), desk.w.gz)
        return len(queries)

    replied(desk, 2, title="一", content="一")
    few = count()
    for i in range(5):
        replied(desk, 3 + i, title=f"多{i}", content=f"多{i}")
    assert count() == few


def test_the_page_shows_the_county_officers_figures_only(figures, login):
    response = login(figures.w.complaint_officer).get(STATS)
    assert response.status_code == 200
    assert response.context["figures"]["total"] == 3  # 越秀's complaint is outside 天河
    body = response.content.decode()
    assert "vendor/echarts/echarts.min.js" in body and "complaints/stats.js" in body
    assert 'id="complaint-chart-channel" type="application/json"' in body
    assert "<script>" not in body  # the CSP forbids inline scripts: data travel as JSON blocks


def test_the_date_range_filter_and_a_bad_range(figures, login):
    client = login(figures.w.city_supervisor)
    assert client.get(STATS, {"received_from": "2026-11-03"}).context["figures"]["total"] == 1
    response = client.get(STATS, {"received_from": "2026-11-03", "received_to": "2026-11-01"})
    assert response.status_code == 200 and response.context["figures"]["total"] == 0
    assert "结束日期早于开始日期" in response.content.decode()
    assert client.get(STATS, {"received_from": "bad"}).context["figures"]["total"] == 0


def test_each_table_exports_to_excel(figures, login):
    client = login(figures.w.city_supervisor)
    response = client.get(STATS, {"export": "region"})
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("按区划", "件数") and set(rows[1:]) == {("天河区", 3), ("越秀区", 1)}
    assert client.get(STATS, {"export": "identity"}).status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "appraisal_officer"])
def test_those_without_complaint_view_get_a_404(figures, login, persona):
    assert login(getattr(figures.w, persona)).get(STATS).status_code == 404


def test_an_organ_handler_counts_only_complaints_routed_to_his_organ(figures, login):
    response = login(figures.w.county_handler).get(STATS)
    assert response.context["figures"]["total"] == 2
