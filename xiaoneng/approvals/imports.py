"""Excel import and export of the matter catalogue (事项目录).

A catalogue workbook has two sheets:

* 事项 — one row per matter: code, name, kind, the implementing organ's credit code and
  every rule of its version in force (limits, fees, materials, first review, parallel
  approval with co-organs and the joint limit);
* 环节 — one row per handling step: matter code, order, name, limit, unit, and whether
  the step is the lower organ's first review.

Import is all-or-nothing, like the organ import (xiaoneng.orgs.imports): every row is
checked first — cell formats, the organs, duplicates in the file, and the law's rules
through `catalogue.check()` — and every problem is reported with its sheet, Excel row,
column and a reason in Chinese. Only a file without a single error is written, in one
transaction, through `catalogue.do_create_matter` / `do_publish_version`. A row for an
existing matter publishes a new version only if its rules differ from the version in
force, so cases keep the rules they were accepted under, and re-importing an export
changes nothing.

    report = import_matters(uploaded.read())           # dry_run=, effective_from=, allowed_organs=
    if not report.ok: show report.errors                # RowError(sheet, row, column, message)
    response = HttpResponse(catalogue_workbook(Matter.objects.all()), content_type=XLSX_MIME)

Headers are the Chinese ones below; English names (code, name, kind, …) are accepted as
aliases; unknown columns are ignored (the export adds read-only helper columns).
Name, kind and organ of a matter are not versioned, so the import refuses to change
them (a row that differs there is an error, not a silent rename).
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

from xiaoneng.clocks.models import Unit
from xiaoneng.conf import rule
from xiaoneng.lib.codes import credit_code_error
from xiaoneng.lib.xlsx import MAX_IMPORT_BYTES, WorkbookError
from xiaoneng.orgs.models import Organ

from . import catalogue
from .catalogue import CatalogueError, Rules, StepSpec
from .models import Matter, MatterKind, MatterVersion

# --- the file format (headers are part of it, so they are constants, not translated) ------

SHEET_MATTERS, SHEET_STEPS = "事项", "环节"

M_CODE, M_NAME, M_KIND, M_ORGAN = "事项编码", "事项名称", "事项类型", "实施机关统一社会信用代码"
M_BASIS, M_LEGAL, M_LEGAL_UNIT = "设定依据", "法定时限", "法定时限单位"
M_PROMISED, M_PROMISED_UNIT = "承诺时限", "承诺时限单位"
M_FEE, M_FEE_STANDARD, M_FEE_BASIS = "是否收费", "收费标准（元）", "收费依据"
M_MATERIALS, M_FIRST_REVIEW, M_PARALLEL = "申请材料", "需下级初审", "并联审批"
M_CO_ORGANS, M_JOINT = "协办机关统一社会信用代码", "联合办理时限（工作日）"
# Read-only helpers the export adds after the columns above; the import ignores them.
M_ORGAN_NAME, M_VERSION, M_EFFECTIVE = "实施机关名称", "现行版本", "生效时间"
MATTER_HEADERS = (
    M_CODE, M_NAME, M_KIND, M_ORGAN, M_BASIS, M_LEGAL, M_LEGAL_UNIT, M_PROMISED, M_PROMISED_UNIT, M_FEE,
    M_FEE_STANDARD, M_FEE_BASIS, M_MATERIALS, M_FIRST_REVIEW, M_PARALLEL, M_CO_ORGANS, M_JOINT,
)
MATTER_EXPORT_HEADERS = (*MATTER_HEADERS, M_ORGAN_NAME, M_VERSION, M_EFFECTIVE)
MATTER_ALIASES = {
    "code": M_CODE, "name": M_NAME, "kind": M_KIND, "organ": M_ORGAN, "organ_credit_code": M_ORGAN,
    "实施机关": M_ORGAN, "legal_basis": M_BASIS, "legal_limit": M_LEGAL, "legal_unit": M_LEGAL_UNIT,
    "promised_limit": M_PROMISED, "promised_unit": M_PROMISED_UNIT, "is_free": M_FEE, "charged": M_FEE,
    "收费": M_FEE, "fee_standard": M_FEE_STANDARD, "收费标准": M_FEE_STANDARD, "fee_basis": M_FEE_BASIS,
    "materials": M_MATERIALS, "needs_first_review": M_FIRST_REVIEW, "is_parallel": M_PARALLEL,
    "co_organs": M_CO_ORGANS, "协办机关": M_CO_ORGANS, "joint_limit": M_JOINT, "联合办理时限": M_JOINT,
}

S_MATTER, S_ORDER, S_NAME, S_LIMIT, S_UNIT, S_FIRST_REVIEW = "事项编码", "顺序", "环节名称", "时限", "单位", "下级初审"
STEP_HEADERS = (S_MATTER, S_ORDER, S_NAME, S_LIMIT, S_UNIT, S_FIRST_REVIEW)
STEP_ALIASES = {
    "matter_code": S_MATTER, "code": S_MATTER, "order": S_ORDER, "name": S_NAME, "环节": S_NAME,
    "limit": S_LIMIT, "环节时限": S_LIMIT, "unit": S_UNIT, "is_first_review": S_FIRST_REVIEW,
}

# Limits that keep a hostile or mistaken file from eating the server (the byte cap is
# xiaoneng.lib.xlsx's; the unpacked cap catches a small zip that expands enormously).
MAX_MATTER_ROWS = 20_000
MAX_STEP_ROWS = 200_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_CODE, MAX_NAME, MAX_FEE_BASIS, MAX_STEP_NAME = 40, 200, 300, 60  # the model fields' max_length
MAX_LIMIT = 3650  # no legal limit is ten years long; a bigger number is a typo
LIST_SPLIT = re.compile(r"[；;\n\r]+")
CODE_SPLIT = re.compile(r"[；;，,、\s]+")


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None  # the Excel row number; None for an error about the whole file
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("【%(sheet)s】第 %(row)d 行【%(column)s】：%(message)s") % {
            "sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message
        }


@dataclass
class ImportReport:
    rows: int = 0
    steps: int = 0
    created: int = 0
    versioned: int = 0  # existing matters that got a new version
    unchanged: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, sheet: str, row: int | None, column: str, message: str) -> None:
        self.errors.append(RowError(sheet, row, column, message))

    def summary(self) -> str:
        if self.errors:
            bad_rows = len({(e.sheet, e.row) for e in self.errors if e.row is not None})
            if not bad_rows:
                return _("导入失败：%(reason)s") % {"reason": self.errors[0].message}
            return _("导入失败：%(rows)d 行有错误（共 %(n)d 处），未写入任何数据。") % {
                "rows": bad_rows, "n": len(self.errors)
            }
        text = _("共 %(rows)d 个事项、%(steps)d 个环节：新增 %(created)d，发布新版本 %(versioned)d，未变 %(unchanged)d。") % {
            "rows": self.rows, "steps": self.steps, "created": self.created, "versioned": self.versioned,
            "unchanged": self.unchanged,
        }
        return _("（试运行，未写入）") + text if self.dry_run else text


# --- reading the workbook ---------------------------------------------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_sheets(data: bytes, wanted: dict[str, tuple[tuple[str, ...], dict[str, str]]]) -> dict[str, list[tuple[int, dict]]]:
    """Rows of each wanted sheet as (excel_row_number, {column: value}).

    `wanted` maps a sheet name to (required columns, header aliases). Anything that makes
    the file as a whole unusable raises one WorkbookError (the reason in the user's
    language): too big, empty, not an xlsx, a missing sheet or column, too many rows.
    """
    if not data:
        raise WorkbookError(_("文件为空"))
    if len(data) > MAX_IMPORT_BYTES:
        raise WorkbookError(_("文件过大：%(size)d 字节，上限 %(limit)d 字节") % {"size": len(data), "limit": MAX_IMPORT_BYTES})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise WorkbookError(_("无法读取文件：不是有效的 Excel（.xlsx）文件（CSV、旧版 .xls 或加密文件请先另存为 .xlsx）")) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookError(_("文件解压后过大（%(size)d 字节，上限 %(limit)d 字节）") % {
            "size": unpacked, "limit": MAX_UNPACKED_BYTES})
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, IndexError) as exc:
        raise WorkbookError(_("无法读取文件：不是有效的 Excel（.xlsx）文件（CSV、旧版 .xls 或加密文件请先另存为 .xlsx）")) from exc
    try:
        names = {str(name).strip(): name for name in wb.sheetnames}
        missing = [s for s in wanted if s not in names]
        if missing:
            raise WorkbookError(_("缺少工作表：%(sheets)s（应有“%(all)s”两个工作表）") % {
                "sheets": "、".join(missing), "all": "”“".join(wanted)})
        return {sheet: _sheet_rows(wb[names[sheet]], sheet, *spec) for sheet, spec in wanted.items()}
    finally:
        wb.close()


def _sheet_rows(ws, sheet: str, required: tuple[str, ...], aliases: dict[str, str]) -> list[tuple[int, dict]]:
    limit = MAX_MATTER_ROWS if sheet == SHEET_MATTERS else MAX_STEP_ROWS
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None or all(_blank(h) for h in header):
        raise WorkbookError(_("工作表“%(sheet)s”为空，缺少表头行") % {"sheet": sheet})
    columns = [aliases.get(str(h).strip(), str(h).strip()) if h is not None else "" for h in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise WorkbookError(_("工作表“%(sheet)s”缺少必需的列：%(cols)s") % {"sheet": sheet, "cols": "、".join(missing)})
    rows = []
    for number, values in enumerate(it, start=2):
        if values is None or all(_blank(v) for v in values):
            continue
        if len(rows) >= limit:
            raise WorkbookError(_("工作表“%(sheet)s”行数过多：上限 %(limit)d 行") % {"sheet": sheet, "limit": limit})
        row = {}
        for name, value in zip(columns, values, strict=False):
            if name and name not in row:  # a repeated header: the first column wins
                row[name] = value.strip() if isinstance(value, str) else value
        rows.append((number, row))
    return rows


# --- cell parsers: each returns (value, error message or None) ------------------------------------


def _text(value) -> str:
    """A cell as text: Excel hands whole numbers back as floats (20.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _in_every_language(labels) -> dict[str, str]:
    """{label in any configured language (lower case): value}, so an English export imports too."""
    found = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.update({str(label).strip().lower(): value for value, label in labels})
    return found


YES = ("是", "1", "true", "yes", "y", "√", "✓", "需要", "收费")
NO = ("否", "0", "false", "no", "n", "×", "✗", "不需要", "不收费", "免费")


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, dict]:
    return {
        "kind": {**_in_every_language(MatterKind.choices), **{v: v for v in MatterKind.values}},
        "unit": {**_in_every_language(Unit.choices), **{v: v for v in Unit.values}, "日": Unit.CALENDAR,
                 "天": Unit.CALENDAR, "个工作日": Unit.WORKING, "时": Unit.HOURS},
        "bool": {**{w: True for w in YES}, **{w: False for w in NO}},
    }


