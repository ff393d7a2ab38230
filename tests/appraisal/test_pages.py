"""Pages: the office's scheme list, tree, Excel, board and lineage; an organ's own result; scope."""
import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from xiaoneng.appraisal import actions, schemes
from xiaoneng.appraisal.models import Objection, Result, Scheme

from .conftest import at


@pytest.fixture
def provisional(land):
    land.promise(land.w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    land.th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    land.yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    land.yx_objection = actions.do_object(land.yx, grounds="越秀的异议理由", evidence="越秀的材料",
                                          at=at("2027-01-08T10:00"))
    return land


def test_the_office_sees_the_scheme_tree_with_its_weights(land, login):
    html = login(land.w.appraisal_officer).get(reverse("appraisal:scheme", args=[land.scheme.pk])).content.decode()
    assert "准时办结率" in html and "阈值间线性计分" in html
    assert 'data-level="2"' in html


def test_the_office_exports_the_scheme_as_excel(land, login):
    response = login(land.w.appraisal_officer).get(reverse("appraisal:scheme-export", args=[land.scheme.pk]))
    assert response.status_code == 200
    assert [r["code"] for r in schemes.validate(
        [dict(zip(schemes.KEYS, row, strict=False)) for row in _rows(response.content)])] == [
        "1", "1.1", "1.2", "2", "2.1", "2.2", "2.3"]


def _rows(data):
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_a_bad_import_shows_its_row_and_column_and_creates_nothing(land, login):
    wb = Workbook()
    wb.active.append(list(schemes.COLUMNS))
    wb.active.append(["1", "", "甲", "九十", "manual", "attainment", '{"target": 1}'])
    buf = io.BytesIO()
    wb.save(buf)
    buf.name = "scheme.xlsx"
    buf.seek(0)
    response = login(land.w.appraisal_officer).post(reverse("appraisal:scheme-import"), {
        "organ_class": land.cls.pk, "year": 2027, "title": "导入", "file": buf})
    assert response.status_code == 400
    assert "第 2 行“权重”：“九十”不是数字" in response.content.decode()
    assert Scheme.objects.count() == 1


def test_the_board_drills_down_to_the_lineage_of_a_score(provisional, login):
    client = login(provisional.w.appraisal_officer)
    board = client.get(reverse("appraisal:board", args=[provisional.period.pk])).content.decode()
    assert reverse("appraisal:result", args=[provisional.th.pk]) in board
    assert "越秀的异议理由" in board  # the office decides every objection
    line = provisional.th.lines.get(indicator__code="1.1")
    page = client.get(reverse("appraisal:result", args=[provisional.th.pk])).content.decode()
    assert reverse("appraisal:line-records", args=[line.pk]) in page
    records = client.get(reverse("appraisal:line-records", args=[line.pk])).content.decode()
    assert records.count("data-record=") == 1 and "逾期办结" in records
    assert f'href="/cases/?organ={provisional.w.tianhe_bureau.pk}"' in records  # the existing list page


def test_an_organ_sees_its_own_result_and_may_object_but_never_another_organs(provisional, login):
    client = login(provisional.w.county_leader)  # 天河 bureau's leader
    mine = client.get(reverse("appraisal:mine")).content.decode()
    assert provisional.w.tianhe_bureau.name in mine and provisional.w.yuexiu_bureau.name not in mine
    assert client.get(reverse("appraisal:result", args=[provisional.yx.pk])).status_code == 404
    assert client.get(reverse("appraisal:board", args=[provisional.period.pk])).status_code == 404  # not yet published
    other_line = provisional.yx.lines.first()
    assert client.get(reverse("appraisal:line-records", args=[other_line.pk])).status_code == 404
    page = client.get(reverse("appraisal:result", args=[provisional.th.pk])).content.decode()
    assert "越秀的异议理由" not in page
    response = client.post(reverse("appraisal:result", args=[provisional.th.pk]),
                           {"grounds": "3 月一件系申请人要求暂停", "evidence": "书面申请"})
    assert response.status_code == 302
    assert Objection.objects.filter(result=provisional.th).count() == 1


def test_after_publication_an_organ_sees_the_ranking_but_not_others_objections(provisional, login):
    actions.do_decide_objection(provisional.yx_objection, upheld=False, reasons="不成立", at=at("2027-01-15T10:00"))
    actions.do_publish_results(provisional.period, at=at("2027-01-15T11:00"))
    client = login(provisional.w.county_leader)
    board = client.get(reverse("appraisal:board", args=[provisional.period.pk])).content.decode()
    assert provisional.w.yuexiu_bureau.name in board and "越秀的异议理由" not in board
    assert reverse("appraisal:result", args=[provisional.yx.pk]) not in board


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "shenzhen_handler", "auditor"])
def test_an_outsider_sees_nothing(provisional, login, persona):
    client = login(getattr(provisional.w, persona))
    line = provisional.th.lines.first()
    for url in (reverse("appraisal:schemes"), reverse("appraisal:scheme", args=[provisional.scheme.pk]),
                reverse("appraisal:scheme-export", args=[provisional.scheme.pk]),
                reverse("appraisal:board", args=[provisional.period.pk]),
                reverse("appraisal:result", args=[provisional.th.pk]),
                reverse("appraisal:line-records", args=[line.pk]), reverse("appraisal:mine")):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("appraisal:board", args=[provisional.period.pk]), {"op": "publish"}).status_code == 404


def test_an_office_of_another_region_sees_nothing(provisional, login):
    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    sz_officer = make_user("sz_officer", Role.APPRAISAL_OFFICER, region=provisional.w.sz)
    client = login(sz_officer)
    assert client.get(reverse("appraisal:board", args=[provisional.period.pk])).status_code == 404
    assert client.get(reverse("appraisal:result", args=[provisional.th.pk])).status_code == 404
    assert 'data-scheme=' not in client.get(reverse("appraisal:schemes")).content.decode()
