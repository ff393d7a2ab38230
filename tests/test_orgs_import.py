"""Excel import and export of regions and organs: row-by-row errors, all-or-nothing, round trip."""
import io
import zipfile

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connections
from openpyxl import Workbook

from xiaoneng.audit.models import AuditEntry
from xiaoneng.lib.codes import make_credit_code
from xiaoneng.lib.xlsx import write_workbook
from xiaoneng.orgs.imports import (
    ORGAN_HEADERS,
    REGION_HEADERS,
    export_organs_rows,
    export_regions_rows,
    import_organs,
    import_regions,
    organs_workbook,
    regions_workbook,
)
from xiaoneng.orgs.models import Grant, Organ, OrganKind, Region

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The shared personas create eleven users; Argon2 would spend seconds per test on them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REGION_COLUMNS = ("区划代码", "名称", "层级", "上级区划代码")
ORGAN_COLUMNS = ("统一社会信用代码", "名称", "简称", "类别", "所在区划代码", "上级机关统一社会信用代码")


def xlsx(headers, *rows) -> bytes:
    return write_workbook("Sheet1", headers, rows)


def code(body: str, region: str = "440106", kind: str = "1") -> str:
    return make_credit_code("1", kind, region, body)


def wrong_check(c: str) -> str:
    """The same code with a check character that is certainly wrong."""
    return c[:-1] + ("1" if c[-1] != "1" else "2")


def errors_of(report):
    return [(e.row, e.column, e.message) for e in report.errors]


def only_error(report, row, column, words):
    assert not report.ok
    hits = [e for e in report.errors if e.row == row and e.column == column]
    assert hits, f"no error on row {row} column {column}: {errors_of(report)}"
    assert any(words in e.message for e in hits), errors_of(report)


# --- regions ------------------------------------------------------------------------------


def test_it_imports_regions_from_a_workbook(world):
    report = import_regions(
        xlsx(
            REGION_COLUMNS,
            ("440111000000", "白云区", 3, "440100000000"),
            ("440111002000", "三元里街道", 4, "440111000000"),
        )
    )
    assert report.ok, errors_of(report)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    street = Region.objects.get(code="440111002000")
    assert street.parent.name == "白云区" and street.prefix == "440111002"


def test_it_takes_six_digit_codes_level_labels_and_english_headers(world):
    report = import_regions(xlsx(("code", "name", "level", "parent_code"), ("440111", "白云区", "县（区）", "440100")))
    assert report.ok, errors_of(report)
    assert Region.objects.get(code="440111000000").level == 3


def test_a_child_may_come_before_its_parent_in_the_file(world):
    report = import_regions(
        xlsx(REGION_COLUMNS, ("440111002000", "三元里街道", 4, "440111000000"), ("440111000000", "白云区", 3, "440100000000"))
    )
    assert report.ok, errors_of(report)
    assert report.created == 2


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (("44011", "白云区", 3, "440100000000"), "区划代码", "行政区划代码应为"),
        (("", "白云区", 3, "440100000000"), "区划代码", "必填项为空"),
        (("440111000000", "", 3, "440100000000"), "名称", "必填项为空"),
        (("440111000000", "白云区" * 40, 3, "440100000000"), "名称", "内容过长"),
        (("440111000000", "白云区", "", "440100000000"), "层级", "必填项为空"),
        (("440111000000", "白云区", 7, "440100000000"), "层级", "层级应为"),
        (("440111000000", "白云区", 2, "440000000000"), "层级", "层级与区划代码不符"),
        (("440111000000", "白云区", 3, ""), "上级区划代码", "必须填写上级区划代码"),
        (("440111000000", "白云区", 3, "4401x"), "上级区划代码", "行政区划代码应为"),
        (("440111000000", "白云区", 3, "449900000000"), "上级区划代码", "都不存在"),
        (("440111000000", "白云区", 3, "440300000000"), "上级区划代码", "不在上级区划"),
        (("440106002000", "员村街道", 4, "440106001000"), "上级区划代码", "不高于"),
        (("450000000000", "广西壮族自治区", 1, "440000000000"), "上级区划代码", "省级区划不应"),
        (("440106001000", "石牌街道", 4, "440100000000"), "区划代码", "已存在"),
    ],
)
def test_it_reports_each_kind_of_bad_region_row_with_row_and_column(world, row, column, words):
    report = import_regions(xlsx(REGION_COLUMNS, ("440112000000", "黄埔区", 3, "440100000000"), row))
    only_error(report, 3, column, words)
    assert not Region.objects.filter(code="440112000000").exists()


