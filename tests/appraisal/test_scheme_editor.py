"""The scheme editor: a draft's indicator tree written by hand, a new scheme, the import's row errors, scope."""
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from xiaoneng.appraisal import actions, schemes
from xiaoneng.appraisal.models import Indicator, Scheme, SchemeStatus
from xiaoneng.audit.models import AuditEntry

from .conftest import TREE


@pytest.fixture
def draft(land):
    land.draft = actions.do_new_version(land.scheme)
    return land


def post_data(rows, reason="", extra_blank=0, **more):
    """The editor's POST: row n's fields as `code-n`…, then `extra_blank` empty rows."""
    data = {"rows": len(rows) + extra_blank, "reason": reason, **more}
    for n, r in enumerate(rows, start=1):
        data.update({f"code-{n}": r["code"], f"parent-{n}": r["parent"], f"name-{n}": r["name"],
                     f"weight-{n}": str(r["weight"]), f"source-{n}": r["source"], f"method-{n}": r["method"],
                     f"params-{n}": json.dumps(r["params"]) if r["params"] else ""})
    return data


def tree(**weights):
    rows = [dict(r) for r in TREE]
    for r in rows:
        r["weight"] = weights.get("w" + r["code"].replace(".", "_"), r["weight"])
    return rows


def weights(scheme):
    return {i.code: i.weight for i in Indicator.objects.filter(scheme=scheme)}


def edit_url(land):
    return reverse("appraisal:scheme-edit", args=[land.draft.pk])


def test_the_editor_shows_a_drafts_tree_indented_with_the_sum_of_each_sibling_group(draft, login):
    client = login(draft.w.appraisal_officer)
    response = client.get(edit_url(draft))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-row="2" data-level="2"' in page and 'value="准时办结率"' in page
    assert "“1 办件效能”的下级指标" in page and 'name="code-12"' in page and 'name="code-13"' not in page
    more = client.get(edit_url(draft), {"extra": 3}).content.decode()
    assert 'name="code-10"' in more and 'name="code-11"' not in more
    detail = client.get(reverse("appraisal:scheme", args=[draft.draft.pk])).content.decode()
    assert edit_url(draft) in detail


def test_the_office_edits_a_drafts_weights_saved_and_audited_with_the_reason(draft, login):
    client = login(draft.w.appraisal_officer)
    response = client.post(edit_url(draft), post_data(tree(w1_1=60, w1_2=40), reason="红黄牌权重加大", extra_blank=5))
    assert response.status_code == 302
    assert weights(draft.draft)["1.1"] == Decimal("60") and weights(draft.draft)["1.2"] == Decimal("40")
    entry = AuditEntry.objects.get(action="appraisal.scheme_edit", object_id=str(draft.draft.pk))
    assert entry.changes["reason"] == "红黄牌权重加大" and entry.actor == draft.w.appraisal_officer
    assert {r["code"]: r["weight"] for r in entry.changes["after"]}["1.2"] == "40"


