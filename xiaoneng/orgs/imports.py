"""Excel import and export of regions and organs.

Import is all-or-nothing: every row is checked first (field formats, the region tree's
level/parent rules, credit-code check characters, duplicates within the file and against
the database) and every problem is reported with its Excel row, its column and a reason
in Chinese. Only a file without a single error is written, in one transaction, through
xiaoneng.orgs.actions. A row identical to the database is left alone, so re-importing an
exported file changes nothing.

    report = import_regions(uploaded.read())            # or import_organs(...)
    if not report.ok: show report.errors                 # RowError(row, column, message)
    xlsx_response("regions.xlsx", _("行政区划"), REGION_HEADERS, export_regions_rows(qs))

Column headers are the Chinese ones below; English names (code, name, level, …) are
accepted as aliases. Unknown columns are ignored (exports add read-only helper columns).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.lib.codes import credit_code_error, normalise_region_code, region_code_error, region_level
from xiaoneng.lib.xlsx import WorkbookError, read_rows, write_workbook

from . import actions
from .actions import OrganData, RegionData
from .models import PREFIX_LENGTH, Organ, OrganKind, Region, RegionLevel

# Column headers are part of the file format, so they are constants, not translated.
R_CODE, R_NAME, R_LEVEL, R_PARENT = "区划代码", "名称", "层级", "上级区划代码"
REGION_HEADERS = (R_CODE, R_NAME, R_LEVEL, R_PARENT)
REGION_ALIASES = {
    "code": R_CODE, "行政区划代码": R_CODE, "name": R_NAME, "level": R_LEVEL,
    "parent_code": R_PARENT, "parent": R_PARENT, "上级代码": R_PARENT,
}
O_CREDIT, O_NAME, O_SHORT, O_KIND = "统一社会信用代码", "名称", "简称", "类别"
O_REGION, O_REGION_NAME, O_PARENT, O_STATUS = "所在区划代码", "所在区划", "上级机关统一社会信用代码", "状态"
ORGAN_HEADERS = (O_CREDIT, O_NAME, O_SHORT, O_KIND, O_REGION, O_REGION_NAME, O_PARENT, O_STATUS)
ORGAN_REQUIRED = (O_CREDIT, O_NAME, O_KIND, O_REGION)
ORGAN_ALIASES = {
    "credit_code": O_CREDIT, "name": O_NAME, "short_name": O_SHORT, "kind": O_KIND,
    "region_code": O_REGION, "区划代码": O_REGION, "region": O_REGION_NAME,
    "parent_credit_code": O_PARENT, "上级机关信用代码": O_PARENT, "is_active": O_STATUS,
}
MAX_REGION_NAME, MAX_ORGAN_NAME, MAX_SHORT_NAME = 100, 200, 60  # the model fields' max_length


@dataclass(frozen=True)
class RowError:
    row: int | None  # the Excel row number; None for an error about the whole file
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("第 %(row)d 行【%(column)s】：%(message)s") % {
            "row": self.row, "column": self.column, "message": self.message
        }


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, row: int | None, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    def summary(self) -> str:
        if self.errors:
            bad_rows = len({e.row for e in self.errors if e.row is not None})
            if not bad_rows:
                return _("导入失败：%(reason)s") % {"reason": self.errors[0].message}
            return _("导入失败：%(rows)d 行有错误（共 %(n)d 处），未写入任何数据。") % {
                "rows": bad_rows, "n": len(self.errors)
            }
        text = _("共 %(rows)d 行：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d。") % {
            "rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged
        }
        return _("（试运行，未写入）") + text if self.dry_run else text


# --- cell helpers ----------------------------------------------------------------------------


def _text(value) -> str:
    """A cell as text: Excel hands whole numbers back as floats (440100000000.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _in_every_language(labels) -> dict[str, object]:
    """{label text in any configured language: value}, so a file exported in English imports too."""
    found = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            found.update({str(label).lower(): value for value, label in labels})
    return found


@lru_cache(maxsize=1)
def _vocabulary() -> dict[str, dict[str, object]]:
    """Accepted words for levels, kinds and status, built once (translations do not change)."""
    status = {"1": True, "0": False, "true": True, "false": False, "yes": True, "no": False, "是": True, "否": False}
    status.update(_in_every_language([(True, gettext_lazy("有效")), (False, gettext_lazy("停用"))]))
    return {
        "level": _in_every_language(RegionLevel.choices),
        "kind": {**_in_every_language(OrganKind.choices), **{v: v for v in OrganKind.values}},
        "status": status,
    }


def _parse_level(value) -> int | None:
    text = _text(value)
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 5 else None
    return _vocabulary()["level"].get(text.lower())


def _parse_kind(value) -> str | None:
    return _vocabulary()["kind"].get(_text(value).lower())


def _parse_status(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value)
    return True if not text else _vocabulary()["status"].get(text.lower())


def _too_long(report: ImportReport, number: int, column: str, text: str, limit: int) -> None:
    if len(text) > limit:
        report.error(number, column, _("内容过长：最多 %(max)d 个字符，实际 %(n)d 个") % {"max": limit, "n": len(text)})


def _required_text(report: ImportReport, number: int, row: dict, column: str, limit: int) -> str:
    text = _text(row.get(column))
    if not text:
        report.error(number, column, _("必填项为空"))
    _too_long(report, number, column, text, limit)
    return text


def _credit_code(report: ImportReport, number: int, row: dict, column: str, required: bool) -> str | None:
    raw = row.get(column)
    text = _text(raw)
    if not text:
        if required:
            report.error(number, column, _("必填项为空"))
        return None
    error = credit_code_error(text)
    if error:
        if isinstance(raw, (int, float)):
            error += _("（该单元格是数字格式，18位代码会被 Excel 截断，请设为文本格式）")
        report.error(number, column, error)
        return None
    return text


def _region_code(report: ImportReport, number: int, row: dict, column: str, required: bool) -> str | None:
    raw = row.get(column)
    if not _text(raw):
        if required:
            report.error(number, column, _("必填项为空"))
        return None
    error = region_code_error(raw)
    if error:
        report.error(number, column, error)
        return None
    return normalise_region_code(raw)


def _read(data: bytes, required, aliases, report: ImportReport) -> list[tuple[int, dict]] | None:
    """The file's rows, or None after recording the one error that makes it unreadable."""
    try:
        rows = read_rows(data, required, aliases)
    except WorkbookError as exc:
        report.error(None, "", str(exc))
        return None
    if not rows:
        report.error(None, "", _("文件中没有数据行（第1行应为表头，数据从第2行开始）"))
        return None
    report.rows = len(rows)
    return rows


def _run(report: ImportReport, plan, write, rows) -> ImportReport:
    """Plan and write inside one transaction; any error leaves the database untouched."""
    try:
        with transaction.atomic():
            changes = plan(rows, report)
            if report.ok and not report.dry_run:
                write(changes)
    except (DatabaseError, ValidationError) as exc:  # a concurrent change between check and write
        reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        report.error(None, "", _("写入失败，未写入任何数据：%(reason)s") % {"reason": reason})
    report.errors.sort(key=lambda e: e.row or 0)
    return report


# --- regions ---------------------------------------------------------------------------------


def import_regions(data: bytes, *, dry_run: bool = False) -> ImportReport:
    """Check and import a region workbook; see the module docstring."""
    report = ImportReport(dry_run=dry_run)
    rows = _read(data, (R_CODE, R_NAME, R_LEVEL), REGION_ALIASES, report)
    if rows is None:
        return report

    def write(changes):
        actions.do_import_regions(changes)

    return _run(report, _plan_regions, write, rows)


def _plan_regions(rows: list[tuple[int, dict]], report: ImportReport) -> list[RegionData]:
    """Validate every row; return the rows that create or rename a region.

    1. Each row on its own: code format, name, level, level implied by the code.
    2. Against the whole file and the database: duplicates, parent existence, parent
       level above the row's, code under the parent's code, unchanged tree position.
    """
    parsed: dict[str, tuple[int, RegionData]] = {}
    for number, row in rows:
        code = _region_code(report, number, row, R_CODE, required=True)
        name = _required_text(report, number, row, R_NAME, MAX_REGION_NAME)
        level = None
        if not _text(row.get(R_LEVEL)):
            report.error(number, R_LEVEL, _("必填项为空"))
        else:
            level = _parse_level(row.get(R_LEVEL))
            if level is None:
                report.error(number, R_LEVEL, _("层级应为 1 至 5，或“省、市、县（区）、乡镇（街道）、村（社区）”之一：%(value)s")
                             % {"value": _text(row.get(R_LEVEL))})
            elif code and region_level(code) != level:
                report.error(number, R_LEVEL, _("层级与区划代码不符：代码 %(code)s 是第 %(implied)d 级，填写的是第 %(level)d 级")
                             % {"code": code, "implied": region_level(code), "level": level})
                level = None
        parent = _region_code(report, number, row, R_PARENT, required=False)
        if level == 1 and parent:
            report.error(number, R_PARENT, _("省级区划不应填写上级区划代码"))
            level = None
        elif level and level > 1 and not _text(row.get(R_PARENT)):
            report.error(number, R_PARENT, _("必填项为空：第 %(level)d 级区划必须填写上级区划代码") % {"level": level})
            level = None
        if code is None:
            continue
        if code in parsed:
            report.error(number, R_CODE, _("区划代码 %(code)s 与第 %(row)d 行重复") % {"code": code, "row": parsed[code][0]})
            continue
        parsed[code] = (number, RegionData(code, name, level or 0, parent))

    existing = {
        code: (name, level, parent)
        for code, name, level, parent in Region.objects.filter(
            code__in=set(parsed) | {r.parent_code for _n, r in parsed.values() if r.parent_code}
        ).values_list("code", "name", "level", "parent__code")
    }
    changes = []
    for code, (number, r) in parsed.items():
        if not r.level:
            continue
        if r.level > 1:
            if not r.parent_code:
                continue  # its format error is reported already
            parent_level = parsed[r.parent_code][1].level if r.parent_code in parsed else None
            if parent_level is None and r.parent_code in existing:
                parent_level = existing[r.parent_code][1]
            if parent_level is None:
                report.error(number, R_PARENT, _("上级区划 %(code)s 在系统和本文件中都不存在") % {"code": r.parent_code})
                continue
            if not parent_level:
                continue  # the parent's own row is wrong; that row reports it
            if parent_level >= r.level:
                report.error(number, R_PARENT, _("上级区划 %(code)s 是第 %(plevel)d 级，不高于本行的第 %(level)d 级")
                             % {"code": r.parent_code, "plevel": parent_level, "level": r.level})
                continue
            if not code.startswith(r.parent_code[: PREFIX_LENGTH[parent_level]]):
                report.error(number, R_PARENT, _("区划代码 %(code)s 不在上级区划 %(parent)s 之下（代码前缀不符）")
                             % {"code": code, "parent": r.parent_code})
                continue
        if code in existing:
            name, level, parent = existing[code]
            if (level, parent) != (r.level, r.parent_code):
                report.error(number, R_CODE, _("区划代码 %(code)s 已存在（%(name)s），但层级或上级区划与系统中不一致；"
                                               "导入不能移动已有区划") % {"code": code, "name": name})
                continue
            if name == r.name:
                report.unchanged += 1
                continue
            report.updated += 1
        else:
            report.created += 1
        changes.append(r)
    return changes


def export_regions_rows(queryset) -> Iterator[tuple]:
    """Rows under REGION_HEADERS, one query, streamed; the file imports back unchanged."""
    values = queryset.order_by("code").values_list("code", "name", "level", "parent__code")
    for code, name, level, parent in values.iterator(chunk_size=2000):
        yield code, name, level, parent or ""


def regions_workbook(queryset) -> bytes:
    return write_workbook(_("行政区划"), REGION_HEADERS, export_regions_rows(queryset))


# --- organs ----------------------------------------------------------------------------------


def import_organs(data: bytes, *, dry_run: bool = False) -> ImportReport:
    """Check and import an organ workbook; see the module docstring."""
    report = ImportReport(dry_run=dry_run)
    rows = _read(data, ORGAN_REQUIRED, ORGAN_ALIASES, report)
    if rows is None:
        return report

    def write(changes):
        actions.do_import_organs(changes)

    return _run(report, _plan_organs, write, rows)


def _plan_organs(rows: list[tuple[int, dict]], report: ImportReport) -> list[OrganData]:
    """Validate every row; return the rows that create or change an organ.

    1. Each row on its own: credit codes (check character), name, kind, region, status.
    2. Against the file and the database: duplicate codes, duplicate names in a region
       in the file or against the database, parents
       that exist, and no organ ending up under itself.
    """
    parsed: dict[str, tuple[int, OrganData]] = {}
    region_codes = {
        normalise_region_code(row.get(O_REGION)) for _n, row in rows if not region_code_error(row.get(O_REGION))
    }
    regions = dict(Region.objects.filter(code__in=region_codes).values_list("code", "id"))
    for number, row in rows:
        code = _credit_code(report, number, row, O_CREDIT, required=True)
        name = _required_text(report, number, row, O_NAME, MAX_ORGAN_NAME)
        short = _text(row.get(O_SHORT))
        _too_long(report, number, O_SHORT, short, MAX_SHORT_NAME)
        kind = None
        if not _text(row.get(O_KIND)):
            report.error(number, O_KIND, _("必填项为空"))
        else:
            kind = _parse_kind(row.get(O_KIND))
            if kind is None:
                report.error(number, O_KIND, _("类别无效：%(value)s（应为以下之一：%(labels)s）") % {
                    "value": _text(row.get(O_KIND)), "labels": "、".join(str(label) for label in OrganKind.labels)})
        region = _region_code(report, number, row, O_REGION, required=True)
        if region and region not in regions:
            report.error(number, O_REGION, _("所在区划 %(code)s 不存在，请先导入行政区划") % {"code": region})
            region = None
        parent = _credit_code(report, number, row, O_PARENT, required=False)
        if parent and parent == code:
            report.error(number, O_PARENT, _("上级机关不能是本机关"))
            parent = None
        status = _parse_status(row.get(O_STATUS))
        if status is None:
            report.error(number, O_STATUS, _("状态应为“有效”或“停用”：%(value)s") % {"value": _text(row.get(O_STATUS))})
        if code is None:
            continue
        if code in parsed:
            report.error(number, O_CREDIT, _("统一社会信用代码 %(code)s 与第 %(row)d 行重复") % {
                "code": code, "row": parsed[code][0]})
            continue
        parsed[code] = (number, OrganData(code, name, short, kind or "", region or "", parent, bool(status)))

    if any(e.row is not None for e in report.errors):
        # Row-level problems first: cross-row checks on half-parsed rows only add noise.
        _check_organ_names(parsed, regions, report)
        return []
    return _check_organs_against_db(parsed, regions, report)


def _check_organ_names(parsed, regions, report) -> None:
    """Two organs may not share a name in one region, within the file or with the database.

    A name still held in the database by another organ counts as taken even if the file
    renames that organ too: the writes happen one by one, so a swap needs two imports.
    """
    owner = {(r, n): c for c, r, n in Organ.objects.values_list("credit_code", "region_id", "name")}
    first_row = {}
    for code, (number, r) in parsed.items():
        if not r.region_code or not r.name:
            continue
        key = (regions[r.region_code], r.name)
        if key in first_row:
            report.error(number, O_NAME, _("同一区划内机关名称“%(name)s”与第 %(row)d 行重复") % {
                "name": r.name, "row": first_row[key]})
        elif owner.get(key, code) != code:
            report.error(number, O_NAME, _("所在区划已有同名机关“%(name)s”（统一社会信用代码 %(code)s）") % {
                "name": r.name, "code": owner[key]})
        else:
            first_row[key] = number


def _check_organs_against_db(parsed, regions, report) -> list[OrganData]:
    errors_before = len(report.errors)
    _check_organ_names(parsed, regions, report)
    wanted_parents = {r.parent_credit_code for _n, r in parsed.values() if r.parent_credit_code}
    existing = {
        o.credit_code: o
        for o in Organ.objects.filter(credit_code__in=set(parsed) | wanted_parents).select_related("region", "parent")
    }
    # The parent map after the import: the database's, overlaid by the file's rows.
    parent_of = dict(Organ.objects.values_list("credit_code", "parent__credit_code"))
    parent_of.update({code: r.parent_credit_code for code, (_n, r) in parsed.items()})
    for code, (number, r) in parsed.items():
        if r.parent_credit_code and r.parent_credit_code not in parsed and r.parent_credit_code not in existing:
            report.error(number, O_PARENT, _("上级机关 %(code)s 在系统和本文件中都不存在") % {"code": r.parent_credit_code})
            continue
        seen, up = {code}, r.parent_credit_code
        while up and up not in seen:
            seen.add(up)
            up = parent_of.get(up)
        if up == code:
            report.error(number, O_PARENT, _("上级机关关系形成循环（%(code)s 最终又成为自己的上级）") % {"code": code})
    if len(report.errors) > errors_before:
        return []
    changes = []
    for code, (_number, r) in parsed.items():
        organ = existing.get(code)
        if organ is None:
            report.created += 1
        elif (
            organ.name, organ.short_name, organ.kind, organ.region.code,
            organ.parent.credit_code if organ.parent_id else None, organ.is_active,
        ) == (r.name, r.short_name, r.kind, r.region_code, r.parent_credit_code, r.is_active):
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        changes.append(r)
    return changes


def export_organs_rows(queryset) -> Iterator[tuple]:
    """Rows under ORGAN_HEADERS, one query, streamed; the file imports back unchanged."""
    kinds = dict(OrganKind.choices)
    active, inactive = _("有效"), _("停用")
    values = queryset.order_by("region_code", "name").values_list(
        "credit_code", "name", "short_name", "kind", "region__code", "region__name", "parent__credit_code", "is_active"
    )
    for code, name, short, kind, region, region_name, parent, is_active in values.iterator(chunk_size=2000):
        yield code, name, short, str(kinds.get(kind, kind)), region, region_name, parent or "", (
            active if is_active else inactive
        )


def organs_workbook(queryset) -> bytes:
    return write_workbook(_("机关单位"), ORGAN_HEADERS, export_organs_rows(queryset))
