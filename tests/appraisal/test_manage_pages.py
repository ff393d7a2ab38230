"""The office's working pages: organ classes, the grid of manual values, one objection and its decision."""
import pytest
from django.urls import reverse

from tests.conftest import make_user
from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import ManualValue, Objection, ObjectionStatus, OrganClass, Result
from xiaoneng.orgs.models import Role

from .conftest import at


def cell(ind, organ, field):
    return f"{field}-{ind.pk}-{organ.pk}"


@pytest.fixture
def manual(land):
    return land.scheme.indicators.get(code="2.3")


@pytest.fixture
def provisional(land):
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    # Announced now, so that the objection window is open for the pages (which use the current time).
    actions.do_announce_provisional(land.period)
    land.th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    land.yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    land.objection = actions.do_object(land.yx, grounds="年度目标已完成，漏报", evidence="年度目标考核表")
    return land


# --- classes -------------------------------------------------------------------------------------------
def test_the_office_creates_a_class_from_the_organs_of_a_region_it_picked(land, login):
    client = login(land.w.appraisal_officer)
    page = client.get(reverse("appraisal:class-new"), {"region": land.w.tianhe.pk}).content.decode()
    assert land.w.tianhe_bureau.name in page and land.w.yuexiu_bureau.name not in page  # the region's organs only
    response = client.post(reverse("appraisal:class-new"), {
        "region": land.w.tianhe.pk, "name": "天河区区直单位", "organs": [land.w.tianhe_bureau.pk, land.w.tianhe_station.pk]})
    made = OrganClass.objects.get(name="天河区区直单位")
    assert response.status_code == 302 and response["Location"] == reverse("appraisal:class-edit", args=[made.pk])
    assert set(made.organs.all()) == {land.w.tianhe_bureau, land.w.tianhe_station}
    assert made.region == land.w.tianhe
    from xiaoneng.audit.models import AuditEntry

    entry = AuditEntry.objects.get(action="appraisal.class_organs", object_id=str(made.pk))
    assert entry.changes["added"] == sorted([land.w.tianhe_bureau.pk, land.w.tianhe_station.pk])
    assert entry.actor == land.w.appraisal_officer


def test_a_class_without_a_name_or_with_a_taken_name_is_refused_per_field(land, login):
    client = login(land.w.appraisal_officer)
    response = client.post(reverse("appraisal:class-new"), {"region": land.w.gz.pk, "name": "区县市场监管局",
                                                            "organs": [land.w.tianhe_bureau.pk]})
    assert response.status_code == 400
    assert "类别名称：本区划已有名为“区县市场监管局”的考评类别" in response.content.decode()
    response = client.post(reverse("appraisal:class-new"), {"region": land.w.gz.pk, "name": " "})
    assert response.status_code == 400 and "类别名称：" in response.content.decode()
    assert OrganClass.objects.count() == 1


def test_an_organ_outside_the_chosen_region_is_refused(land, login):
    client = login(land.w.appraisal_officer)
    response = client.post(reverse("appraisal:class-new"), {"region": land.w.tianhe.pk, "name": "混合",
                                                            "organs": [land.w.yuexiu_bureau.pk]})
    assert response.status_code == 400 and "参评机关：" in response.content.decode()
    assert not OrganClass.objects.filter(name="混合").exists()


def test_the_office_edits_a_class_but_not_its_organs_while_results_are_announced(land, login):
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:class-edit", args=[land.cls.pk])
    assert client.post(url, {"name": "区市场监管局", "organs": [land.w.tianhe_bureau.pk]}).status_code == 302
    land.cls.refresh_from_db()
    assert land.cls.name == "区市场监管局" and list(land.cls.organs.all()) == [land.w.tianhe_bureau]
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    response = client.post(url, {"name": "区市场监管局", "organs": [land.w.tianhe_bureau.pk, land.w.yuexiu_bureau.pk]})
    assert response.status_code == 400
    assert "参评机关：本类别有已计算或预告中的考评结果，暂不能调整参评机关" in response.content.decode()
    assert list(land.cls.organs.all()) == [land.w.tianhe_bureau]


