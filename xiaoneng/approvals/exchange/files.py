"""Event files for `xiaoneng exchange import`: JSON Lines or CSV, split into stored batches.

* JSON Lines (`.jsonl`, `.ndjson`): one event object per line; blank lines are skipped;
  errors name the line number.
* CSV (`.csv`): a header row with the event's field names, one event per row; an empty
  cell is an absent field; `items` is a JSON array (`["a","b"]`) or items separated by
  `|`; `announced_days` and `days` are whole numbers. Errors name the row number (the
  header is row 1), as a spreadsheet shows it.

The file is split into batches of at most `exchange_batch_max_events` events; each
batch stores its part of the file as text (with the format and the number of its
first line/row, so `exchange reprocess` can parse it again) before it is processed.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _

from .pipeline import ParseProblem

INT_FIELDS = {"announced_days", "days"}
_INT = re.compile(r"^[+-]?\d{1,9}$")


class FileError(ValueError):
    pass


def detect_format(name: str, given: str | None = None) -> str:
    if given:
        return given
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".jsonlines")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    raise FileError(_("无法从文件名判断格式，请用 --format jsonl 或 --format csv"))


def decode(data: bytes, encoding: str = "utf-8") -> str:
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except LookupError:
        raise FileError(_("未知的字符编码：%(enc)s") % {"enc": encoding}) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileError(_("文件不是有效的 %(enc)s 编码：第 %(line)d 行（第 %(pos)d 字节）；如是 GBK 文件，请加 --encoding gb18030")
                        % {"enc": encoding.upper(), "line": line, "pos": exc.start + 1}) from None
    if "\x00" in text:
        raise FileError(_("文件含有 NUL 字符，不是文本文件"))
    return normalise_line_ends(text)


# --- lines ---------------------------------------------------------------------------------
def physical_lines(text: str) -> list[str]:
    """The file's lines, each with its end, split at "\n" only — as the csv module counts them. A
    cell or a JSON string may hold U+2028, U+0085 or a form feed, where `str.splitlines()` would cut."""
    return [line for line in re.split(r"(?<=\n)", text) if line]


def normalise_line_ends(text: str) -> str:
    """A file written with old Mac line ends ("\r" alone, no "\n" anywhere) as one with "\n"."""
    return text.replace("\r", "\n") if "\r" in text and "\n" not in text else text


# --- JSON Lines ----------------------------------------------------------------------------
def _reject_constant(value):
    raise ValueError(value)


def parse_jsonl(text: str, first_line: int = 1) -> list[tuple[int, object]]:
    items = []
    for n, line in enumerate(physical_lines(text), start=first_line):
        if not line.strip():
            continue
        try:
            items.append((n, json.loads(line, parse_constant=_reject_constant)))
        except (ValueError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            items.append((n, ParseProblem(_("第 %(n)d 行不是有效的 JSON：%(why)s") % {"n": n, "why": reason})))
    return items


def jsonl_batches(text: str, size: int) -> Iterator[tuple[str, list[tuple[int, object]], dict]]:
    lines = physical_lines(text)
    start, count = 0, 0
    for i, line in enumerate(lines):
        if line.strip():
            count += 1
        if count == size or i == len(lines) - 1:
            chunk = "".join(lines[start : i + 1])
            if chunk.strip():
                yield chunk, parse_jsonl(chunk, start + 1), {"format": "jsonl", "first_line": start + 1}
            start, count = i + 1, 0


# --- CSV -------------------------------------------------------------------------------------
def _cell(name: str, value: str):
    value = value.strip()
    if name == "items":
        if value.startswith("["):
            try:
                return json.loads(value)
            except (ValueError, RecursionError):  # nested too deep to parse: as text, which the schema refuses
                return value  # the schema says items must be an array
        return [part.strip() for part in value.split("|")]
    if name in INT_FIELDS and _INT.match(value):
        return int(value)
    return value


def _records(text: str) -> tuple[list[str], list[str], list[tuple[int, int, list[str]]]]:
    """(header, lines, [(first line index, end line index, cells)]) — each record with its physical lines."""
    lines = physical_lines(text)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise FileError(_("CSV 文件是空的")) from None
    except csv.Error as exc:
        raise FileError(_("CSV 表头无法读取：%(why)s") % {"why": _csv_reason(exc)}) from None
    header = [h.strip() for h in header]
    records, previous = [], reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise FileError(_("CSV 第 %(n)d 行之后无法读取：%(why)s") % {"n": previous, "why": _csv_reason(exc)}) from None
        records.append((previous, reader.line_num, cells))
        previous = reader.line_num
    return header, lines, records


def _csv_reason(exc: csv.Error) -> str:
    """The csv module's complaint in the reader's language (its own text, in English, kept after it)."""
    text = str(exc)
    if "field larger than field limit" in text:
        reason = _("某个单元格过长")
    elif "new-line character" in text or "unexpected end of data" in text or "EOF" in text:
        reason = _("引号不配对，或单元格中的换行符没有用引号括起来")
    else:
        reason = _("不是有效的 CSV")
    return f"{reason}（{text}）"


def parse_csv(text: str, first_row: int = 2) -> list[tuple[int, object]]:
    header, _lines, records = _records(text)
    items = []
    for row, (_a, _b, cells) in enumerate(records, start=first_row):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            items.append((row, ParseProblem(_("第 %(n)d 行有 %(got)d 列，表头有 %(want)d 列") % {
                "n": row, "got": len(cells), "want": len(header)})))
            continue
        items.append((row, {name: _cell(name, value) for name, value in zip(header, cells, strict=True)
                            if value.strip()}))
    return items


def csv_batches(text: str, size: int) -> Iterator[tuple[str, list[tuple[int, object]], dict]]:
    header, lines, records = _records(text)
    head_end = records[0][0] if records else len(lines)
    head = "".join(lines[:head_end])
    for k in range(0, len(records), size):
        part = records[k : k + size]
        chunk = head + "".join(lines[part[0][0] : part[-1][1]])
        yield chunk, parse_csv(chunk, k + 2), {"format": "csv", "first_row": k + 2}


def batches(text: str, fmt: str, size: int):
    return jsonl_batches(text, size) if fmt == "jsonl" else csv_batches(text, size)


def items_from_batch(batch) -> list[tuple[int, object]]:
    """Parse a stored file batch again (for `exchange reprocess`)."""
    info = batch.results or {}
    if info.get("format") == "csv":
        return parse_csv(batch.raw, int(info.get("first_row", 2)))
    return parse_jsonl(batch.raw, int(info.get("first_line", 1)))
