"""The score list with its Excel export (foreground and background, filtered and scoped), and the report of
every appraisal change with who and why."""
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Indicator, Result, StaffGrade
from xiaoneng.appraisal.staff import do_submit_staff_grades
from xiaoneng.audit.log import acting_as
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Staff

from .conftest import at


def xlsx_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))


def test_the_office_exports_the_board_filtered_by_period(two_years, login):
    land = two_years
    response = login(land.w.appraisal_officer).get(reverse("appraisal:scores"),
                                                   {"period": land.period.pk, "export": "xlsx"})
    rows = xlsx_rows(response.content)
    assert rows[0] == ("年度", "考评类别", "机关", "总分", "类别内排名", "等次", "状态")
    assert [r[2:6] for r in rows[1:]] == [(land.w.yuexiu_bureau.name, 90, 1, "优秀"),
                                          (land.w.tianhe_bureau.name, 48, 2, "较差")]
    assert {r[0] for r in rows[1:]} == {2026}


def test_a_large_score_export_becomes_a_job_that_keeps_the_filter_and_the_scope(two_years, login, settings, tmp_path):
    from xiaoneng.exports import actions as exports
    from xiaoneng.exports.models import Export

    settings.XIAONENG_RULES = {"export_background_rows": 0}
    settings.XIAONENG_EXPORT_DIR = str(tmp_path)
    land = two_years
    response = login(land.w.county_leader).get(reverse("appraisal:scores"), {"grade": "poor", "export": "xlsx"})
    job = Export.objects.get()
    assert response.status_code == 302 and job.list_name == "appraisal:scores" and job.query == "grade=poor"
    exports.run_job(exports.claim_next("w1"))
    job.refresh_from_db()
    assert job.state == Export.State.DONE, job.error
    rows = xlsx_rows((exports.export_dir() / job.file).read_bytes())
    assert [r[2] for r in rows[1:]] == [land.w.tianhe_bureau.name]


def test_an_organ_lists_its_own_provisional_result_but_not_the_others(land, login):
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    client = login(land.w.county_leader)
    assert 'data-result=' not in client.get(reverse("appraisal:scores")).content.decode()  # computed: not yet
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    html = client.get(reverse("appraisal:scores")).content.decode()
    assert land.w.tianhe_bureau.name in html and land.w.yuexiu_bureau.name not in html


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "auditor", "shenzhen_handler"])
def test_an_outsider_gets_no_score_list_and_no_change_report(published, login, persona):
    client = login(getattr(published.w, persona))
    for url in (reverse("appraisal:scores"), reverse("appraisal:changes")):
        assert client.get(url).status_code == 404
        assert client.get(url, {"export": "xlsx"}).status_code == 404


# --- who changed what, and why ---------------------------------------------------------------
def test_a_recomputation_that_changes_a_total_needs_a_reason_and_is_reported(land, login):
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    # A late case reported afterwards about the period (dated within it) changes 天河's total.
    land.promise(land.w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_compute_period(land.period, at=at("2027-01-06T09:30"))
    assert err.value.field == "reason"
    th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    assert th.total == D("90.00")  # refused: nothing changed
    with acting_as(land.w.appraisal_officer, channel="web"):
        actions.do_compute_period(land.period, at=at("2027-01-06T09:30"), reason="补录 3 月逾期办件")
    entry = AuditEntry.objects.get(action="appraisal.recompute")
    assert entry.changes["reason"] == "补录 3 月逾期办件"
    assert entry.changes["changed"][0]["total"] == ["90.00", "48.00"]
    html = login(land.w.appraisal_officer).get(reverse("appraisal:changes"), {"period": land.period.pk}).content.decode()
    assert "补录 3 月逾期办件" in html and "90.00→48.00" in html and "appraisal_officer" in html


def test_a_recomputation_that_changes_nothing_needs_no_reason(land):
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_compute_period(land.period, at=at("2027-01-06T09:30"))
    assert AuditEntry.objects.get(action="appraisal.recompute").changes["changed"] == []


def test_changing_a_manual_value_needs_a_reason(land):
    goal = Indicator.objects.get(scheme=land.scheme, code="2.3")
    kw = dict(indicator=goal, organ=land.w.tianhe_bureau, evidence="目标考核表")
    actions.do_enter_manual_value(land.period, value=80, at=at("2026-12-20T10:00"), **kw)
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_enter_manual_value(land.period, value=95, at=at("2026-12-21T10:00"), **kw)
    assert err.value.field == "reason"
    actions.do_enter_manual_value(land.period, value=95, reason="补充第四季度完成情况", at=at("2026-12-21T10:00"), **kw)
    entries = AuditEntry.objects.filter(action="appraisal.manual_value").order_by("pk")
    assert [e.changes["value"] for e in entries] == [[None, "80"], ["80", "95"]]
    assert entries[1].changes["reason"] == "补充第四季度完成情况"


def test_changing_a_staff_grade_needs_a_reason(land):
    people = [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(5)]
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {p: "competent" for p in people}, at=at("2027-01-20T10:00"))
    with pytest.raises(actions.AppraisalError) as err:
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {people[0]: "excellent"}, at=at("2027-01-21T10:00"))
    assert err.value.field == "reason" and "干部0" in err.value.message
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {people[0]: "excellent"}, reason="复核后改定",
                           at=at("2027-01-21T10:00"))
    assert StaffGrade.objects.get(staff=people[0]).grade == "excellent"
    entry = AuditEntry.objects.filter(action="appraisal.staff_grades").latest("pk")
    assert entry.changes["changed"] == {"干部0": ["competent", "excellent"]} and entry.changes["reason"] == "复核后改定"