def test_the_class_list_shows_the_offices_classes_and_exports_them(land, login):
    client = login(land.w.appraisal_officer)
    page = client.get(reverse("appraisal:classes")).content.decode()
    assert f'data-class="{land.cls.pk}"' in page and "区县市场监管局" in page
    export = client.get(reverse("appraisal:classes"), {"export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


# --- manual values -----------------------------------------------------------------------------------
def test_the_grid_saves_every_cell_or_none_and_names_each_wrong_cell(land, manual, login):
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:manual", args=[land.period.pk])
    th, yx = land.w.tianhe_bureau, land.w.yuexiu_bureau
    response = client.post(url, {cell(manual, th, "value"): "96.5", cell(manual, th, "evidence"): "年度目标考核表",
                                 cell(manual, yx, "value"): "九十", cell(manual, yx, "evidence"): "考核表"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "“九十”不是数字" in html and "有 1 处填写有误，均未保存" in html
    assert 'value="96.5"' in html  # what was typed is kept
    assert not ManualValue.objects.exists()
    response = client.post(url, {cell(manual, th, "value"): "96.5", cell(manual, th, "evidence"): "年度目标考核表",
                                 cell(manual, yx, "value"): "88", cell(manual, yx, "evidence"): " "})
    assert response.status_code == 400 and "请附佐证材料说明" in response.content.decode()
    assert not ManualValue.objects.exists()
    response = client.post(url, {cell(manual, th, "value"): "96.5", cell(manual, th, "evidence"): "年度目标考核表",
                                 cell(manual, yx, "value"): "88", cell(manual, yx, "evidence"): "考核表"})
    assert response.status_code == 302
    assert {(m.organ, str(m.value.normalize())) for m in ManualValue.objects.all()} == {(th, "96.5"), (yx, "88")}
    assert ManualValue.objects.get(organ=th).entered_by == "appraisal_officer"


def test_a_value_too_large_or_too_precise_is_refused_not_a_server_error(land, manual, login):
    client = login(land.w.appraisal_officer)
    th = land.w.tianhe_bureau
    for bad in ("1e12", "1.23456", "NaN"):
        response = client.post(reverse("appraisal:manual", args=[land.period.pk]),
                               {cell(manual, th, "value"): bad, cell(manual, th, "evidence"): "表"})
        assert response.status_code == 400, bad
    assert not ManualValue.objects.exists()


def test_after_computation_only_an_organ_with_an_upheld_objection_may_be_corrected(provisional, manual, login):
    client = login(provisional.w.appraisal_officer)
    url = reverse("appraisal:manual", args=[provisional.period.pk])
    yx = provisional.w.yuexiu_bureau
    page = client.get(url).content.decode()
    assert 'data-testid="readonly"' in page and f'name="{cell(manual, yx, "value")}"' not in page
    actions.do_decide_objection(provisional.objection, upheld=True, reasons="考核表证明已完成")
    page = client.get(url).content.decode()
    assert f'name="{cell(manual, yx, "value")}"' in page
    assert f'name="{cell(manual, provisional.w.tianhe_bureau, "value")}"' not in page
    response = client.post(url, {cell(manual, yx, "value"): "100", cell(manual, yx, "evidence"): "年度目标考核表",
                                 "reason": "异议成立，按考核表更正"})
    assert response.status_code == 302
    actions.do_compute_period(provisional.period, reason="异议成立后更正")
    provisional.yx.refresh_from_db()
    assert provisional.yx.lines.get(indicator=manual).score == 100


# --- one objection -----------------------------------------------------------------------------------
def test_the_office_decides_an_objection_with_reasons_answered_per_field(provisional, login):
    client = login(provisional.w.appraisal_officer)
    url = reverse("appraisal:objection", args=[provisional.objection.pk])
    page = client.get(url).content.decode()
    assert "年度目标已完成，漏报" in page and "年度目标考核表" in page
    response = client.post(url, {"upheld": "no", "reasons": ""})
    assert response.status_code == 400 and "决定理由：请写明决定理由" in response.content.decode()
    response = client.post(url, {"reasons": "理由"})
    assert response.status_code == 400 and "决定：请选择异议是否成立" in response.content.decode()
    assert client.post(url, {"upheld": "no", "reasons": "考核表未盖章，不予认可"}).status_code == 302
    provisional.objection.refresh_from_db()
    assert provisional.objection.status == ObjectionStatus.REJECTED
    assert provisional.objection.decided_by == "appraisal_officer"
    again = client.post(url, {"upheld": "yes", "reasons": "改判"})
    assert again.status_code == 400 and "该异议已决定" in again.content.decode()
    assert Objection.objects.get().status == ObjectionStatus.REJECTED


def test_an_organ_reads_its_own_objection_but_neither_decides_it_nor_sees_anothers(provisional, login):
    yx_leader = provisional.yuexiu_leader
    client = login(yx_leader)
    url = reverse("appraisal:objection", args=[provisional.objection.pk])
    assert "年度目标已完成，漏报" in client.get(url).content.decode()
    assert client.post(url, {"upheld": "yes", "reasons": "自己决定"}).status_code == 404
    assert Objection.objects.get().status == ObjectionStatus.PENDING
    assert login(provisional.w.county_leader).get(url).status_code == 404  # 天河's leader: another organ's


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "county_leader", "shenzhen_handler", "auditor",
                                     "sz_officer"])
def test_an_outsider_reaches_none_of_the_working_pages(provisional, manual, login, persona):
    user = (make_user("sz_officer", Role.APPRAISAL_OFFICER, region=provisional.w.sz) if persona == "sz_officer"
            else getattr(provisional.w, persona))
    client = login(user)
    urls = [reverse("appraisal:class-edit", args=[provisional.cls.pk]),
            reverse("appraisal:manual", args=[provisional.period.pk]),
            reverse("appraisal:objection", args=[provisional.objection.pk])]
    if persona != "sz_officer":  # another region's office has its own (empty) class pages
        urls += [reverse("appraisal:classes"), reverse("appraisal:class-new")]
    for url in urls:
        assert client.get(url).status_code == 404, url
        if url != reverse("appraisal:classes"):  # the list takes no POST at all (405)
            assert client.post(url, {"name": "x", "upheld": "yes", "reasons": "x"}).status_code == 404, url
    if persona == "sz_officer":
        assert f'data-class="{provisional.cls.pk}"' not in client.get(reverse("appraisal:classes")).content.decode()
        page = client.get(reverse("appraisal:class-new"), {"region": provisional.w.gz.pk}).content.decode()
        assert provisional.w.tianhe_bureau.name not in page
    assert OrganClass.objects.get().name == "区县市场监管局"
    assert Objection.objects.get().status == ObjectionStatus.PENDING and not ManualValue.objects.exists()


def test_the_working_pages_speak_english_when_asked(provisional, manual, login, client):
    login(provisional.w.appraisal_officer)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    grid = client.get(reverse("appraisal:manual", args=[provisional.period.pk])).content.decode()
    assert "Manual indicator values" in grid and "人工指标填报" not in grid
    response = client.post(reverse("appraisal:objection", args=[provisional.objection.pk]), {"upheld": "no"})
    html = response.content.decode()
    assert response.status_code == 400 and "Reasons for the decision" in html and "请写明决定理由" not in html
    assert "New appraisal class" in client.get(reverse("appraisal:classes")).content.decode()


def test_the_offices_home_panel_costs_the_same_queries_however_many_periods(land, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(land.w.appraisal_officer)

    def home_queries():
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("home")).content.decode()
        return len(queries), html

    one, html = home_queries()
    assert f'data-period="{land.period.pk}"' in html
    for year in (2027, 2028):
        actions.do_activate_scheme(actions.do_copy_scheme(land.scheme, year=year))
    three, html = home_queries()
    assert html.count("data-period=") == 3 and three == one
