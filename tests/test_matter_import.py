"""Excel import and export of the matter catalogue: row-by-row errors, all-or-nothing,
a new version only when the rules change, and a round trip that changes nothing."""
import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connections
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from xiaoneng.approvals import actions
from xiaoneng.approvals.imports import (
    MATTER_HEADERS,
    SHEET_MATTERS,
    SHEET_STEPS,
    STEP_HEADERS,
    catalogue_workbook,
    import_matters,
    template_workbook,
)
from xiaoneng.approvals.models import Matter, MatterStep, MatterVersion

pytestmark = pytest.mark.django_db


def matter_row(organ, code="440106-XK-0901", **over):
    row = {
        "事项编码": code, "事项名称": "建设项目环境影响报告表审批", "事项类型": "行政许可", "实施机关统一社会信用代码": organ.credit_code,
        "设定依据": "《中华人民共和国环境影响评价法》第二十二条", "法定时限": 30, "法定时限单位": "自然日",
        "承诺时限": 15, "承诺时限单位": "自然日", "是否收费": "否", "收费标准（元）": None, "收费依据": "",
        "申请材料": "环境影响报告表\n建设项目环评审批申请书；营业执照复印件", "需下级初审": "否", "并联审批": "否",
        "协办机关统一社会信用代码": "", "联合办理时限（工作日）": None,
    }
    row.update(over)
    return row


def step_row(code="440106-XK-0901", order=1, name="技术评估", limit=5, unit="工作日", first_review="否"):
    return {"事项编码": code, "顺序": order, "环节名称": name, "时限": limit, "单位": unit, "下级初审": first_review}


