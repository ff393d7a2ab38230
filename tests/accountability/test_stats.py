"""Statistics and the health of the practice: counted set-wise in scope, drilled down to the case
list, exported to Excel; nobody outside sees a number."""
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.accountability.conftest import at
from tests.conftest import make_user
from xiaoneng.accountability import actions, stats
from xiaoneng.accountability.models import Appeal, Case, Responsibility, Tolerance
from xiaoneng.accountability.views import visible
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(acct):
    """A: 张三 警告 on the day of the proposal, served, never filed (late), revoked on review.
    B: 张三 and 李四 警告 twenty days after the proposal, on a catch-all clause, filed in time.
    C: 张三 spared by the error-tolerance review (免予问责)."""
    a, (zhang_a,) = acct.decided("2026-03-02T10:00", number="天效问〔2026〕1号")
    actions.do_serve_case(a, at=at("2026-03-03T10:00"))
    appeal = actions.do_lodge_appeal(zhang_a, kind="review", grounds="不服", received_at=at("2026-03-10T10:00"))
    actions.do_decide_appeal(appeal, outcome=Appeal.Outcome.REVOKED, reasons="事实不清", at=at("2026-03-20T10:00"))
    b = acct.register("2026-03-02T10:00")
    parties = [actions.do_add_party(b, staff=s, responsibility=Responsibility.DIRECT) for s in (acct.zhang, acct.li)]
    actions.do_record_findings(b, findings="经查属实", at=at("2026-03-02T10:00"))
    for step in (lambda p: actions.do_notify_party(p, measure="warning", at=at("2026-03-02T10:00")),
                 lambda p: actions.do_record_statement(p, statement="无异议", at=at("2026-03-02T10:00")),
                 lambda p: actions.do_review_tolerance(p, situations=[], outcome=Tolerance.NONE, at=at("2026-03-02T10:00"))):
        for p in parties:
            step(p)
    b.refresh_from_db()
    actions.do_decide_case(b, decider="王局长", decision_number="天效问〔2026〕2号", catch_all=True,
                           measures={p.pk: (["warning"], None) for p in parties}, at=at("2026-03-22T10:00"))
    actions.do_serve_case(b, at=at("2026-03-23T10:00"))
    actions.do_file_case(b, filed_with="天河区监察委员会", at=at("2026-03-24T10:00"))
    c = acct.register("2026-04-01T10:00")
    spared = actions.do_add_party(c, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    actions.do_record_findings(c, findings="经查属实", at=at("2026-04-01T10:00"))
    actions.do_notify_party(spared, measure="warning", at=at("2026-04-01T10:00"))
    actions.do_record_statement(spared, statement="已及时补救", at=at("2026-04-01T10:00"))
    actions.do_review_tolerance(spared, situations=["remedied"], outcome=Tolerance.EXEMPT, reason="及时补救",
                                at=at("2026-04-01T10:00"))
    c.refresh_from_db()
    return a, b, c


def test_the_health_figures_count_what_happened(practice, acct):
    report = stats.compute(visible(Case.objects.all(), acct.world.county_supervisor), timezone.now())
    h = report.health
    assert (h.cases, h.decided, h.persons) == (3, 2, 3)
    assert h.per_incident == 1.5
    assert (h.avg_days, h.max_days) == (10.0, 20.0)
    assert (h.filings_late, h.filings_due) == (1, 2)
    assert (h.appeals_reversed, h.appeals_decided, h.reversal_rate) == (1, 1, 1.0)
    assert (h.catch_all, h.catch_all_share) == (1, 0.5)
    assert [(r.label, r.value) for r in report.by_measure] == [("警告", 3)]
    assert [(r.label, r.value) for r in report.by_rank] == [("一级科员", 2), ("副局长", 1)]
    assert [(r.label, r.value) for r in report.by_source] == [("明察暗访", 3)]
    assert [(r.label, r.value) for r in report.tolerance] == [("免予问责", 1)]
    assert sorted((r.label, r.value) for r in report.by_status) == [("已备案", 1), ("已容错审查", 1), ("已送达", 1)]


def test_the_figures_cost_the_same_number_of_queries_however_many_cases(acct, django_assert_num_queries):
    cases = visible(Case.objects.all(), acct.world.county_supervisor)
    acct.decided("2026-03-02T10:00", number="天效问〔2026〕1号")
    with django_assert_num_queries(9):
        stats.compute(cases, timezone.now())
    for n in range(2, 5):
        acct.decided("2026-03-02T10:00", number=f"天效问〔2026〕{n}号")
    with django_assert_num_queries(9):
        report = stats.compute(cases, timezone.now())
    assert report.health.decided == 4


def test_the_page_draws_charts_links_each_row_to_the_filtered_case_list_and_exports(practice, acct, login):
    a, b, c = practice
    client = login(acct.world.county_supervisor)
    html = client.get(reverse("accountability:stats"), {"region": "440106000000"}).content.decode()
    assert 'data-chart="measure"' in html and "echarts.min.js" in html and "50.0%（1 / 2）" in html
    link = reverse("accountability:cases") + "?region=440106000000&amp;tolerance=exempt"
    assert link in html
    listed = client.get(reverse("accountability:cases"), {"tolerance": "exempt"}).content.decode()
    assert c.number in listed and a.number not in listed and b.number not in listed
    listed = client.get(reverse("accountability:cases"), {"catch_all": "on"}).content.decode()
    assert b.number in listed and a.number not in listed
    response = client.get(reverse("accountability:stats"), {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("统计表", "项目", "数值")
    assert ("按问责方式（人数）", "警告", 3) in rows and ("总体情况", "每起事件问责人数", "1.5") in rows


def test_the_period_filter_counts_only_cases_registered_in_it(practice, acct, login):
    client = login(acct.world.county_supervisor)
    html = client.get(reverse("accountability:stats"), {"date_from": "2026-04-01"}).content.decode()
    assert "<th scope=\"row\">案件数</th><td>1</td>" in html


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "shenzhen"])
def test_nobody_outside_sees_a_number(practice, acct, login, persona):
    world = acct.world
    user = make_user("sz_supervisor", Role.SUPERVISOR, region=world.sz) if persona == "shenzhen" else getattr(world, persona)
    client = login(user)
    response = client.get(reverse("accountability:stats"))
    if persona == "shenzhen":  # a supervisor elsewhere: the page, with nothing of 天河 in it
        html = response.content.decode()
        assert response.status_code == 200 and "<th scope=\"row\">案件数</th><td>0</td>" in html and "警告" not in html
        export = client.get(reverse("accountability:stats"), {"export": "xlsx"})
        rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
        assert ("总体情况", "案件数", "0") in rows and not any(r[1] == "警告" for r in rows)
    else:
        assert response.status_code == 404
        assert client.get(reverse("accountability:stats"), {"export": "xlsx"}).status_code == 404