def test_it_reports_a_region_code_repeated_in_the_file_with_the_first_row(world):
    report = import_regions(
        xlsx(REGION_COLUMNS, ("440111000000", "白云区", 3, "440100000000"), ("440111", "白云区", 3, "440100000000"))
    )
    only_error(report, 3, "区划代码", "与第 2 行重复")


def test_it_renames_an_existing_region_but_does_not_move_it(world):
    report = import_regions(xlsx(REGION_COLUMNS, ("440106000000", "天河新区", 3, "440100000000")))
    assert (report.ok, report.updated) == (True, 1)
    assert Region.objects.get(code="440106000000").name == "天河新区"


def test_it_lists_every_bad_row_and_writes_nothing(world):
    before = (Region.objects.count(), AuditEntry.objects.count())
    report = import_regions(
        xlsx(
            REGION_COLUMNS,
            ("440111000000", "白云区", 3, "440100000000"),
            ("44011", "坏代码", 3, "440100000000"),
            ("440112000000", "黄埔区", 3, "440100000000"),
            ("440113000000", "", 3, "440100000000"),
            ("440114000000", "花都区", 9, "440100000000"),
        )
    )
    assert sorted({e.row for e in report.errors}) == [3, 5, 6]
    assert "未写入任何数据" in report.summary()
    assert (Region.objects.count(), AuditEntry.objects.count()) == before


def test_a_dry_run_checks_but_writes_nothing(world):
    report = import_regions(xlsx(REGION_COLUMNS, ("440111000000", "白云区", 3, "440100000000")), dry_run=True)
    assert report.ok and report.created == 1
    assert not Region.objects.filter(code="440111000000").exists()


# --- organs -------------------------------------------------------------------------------


def test_it_imports_organs_with_kinds_as_codes_or_chinese_labels(world):
    bureau, office = code("XN000020"), code("XN000021")
    report = import_organs(
        xlsx(
            ORGAN_COLUMNS,
            (office, "天河区教育局办公室", "", "government", "440106", bureau),  # parent comes later
            (bureau, "广州市天河区教育局", "天河教育", "政府工作部门", "440106000000", ""),
            (code("XN000022", kind="2"), "天河区公共资源交易中心", "", "承担公共事务职能的事业单位", "440106", ""),
        )
    )
    assert report.ok, errors_of(report)
    assert report.created == 3
    child = Organ.objects.get(credit_code=office)
    assert child.parent.credit_code == bureau
    assert child.path == f"{child.parent.path}{child.pk}/"
    assert child.region_code == "440106"
    assert Organ.objects.get(credit_code=bureau).short_name == "天河教育"


def test_it_hangs_an_imported_organ_under_one_already_in_the_database(world):
    report = import_organs(
        xlsx(ORGAN_COLUMNS, (code("XN000030"), "天河区市场监管所", "", "government", "440106", world.tianhe_bureau.credit_code))
    )
    assert report.ok, errors_of(report)
    assert Organ.objects.get(name="天河区市场监管所").path.startswith(world.tianhe_bureau.path)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ((wrong_check(code("XN000040")), "甲局", "", "government", "440106", ""), "统一社会信用代码", "校验位错误"),
        ((code("XN000040").lower(), "甲局", "", "government", "440106", ""), "统一社会信用代码", "不允许的字符"),
        ((code("XN000040")[:17], "甲局", "", "government", "440106", ""), "统一社会信用代码", "18位"),
        (("", "甲局", "", "government", "440106", ""), "统一社会信用代码", "必填项为空"),
        ((code("XN000040"), "", "", "government", "440106", ""), "名称", "必填项为空"),
        ((code("XN000040"), "甲局", "甲" * 61, "government", "440106", ""), "简称", "内容过长"),
        ((code("XN000040"), "甲局", "", "", "440106", ""), "类别", "必填项为空"),
        ((code("XN000040"), "甲局", "", "企业", "440106", ""), "类别", "类别无效"),
        ((code("XN000040"), "甲局", "", "government", "", ""), "所在区划代码", "必填项为空"),
        ((code("XN000040"), "甲局", "", "government", "44010", ""), "所在区划代码", "行政区划代码应为"),
        ((code("XN000040"), "甲局", "", "government", "440199", ""), "所在区划代码", "不存在"),
        ((code("XN000040"), "甲局", "", "government", "440106", code("XN000041")), "上级机关统一社会信用代码", "都不存在"),
        ((code("XN000040"), "甲局", "", "government", "440106", code("XN000040")), "上级机关统一社会信用代码", "不能是本机关"),
        ((code("XN000040"), "甲局", "", "government", "440106", "11440000006939561A"), "上级机关统一社会信用代码", "校验位"),
        ((code("XN000040"), "广州市天河区市场监督管理局", "", "government", "440106", ""), "名称", "已有同名机关"),
    ],
)
def test_it_reports_each_kind_of_bad_organ_row_with_row_and_column(world, row, column, words):
    good = (code("XN000050"), "天河区乙局", "", "government", "440106", "")
    report = import_organs(xlsx(ORGAN_COLUMNS, good, row))
    only_error(report, 3, column, words)
    assert not Organ.objects.filter(name="天河区乙局").exists()