def workbook(matters, steps=(), matter_headers=MATTER_HEADERS, step_headers=STEP_HEADERS, sheets=None) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, headers, rows in (sheets or [(SHEET_MATTERS, matter_headers, matters), (SHEET_STEPS, step_headers, steps)]):
        ws = wb.create_sheet(title)
        ws.append(list(headers))
        for row in rows:
            ws.append([row.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def wrong_check(code: str) -> str:
    """The same credit code with a check character that is certainly wrong."""
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def errors_of(report):
    return [(e.sheet, e.row, e.column, e.message) for e in report.errors]


def has_error(report, sheet, row, column, words=""):
    assert not report.ok
    hits = [e for e in report.errors if (e.sheet, e.row, e.column) == (sheet, row, column) and words in e.message]
    assert hits, f"no error {sheet}/{row}/{column} ~ {words!r}: {errors_of(report)}"


def test_a_good_file_creates_matters_with_their_steps_and_rules(world):
    data = workbook(
        [
            matter_row(world.tianhe_bureau),
            matter_row(world.gz_bureau, code="4401-XK-1802", 事项名称="食品生产许可", 法定时限=20, 法定时限单位="工作日",
                       承诺时限=20, 承诺时限单位="working", 需下级初审="是", 事项类型="licence"),
            matter_row(world.gz_bureau, code="4401-QR-0801", 事项名称="不动产登记", 事项类型="行政确认", 法定时限=30,
                       法定时限单位="工作日", 承诺时限=5, 承诺时限单位="工作日", 是否收费="是", **{"收费标准（元）": 80},
                       收费依据="发改价格规〔2016〕2559号"),
            matter_row(world.gz_bureau, code="4401-XK-0101", 事项名称="企业投资项目核准", 法定时限=45, 法定时限单位="工作日",
                       承诺时限=30, 承诺时限单位="工作日", 并联审批="是",
                       协办机关统一社会信用代码=f"{world.tianhe_bureau.credit_code}；{world.yuexiu_bureau.credit_code}"),
        ],
        [
            step_row(order=1), step_row(order=2, name="审批决定", limit=3),
            step_row("4401-XK-1802", 1, "区局初审", 20, first_review="是"), step_row("4401-XK-1802", 2, "市局审批", 10),
        ],
    )
    report = import_matters(data)
    assert report.ok, errors_of(report)
    assert (report.rows, report.steps, report.created, report.versioned, report.unchanged) == (4, 4, 4, 0, 0)
    eia = Matter.objects.get(code="440106-XK-0901")
    v = eia.current
    assert eia.organ == world.tianhe_bureau and eia.kind == "licence" and v.number == 1
    assert (v.legal_limit, v.legal_unit, v.promised_limit, v.promised_unit) == (30, "calendar", 15, "calendar")
    assert v.materials == ["环境影响报告表", "建设项目环评审批申请书", "营业执照复印件"]
    assert [(s.order, s.name, s.limit) for s in v.steps.all()] == [(1, "技术评估", 5), (2, "审批决定", 3)]
    food = Matter.objects.get(code="4401-XK-1802").current
    assert food.needs_first_review and food.steps.get(order=1).is_first_review
    land = Matter.objects.get(code="4401-QR-0801")
    assert land.kind == "confirmation" and not land.current.is_free and land.current.fee_standard == Decimal("80.00")
    project = Matter.objects.get(code="4401-XK-0101").current
    assert project.is_parallel and set(project.co_organs.all()) == {world.tianhe_bureau, world.yuexiu_bureau}
    assert project.joint_limit == 45


def test_every_kind_of_bad_cell_is_reported_with_sheet_row_and_column(world):
    rows = [
        matter_row(world.tianhe_bureau, code="A-1", 法定时限="二十"),                          # row 2: not a number
        matter_row(world.tianhe_bureau, code="A-2", 承诺时限=40),                               # row 3: promise > law
        matter_row(world.tianhe_bureau, code="A-3", 事项类型="行政审批"),                        # row 4: unknown kind
        matter_row(world.tianhe_bureau, code="A-4", 法定时限单位="周"),                          # row 5: unknown unit
        matter_row(world.tianhe_bureau, code="A-5", 实施机关统一社会信用代码="91440106MA59XXXXX1"),  # row 6: bad code
        matter_row(world.tianhe_bureau, code="A-6", 实施机关统一社会信用代码=wrong_check(world.tianhe_bureau.credit_code)),  # 7
        matter_row(world.tianhe_bureau, code="A-1"),                                           # row 8: duplicate
        matter_row(world.tianhe_bureau, code="A-8", 是否收费="是"),                              # row 9: fee w/o standard
        matter_row(world.tianhe_bureau, code="A-9", 设定依据=""),                                # row 10: no legal basis
        matter_row(world.tianhe_bureau, code="A-10", 并联审批="是"),                              # row 11: parallel w/o co-organs
        matter_row(world.tianhe_bureau, code="A-11", 需下级初审="是"),                            # row 12: no first-review step
        matter_row(world.tianhe_bureau, code="A-12", 法定时限=12.5),                              # row 13: not whole
        matter_row(world.tianhe_bureau, code="A-13", 并联审批="也许"),                             # row 14: not yes/no
        matter_row(world.tianhe_bureau, code="A-14", **{"收费标准（元）": "1.234", "是否收费": "是"}),  # row 15
        matter_row(world.tianhe_bureau, code="", 事项名称=""),                                    # row 16: empty code/name
        matter_row(world.tianhe_bureau, code="A-16", 法定时限单位="工作日", 承诺时限单位="自然日"),    # row 17: unit mismatch
    ]
    steps = [
        step_row("A-2", 1, "审查", 5), step_row("A-2", 1, "决定", 3),   # row 3: duplicate order
        step_row("NOPE", 1, "审查", 5),                                # row 4: unknown matter
        step_row("A-9", 1, "审查", 0),                                 # row 5: limit not positive
        step_row("A-8", 1, "审查", 5, unit="月"),                       # row 6: bad unit
    ]
    report = import_matters(workbook(rows, steps))
    M, S = SHEET_MATTERS, SHEET_STEPS
    has_error(report, M, 2, "法定时限", "正整数")
    has_error(report, M, 3, "承诺时限", "不得超过法定时限")
    has_error(report, M, 4, "事项类型", "行政审批")
    has_error(report, M, 5, "法定时限单位", "周")
    has_error(report, M, 6, "实施机关统一社会信用代码")
    has_error(report, M, 7, "实施机关统一社会信用代码", "校验位")
    has_error(report, M, 8, "事项编码", "与第 2 行重复")
    has_error(report, M, 9, "收费标准（元）", "大于0")
    has_error(report, M, 10, "设定依据", "设定依据")
    has_error(report, M, 11, "协办机关统一社会信用代码", "协办机关")
    has_error(report, M, 12, "需下级初审", "初审环节")
    has_error(report, M, 13, "法定时限", "12.5")
    has_error(report, M, 14, "并联审批", "也许")
    has_error(report, M, 15, "收费标准（元）", "两位小数")
    has_error(report, M, 16, "事项编码", "必填")
    has_error(report, M, 16, "事项名称", "必填")
    has_error(report, M, 17, "承诺时限单位", "单位")
    has_error(report, S, 3, "顺序", "重复")
    has_error(report, S, 4, "事项编码", "NOPE")
    has_error(report, S, 5, "时限", "正整数")
    has_error(report, S, 6, "单位", "月")
    assert Matter.objects.count() == 0
    assert "未写入任何数据" in report.summary()
    assert str(report.errors[0]).startswith("【事项】第 2 行【法定时限】：")


def test_organs_must_exist_be_active_and_differ_from_the_co_organs(world):
    from xiaoneng.lib.codes import make_credit_code

    ghost = make_credit_code("1", "1", "440106", "99999999")
    world.yuexiu_bureau.is_active = False
    world.yuexiu_bureau.save(update_fields=["is_active"])
    report = import_matters(workbook([
        matter_row(world.tianhe_bureau, code="B-1", 实施机关统一社会信用代码=ghost),
        matter_row(world.tianhe_bureau, code="B-2", 实施机关统一社会信用代码=world.yuexiu_bureau.credit_code),
        matter_row(world.tianhe_bureau, code="B-3", 并联审批="是", 协办机关统一社会信用代码=world.tianhe_bureau.credit_code),
        matter_row(world.tianhe_bureau, code="B-4", 并联审批="否", 协办机关统一社会信用代码=world.gz_bureau.credit_code),
    ]))
    has_error(report, SHEET_MATTERS, 2, "实施机关统一社会信用代码", "不存在")
    has_error(report, SHEET_MATTERS, 3, "实施机关统一社会信用代码", "停用")
    has_error(report, SHEET_MATTERS, 4, "协办机关统一社会信用代码", "不能是实施机关")
    has_error(report, SHEET_MATTERS, 5, "协办机关统一社会信用代码", "只有并联审批")
    assert Matter.objects.count() == 0


def test_a_scoped_import_may_only_touch_its_own_organs(world):
    report = import_matters(workbook([matter_row(world.gz_bureau, code="C-1")]), allowed_organs=[world.tianhe_bureau.pk])
    has_error(report, SHEET_MATTERS, 2, "实施机关统一社会信用代码", "无权")


def test_nothing_is_written_when_one_row_is_wrong(world):
    report = import_matters(workbook(
        [matter_row(world.tianhe_bureau, code="D-1"), matter_row(world.tianhe_bureau, code="D-2", 承诺时限=99)],
        [step_row("D-1", 1, "审查", 5)],
    ))
    assert not report.ok and report.created == 0
    assert not Matter.objects.exists() and not MatterVersion.objects.exists() and not MatterStep.objects.exists()


def test_an_export_imports_back_without_any_change(world, matters):
    before = list(MatterVersion.objects.order_by("pk").values_list("pk", "number"))
    data = catalogue_workbook()
    report = import_matters(data)
    assert report.ok, errors_of(report)
    assert (report.created, report.versioned, report.unchanged) == (0, 0, 4)
    assert list(MatterVersion.objects.order_by("pk").values_list("pk", "number")) == before
    assert catalogue_workbook() == data or _sheets(catalogue_workbook()) == _sheets(data)


def _sheets(data):
    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_the_export_has_both_sheets_with_labels_a_person_can_read(world, matters):
    sheets = _sheets(catalogue_workbook())
    header, *rows = sheets[SHEET_MATTERS]
    assert header[: len(MATTER_HEADERS)] == MATTER_HEADERS
    by_code = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    paid = by_code["440106-SP-002"]
    assert paid["事项类型"] == "行政许可" and paid["是否收费"] == "是" and paid["收费标准（元）"] == 100
    assert paid["法定时限单位"] == "工作日" and paid["实施机关名称"] == "广州市天河区市场监督管理局"
    parallel = by_code["4401-BL-001"]
    assert parallel["并联审批"] == "是" and parallel["联合办理时限（工作日）"] == 45
    assert set(parallel["协办机关统一社会信用代码"].split("；")) == {world.tianhe_bureau.credit_code, world.yuexiu_bureau.credit_code}
    steps = sheets[SHEET_STEPS]
    assert steps[0] == STEP_HEADERS
    assert ("4401-SP-003", 1, "区局初审", 20, "工作日", "是") in steps


def test_changed_rules_publish_a_new_version_and_cases_keep_the_old_one(world, matters):
    case, _code = actions.do_submit_case(matter=matters.licence, case_no="TH-IMP-1", applicant_name="张三",
                                         received_at=timezone.now() - timedelta(days=1))
    sheets = _sheets(catalogue_workbook())
    header = sheets[SHEET_MATTERS][0]
    rows = [dict(zip(header, r, strict=True)) for r in sheets[SHEET_MATTERS][1:]]
    for row in rows:
        if row["事项编码"] == matters.licence.code:
            row["承诺时限"] = 7
    step_rows = [dict(zip(STEP_HEADERS, r, strict=True)) for r in sheets[SHEET_STEPS][1:]]
    report = import_matters(workbook(rows, step_rows, matter_headers=header))
    assert report.ok, errors_of(report)
    assert (report.versioned, report.unchanged) == (1, 3)
    matters.licence.refresh_from_db()
    assert matters.licence.current.number == 2 and matters.licence.current.promised_limit == 7
    assert [s.name for s in matters.licence.current.steps.all()] == ["审查", "决定"]  # steps carried over from the file
    case.refresh_from_db()
    assert case.matter_version.number == 1 and case.matter_version.promised_limit == 10
    later, _ = actions.do_submit_case(matter=matters.licence, case_no="TH-IMP-2", applicant_name="李四",
                                      received_at=timezone.now() + timedelta(seconds=1))
    assert later.matter_version.number == 2
    # The same file again: nothing changes any more.
    again = import_matters(workbook(rows, step_rows, matter_headers=header))
    assert (again.versioned, again.unchanged) == (0, 4)


def test_a_step_change_alone_is_a_change(world, matters):
    sheets = _sheets(catalogue_workbook())
    header = sheets[SHEET_MATTERS][0]
    rows = [dict(zip(header, r, strict=True)) for r in sheets[SHEET_MATTERS][1:]]
    step_rows = [dict(zip(STEP_HEADERS, r, strict=True)) for r in sheets[SHEET_STEPS][1:]]
    step_rows = [s for s in step_rows if not (s["事项编码"] == matters.licence.code and s["顺序"] == 2)]
    report = import_matters(workbook(rows, step_rows, matter_headers=header))
    assert report.ok and report.versioned == 1
    assert matters.licence.versions.count() == 2


def test_name_kind_and_organ_of_an_existing_matter_are_not_changed_by_an_import(world, matters):
    report = import_matters(workbook([
        matter_row(world.tianhe_bureau, code=matters.licence.code, 事项名称="改名", 法定时限=20, 承诺时限=10,
                   法定时限单位="工作日", 承诺时限单位="工作日"),
        matter_row(world.yuexiu_bureau, code=matters.paid.code, 事项名称="特种设备使用登记", 法定时限=20, 承诺时限=15,
                   法定时限单位="工作日", 承诺时限单位="工作日"),
    ]))
    has_error(report, SHEET_MATTERS, 2, "事项名称", "不能修改")
    has_error(report, SHEET_MATTERS, 3, "实施机关统一社会信用代码", "不能修改")


def test_a_dry_run_checks_and_counts_but_writes_nothing(world):
    report = import_matters(workbook([matter_row(world.tianhe_bureau)]), dry_run=True)
    assert report.ok and report.created == 1 and "试运行" in report.summary()
    assert not Matter.objects.exists()


def test_new_versions_may_be_scheduled_but_never_backdated(world, matters):
    data = workbook([matter_row(world.tianhe_bureau, code="E-1")])
    report = import_matters(data, effective_from=timezone.now() - timedelta(days=3))
    assert not report.ok and "不能早于当前时间" in report.summary()
    start = timezone.now() + timedelta(days=30)
    assert import_matters(data, effective_from=start).ok
    assert Matter.objects.get(code="E-1").current.effective_from == start


def _zip_with(name, content) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, content)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "文件为空"),
        ("事项编码,事项名称\n440106-XK-1,食品经营许可\n".encode(), "不是有效的 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "不是有效的 Excel"),  # an old .xls (OLE2)
        (_zip_with("hello.txt", "not a workbook"), "不是有效的 Excel"),
        (b"PK\x03\x04" + b"\0" * 100, "不是有效的 Excel"),
        (b"x" * (21 * 1024 * 1024), "文件过大"),
    ],
    ids=["empty", "csv-renamed", "xls", "zip-not-xlsx", "truncated-zip", "huge"],
)
def test_a_malformed_file_gets_one_clear_error(world, data, words):
    report = import_matters(data)
    assert len(report.errors) == 1 and report.errors[0].row is None
    assert words in report.summary(), report.summary()


