"""Schemes: the weighted tree, versions, copies and the Excel round trip."""
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from xiaoneng.appraisal import actions, schemes
from xiaoneng.appraisal.models import Indicator, Scheme, SchemeStatus

from .conftest import TREE


def tree(**changes):
    rows = [dict(r) for r in TREE]
    for code, values in changes.items():
        next(r for r in rows if r["code"] == code.replace("_", ".")).update(values)
    return rows


def test_it_refuses_children_whose_weights_do_not_sum_to_100_naming_the_parent_and_rows(land):
    with pytest.raises(schemes.SchemeError) as err:
        actions.do_create_scheme(organ_class=land.cls, year=2026, title="x", rows=tree(**{"1_2": {"weight": 20}}))
    assert err.value.field == "weight"
    assert "“1 办件效能”的下级指标权重合计为 90，应为 100" in err.value.message
    assert "第 2 行、第 3 行" in err.value.message
    assert Scheme.objects.count() == 1


def test_it_refuses_top_level_weights_that_do_not_sum_to_100(land):
    with pytest.raises(schemes.SchemeError) as err:
        schemes.validate(tree(**{"2": {"weight": 30}}))
    assert "一级指标权重合计为 90" in err.value.message


def test_it_refuses_a_fourth_level(land):
    rows = tree() + [
        {"code": "2.3.1", "parent": "2.3", "name": "三级", "weight": 100, "source": "", "method": "", "params": {}},
        {"code": "2.3.1.1", "parent": "2.3.1", "name": "四级", "weight": 100, "source": "manual",
         "method": "attainment", "params": {"target": 1}},
    ]
    rows[6].update(source="", method="", params={})
    with pytest.raises(schemes.SchemeError) as err:
        schemes.validate(rows)
    assert "最多三级" in err.value.message and err.value.row == 9


def test_a_leaf_needs_a_method_with_its_parameters(land):
    with pytest.raises(schemes.SchemeError) as err:
        schemes.validate(tree(**{"1_1": {"params": {"worst": 80}}}))
    assert err.value.field == "params" and "缺少参数 best" in err.value.message


def test_an_active_scheme_is_not_edited_in_place_but_versioned(land):
    with pytest.raises(actions.AppraisalError):
        actions.do_edit_scheme(land.scheme, rows=tree(), reason="调整")
    v2 = actions.do_new_version(land.scheme)
    assert (v2.version, v2.status) == (2, SchemeStatus.DRAFT)
    actions.do_edit_scheme(v2, rows=tree(**{"1_1": {"weight": 60}, "1_2": {"weight": 40}}), reason="红黄牌权重加大")
    period = actions.do_activate_scheme(v2, reason="按市考评委决定调整权重")
    land.scheme.refresh_from_db()
    assert land.scheme.status == SchemeStatus.SUPERSEDED
    assert period.pk == land.period.pk and period.scheme_id == v2.pk
    assert Indicator.objects.get(scheme=v2, code="1.2").weight == Decimal("40")


def test_it_copies_last_years_scheme_into_a_draft(land):
    copy = actions.do_copy_scheme(land.scheme, year=2027)
    assert copy.title == "2027年区县市场监管局绩效考评方案" and copy.copied_from == land.scheme
    assert schemes.rows_of(copy) == schemes.rows_of(land.scheme)
    with pytest.raises(actions.AppraisalError) as err:
        actions.do_copy_scheme(land.scheme, year=2026)
    assert err.value.field == "year"


def test_the_excel_export_imports_back_to_the_same_tree(land):
    data = schemes.export_xlsx(land.scheme)
    again = actions.do_import_scheme(organ_class=land.cls, year=2027, title="导入", data=data)
    assert schemes.rows_of(again) == schemes.rows_of(land.scheme)


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    ws.append(list(schemes.COLUMNS))
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("rows", "message"), [
    ([("1", "", "甲", "abc", "manual", "attainment", '{"target": 1}')], "第 2 行“权重”：“abc”不是数字"),
    ([("1", "", "甲", 100, "manual", "attainment", "{target")], "第 2 行“计分参数”：应为 JSON"),
    ([("1", "", "甲", 60, "manual", "attainment", '{"target": 1}'),
      ("2", "", "乙", 40, "weather", "linear", "")], "第 3 行“数据来源”：无效的来源“weather”"),
    ([("1", "", "甲", 60, "manual", "attainment", '{"target": 1}'),
      ("2", "9", "乙", 40, "manual", "attainment", '{"target": 1}')], "第 3 行“上级编号”：上级指标 9 不存在"),
])
def test_a_bad_excel_file_is_refused_with_its_row_and_column_and_saves_nothing(land, rows, message):
    before = Scheme.objects.count()
    with pytest.raises(schemes.SchemeError) as err:
        actions.do_import_scheme(organ_class=land.cls, year=2027, title="导入", data=_xlsx(rows))
    assert message in err.value.message
    assert Scheme.objects.count() == before


def test_a_file_that_is_not_excel_is_refused_clearly(land):
    with pytest.raises(schemes.SchemeError) as err:
        actions.do_import_scheme(organ_class=land.cls, year=2027, title="导入", data=b"not a workbook")
    assert "不是有效的 Excel" in err.value.message


def test_the_weight_error_reads_in_english_too(land):
    from django.utils import translation

    with translation.override("en"), pytest.raises(schemes.SchemeError) as err:
        schemes.validate(tree(**{"1_2": {"weight": 20}}))
    assert err.value.message == "Weight: the weights of the children of “1 办件效能” sum to 90, not 100 (row 2, row 3)"