def test_it_rejects_a_bad_status(world):
    report = import_organs(
        xlsx((*ORGAN_COLUMNS, "状态"), (code("XN000040"), "甲局", "", "government", "440106", "", "也许"))
    )
    only_error(report, 2, "状态", "状态应为")


def test_it_explains_that_a_numeric_cell_truncates_an_all_digit_credit_code(world):
    report = import_organs(xlsx(ORGAN_COLUMNS, (114400000069401674, "甲局", "", "government", "440106", "")))
    only_error(report, 2, "统一社会信用代码", "文本格式")


def test_it_reports_duplicates_within_the_file(world):
    c = code("XN000060")
    report = import_organs(
        xlsx(
            ORGAN_COLUMNS,
            (c, "天河区丙局", "", "government", "440106", ""),
            (c, "天河区丁局", "", "government", "440106", ""),
            (code("XN000061"), "天河区丙局", "", "government", "440106", ""),
        )
    )
    only_error(report, 3, "统一社会信用代码", "与第 2 行重复")
    only_error(report, 4, "名称", "与第 2 行重复")


def test_it_refuses_a_cycle_of_parents(world):
    a, b = code("XN000070"), code("XN000071")
    report = import_organs(
        xlsx(ORGAN_COLUMNS, (a, "天河区甲局", "", "government", "440106", b), (b, "天河区乙局", "", "government", "440106", a))
    )
    only_error(report, 2, "上级机关统一社会信用代码", "循环")
    only_error(report, 3, "上级机关统一社会信用代码", "循环")


def test_it_refuses_to_put_an_existing_organ_under_its_own_descendant(world):
    b = world.tianhe_bureau
    report = import_organs(
        xlsx(ORGAN_COLUMNS, (b.credit_code, b.name, "", "government", "440106", world.tianhe_station.credit_code))
    )
    only_error(report, 2, "上级机关统一社会信用代码", "循环")


def test_moving_an_organ_moves_its_whole_subtree(world):
    b = world.tianhe_bureau
    report = import_organs(xlsx(ORGAN_COLUMNS, (b.credit_code, b.name, "", "government", "440106", world.sz_bureau.credit_code)))
    assert (report.ok, report.updated) == (True, 1), errors_of(report)
    b.refresh_from_db()
    world.tianhe_station.refresh_from_db()
    assert b.path == f"{world.sz_bureau.path}{b.pk}/"
    assert world.tianhe_station.path == f"{b.path}{world.tianhe_station.pk}/"


def test_it_refuses_a_name_held_by_another_organ_even_if_the_file_renames_that_one(world):
    gz, other = world.gz_bureau, code("XN000095", region="440100")
    report = import_organs(
        xlsx(
            ORGAN_COLUMNS,
            (gz.credit_code, "广州市临时名称", "", "government", "440100", ""),
            (other, gz.name, "", "government", "440100", ""),
        )
    )
    only_error(report, 3, "名称", "已有同名机关")


# --- malformed files ----------------------------------------------------------------------


def _zip_with_text() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def _header_only() -> bytes:
    wb = Workbook()
    wb.active.append(list(REGION_COLUMNS))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "文件为空"),
        ("区划代码,名称,层级\n440111,白云区,3\n".encode(), "不是有效的 Excel"),
        ("区划代码,名称,层级\n440111,白云区,3\n".encode("gbk"), "不是有效的 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, "不是有效的 Excel"),  # an old .xls
        (_zip_with_text(), "不是有效的 Excel"),
        (xlsx(("区划代码", "名字"), ("440111", "白云区")), "缺少必需的列：名称、层级"),
        (_header_only(), "没有数据行"),
    ],
    # Ids by name, not by the bytes: a workbook's bytes carry the time it was written, and pytest-xdist's
    # workers, which write them a moment apart, must collect the same tests.
    ids=["empty", "csv", "csv-gbk", "old-xls", "zip-not-xlsx", "missing-columns", "header-only"],
)
def test_a_malformed_file_gives_one_clear_error(world, data, words):
    report = import_regions(data)
    assert len(report.errors) == 1 and report.errors[0].row is None
    assert words in report.errors[0].message
    assert words in report.summary()