def test_missing_sheets_columns_or_rows_get_one_clear_error(world):
    only_matters = workbook([], sheets=[(SHEET_MATTERS, MATTER_HEADERS, [matter_row(world.tianhe_bureau)])])
    assert "缺少工作表：环节" in import_matters(only_matters).summary()
    no_limit = workbook([matter_row(world.tianhe_bureau)], matter_headers=[h for h in MATTER_HEADERS if h != "法定时限"])
    assert "缺少必需的列：法定时限" in import_matters(no_limit).summary()
    assert "没有数据行" in import_matters(workbook([])).summary()
    empty_sheet = workbook([], sheets=[(SHEET_MATTERS, [], []), (SHEET_STEPS, STEP_HEADERS, [])])
    assert "为空" in import_matters(empty_sheet).summary()


def test_wrong_cell_types_are_row_errors_not_crashes(world):
    from datetime import datetime

    report = import_matters(workbook([matter_row(world.tianhe_bureau, 法定时限=datetime(2026, 1, 1), 承诺时限=True,
                                                 实施机关统一社会信用代码=123456789012345678)]))
    has_error(report, SHEET_MATTERS, 2, "法定时限", "日期")
    has_error(report, SHEET_MATTERS, 2, "承诺时限", "是/否")
    has_error(report, SHEET_MATTERS, 2, "实施机关统一社会信用代码", "文本格式")


