"""Excel in and out with openpyxl: one writer for every export, one reader for imports.

Exports stream (write-only workbooks) so a large list does not sit in memory twice.
The reader turns a malformed or wrong-format file into one clear error instead of a
traceback, and hands back rows as dicts keyed by the header row.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class WorkbookError(ValueError):
    """The file as a whole cannot be read (not xlsx, empty, missing columns)."""


def _cell(value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return timezone.localtime(value).replace(tzinfo=None)
    if value is None or isinstance(value, (int, float, str, datetime)) or hasattr(value, "isoformat"):
        return value
    return str(value)


def write_workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Sheet1")
    ws.append(list(headers))
    for row in rows:
        ws.append([_cell(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(write_workbook(title, headers, rows), content_type=XLSX_MIME)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


def read_rows(data: bytes, required: Sequence[str], aliases: dict[str, str] | None = None) -> list[tuple[int, dict]]:
    """Rows of the first sheet as (excel_row_number, {column: value}).

    `required` columns must all be in the header row; `aliases` maps alternative header
    texts (e.g. English) to the canonical column name.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise WorkbookError(_("文件过大：%(size)d 字节，上限 %(limit)d 字节") % {"size": len(data), "limit": MAX_IMPORT_BYTES})
    if not data:
        raise WorkbookError(_("文件为空"))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise WorkbookError(_("无法读取文件：不是有效的 Excel（.xlsx）文件")) from exc
    try:
        return _sheet_rows(wb, required, aliases)
    except WorkbookError:
        raise
    except (SyntaxError, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        # read_only parses each sheet's XML as it is iterated: a cell holding a character XML cannot carry
        # (U+FFFE, a control character) surfaces here, not when the file is opened.
        raise WorkbookError(_("无法读取文件：工作表内容已损坏或含有无效字符")) from exc
    finally:
        wb.close()


def _sheet_rows(wb, required: Sequence[str], aliases: dict[str, str] | None) -> list[tuple[int, dict]]:
    ws = wb.worksheets[0] if wb.worksheets else None
    if ws is None:
        raise WorkbookError(_("工作簿中没有工作表"))
    it = ws.iter_rows(values_only=True)
    try:
        header = next(it)
    except StopIteration as exc:
        raise WorkbookError(_("工作表为空，缺少表头行")) from exc
    aliases = aliases or {}
    names = [aliases.get(str(h).strip(), str(h).strip()) if h is not None else "" for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise WorkbookError(_("缺少必需的列：%(cols)s") % {"cols": "、".join(missing)})
    rows = []
    for number, values in enumerate(it, start=2):
        if values is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row = {}
        for name, value in zip(names, values, strict=False):
            if name:
                row[name] = value.strip() if isinstance(value, str) else value
        rows.append((number, row))
    return rows