def test_replacing_the_weights_in_force_needs_a_reason(land):
    v2 = actions.do_new_version(land.scheme)
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_activate_scheme(v2)
    assert err.value.field == "reason"
    actions.do_activate_scheme(v2, reason="考评委员会调整")
    assert AuditEntry.objects.get(action="appraisal.scheme_replace").changes["period"] == land.period.pk


def test_the_change_report_lists_decisions_and_weights_for_the_office_and_supervisors_above(published, login):
    land = published
    v2 = actions.do_new_version(land.scheme)  # a draft after publication: not this period's concern
    actions.do_edit_scheme(v2, rows=[dict(r) for r in __import__("tests.appraisal.conftest", fromlist=["TREE"]).TREE],
                           reason="草稿调整")
    for user in (land.w.appraisal_officer, land.w.city_supervisor, land.w.province_supervisor):
        client = login(user)
        html = client.get(reverse("appraisal:changes"), {"period": land.period.pk}).content.decode()
        assert "数据来源于办件系统，异议不成立" in html, user  # the objection decided, with its reasons
        assert "草稿调整" in html  # the class-year's scheme edits
        rows = xlsx_rows(client.get(reverse("appraisal:changes"), {"period": land.period.pk, "export": "xlsx"}).content)
        assert rows[0] == ("时间", "变更类型", "对象", "操作人", "变更内容", "理由")
        assert ("决定异议" in {r[1] for r in rows}) and ("考评期状态变更" in {r[1] for r in rows})
    # A county supervisor is below the class's region (广州): no report.
    assert login(land.w.county_supervisor).get(reverse("appraisal:changes")).status_code == 404


def test_the_scheme_page_asks_why_the_scheme_in_force_is_replaced(land, login):
    v2 = actions.do_new_version(land.scheme)
    client = login(land.w.appraisal_officer)
    page = client.get(reverse("appraisal:scheme", args=[v2.pk])).content.decode()
    assert 'name="reason"' in page
    refused = client.post(reverse("appraisal:scheme", args=[v2.pk]), {"op": "activate"}, follow=True)
    assert "请写明更换已启用方案（权重）的理由" in refused.content.decode()
    v2.refresh_from_db()
    assert v2.status == "draft"
    client.post(reverse("appraisal:scheme", args=[v2.pk]), {"op": "activate", "reason": "考评委员会调整"})
    html = client.get(reverse("appraisal:changes"), {"period": land.period.pk}).content.decode()
    assert "更换已启用方案" in html and "考评委员会调整" in html


def test_the_score_list_costs_the_same_queries_however_many_rows(two_years, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(two_years.w.appraisal_officer)
    client.get(reverse("appraisal:scores"))  # warm up (session, grants)
    with CaptureQueriesContext(connection) as one_period:
        assert client.get(reverse("appraisal:scores"), {"period": two_years.period.pk}).status_code == 200
    with CaptureQueriesContext(connection) as every_period:
        html = client.get(reverse("appraisal:scores")).content.decode()
    assert html.count("data-result=") == 4
    assert len(every_period) <= len(one_period)


def test_the_change_report_costs_the_same_queries_however_many_periods(two_years, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(two_years.w.appraisal_officer)
    client.get(reverse("appraisal:changes"))
    with CaptureQueriesContext(connection) as one_period:
        client.get(reverse("appraisal:changes"), {"period": two_years.period.pk})
    with CaptureQueriesContext(connection) as every_period:
        client.get(reverse("appraisal:changes"))
    assert len(every_period) <= len(one_period)