def test_too_many_rows_is_refused(world, monkeypatch):
    from xiaoneng.approvals import imports

    monkeypatch.setattr(imports, "MAX_MATTER_ROWS", 2)
    rows = [matter_row(world.tianhe_bureau, code=f"F-{i}") for i in range(3)]
    assert "行数过多" in import_matters(workbook(rows)).summary()


def test_english_headers_and_labels_are_accepted(world):
    from django.utils import translation

    headers = ("code", "name", "kind", "organ", "legal_basis", "legal_limit", "legal_unit", "promised_limit",
               "promised_unit", "is_free", "fee_standard", "fee_basis", "materials", "needs_first_review",
               "is_parallel", "co_organs", "joint_limit")
    row = dict(zip(headers, ("G-1", "Food business licence", "licence", world.tianhe_bureau.credit_code, "Food Safety Law",
                             20, "working", 10, "working", "no", None, "", "Application form", "no", "no", "", None),
                   strict=True))
    with translation.override("en"):
        report = import_matters(workbook([row], matter_headers=headers))
    assert report.ok, errors_of(report)


def test_the_template_has_both_sheets_and_every_header(world):
    sheets = _sheets(template_workbook())
    assert sheets[SHEET_MATTERS] == [MATTER_HEADERS] and sheets[SHEET_STEPS] == [STEP_HEADERS]


