"""Gaps found by an independent review of issue 13: replays of the period's steps on the board, the
complaint officer as an outsider on every page and export, and the query count of the lists that had none."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Objection, Period, PeriodStatus
from xiaoneng.audit.models import AuditEntry

from .conftest import TREE, at


# --- a replayed step on the board answers with a message, never a 500, and changes nothing ---------
def test_publishing_twice_on_the_board_answers_with_a_message_and_changes_nothing(published, login):
    client = login(published.w.appraisal_officer)
    url = reverse("appraisal:board", args=[published.period.pk])
    entries = AuditEntry.objects.count()
    response = client.post(url, {"op": "publish"}, follow=True)
    assert response.status_code == 200
    assert "不能变为“已公布”" in response.content.decode()
    assert Period.objects.get(pk=published.period.pk).status == PeriodStatus.PUBLISHED
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("op", ["close", "announce", "compute"])
def test_a_step_replayed_out_of_order_on_the_board_answers_with_a_message(published, login, op):
    client = login(published.w.appraisal_officer)
    response = client.post(reverse("appraisal:board", args=[published.period.pk]), {"op": op}, follow=True)
    assert response.status_code == 200
    assert 'class="alert' in response.content.decode() or "error" in response.content.decode()
    assert Period.objects.get(pk=published.period.pk).status == PeriodStatus.PUBLISHED


def test_announcing_twice_starts_no_second_objection_clock(land, login):
    from xiaoneng.clocks.models import Clock

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    started = Clock.objects.filter(kind="appraisal.objection").count()
    response = login(land.w.appraisal_officer).post(reverse("appraisal:board", args=[land.period.pk]),
                                                    {"op": "announce"}, follow=True)
    assert response.status_code == 200 and "不能变为" in response.content.decode()
    assert Clock.objects.filter(kind="appraisal.objection").count() == started


def test_an_objection_decided_twice_on_the_board_keeps_the_first_decision(land, login):
    from xiaoneng.appraisal.models import Result

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    objection = actions.do_object(yx, grounds="理由", evidence="材料", at=at("2027-01-08T10:00"))
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:board", args=[land.period.pk])
    client.post(url, {"op": "decide", "objection": objection.pk, "upheld": "no", "reasons": "不成立"})
    response = client.post(url, {"op": "decide", "objection": objection.pk, "upheld": "yes", "reasons": "改判"},
                           follow=True)
    assert "该异议已决定" in response.content.decode()
    objection = Objection.objects.get(pk=objection.pk)
    assert (objection.status, objection.reasons) == ("rejected", "不成立")


# --- the complaint officer of the same region is an outsider to the appraisal ---------------------
def test_the_complaint_officer_gets_nothing_from_pages_api_or_exports(published, login):
    client = login(published.w.complaint_officer)
    p = published.period.pk
    line = published.th.lines.first()
    for url in (reverse("appraisal:scheme", args=[published.scheme.pk]),
                reverse("appraisal:scheme-export", args=[published.scheme.pk]),
                reverse("appraisal:board", args=[p]), reverse("appraisal:result", args=[published.th.pk]),
                reverse("appraisal:line-records", args=[line.pk]), reverse("appraisal:scores"),
                reverse("appraisal:scores") + "?export=xlsx", reverse("appraisal:changes"),
                reverse("appraisal:changes") + "?export=xlsx", reverse("appraisal:adjustments", args=[p]),
                reverse("appraisal:adjustments", args=[p]) + "?export=xlsx", reverse("appraisal:reviews"),
                reverse("appraisal:reviews") + "?export=xlsx", "/surveys/", "/surveys/?export=xlsx"):
        assert client.get(url).status_code == 404, url
    for url in (reverse("appraisal:schemes"), reverse("appraisal:classes")):
        for query in ("", "?export=xlsx"):
            response = client.get(url + query)
            assert response.status_code == 404 or (
                published.scheme.title.encode() not in response.content and published.cls.name.encode()
                not in response.content), url + query
    for api in ("/api/v1/appraisal/results/", f"/api/v1/appraisal/results/{published.th.pk}/",
                f"/api/v1/appraisal/schemes/{published.scheme.pk}/"):
        response = client.get(api)
        assert response.status_code in (403, 404) or published.w.tianhe_bureau.name not in response.content.decode()


# --- the lists that had no query-count assertion ------------------------------------------------
def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_scheme_and_class_lists_cost_the_same_queries_however_many_rows(land, login):
    client = login(land.w.appraisal_officer)
    few = [_count(client, reverse("appraisal:schemes")), _count(client, reverse("appraisal:classes"))]
    for year in (2022, 2023, 2024, 2025):
        cls = actions.do_create_class(name=f"类别{year}", region=land.w.gz, organs=[])
        actions.do_create_scheme(organ_class=cls, year=year, title=f"{year}年方案", rows=[dict(r) for r in TREE])
    more = [_count(client, reverse("appraisal:schemes")), _count(client, reverse("appraisal:classes"))]
    assert more == few
    assert "2022年方案" in client.get(reverse("appraisal:schemes")).content.decode()


def test_the_adjustment_list_costs_the_same_queries_however_many_items(land, login):
    import datetime

    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    second = make_user("second_officer", Role.APPRAISAL_OFFICER, region=land.w.gz)
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:adjustments", args=[land.period.pk])

    def enter(n):
        for i in range(n):
            organ = land.w.tianhe_bureau if i % 2 else land.w.yuexiu_bureau
            actions_adj.do_enter_adjustment(land.period, organ=organ, points="1", occurred_on=datetime.date(2026, 5, 1),
                                            reason=f"事由{i}", evidence="材料", by=second, at=at("2026-05-02T10:00"))

    from xiaoneng.appraisal import actions as actions_adj

    enter(1)
    few = _count(client, url)
    enter(5)
    assert _count(client, url) == few


# --- lineage: the records listed are exactly the ones the numerator and denominator count -------------
RATES = {"on_time", "orders", "rectification", "complaint_on_time"}  # records = all, part "late" = the late ones
COUNTS = {"cards", "complaint_rate", "complaints", "accountability"}  # records = the events counted


def assert_lineage_counts(ln):
    from xiaoneng.appraisal.indicators import module

    query = dict(ln.query)
    source = query.pop("source")
    listed = module(source).records(query)
    if source in RATES:
        assert listed.count() == ln.denominator, (source, ln.formula)
        assert module(source).records(query, "late").count() == ln.denominator - ln.numerator, (source, ln.formula)
    elif source in COUNTS:
        assert listed.count() == ln.numerator, (source, ln.formula)
    elif source == "satisfaction":
        assert listed.count() == ln.denominator, (source, ln.formula)
    elif source == "handling_time":
        assert listed.count() == ln.denominator, (source, ln.formula)
    return source


def test_every_platform_lines_records_match_its_numerator_and_denominator(world, complained, orders, rated,
                                                                          handled):
    from xiaoneng.appraisal.models import ResultLine

    from .test_more_indicators import ALL

    rows = [dict(r) for r in ALL]
    cls = actions.do_create_class(name="全指标类别", region=world.gz, organs=[world.tianhe_bureau, world.yuexiu_bureau])
    period = actions.do_activate_scheme(actions.do_create_scheme(organ_class=cls, year=2026, title="全指标方案",
                                                                 rows=rows))
    actions.do_close_period(period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(period, at=at("2027-01-05T09:00"))
    seen = set()
    for ln in ResultLine.objects.filter(result__period=period).exclude(denominator=None, numerator=None):
        seen.add(assert_lineage_counts(ln))
    assert seen == {"handling_time", "orders", "satisfaction", "rectification", "complaint_rate", "complaint_on_time"}


def test_the_first_indicators_records_match_their_counts(land, clocks, acct, matters):
    from xiaoneng.appraisal.models import ResultLine
    from xiaoneng.approvals import actions as approvals
    from xiaoneng.supervision.engine import raise_findings
    from xiaoneng.supervision.models import Level
    from xiaoneng.supervision.rules import Finding

    acct.decided(when="2026-03-02T10:00", measure="warning")
    case = approvals.do_submit_case(matter=matters.licence, case_no="TH-1", applicant_name="张三",
                                    received_at=at("2026-04-01T10:00"))[0]
    raise_findings([Finding(rule="test", level=Level.YELLOW, organ=land.w.tianhe_bureau, subject=case,
                            message="黄牌", key="a", at=at("2026-06-01T10:00"))])
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:00"))
    seen = {assert_lineage_counts(ln) for ln in ResultLine.objects.filter(result__period=land.period)
            .exclude(numerator=None)}
    assert {"on_time", "cards", "accountability", "complaints"} <= seen


def test_a_case_finished_on_the_monday_after_the_make_up_saturday_is_late(land):
    """20 working days from 28 September 2026: the National Day week is skipped but Saturday 10 October is a
    working day, so the deadline is the end of Friday 30 October; finished on Monday 2 November, it is late
    (without the make-up day it would have been on time)."""
    from xiaoneng.appraisal.models import ResultLine

    late = land.promise(land.w.yuexiu_bureau, "2026-09-28T10:00", 20, stop="2026-11-02T10:00")
    assert late.due_at == at("2026-10-31T00:00")
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:00"))
    ln = ResultLine.objects.get(result__period=land.period, result__organ=land.w.yuexiu_bureau, indicator__code="1.1")
    assert (ln.numerator, ln.denominator) == (0, 1)


# The fixtures of known data, shared with the indicator tests (assigned, not imported, so that the test
# parameters naming them do not read as redefinitions).
from . import test_compute as _compute  # noqa: E402
from . import test_more_indicators as _more  # noqa: E402

clocks = _compute.clocks
complained, handled, orders, rated = _more.complained, _more.handled, _more.orders, _more.rated


# --- weights and parameters the database could not keep as typed ------------------------------------
def test_a_weight_with_more_than_two_decimals_is_refused_not_rounded_into_a_tree_that_sums_to_99_99(land):
    from xiaoneng.appraisal import schemes
    from xiaoneng.appraisal.models import Scheme

    rows = [dict(r) for r in TREE]
    rows[4]["weight"], rows[5]["weight"], rows[6]["weight"] = "33.333", "33.333", "33.334"
    with pytest.raises(schemes.SchemeError) as err:
        actions.do_create_scheme(organ_class=land.cls, year=2027, title="三分", rows=rows)
    assert err.value.field == "weight" and err.value.row == 5
    assert "最多两位小数" in err.value.message
    assert Scheme.objects.count() == 1


@pytest.mark.parametrize("value", [1e300, -(10**12), "1e999"])
def test_a_huge_threshold_is_refused_with_its_parameter(land, value):
    from xiaoneng.appraisal import schemes

    rows = [dict(r) for r in TREE]
    rows[1]["params"] = {"worst": value, "best": 100}
    with pytest.raises(schemes.SchemeError) as err:
        schemes.validate(rows)
    assert err.value.field == "params" and "worst" in err.value.message


# --- an objection submitted twice (a double click, a replayed form) is one objection ------------------
def test_an_objection_replayed_on_the_same_line_is_refused_while_the_first_is_pending(land, login):
    from xiaoneng.appraisal.models import Result

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period)
    th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    line = th.lines.get(indicator__code="1.1")
    client = login(land.w.county_leader)
    url = reverse("appraisal:result", args=[th.pk])
    form = {"line": line.pk, "grounds": "3 月一件系申请人要求暂停", "evidence": "书面申请"}
    assert client.post(url, form).status_code == 302
    again = client.post(url, form)
    assert again.status_code == 400 and "已就该指标提出异议，尚待决定" in again.content.decode()
    assert Objection.objects.filter(result=th).count() == 1
    # Another indicator, or the result as a whole, may still be objected to.
    assert client.post(url, {**form, "line": th.lines.get(indicator__code="1.2").pk}).status_code == 302
    assert client.post(url, {**form, "line": ""}).status_code == 302
    assert Objection.objects.filter(result=th).count() == 3


# --- the scheme list filters, sorts, pages and exports what it shows ---------------------------------
def test_the_scheme_list_filters_sorts_pages_and_exports_the_filtered_rows(land, login):
    from .test_reports import xlsx_rows

    for year in (2023, 2024, 2025):
        actions.do_create_scheme(organ_class=land.cls, year=year, title=f"{year}年方案", rows=[dict(r) for r in TREE])
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:schemes")
    rows = xlsx_rows(client.get(url, {"status": "draft", "sort": "year", "export": "xlsx"}).content)
    assert rows[0][:3] == ("年度", "考评类别", "方案名称")
    assert [r[0] for r in rows[1:]] == [2023, 2024, 2025]  # the active 2026 scheme filtered out, oldest first
    assert [r[0] for r in xlsx_rows(client.get(url, {"year": 2024, "export": "xlsx"}).content)[1:]] == [2024]
    page = client.get(url, {"sort": "-year", "per_page": 25}).content.decode()
    assert page.index("2026年区县市场监管局") < page.index("2025年方案") < page.index("2023年方案")
    assert client.get(url, {"year": "abc", "export": "xlsx"}).status_code == 200  # a bad filter exports nothing
    assert len(xlsx_rows(client.get(url, {"year": "abc", "export": "xlsx"}).content)) == 1


# --- bad trees in the editor: each answered on its field, nothing saved, never a 500 -------------------
def _editor_rows(change):
    rows = [dict(r) for r in TREE]
    change(rows)
    return rows


@pytest.mark.parametrize(("change", "message"), [
    (lambda rows: rows[2].update(code="1.1"), "编号 1.1 与第 2 行重复"),
    (lambda rows: rows[1].update(weight="-70"), "应大于 0 且不超过 100"),
    (lambda rows: rows[1].update(weight="NaN"), "“NaN”不是数字"),
    (lambda rows: rows[1].update(weight="1e400"), "应大于 0 且不超过 100"),
    (lambda rows: rows[1].update(weight="70.001"), "最多两位小数"),
    (lambda rows: rows[1].update(params={"worst": 80, "best": 1e300}), "超出范围"),
    (lambda rows: rows.extend([
        {"code": "2.3.1", "parent": "2.3", "name": "三级", "weight": 100, "source": "", "method": "", "params": {}},
        {"code": "2.3.1.1", "parent": "2.3.1", "name": "四级", "weight": 100, "source": "manual",
         "method": "attainment", "params": {"target": 1}}]) or rows[6].update(source="", method="", params={}),
     "指标最多三级"),
])
def test_a_bad_tree_in_the_editor_is_refused_on_its_field_and_nothing_changes(land, login, change, message):
    from xiaoneng.appraisal.models import Indicator

    from .test_scheme_editor import post_data

    draft = actions.do_new_version(land.scheme)
    before = list(Indicator.objects.filter(scheme=draft).order_by("code").values_list("code", "weight", "params"))
    response = login(land.w.appraisal_officer).post(reverse("appraisal:scheme-edit", args=[draft.pk]),
                                                    post_data(_editor_rows(change), reason="调整"))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert list(Indicator.objects.filter(scheme=draft).order_by("code").values_list("code", "weight",
                                                                                    "params")) == before


# --- a mistyped quota in the configuration refuses clearly ------------------------------------------------
@pytest.mark.parametrize("value", [20, 1.5, -0.1, "abc", "NaN", None])
def test_a_mistyped_quota_setting_refuses_the_submission_naming_the_setting(land, settings, value):
    from xiaoneng.appraisal.models import StaffGrade
    from xiaoneng.appraisal.staff import do_submit_staff_grades
    from xiaoneng.orgs.models import Staff

    settings.XIAONENG_RULES = {"appraisal_excellent_quota": value}
    people = [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(5)]
    with pytest.raises(actions.AppraisalError) as err:
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {p: "competent" for p in people},
                               at=at("2027-01-20T10:00"))
    assert err.value.field == "grades" and "appraisal_excellent_quota" in err.value.message
    assert not StaffGrade.objects.exists()


# --- a 复核 decided twice keeps its first decision ------------------------------------------------------------
def test_a_staff_review_decided_twice_keeps_the_first_decision(land, settings, tmp_path):
    from xiaoneng.appraisal import reviews
    from xiaoneng.appraisal.models import StaffGrade, StaffReview

    from .test_staff_reviews import graded

    settings.MEDIA_ROOT = tmp_path
    from xiaoneng.orgs.models import Staff

    people = [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(10)]
    grade = graded(land, people, who=3)
    review = reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-08T10:00"))
    reviews.do_decide_staff_review(review, outcome="upheld", reasons="等次恰当", at=at("2026-09-20T10:00"))
    with pytest.raises(actions.AppraisalError, match="该复核已决定"):
        reviews.do_decide_staff_review(review, outcome="changed", new_grade="excellent", reasons="改判",
                                       at=at("2026-09-21T10:00"))
    assert StaffReview.objects.get(pk=review.pk).status == "upheld"
    assert StaffGrade.objects.get(pk=grade.pk).grade == "competent"
    with pytest.raises(actions.AppraisalError, match="已对该考核结果申请过复核"):
        reviews.do_request_staff_review(grade, grounds="再申请", at=at("2026-09-22T10:00"))


# --- the objection window on the page --------------------------------------------------------------------
def test_an_objection_on_the_page_after_the_window_shows_its_end_and_saves_nothing(land, login, monkeypatch):
    from django.utils import timezone

    from xiaoneng.appraisal.models import Result

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))  # five working days: to 14 January
    th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    monkeypatch.setattr(timezone, "now", lambda: at("2027-01-15T08:00"))
    client = login(land.w.county_leader)  # after the clock is set: an idle session would be logged out
    response = client.post(reverse("appraisal:result", args=[th.pk]), {"grounds": "理由", "evidence": "材料"})
    assert response.status_code == 400
    assert "异议期已于 2027-01-14 24:00 届满" in response.content.decode()
    assert not Objection.objects.exists()
    monkeypatch.setattr(timezone, "now", lambda: at("2027-01-14T23:00"))  # the last evening still counts
    assert login(land.w.county_leader).post(reverse("appraisal:result", args=[th.pk]), {"grounds": "理由", "evidence": "材料"}
                       ).status_code == 302
