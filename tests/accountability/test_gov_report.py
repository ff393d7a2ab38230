"""The supervisory organ's periodic report to the government: a region's quarter or year counted from
the cases, beside the previous period; a page, an Excel file and an issued, numbered document."""
import io

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.accountability.conftest import at
from tests.conftest import make_user
from xiaoneng.accountability import actions
from xiaoneng.accountability import report as R
from xiaoneng.accountability.models import Appeal, Case, PeriodicReport, Responsibility, Tolerance
from xiaoneng.accountability.views import visible
from xiaoneng.documents.models import Document
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def year(acct):
    """A: 警告 at 23:59 on 31 March (Q1), served and filed in time, revoked on review in Q2.
    B: 警告 at 00:00 on 1 April (Q2).
    C: 撤职 in January, never filed (two filings, both late).
    D: registered in February, the person spared (免予问责), closed in February."""
    a, (zhang_a,) = acct.decided("2026-03-31T23:59", number="天效问〔2026〕1号")
    actions.do_serve_case(a, at=at("2026-04-01T10:00"))
    actions.do_file_case(a, filed_with="天河区监察委员会", at=at("2026-04-02T10:00"))
    appeal = actions.do_lodge_appeal(zhang_a, kind="review", grounds="不服", received_at=at("2026-04-05T10:00"))
    actions.do_decide_appeal(appeal, outcome=Appeal.Outcome.REVOKED, reasons="事实不清", at=at("2026-04-20T10:00"))
    b, _ = acct.decided("2026-04-01T00:00", number="天效问〔2026〕2号")
    c, _ = acct.decided("2026-01-10T10:00", measure="removal", number="天效问〔2026〕3号")
    d = acct.register("2026-02-01T10:00")
    spared = actions.do_add_party(d, staff=acct.li, responsibility=Responsibility.MAIN_LEADER)
    actions.do_record_findings(d, findings="经查属实", at=at("2026-02-01T10:00"))
    actions.do_notify_party(spared, measure="admonish", at=at("2026-02-02T10:00"))
    actions.do_record_statement(spared, statement="已补救", at=at("2026-02-03T10:00"))
    actions.do_review_tolerance(spared, situations=["remedied"], outcome=Tolerance.EXEMPT, reason="及时补救",
                                at=at("2026-02-04T10:00"))
    actions.do_close_case(d, reason="免予问责", at=at("2026-02-05T10:00"))
    return a, b, c, d


def tianhe_cases(acct):
    return R.region_cases(visible(Case.objects.all(), acct.world.county_supervisor), acct.world.tianhe)


def test_a_period_is_a_quarter_or_a_year_and_anything_else_is_refused():
    assert R.Period.parse("2026-Q1") == R.Period(2026, 1) == R.Period.parse("2026q1")
    assert R.Period.parse("2026") == R.Period(2026, 0)
    assert R.Period(2026, 1).previous() == R.Period(2025, 4) and R.Period(2026).previous() == R.Period(2025)
    assert (R.Period(2026, 4).first_day.isoformat(), R.Period(2026, 4).last_day.isoformat()) == ("2026-10-01", "2026-12-31")
    for bad in ("2026-Q5", "2026-Q0", "26", "", "2026-03", "Q1-2026", "1999"):
        with pytest.raises(R.PeriodError):
            R.Period.parse(bad)


def test_the_first_quarter_counts_what_happened_in_it_beside_the_quarter_before(year, acct):
    rep = R.build(tianhe_cases(acct), acct.world.tianhe, R.Period(2026, 1))
    cur = rep.current
    assert (cur.registered.health.cases, cur.concluded.health.decided, cur.closed) == (3, 2, 1)
    assert cur.concluded.health.persons == 2
    assert sorted((r.label, r.value) for r in cur.concluded.by_measure) == [("撤职", 1), ("警告", 1)]
    assert [(r.label, r.value) for r in cur.registered.by_source] == [("明察暗访", 3)]
    # A filed in time; C's two filings (same level, and above for 撤职) never made.
    assert (cur.concluded.health.filings_due, cur.concluded.health.filings_late) == (3, 2)
    assert [(r.label, r.value) for r in cur.concluded.tolerance] == [("免予问责", 1)] and cur.tolerance_applied == 1
    assert (cur.appeals_received, cur.appeals_revoked) == (0, 0)
    # A's appeal is against a Q1 decision: the reversal rate of Q1's decisions counts it.
    assert cur.concluded.health.reversal_rate == 1.0
    first = {c.label: (c.current, c.previous, c.change) for c in rep.comparison}
    assert first["立案（件）"] == ("3", "0", "+3") and first["逾期备案（件次）"] == ("2", "0", "+2")
    assert rep.previous.period == R.Period(2025, 4)