def test_the_command_imports_and_exports(world, matters, tmp_path):
    out = tmp_path / "catalogue.xlsx"
    stdout = io.StringIO()
    call_command("matters", "export", str(out), stdout=stdout)
    assert "4 个事项" in stdout.getvalue()
    stdout = io.StringIO()
    call_command("matters", "import", str(out), stdout=stdout)
    assert "未变 4" in stdout.getvalue()
    call_command("matters", "export", str(tmp_path / "tianhe.xlsx"), "--under", "440106", stdout=io.StringIO())
    codes = {r[0] for r in _sheets((tmp_path / "tianhe.xlsx").read_bytes())[SHEET_MATTERS][1:]}
    assert codes == {"440106-SP-001", "440106-SP-002"}


def test_the_command_exits_non_zero_with_errors_on_stderr_and_no_traceback(world, tmp_path, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends; the test's transaction needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([matter_row(world.tianhe_bureau, 承诺时限=99)]))
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("matters", "import", str(bad), stdout=io.StringIO(), stderr=io.StringIO())
    csv = tmp_path / "renamed.xlsx"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    for path in (bad, csv, tmp_path / "missing.xlsx"):
        with pytest.raises(SystemExit) as exit_info:
            ManagementUtility(["xiaoneng", "matters", "import", str(path)]).execute()
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert "Traceback" not in err and "File \"" not in err
        assert err.strip()
    assert not Matter.objects.exists()


def test_an_export_made_in_english_imports_back_unchanged(world, matters):
    from django.utils import translation

    with translation.override("en"):
        data = catalogue_workbook()
    report = import_matters(data)
    assert report.ok, errors_of(report)
    assert (report.created, report.versioned, report.unchanged) == (0, 0, 4)
