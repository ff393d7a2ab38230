"""The supervision dashboard: real numbers for supervisors, 404 for everyone else, every
table exported, drill-down kept inside the supervisor's scope, a bounded query count."""
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, include, path, reverse
from openpyxl import load_workbook
from test_rollups import NOW, accepted, build_story, decide, matter_of

import xiaoneng.urls
from xiaoneng.supervision import stats
from xiaoneng.supervision.models import Alert

SH = ZoneInfo("Asia/Shanghai")

# Until the project routes the dashboard itself, these tests mount it at /dashboard/.
try:
    reverse("dashboard:index")
    urlpatterns = xiaoneng.urls.urlpatterns
except NoReverseMatch:
    urlpatterns = [path("dashboard/", include("xiaoneng.supervision.dashboard_urls")), *xiaoneng.urls.urlpatterns]
pytestmark = pytest.mark.urls(__name__)

PERIOD = "from=2026-09&to=2026-11"


@pytest.fixture
def story(world, matters):
    return build_story(world, matters)


@pytest.fixture
def frozen(monkeypatch):
    """The pages read `timezone.now()`; pin it to the story's present."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def sheet(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


# --- who may see it ---------------------------------------------------------------------------
def test_a_supervisor_sees_the_dashboard_of_his_region_with_real_numbers(world, story, login, frozen):
    client = login(world.city_supervisor)
    response = client.get(f"/dashboard/?{PERIOD}")
    assert response.status_code == 200
    html = response.content.decode()
    city = stats.total(stats.trend(world.city_supervisor, stats.period_from({"from": "2026-09", "to": "2026-11"}), "4401"))
    assert "广州市" in html and "天河区" in html and "越秀区" in html
    assert f"{city.on_time_rate:.1f}%" in html  # the headline on-time rate
    assert f'data-testid="kpi-received">{city.received}<' in html
    assert 'data-testid="live-overdue">1<' in html  # C, live
    assert "深圳" not in html and "福田" not in html


def test_the_red_yellow_board_links_to_each_alert_page(world, story, login, frozen):
    html = login(world.province_supervisor).get(f"/dashboard/?{PERIOD}").content.decode()
    cards = Alert.objects.filter(level__in=["red", "yellow"], status__in=stats.OPEN_ALERT)
    assert cards.exists()
    latest = cards.order_by("-id").filter(level="red").first()
    assert f'href="/supervision/alerts/{latest.pk}/"' in html


@pytest.mark.parametrize("persona", ["county_handler", "county_leader", "outsider", "auditor", "admin"])
def test_anyone_who_does_not_supervise_gets_404(world, story, login, persona):
    client = login(getattr(world, persona))
    for url in ["/dashboard/", f"/dashboard/region/{world.gz.code}/", "/dashboard/organs/", "/dashboard/board/",
                f"/dashboard/organ/{world.tianhe_bureau.pk}/", f"/dashboard/region/{world.gz.code}/live/",
                f"/dashboard/region/{world.gz.code}/trend/", "/dashboard/?export=xlsx"]:
        response = client.get(url)
        if persona == "county_leader" and url.split("?")[0] == "/dashboard/":
            # The leader's "dashboard" link leads to their organ's dashboard (xiaoneng.inbox.leader), not a 404.
            assert response.status_code == 302 and response["Location"] == "/inbox/leader/", url
        else:
            assert response.status_code == 404, url


def test_an_anonymous_visitor_is_sent_to_log_in(client, world):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- drill-down, inside the scope ---------------------------------------------------------------
def test_drill_down_goes_from_region_to_child_region_to_organ_to_cases_and_clocks(world, story, login, frozen):
    client = login(world.province_supervisor)
    html = client.get(f"/dashboard/?{PERIOD}").content.decode()
    assert f"/dashboard/region/{world.gz.code}/?" in html  # province → city
    html = client.get(f"/dashboard/region/{world.gz.code}/?{PERIOD}").content.decode()
    assert f"/dashboard/region/{world.tianhe.code}/?" in html  # city → county
    html = client.get(f"/dashboard/region/{world.tianhe.code}/?{PERIOD}").content.decode()
    organ = world.tianhe_bureau
    assert f"/dashboard/organ/{organ.pk}/?" in html  # county → organ (ranking)
    assert f"/cases/?organ={organ.pk}" in html  # → its case list
    html = client.get(f"/dashboard/organ/{organ.pk}/?{PERIOD}").content.decode()
    assert f"/cases/{story.c.pk}/" in html  # → the open overdue case
    assert f"/clocks/{story.c.promise_clock_id}/" in html  # → its clock's explanation
    assert f"/cases/?organ={organ.pk}&amp;risk=overdue" in html


def test_a_county_supervisor_cannot_drill_outside_his_county(world, story, login, frozen):
    client = login(world.county_supervisor)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(f"/dashboard/region/{world.tianhe.code}/").status_code == 200
    assert client.get(f"/dashboard/region/{world.shipai.code}/").status_code == 200  # below him: fine
    for code in (world.gz.code, world.yuexiu.code, world.futian.code, world.gd.code, "999999999999"):
        assert client.get(f"/dashboard/region/{code}/").status_code == 404, code
        assert client.get(f"/dashboard/organs/?region={code}").status_code == 404, code
        assert client.get(f"/dashboard/board/?region={code}").status_code == 404, code
    assert client.get(f"/dashboard/organ/{world.yuexiu_bureau.pk}/").status_code == 404
    assert client.get(f"/dashboard/organ/{world.tianhe_bureau.pk}/").status_code == 200
    html = client.get(f"/dashboard/?{PERIOD}").content.decode()
    assert "越秀" not in html and "广州市市场监督管理局" not in html
    assert f"/dashboard/region/{world.gz.code}/" not in html  # no breadcrumb above his scope


def test_the_live_part_is_polled_every_minute(world, story, login, frozen):
    client = login(world.city_supervisor)
    html = client.get(f"/dashboard/?{PERIOD}").content.decode()
    assert 'hx-trigger="every 60s"' in html and f"/dashboard/region/{world.gz.code}/live/?" in html
    part = client.get(f"/dashboard/region/{world.gz.code}/live/?{PERIOD}", HTTP_HX_REQUEST="true")
    assert part.status_code == 200
    text = part.content.decode()
    assert text.lstrip().startswith('<div id="dashboard-live"') and "<html" not in text
    assert 'data-testid="live-overdue">1<' in text


# --- exports ----------------------------------------------------------------------------------
def test_every_table_exports_to_excel(world, story, login, frozen):
    client = login(world.province_supervisor)
    children = sheet(client.get(f"/dashboard/region/{world.gz.code}/?{PERIOD}&export=xlsx"))
    assert children[0][:2] == ["区划", "代码前缀"] and "按时办结率（%）" in children[0]
    names = [r[0] for r in children[1:]]
    assert names == ["越秀区", "天河区", "本级机关"]
    rate = children[0].index("按时办结率（%）")
    tianhe = stats.total(stats.trend(world.province_supervisor, stats.Period(*[stats.date(2026, m, 1) for m in (9, 11)]),
                                     "440106"))
    assert children[2][rate] == round(tianhe.on_time_rate, 1)

    trend = sheet(client.get(f"/dashboard/region/{world.gz.code}/trend/?{PERIOD}&export=xlsx"))
    assert [r[0] for r in trend[1:]] == ["2026-09", "2026-10", "2026-11"]

    organs = sheet(client.get(f"/dashboard/organs/?region={world.gz.code}&{PERIOD}&export=xlsx"))
    assert organs[0][:2] == ["名次", "机关"]
    assert {r[1] for r in organs[1:]} == {"广州市市场监督管理局", "广州市天河区市场监督管理局", "广州市越秀区市场监督管理局"}

    board = sheet(client.get(f"/dashboard/board/?region={world.gz.code}&export=xlsx"))
    open_cards = Alert.objects.filter(region_code__startswith="4401", level__in=["red", "yellow"],
                                      status__in=stats.OPEN_ALERT).count()
    assert len(board) - 1 == open_cards > 0
    assert all(r[-1].startswith("/supervision/alerts/") for r in board[1:])

    organ = sheet(client.get(f"/dashboard/organ/{world.tianhe_bureau.pk}/?{PERIOD}&export=xlsx"))
    assert len(organ) == 4

    regions = sheet(client.get(f"/dashboard/?{PERIOD}&export=xlsx"))  # one root: the province's children
    assert "广州市" in [r[0] for r in regions]


def test_an_export_never_widens_beyond_the_scope(world, story, login, frozen):
    client = login(world.county_supervisor)
    organs = sheet(client.get(f"/dashboard/organs/?{PERIOD}&export=xlsx"))
    assert [r[1] for r in organs[1:]] == ["广州市天河区市场监督管理局"]
    board = sheet(client.get("/dashboard/board/?export=xlsx"))
    assert all("天河" in r[2] for r in board[1:])


def test_a_supervisor_with_two_regions_sees_both_side_by_side(world, story, login, frozen):
    from xiaoneng.orgs.models import Grant, Role

    Grant.objects.create(user=world.county_supervisor, role=Role.SUPERVISOR, region=world.futian)
    html = login(world.county_supervisor).get(f"/dashboard/?{PERIOD}").content.decode()
    assert "天河区" in html and "福田区" in html and "越秀区" not in html


# --- speed: the query count does not grow with the data -------------------------------------------
def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_query_count_is_bounded(world, story, login, frozen):
    client = login(world.province_supervisor)
    urls = [f"/dashboard/?{PERIOD}", f"/dashboard/region/{world.gz.code}/?{PERIOD}",
            f"/dashboard/organs/?region={world.gz.code}&{PERIOD}", f"/dashboard/organ/{world.tianhe_bureau.pk}/?{PERIOD}",
            f"/dashboard/region/{world.gz.code}/live/?{PERIOD}"]
    before = {u: _queries(client, u) for u in urls}
    assert max(before.values()) <= 30, before
    # More organs, cases and alerts: the same number of queries.
    from conftest import make_organ

    for i in range(5):
        organ = make_organ(f"天河区第{i}局", world.tianhe)
        case = accepted(matter_of(organ, f"440106-QT-{i:03d}"), f"MORE-{i}")
        decide(case, "2026-10-12T10:00")
    from xiaoneng.clocks import monitor

    monitor.run_pass(datetime(2026, 11, 1, 9, 0, tzinfo=SH))
    stats.refresh(full=True, now=NOW)
    after = {u: _queries(client, u) for u in urls}
    assert after == before