def parse_kind(value) -> tuple[str | None, str | None]:
    text = _text(value)
    if not text:
        return None, _("必填项为空")
    kind = _vocabulary()["kind"].get(text.lower())
    if kind is None:
        return None, _("事项类型无效：%(value)s（应为以下之一：%(labels)s）") % {
            "value": text, "labels": "、".join(str(label) for label in MatterKind.labels)}
    return kind, None


def parse_unit(value) -> tuple[str | None, str | None]:
    text = _text(value)
    if not text:
        return Unit.WORKING, None  # the law counts in working days unless it says otherwise
    unit = _vocabulary()["unit"].get(text.lower())
    if unit is None:
        return None, _("时限单位无效：%(value)s（应为“工作日”“自然日”或“小时”）") % {"value": text}
    return unit, None


def parse_bool(value, default: bool = False) -> tuple[bool | None, str | None]:
    if isinstance(value, bool):
        return value, None
    text = _text(value)
    if not text:
        return default, None
    found = _vocabulary()["bool"].get(text.lower())
    if found is None:
        return None, _("应填写“是”或“否”：%(value)s") % {"value": text}
    return found, None


def parse_positive_int(value, required: bool = True) -> tuple[int | None, str | None]:
    if _blank(value):
        return None, (_("必填项为空") if required else None)
    if isinstance(value, bool) or hasattr(value, "isoformat"):
        return None, _("应为正整数，实际是%(what)s") % {"what": _("日期") if hasattr(value, "isoformat") else _("是/否")}
    text = _text(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None, _("应为正整数：%(value)s") % {"value": text}
    if not number.is_finite() or number != number.to_integral_value() or number <= 0:
        return None, _("应为正整数：%(value)s") % {"value": text}
    if number > MAX_LIMIT:
        return None, _("数值过大：%(value)s（上限 %(max)d）") % {"value": text, "max": MAX_LIMIT}
    return int(number), None


def parse_money(value) -> tuple[Decimal | None, str | None]:
    if _blank(value):
        return None, None
    if isinstance(value, bool) or hasattr(value, "isoformat"):
        return None, _("收费标准应为金额（元）")
    text = _text(value).replace(",", "").replace("，", "").removesuffix("元").strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, _("收费标准应为金额（元）：%(value)s") % {"value": _text(value)}
    if not amount.is_finite() or amount < 0:
        return None, _("收费标准不能为负数：%(value)s") % {"value": text}
    # The size first: quantizing 1E+300 (a spreadsheet's float) to cents needs more digits than the
    # decimal context has, an InvalidOperation that failed the whole import.
    if amount >= Decimal("1e10"):
        return None, _("收费标准过大：%(value)s") % {"value": text}
    if amount != amount.quantize(Decimal("0.01")):
        return None, _("收费标准最多两位小数：%(value)s") % {"value": text}
    return amount.quantize(Decimal("0.01")), None


def split_list(value) -> list[str]:
    """Materials: one per line, or separated by ；/;."""
    return [part.strip() for part in LIST_SPLIT.split(_text(value)) if part.strip()]


# --- parsing a file into plans -------------------------------------------------------------------


@dataclass
class MatterRow:
    row: int
    code: str
    name: str
    kind: str | None
    organ: Organ | None
    rules: Rules
    co_codes: list[str]
    ok: bool = True  # False once a cell of this row (or its organs) had an error
    steps_ok: bool = True  # False once one of its 环节 rows had an error


@dataclass
class StepRow:
    row: int
    order: int
    spec: StepSpec


def _required_text(report, sheet, number, row, column, limit) -> str:
    text = _text(row.get(column))
    if not text:
        report.error(sheet, number, column, _("必填项为空"))
    elif len(text) > limit:
        report.error(sheet, number, column, _("内容过长：最多 %(max)d 个字符，实际 %(n)d 个") % {"max": limit, "n": len(text)})
    return text


def _field(report: ImportReport, number: int, column: str, parsed: tuple, sheet: str = SHEET_MATTERS):
    value, error = parsed
    if error:
        report.error(sheet, number, column, error)
    return value


def _organ_codes(report, number, row, column) -> list[str] | None:
    """Credit codes in a cell (co-organs may be several); None after reporting a bad one."""
    codes, bad = [], False
    raw = row.get(column)
    parts = [p for p in CODE_SPLIT.split(_text(raw)) if p]
    for code in parts:
        error = credit_code_error(code)
        if error:
            if isinstance(raw, (int, float)):
                error += _("（该单元格是数字格式，18位代码会被 Excel 截断，请设为文本格式）")
            report.error(SHEET_MATTERS, number, column, f"{code}：{error}" if len(parts) > 1 else error)
            bad = True
        elif code in codes:
            report.error(SHEET_MATTERS, number, column, _("机关 %(code)s 重复填写") % {"code": code})
            bad = True
        else:
            codes.append(code)
    return None if bad else codes


def _parse_matter(report: ImportReport, number: int, row: dict) -> tuple[MatterRow, str | None, list[str]]:
    """One 事项 row on its own: formats only (organs and cross-row checks come later)."""
    errors_before = len(report.errors)
    code = _required_text(report, SHEET_MATTERS, number, row, M_CODE, MAX_CODE)
    name = _required_text(report, SHEET_MATTERS, number, row, M_NAME, MAX_NAME)
    kind = _field(report, number, M_KIND, parse_kind(row.get(M_KIND)))
    organ_codes = _organ_codes(report, number, row, M_ORGAN)
    organ_code = None
    if organ_codes is not None:
        if not organ_codes:
            report.error(SHEET_MATTERS, number, M_ORGAN, _("必填项为空"))
        elif len(organ_codes) > 1:
            report.error(SHEET_MATTERS, number, M_ORGAN, _("实施机关只能填写一个（协办机关请填在“%(col)s”列）") % {"col": M_CO_ORGANS})
        else:
            organ_code = organ_codes[0]
    basis = _text(row.get(M_BASIS))
    legal = _field(report, number, M_LEGAL, parse_positive_int(row.get(M_LEGAL)))
    legal_unit = _field(report, number, M_LEGAL_UNIT, parse_unit(row.get(M_LEGAL_UNIT)))
    promised = _field(report, number, M_PROMISED, parse_positive_int(row.get(M_PROMISED)))
    promised_unit = _field(report, number, M_PROMISED_UNIT, parse_unit(row.get(M_PROMISED_UNIT)))
    fee_standard = _field(report, number, M_FEE_STANDARD, parse_money(row.get(M_FEE_STANDARD)))
    # A blank 是否收费 follows the fee standard: filled in means charged.
    charged = _field(report, number, M_FEE, parse_bool(row.get(M_FEE), default=bool(fee_standard)))
    fee_basis = _text(row.get(M_FEE_BASIS))
    if len(fee_basis) > MAX_FEE_BASIS:
        report.error(SHEET_MATTERS, number, M_FEE_BASIS, _("内容过长：最多 %(max)d 个字符，实际 %(n)d 个") % {
            "max": MAX_FEE_BASIS, "n": len(fee_basis)})
    first_review = _field(report, number, M_FIRST_REVIEW, parse_bool(row.get(M_FIRST_REVIEW)))
    parallel = _field(report, number, M_PARALLEL, parse_bool(row.get(M_PARALLEL)))
    co_codes = _organ_codes(report, number, row, M_CO_ORGANS)
    joint = _field(report, number, M_JOINT, parse_positive_int(row.get(M_JOINT), required=False))
    if co_codes and parallel is False:
        report.error(SHEET_MATTERS, number, M_CO_ORGANS, _("只有并联审批事项才有协办机关"))
    if joint is not None and parallel is False:
        report.error(SHEET_MATTERS, number, M_JOINT, _("只有并联审批事项才有联合办理时限"))
    rules = Rules(
        legal_basis=basis, legal_limit=legal, promised_limit=promised, legal_unit=legal_unit, promised_unit=promised_unit,
        is_free=not charged if charged is not None else True, fee_standard=fee_standard, fee_basis=fee_basis,
        materials=split_list(row.get(M_MATERIALS)), needs_first_review=bool(first_review), is_parallel=bool(parallel),
        joint_limit=joint,
    )
    ok = len(report.errors) == errors_before
    return MatterRow(number, code, name, kind, None, rules, co_codes or [], ok), organ_code, co_codes or []


def _parse_step(report: ImportReport, number: int, row: dict) -> tuple[str, StepRow | None]:
    errors_before = len(report.errors)
    code = _text(row.get(S_MATTER))
    if not code:
        report.error(SHEET_STEPS, number, S_MATTER, _("必填项为空"))
    order = _field(report, number, S_ORDER, parse_positive_int(row.get(S_ORDER)), SHEET_STEPS)
    name = _required_text(report, SHEET_STEPS, number, row, S_NAME, MAX_STEP_NAME)
    limit = _field(report, number, S_LIMIT, parse_positive_int(row.get(S_LIMIT)), SHEET_STEPS)
    unit = _field(report, number, S_UNIT, parse_unit(row.get(S_UNIT)), SHEET_STEPS)
    first_review = _field(report, number, S_FIRST_REVIEW, parse_bool(row.get(S_FIRST_REVIEW)), SHEET_STEPS)
    if len(report.errors) > errors_before:
        return code, None
    return code, StepRow(number, order, StepSpec(name, limit, unit, bool(first_review)))


# Where each key of catalogue.check()'s answer is shown.
CHECK_COLUMNS = {
    "legal_basis": M_BASIS, "legal_limit": M_LEGAL, "legal_unit": M_LEGAL_UNIT, "promised_limit": M_PROMISED,
    "promised_unit": M_PROMISED_UNIT, "fee_standard": M_FEE_STANDARD, "fee_basis": M_FEE_BASIS,
    "steps": M_FIRST_REVIEW, "co_organs": M_CO_ORGANS, "joint_limit": M_JOINT, "code": M_CODE, "name": M_NAME,
    "kind": M_KIND,
}
STEP_CHECK = re.compile(r"steps\[(\d+)\]\.(\w+)")


def _report_check(report: ImportReport, m: MatterRow, steps: list[StepRow], errors: dict[str, str]) -> None:
    for key, message in errors.items():
        found = STEP_CHECK.fullmatch(key)
        if found and 0 < int(found.group(1)) <= len(steps):
            column = S_NAME if found.group(2) == "name" else S_LIMIT
            report.error(SHEET_STEPS, steps[int(found.group(1)) - 1].row, column, message)
        else:
            report.error(SHEET_MATTERS, m.row, CHECK_COLUMNS.get(key, key), message)


@dataclass
class Plan:
    create: list[MatterRow] = field(default_factory=list)
    publish: list[tuple[Matter, MatterRow]] = field(default_factory=list)


def _plan(sheets: dict[str, list[tuple[int, dict]]], report: ImportReport, allowed_organs,
          effective_from: datetime | None) -> Plan:
    """Check every row; return what to create and what to version.

    1. Each 事项 and 环节 row on its own (formats, required cells, lengths).
    2. Across the file: duplicate matter codes, duplicate step orders, steps of matters
       that are not in the 事项 sheet.
    3. Against the database: the organs exist, are active and (for a scoped user) may be
       maintained; an existing matter keeps its name, kind and organ.
    4. Each matter's rules through catalogue.check(), the same words as everywhere.
    5. Existing matters whose rules equal the version in force are left alone.
    """
    matters: dict[str, MatterRow] = {}
    organ_codes: dict[str, tuple[str | None, list[str]]] = {}
    for number, row in sheets[SHEET_MATTERS]:
        m, organ_code, co_codes = _parse_matter(report, number, row)
        if not m.code:
            continue
        if m.code in matters:
            report.error(SHEET_MATTERS, number, M_CODE, _("事项编码 %(code)s 与第 %(row)d 行重复") % {
                "code": m.code, "row": matters[m.code].row})
            continue
        matters[m.code] = m
        organ_codes[m.code] = (organ_code, co_codes)

    steps: dict[str, dict[int, StepRow]] = {}
    for number, row in sheets[SHEET_STEPS]:
        code, step = _parse_step(report, number, row)
        if code and code not in matters:
            report.error(SHEET_STEPS, number, S_MATTER, _("事项编码 %(code)s 不在“%(sheet)s”表中") % {
                "code": code, "sheet": SHEET_MATTERS})
            continue
        if step is None:
            if code:
                matters[code].steps_ok = False
            continue
        mine = steps.setdefault(code, {})
        if step.order in mine:
            report.error(SHEET_STEPS, number, S_ORDER, _("事项 %(code)s 的环节顺序 %(order)d 与第 %(row)d 行重复") % {
                "code": code, "order": step.order, "row": mine[step.order].row})
            matters[code].steps_ok = False
            continue
        mine[step.order] = step
    report.steps = sum(len(s) for s in steps.values())

    wanted = {c for organ, co in organ_codes.values() for c in ([organ] if organ else []) + co}
    organs = {o.credit_code: o for o in Organ.objects.filter(credit_code__in=wanted)}
    allowed = None if allowed_organs is None else set(
        allowed_organs.values_list("pk", flat=True) if hasattr(allowed_organs, "values_list") else allowed_organs
    )
    existing = {
        m.code: m for m in Matter.objects.filter(code__in=matters).select_related("organ", "current")
        .prefetch_related("current__steps", "current__co_organs")
    }
    plan = Plan()
    for code, m in matters.items():
        organ_code, co_codes = organ_codes[code]
        m.organ = _resolve_organ(report, m, organ_code, M_ORGAN, organs, allowed)
        co = [_resolve_organ(report, m, c, M_CO_ORGANS, organs, None) for c in co_codes]
        if m.organ and m.organ.credit_code in co_codes:
            report.error(SHEET_MATTERS, m.row, M_CO_ORGANS, _("协办机关不能是实施机关本身"))
            m.ok = False
        m.rules.co_organs = [o for o in co if o is not None]
        m.rules.steps = [s.spec for _o, s in sorted(steps.get(code, {}).items())]
        current = existing.get(code)
        if current is not None:
            _check_identity(report, m, current)
        if not m.ok:
            continue
        check_errors = catalogue.check(m.rules)
        if not m.steps_ok:
            # The steps are half read; their own rows carry the errors already.
            check_errors = {k: v for k, v in check_errors.items() if not k.startswith("steps")}
        if check_errors or not m.steps_ok:
            _report_check(report, m, [s for _o, s in sorted(steps.get(code, {}).items())], check_errors)
            continue
        if current is None:
            report.created += 1
            plan.create.append(m)
        elif current.current_id and rules_key(m.rules) == version_key(current.current):
            report.unchanged += 1
        else:
            if effective_from and current.current_id and effective_from < current.current.effective_from:
                report.error(SHEET_MATTERS, m.row, M_CODE, _("新版本的生效时间不能早于现行版本（%(at)s）") % {
                    "at": f"{timezone.localtime(current.current.effective_from):%Y-%m-%d %H:%M}"})
                continue
            report.versioned += 1
            plan.publish.append((current, m))
    return plan


def _resolve_organ(report, m: MatterRow, code: str | None, column: str, organs, allowed) -> Organ | None:
    if code is None:
        return None
    organ = organs.get(code)
    if organ is None:
        report.error(SHEET_MATTERS, m.row, column, _("机关 %(code)s 不存在，请先导入机关单位") % {"code": code})
    elif not organ.is_active:
        report.error(SHEET_MATTERS, m.row, column, _("机关 %(code)s（%(name)s）已停用") % {"code": code, "name": organ.name})
        organ = None
    elif allowed is not None and organ.pk not in allowed:
        report.error(SHEET_MATTERS, m.row, column, _("无权维护机关 %(name)s 的事项") % {"name": organ.name})
        organ = None
    if organ is None:
        m.ok = False
    return organ


def _check_identity(report: ImportReport, m: MatterRow, matter: Matter) -> None:
    """Name, kind and organ are the matter's, not the version's: the import does not change them."""
    for column, wanted, now, shown in (
        (M_NAME, m.name, matter.name, matter.name),
        (M_KIND, m.kind, matter.kind, MatterKind(matter.kind).label if matter.kind in MatterKind.values else matter.kind),
        (M_ORGAN, m.organ.pk if m.organ else None, matter.organ_id, matter.organ.credit_code),
    ):
        if wanted is not None and wanted != "" and wanted != now:
            report.error(SHEET_MATTERS, m.row, column, _("与系统中的事项 %(code)s 不一致（系统中为“%(now)s”）；"
                                                         "导入只能发布新版本的办理规则，不能修改事项名称、类型或实施机关") % {
                "code": matter.code, "now": shown})
            m.ok = False


# --- comparing rules ---------------------------------------------------------------------------------


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def rules_key(rules: Rules) -> tuple:
    """What a version made from `rules` would say, normalised as do_publish_version stores it."""
    return (
        rules.legal_basis.strip(), rules.legal_limit, rules.legal_unit, rules.promised_limit, rules.promised_unit,
        rules.is_free, None if rules.is_free else _money(rules.fee_standard), rules.fee_basis.strip(),
        tuple(m.strip() for m in rules.materials if m.strip()), rules.needs_first_review, rules.is_parallel,
        tuple(sorted(o.pk for o in rules.co_organs)), rules.joint_limit or int(rule("licence_joint_working_days")),
        tuple((s.name.strip(), s.limit, s.unit, s.is_first_review) for s in rules.steps),
    )


def version_key(v: MatterVersion) -> tuple:
    return (
        v.legal_basis.strip(), v.legal_limit, v.legal_unit, v.promised_limit, v.promised_unit, v.is_free,
        None if v.is_free else _money(v.fee_standard), v.fee_basis.strip(), tuple(v.materials or ()),
        v.needs_first_review, v.is_parallel, tuple(sorted(o.pk for o in v.co_organs.all())), v.joint_limit,
        tuple((s.name, s.limit, s.unit, s.is_first_review) for s in sorted(v.steps.all(), key=lambda s: s.order)),
    )


# --- import --------------------------------------------------------------------------------------------


def import_matters(data: bytes, *, dry_run: bool = False, effective_from: datetime | None = None,
                   allowed_organs=None) -> ImportReport:
    """Check and import a catalogue workbook; see the module docstring.

    `effective_from` (default: the moment of import) is when new versions and new matters
    take effect; it may not lie in the past, so no case already received changes rules.
    `allowed_organs` (organ ids or a queryset) limits which organs' matters a scoped user
    may maintain; None means any.
    """
    report = ImportReport(dry_run=dry_run)
    if effective_from is not None:
        if timezone.is_naive(effective_from):
            raise ValueError("effective_from must be an aware datetime")
        if effective_from < timezone.now() - timedelta(minutes=1):
            report.error("", None, "", _("生效时间不能早于当前时间：已受理的办件必须沿用受理时的规则"))
            return report
    try:
        sheets = read_sheets(data, {
            SHEET_MATTERS: (MATTER_HEADERS, MATTER_ALIASES),
            SHEET_STEPS: (STEP_HEADERS, STEP_ALIASES),
        })
    except WorkbookError as exc:
        report.error("", None, "", str(exc))
        return report
    if not sheets[SHEET_MATTERS]:
        report.error("", None, "", _("“%(sheet)s”表中没有数据行（第1行应为表头，数据从第2行开始）") % {"sheet": SHEET_MATTERS})
        return report
    report.rows = len(sheets[SHEET_MATTERS])
    try:
        with transaction.atomic():
            plan = _plan(sheets, report, allowed_organs, effective_from)
            if report.ok and not dry_run:
                _write(plan, effective_from)
            if not report.ok:
                transaction.set_rollback(True)
    except CatalogueError as exc:  # a concurrent change between check and write
        report.error("", None, "", _("写入失败，未写入任何数据：%(reason)s") % {"reason": exc})
    except DatabaseError as exc:
        report.error("", None, "", _("写入失败，未写入任何数据：%(reason)s") % {"reason": exc})
    report.errors.sort(key=lambda e: (e.sheet != SHEET_MATTERS, e.row or 0))
    if not report.ok:
        report.created = report.versioned = report.unchanged = 0
    return report


def _write(plan: Plan, effective_from: datetime | None) -> None:
    for m in plan.create:
        m.rules.effective_from = effective_from
        catalogue.do_create_matter(code=m.code, name=m.name, kind=m.kind, organ=m.organ, rules=m.rules)
    for matter, m in plan.publish:
        m.rules.effective_from = effective_from
        catalogue.do_publish_version(matter, m.rules)


# --- export --------------------------------------------------------------------------------------------


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def export_rows(queryset) -> tuple[list[tuple], list[tuple]]:
    """Rows under MATTER_EXPORT_HEADERS and STEP_HEADERS for the matters' versions in force."""
    units = dict(Unit.choices)
    kinds = dict(MatterKind.choices)
    matters = (
        queryset.filter(current__isnull=False).select_related("organ", "current").order_by("code")
        .prefetch_related("current__steps", "current__co_organs")
    )
    matter_rows, step_rows = [], []
    for matter in matters:
        v = matter.current
        matter_rows.append((
            matter.code, matter.name, str(kinds.get(matter.kind, matter.kind)), matter.organ.credit_code,
            v.legal_basis, v.legal_limit, str(units[v.legal_unit]), v.promised_limit, str(units[v.promised_unit]),
            _yes_no(not v.is_free), v.fee_standard if not v.is_free else None, v.fee_basis,
            "\n".join(v.materials or []), _yes_no(v.needs_first_review), _yes_no(v.is_parallel),
            "；".join(sorted(o.credit_code for o in v.co_organs.all())), v.joint_limit if v.is_parallel else None,
            matter.organ.name, v.number, timezone.localtime(v.effective_from).replace(tzinfo=None),
        ))
        for step in sorted(v.steps.all(), key=lambda s: s.order):
            step_rows.append((matter.code, step.order, step.name, step.limit, str(units[step.unit]),
                              _yes_no(step.is_first_review)))
    return matter_rows, step_rows


def _write_sheet(wb: Workbook, title: str, headers: Iterable[str], rows: Iterable[tuple]) -> None:
    ws = wb.create_sheet(title=title)
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))


def catalogue_workbook(queryset=None) -> bytes:
    """The catalogue as an xlsx that imports back unchanged."""
    matter_rows, step_rows = export_rows(Matter.objects.all() if queryset is None else queryset)
    wb = Workbook(write_only=True)
    _write_sheet(wb, SHEET_MATTERS, MATTER_EXPORT_HEADERS, matter_rows)
    _write_sheet(wb, SHEET_STEPS, STEP_HEADERS, step_rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template_workbook() -> bytes:
    """An empty catalogue workbook with both sheets and their headers, for users to fill in."""
    wb = Workbook(write_only=True)
    _write_sheet(wb, SHEET_MATTERS, MATTER_HEADERS, [])
    _write_sheet(wb, SHEET_STEPS, STEP_HEADERS, [])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
