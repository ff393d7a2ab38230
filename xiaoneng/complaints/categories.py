"""Complaint categories as reference data: read from JSON, checked whole, upserted by code.

The packaged file (``data/categories.json``) is what the demo seed and a fresh install
load; a province edits its own copy and loads it with ``xiaoneng complaints categories
load FILE``. The file is a JSON array of objects with the fields of `FIELDS` (``code``
and ``name`` required). Why these decisions:

* A bad file changes nothing: every entry is checked before anything is written, and
  every problem is reported with the entry (number and code) and the field, so one run
  shows all that needs fixing.
* Unknown fields are errors, so a typo ("nmae") cannot silently leave a value unset.
* Loading upserts by ``code`` and never deletes or deactivates a category the file does
  not mention: complaints point at categories (PROTECT), and a category is retired by
  setting ``"is_active": false`` in the file.
* ``attributes`` are Open311 GeoReport v2 attribute objects, checked by the same
  function the admin uses (`open311.services.attribute_errors`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Category
from .open311.services import CODE_RE, attribute_errors

DATA_FILE = Path(__file__).parent / "data" / "categories.json"
# field: (required, kind, max length)
FIELDS: dict[str, tuple[bool, str, int]] = {
    "code": (True, "code", 40),
    "name": (True, "text", 100),
    "name_en": (False, "text", 100),
    "group": (False, "text", 60),
    "description": (False, "text", 500),
    "keywords": (False, "keywords", 200),
    "order": (False, "order", 32767),
    "attributes": (False, "attributes", 0),
    "is_active": (False, "bool", 0),
}
DEFAULTS = {"name_en": "", "group": "", "description": "", "keywords": "", "order": 0, "attributes": [],
            "is_active": True}


class CategoryFileError(ValueError):
    """The file cannot be loaded; `errors` lists every problem, each naming entry and field."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return _("投诉类别：新增 %(c)d 个，更新 %(u)d 个，未变 %(n)d 个") % {
            "c": len(self.created), "u": len(self.updated), "n": len(self.unchanged)}


# --- reading ---------------------------------------------------------------------------
def parse(raw: bytes | str, source: str = "") -> list[dict]:
    """Decode (UTF-8 only), parse and check a categories file; returns clean entries."""
    where = f"{source}: " if source else ""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CategoryFileError([where + _("文件不是 UTF-8 编码（第 %(pos)d 字节无法解码），请另存为 UTF-8 后重试")
                                     % {"pos": exc.start + 1}]) from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CategoryFileError([where + _("JSON 格式错误：第 %(line)d 行第 %(col)d 列：%(msg)s")
                                 % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}]) from exc
    if not isinstance(data, list):
        raise CategoryFileError([where + _("文件内容必须是 JSON 数组（[{\"code\": …, \"name\": …}, …]）")])
    errors: list[str] = []
    entries, seen = [], {}
    for n, raw_entry in enumerate(data, start=1):
        entry, problems = _check_entry(raw_entry)
        label = _entry_label(n, raw_entry)
        errors.extend(f"{where}{label}：{p}" for p in problems)
        if entry is None:
            continue
        if entry["code"] in seen:
            errors.append(where + _("%(label)s：字段 code：编码 %(code)s 与第 %(other)d 项重复")
                          % {"label": label, "code": entry["code"], "other": seen[entry["code"]]})
            continue
        seen[entry["code"]] = n
        entries.append(entry)
    if errors:
        raise CategoryFileError(errors)
    return entries


def _entry_label(n: int, raw) -> str:
    code = raw.get("code") if isinstance(raw, dict) else None
    if isinstance(code, str) and code.strip():
        return _("第 %(n)d 项（%(code)s）") % {"n": n, "code": code.strip()[:40]}
    return _("第 %(n)d 项") % {"n": n}


def _check_entry(raw) -> tuple[dict | None, list[str]]:
    """One entry, normalised, and what is wrong with it (each problem names its field)."""
    if not isinstance(raw, dict):
        return None, [_("必须是 JSON 对象")]
    problems = [_("未知字段 %(name)s（可用字段：%(known)s）") % {"name": name, "known": ", ".join(FIELDS)}
                for name in raw if name not in FIELDS]
    entry = dict(DEFAULTS)
    for name, (required, kind, limit) in FIELDS.items():
        if name not in raw or raw[name] is None or raw[name] == "":
            if required:
                problems.append(_("缺少必填字段 %(name)s") % {"name": name})
            continue
        value, problem = _check_value(name, kind, limit, raw[name])
        if problem:
            problems.append(_("字段 %(name)s：%(problem)s") % {"name": name, "problem": problem})
        else:
            entry[name] = value
    return (None if problems else entry), problems


def _check_value(name: str, kind: str, limit: int, value):
    """(normalised value, None) or (None, the problem)."""
    if kind in ("text", "code"):
        if not isinstance(value, str):
            return None, _("必须是字符串")
        value = value.strip()
        if len(value) > limit:
            return None, _("最多 %(n)d 个字符") % {"n": limit}
        if kind == "code" and not CODE_RE.match(value):
            return None, _("只能由字母、数字、下划线和连字符组成")
        return value, None
    if kind == "keywords":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ",".join(v.strip() for v in value if v.strip())
        if not isinstance(value, str):
            return None, _("必须是逗号分隔的字符串或字符串数组")
        value = ",".join(v.strip() for v in value.replace("，", ",").split(",") if v.strip())
        if len(value) > limit:
            return None, _("最多 %(n)d 个字符") % {"n": limit}
        return value, None
    if kind == "order":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
            return None, _("必须是 0 到 %(n)d 之间的整数") % {"n": limit}
        return value, None
    if kind == "bool":
        if not isinstance(value, bool):
            return None, _("必须是 true 或 false")
        return value, None
    errors = attribute_errors(value)  # attributes
    if errors:
        return None, "；".join(errors)
    return value, None


# --- writing ---------------------------------------------------------------------------
@transaction.atomic
def upsert(entries: list[dict]) -> LoadResult:
    """Create or update each entry by code (checked entries from `parse`)."""
    result = LoadResult()
    existing = {c.code: c for c in Category.objects.filter(code__in=[e["code"] for e in entries])}
    for entry in entries:
        category = existing.get(entry["code"])
        if category is None:
            Category.objects.create(**entry)
            result.created.append(entry["code"])
            continue
        changed = [name for name, value in entry.items() if getattr(category, name) != value]
        if not changed:
            result.unchanged.append(entry["code"])
            continue
        for name in changed:
            setattr(category, name, entry[name])
        category.save(update_fields=changed)
        result.updated.append(entry["code"])
    return result


def load(path: Path | str | None = None) -> LoadResult:
    """Check the whole file, then upsert (nothing is written if any entry is bad)."""
    path = Path(path) if path else DATA_FILE
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CategoryFileError([_("无法读取文件 %(path)s：%(error)s") % {"path": path, "error": exc.strerror or exc}]) from exc
    return upsert(parse(raw, str(path)))


def export() -> list[dict]:
    """Every category, in the file format (loading the result changes nothing)."""
    return [{name: getattr(c, name) for name in FIELDS} for c in Category.objects.order_by("order", "code")]