def test_a_weight_sum_other_than_100_is_refused_naming_the_rows_and_nothing_changes(draft, login):
    before = weights(draft.draft)
    response = login(draft.w.appraisal_officer).post(edit_url(draft), post_data(tree(w1_2=20), reason="调整"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "权重：“1 办件效能”的下级指标权重合计为 90，应为 100（第 2 行、第 3 行）" in page
    assert 'id="id_weight-2" name="weight-2" value="70" size="5" inputmode="decimal" aria-invalid="true"' in page
    assert 'value="20"' in page  # what was typed is shown again
    assert weights(draft.draft) == before and not AuditEntry.objects.filter(action="appraisal.scheme_edit").exists()


def test_a_bad_value_is_shown_on_its_row_and_field_as_the_import_says_it(draft, login):
    rows = tree()
    rows[3]["weight"] = "九十"
    page = login(draft.w.appraisal_officer).post(edit_url(draft), post_data(rows, reason="调整")).content.decode()
    assert '<p class="field-error" data-error="weight">第 4 行“权重”：“九十”不是数字</p>' in page


def test_an_edit_without_a_reason_is_refused(draft, login):
    before = weights(draft.draft)
    response = login(draft.w.appraisal_officer).post(edit_url(draft), post_data(tree(w1_1=60, w1_2=40)))
    assert response.status_code == 400
    assert "请写明修改方案（权重）的理由" in response.content.decode()
    assert weights(draft.draft) == before


def test_an_indicator_is_added_and_another_deleted_by_blanking_its_row(draft, login):
    rows = tree(w2_1=50, w2_2=20, w2_3=20)
    rows.append({"code": "2.4", "parent": "2", "name": "政务公开", "weight": 10, "source": "manual",
                 "method": "attainment", "params": {"target": 100}})
    client = login(draft.w.appraisal_officer)
    assert client.post(edit_url(draft), post_data(rows, reason="增设政务公开")).status_code == 302
    assert weights(draft.draft)["2.4"] == Decimal("10")
    data = post_data(rows, reason="取消政务公开，权重并入目标完成")
    data.update({f"{f}-8": "" for f in ("code", "parent", "name", "weight", "source", "method", "params")})
    data["weight-7"] = "30"
    assert client.post(edit_url(draft), data).status_code == 302
    assert "2.4" not in weights(draft.draft) and weights(draft.draft)["2.3"] == Decimal("30")


def test_more_rows_keep_what_was_typed_and_save_nothing(draft, login):
    data = post_data(tree(w1_2=20), reason="调整", op="more")
    response = login(draft.w.appraisal_officer).post(edit_url(draft), data)
    page = response.content.decode()
    assert response.status_code == 200 and 'name="code-12"' in page and 'id="id_weight-3" name="weight-3" value="20"' in page
    assert weights(draft.draft)["1.2"] == Decimal("30")


def test_the_office_creates_a_new_scheme_in_the_editor(land, login):
    client = login(land.w.appraisal_officer)
    page = client.get(reverse("appraisal:scheme-new")).content.decode()
    assert land.cls.name in page
    response = client.post(reverse("appraisal:scheme-new"), post_data(
        tree(), extra_blank=3, organ_class=land.cls.pk, year=2027, title="2027年方案", target="organ"))
    made = Scheme.objects.get(year=2027)
    assert response.status_code == 302 and response["Location"] == reverse("appraisal:scheme", args=[made.pk])
    assert (made.title, made.status, made.version) == ("2027年方案", SchemeStatus.DRAFT, 1)
    assert schemes.rows_of(made) == schemes.rows_of(land.scheme)


def test_a_new_scheme_with_a_bad_tree_is_not_created(land, login):
    response = login(land.w.appraisal_officer).post(reverse("appraisal:scheme-new"), post_data(
        tree(w2=30), organ_class=land.cls.pk, year=2027, title="2027年方案", target="organ"))
    assert response.status_code == 400 and "一级指标权重合计为 90" in response.content.decode()
    assert not Scheme.objects.filter(year=2027).exists()


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "shenzhen_handler", "auditor", "sz_officer"])
def test_an_outsider_or_another_regions_office_gets_404(draft, login, persona):
    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    user = (make_user("sz_officer", Role.APPRAISAL_OFFICER, region=draft.w.sz) if persona == "sz_officer"
            else getattr(draft.w, persona))
    client = login(user)
    before = weights(draft.draft)
    assert client.get(edit_url(draft)).status_code == 404
    assert client.post(edit_url(draft), post_data(tree(w1_1=60, w1_2=40), reason="越权")).status_code == 404
    assert weights(draft.draft) == before
    new = client.get(reverse("appraisal:scheme-new"))
    if persona == "sz_officer":  # its own region's page, without the 广州 class
        assert new.status_code == 200 and draft.cls.name not in new.content.decode()
        response = client.post(reverse("appraisal:scheme-new"), post_data(
            tree(), organ_class=draft.cls.pk, year=2027, title="越权", target="organ"))
        assert response.status_code == 400
    else:
        assert new.status_code == 404
    assert not Scheme.objects.filter(year=2027).exists()


def test_an_active_schemes_editor_refuses_and_offers_a_new_version(land, login):
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:scheme-edit", args=[land.scheme.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="locked"' in page and 'value="version"' in page and 'name="code-1"' not in page
    response = client.post(url, post_data(tree(w1_1=60, w1_2=40), reason="调整"))
    assert response.status_code == 409 and weights(land.scheme)["1.1"] == Decimal("70")


def test_the_editor_reads_in_english(draft, login, client):
    login(draft.w.appraisal_officer)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(edit_url(draft)).content.decode()
    for chinese in ("编辑指标", "修改理由", "保存指标", "增加", "同级权重合计", "权重合计", "上级编号", "每行一个指标"):
        assert chinese not in page, chinese
    assert "Edit indicators" in page and "Reason for the change" in page
    response = client.post(edit_url(draft), post_data(tree(w1_2=20)))
    assert "Reason for the change" in response.content.decode() and "请写明" not in response.content.decode()
    new = client.get(reverse("appraisal:scheme-new")).content.decode()
    assert "New scheme" in new and "新建方案" not in new
    assert "New scheme" in client.get(reverse("appraisal:schemes")).content.decode()


def test_a_parameter_that_is_not_a_number_is_refused_on_its_row_not_a_500(draft, login):
    rows = tree()
    data = post_data(rows, reason="调整")
    data["params-7"] = '{"target": NaN}'
    response = login(draft.w.appraisal_officer).post(edit_url(draft), data)
    assert response.status_code == 400
    assert "第 7 行“计分参数”：参数 target 应为数字" in response.content.decode()