def test_the_health_figures_are_those_of_the_statistics_over_the_same_cases(year, acct):
    from xiaoneng.accountability import stats

    start, end = R.Period(2026, 1).bounds()
    same = stats.compute(tianhe_cases(acct).filter(decided_at__gte=start, decided_at__lt=end), timezone.now()).health
    h = R.build(tianhe_cases(acct), acct.world.tianhe, R.Period(2026, 1)).current.concluded.health
    assert (h.decided, h.persons, h.per_incident, h.avg_days, h.filings_late, h.catch_all_share) == (
        same.decided, same.persons, same.per_incident, same.avg_days, same.filings_late, same.catch_all_share)


def test_a_minute_before_midnight_on_31_march_is_the_first_quarter_and_midnight_the_second(year, acct):
    a, b, _c, _d = year
    q1 = R.figures(tianhe_cases(acct), R.Period(2026, 1), timezone.now())
    q2 = R.figures(tianhe_cases(acct), R.Period(2026, 2), timezone.now())
    assert a.number in {c.number for c in tianhe_cases(acct).filter(registered_at__lt=R.Period(2026, 2).bounds()[0])}
    assert (q1.registered.health.cases, q2.registered.health.cases) == (3, 1)
    assert (q2.concluded.health.decided, q2.appeals_received, q2.appeals_revoked) == (1, 1, 1)
    assert [(r.label, r.value) for r in q2.concluded.by_measure] == [("警告", 1)]
    rep = R.build(tianhe_cases(acct), acct.world.tianhe, R.Period(2026, 2))
    second = {c.label: (c.current, c.previous, c.change) for c in rep.comparison}
    assert second["立案（件）"] == ("1", "3", "-2")
    assert second["复核申诉改变原决定（变更、撤销，件）"] == ("1", "0", "+1")
    whole = R.figures(tianhe_cases(acct), R.Period(2026), timezone.now())
    assert (whole.registered.health.cases, whole.concluded.health.decided, whole.concluded.health.persons) == (4, 3, 3)