def test_a_malformed_organ_file_gives_one_clear_error(world):
    report = import_organs(xlsx(("统一社会信用代码", "名称"), (code("XN000080"), "甲局")))
    assert [str(e) for e in report.errors] == ["缺少必需的列：类别、所在区划代码"]


# --- round trip and export ----------------------------------------------------------------


def test_reimporting_an_exported_file_changes_nothing(world):
    regions = regions_workbook(Region.objects.all())
    organs = organs_workbook(Organ.objects.all())
    audit_before = AuditEntry.objects.count()
    region_report, organ_report = import_regions(regions), import_organs(organs)
    assert region_report.ok and organ_report.ok, errors_of(region_report) + errors_of(organ_report)
    assert (region_report.unchanged, region_report.created, region_report.updated) == (Region.objects.count(), 0, 0)
    assert (organ_report.unchanged, organ_report.created, organ_report.updated) == (Organ.objects.count(), 0, 0)
    assert AuditEntry.objects.count() == audit_before


def test_an_export_imports_into_an_empty_database(world):
    regions = regions_workbook(Region.objects.all())
    organs = organs_workbook(Organ.objects.all())
    expected = sorted(export_organs_rows(Organ.objects.all()))
    Grant.objects.all().delete()
    Organ.objects.update(parent=None)
    Organ.objects.all().delete()
    Region.objects.update(parent=None)
    Region.objects.all().delete()
    assert import_regions(regions).created == 7
    assert import_organs(organs).created == 6
    assert sorted(export_organs_rows(Organ.objects.all())) == expected


def test_exports_have_chinese_headers_and_readable_values(world):
    assert REGION_HEADERS == ("区划代码", "名称", "层级", "上级区划代码")
    assert ORGAN_HEADERS[:4] == ("统一社会信用代码", "名称", "简称", "类别")
    rows = {r[0]: r for r in export_regions_rows(Region.objects.all())}
    assert rows["440106000000"] == ("440106000000", "天河区", 3, "440100000000")
    organ = next(r for r in export_organs_rows(Organ.objects.all()) if r[1] == "天河区石牌市场监管所")
    assert organ[3] == str(OrganKind.GOVERNMENT.label)
    assert organ[4:] == ("440106001000", "石牌街道", world.tianhe_bureau.credit_code, "有效")


def test_the_export_is_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(export_organs_rows(Organ.objects.all()))


# --- the command --------------------------------------------------------------------------


def test_the_command_imports_a_good_file(world, tmp_path):
    path = tmp_path / "regions.xlsx"
    path.write_bytes(xlsx(REGION_COLUMNS, ("440111000000", "白云区", 3, "440100000000")))
    out = io.StringIO()
    call_command("orgs", "import-regions", str(path), stdout=out)
    assert "新增 1" in out.getvalue()
    assert Region.objects.filter(code="440111000000").exists()


def test_the_command_exits_non_zero_with_every_error_on_stderr_and_no_traceback(world, tmp_path, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends; the test's transaction needs its own.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    path = tmp_path / "organs.xlsx"
    path.write_bytes(
        xlsx(
            ORGAN_COLUMNS,
            (wrong_check(code("XN000090")), "甲局", "", "government", "440106", ""),
            (code("XN000091"), "乙局", "", "军队", "440106", ""),
        )
    )
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["xiaoneng", "orgs", "import-organs", str(path)]).execute()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "第 2 行【统一社会信用代码】" in err and "第 3 行【类别】" in err
    assert "Traceback" not in err
    assert not Organ.objects.filter(name__in=["甲局", "乙局"]).exists()


@pytest.mark.parametrize("content", [b"", b"not,a,workbook\n"])
def test_the_command_reports_a_malformed_file_in_one_line(world, tmp_path, content):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(content)
    with pytest.raises(CommandError) as exc:
        call_command("orgs", "import-regions", str(path))
    assert "导入失败" in str(exc.value)


def test_the_command_reports_a_missing_file(world, tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("orgs", "import-organs", str(tmp_path / "missing.xlsx"))


def test_the_command_exports_a_subtree_that_imports_back_unchanged(world, tmp_path):
    path = tmp_path / "organs.xlsx"
    call_command("orgs", "export-organs", str(path), "--under", "440106", stdout=io.StringIO())
    report = import_organs(path.read_bytes())
    assert report.ok and report.unchanged == 2  # the 天河 bureau and its station
    regions = tmp_path / "regions.xlsx"
    call_command("orgs", "export-regions", str(regions), stdout=io.StringIO())
    assert import_regions(regions.read_bytes()).unchanged == Region.objects.count()