def test_the_page_shows_the_report_with_charts_and_exports_it(year, acct, login):
    client = login(acct.world.county_supervisor)
    response = client.get(reverse("accountability:report"), {"region": "440106", "period": "2026-Q1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "天河区2026年第一季度问责工作情况" in html and 'data-chart="compare"' in html and "echarts.min.js" in html
    assert "<th scope=\"row\">立案（件）</th><td>3</td><td>0</td><td>+3</td>" in html
    export = client.get(reverse("accountability:report"), {"region": "440106000000", "period": "2026-Q1", "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("部分", "项目", "2026年第一季度", "2025年第四季度", "增减")
    assert ("与上期比较", "立案（件）", "3", "0", "+3") in rows
    assert ("受到问责的人员：按问责方式（人）", "撤职", 1, None, None) in rows


@pytest.mark.parametrize("period, words", [("2026-Q5", "报告期应为年度"), ("abc", "报告期应为年度"), ("1999", "2000 至 2100")])
def test_a_bad_period_is_a_form_error_answered_with_400(year, acct, login, period, words):
    client = login(acct.world.county_supervisor)
    response = client.get(reverse("accountability:report"), {"region": "440106000000", "period": period})
    assert response.status_code == 400 and words in response.content.decode()
    response = client.post(reverse("accountability:report-issue"), {"region": "440106000000", "period": period})
    assert response.status_code == 400 and not Document.objects.filter(kind="acct.report").exists()


def test_the_report_is_issued_once_as_a_numbered_document_of_the_efficiency_office(year, acct, login):
    acct.office.short_name = "效能办"
    acct.office.save()
    client = login(acct.world.county_supervisor)
    form = {"region": "440106000000", "period": "2026-Q1"}
    assert client.post(reverse("accountability:report-issue"), form).status_code == 302
    assert client.post(reverse("accountability:report-issue"), form).status_code == 302
    (document,) = Document.objects.filter(kind="acct.report")
    assert document.number == "天河区效能办问报〔2026〕1号" and document.addressee == "天河区人民政府"
    assert PeriodicReport.objects.get().figures["current"]["registered"] == 3
    with document.file.open("rb") as handle:
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(handle.read())).pages)
    text = text.replace("\n", "").replace(" ", "")
    for expected in ("广州市天河区党政机关效能建设办公室", "关于问责工作情况的报告", "天河区人民政府：",
                     "天河区2026年第一季度效能问责工作情况", "本期立案3件（上期0件）", "作出问责决定2件",
                     "受到问责2人", "应备案3件次，逾期备案2件次", "免予问责1人", "撤职1人", "本期0，上期0"):
        assert expected in text, expected
    html = client.get(reverse("accountability:report"), form).content.decode()
    assert reverse("documents:download", args=[document.pk]) in html and 'data-testid="report-issue"' not in html
    assert client.get(reverse("documents:download", args=[document.pk])).status_code == 200


def test_a_region_without_an_efficiency_office_gets_a_clear_refusal(year, acct, login):
    client = login(acct.world.county_supervisor)
    html = client.get(reverse("accountability:report"), {"region": "440106000000", "period": "2026-Q1"}).content.decode()
    assert 'data-testid="report-no-office"' in html and 'data-testid="report-issue"' not in html
    response = client.post(reverse("accountability:report-issue"), {"region": "440106000000", "period": "2026-Q1"},
                           follow=True)
    assert "未登记效能办" in response.content.decode() and not Document.objects.filter(kind="acct.report").exists()


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "shenzhen"])
def test_nobody_outside_the_region_sees_or_issues_its_report(year, acct, login, persona):
    acct.office.short_name = "效能办"
    acct.office.save()
    world = acct.world
    user = make_user("sz_supervisor", Role.SUPERVISOR, region=world.sz) if persona == "shenzhen" else getattr(world, persona)
    client = login(user)
    form = {"region": "440106000000", "period": "2026-Q1"}
    page = client.get(reverse("accountability:report"), form)
    issue = client.post(reverse("accountability:report-issue"), form)
    export = client.get(reverse("accountability:report"), {**form, "export": "xlsx"})
    if persona == "shenzhen":  # the region is not theirs: the same refusal as for one that does not exist
        assert page.status_code == issue.status_code == export.status_code == 400
        assert "请选择您有权查看的区划" in page.content.decode()
        own = client.get(reverse("accountability:report"), {"region": "440300000000", "period": "2026-Q1"})
        assert own.status_code == 200 and "<th scope=\"row\">立案（件）</th><td>0</td>" in own.content.decode()
    else:
        assert page.status_code == issue.status_code == export.status_code == 404
    assert not Document.objects.filter(kind="acct.report").exists()


def test_the_english_page_leaves_no_chinese_outside_the_data_and_the_document_stays_chinese(year, acct, login):
    import re

    from xiaoneng.orgs.models import Organ, Region

    acct.office.short_name = "效能办"
    acct.office.save()
    client = login(acct.world.county_supervisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    form = {"region": "440106000000", "period": "2026-Q1"}
    html = client.get(reverse("accountability:report"), form).content.decode()
    assert "Q1 2026" in html and "Q4 2025" in html
    data = sorted({*Region.objects.values_list("name", flat=True), *Organ.objects.values_list("name", flat=True),
                   "一级科员", "副局长", "效", "简体中文"}, key=len, reverse=True)
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))
    for name in data:
        text = text.replace(name, " ")
    assert not re.findall(r"[\u4e00-\u9fff]+", text), re.findall(r"[\u4e00-\u9fff]+", text)
    client.post(reverse("accountability:report-issue"), form)
    document = Document.objects.get(kind="acct.report")
    with document.file.open("rb") as handle:
        pdf = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(handle.read())).pages).replace("\n", "")
    assert "2026年第一季度" in pdf.replace(" ", "") and "Q1" not in pdf and "Cases registered" not in pdf
