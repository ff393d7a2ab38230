"""Scheme trees: validation (levels, weights, methods), and the Excel form of a scheme.

A tree is given as rows (dicts) with `code`, `parent` (the parent's code, "" for a top-level
indicator), `name`, `weight`, `source`, `method`, `params`. The rules:

* at most three levels; codes unique; a parent must exist;
* the weights of the children of each node (and of the top level) sum to exactly 100;
* a leaf has a source and a scoring method with valid parameters; a group has neither.

Errors name the row (Excel row number when imported), the column and the reason.
"""
from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from xiaoneng.lib.xlsx import WorkbookError, read_rows, write_workbook

from . import scoring
from .models import MAX_LEVELS, Method, Source

COLUMNS = ("编号", "上级编号", "指标名称", "权重", "数据来源", "计分方法", "计分参数")
KEYS = ("code", "parent", "name", "weight", "source", "method", "params")
ALIASES = {"Code": "编号", "Parent": "上级编号", "Name": "指标名称", "Weight": "权重", "Source": "数据来源",
           "Method": "计分方法", "Parameters": "计分参数"}
HUNDRED = Decimal(100)


def LIST_SEPARATOR() -> str:  # noqa: N802  (a translated constant)
    return _("、")


class SchemeError(ValueError):
    """A bad tree: `field` names the input (`weight`, `code`, …), `row` the row (1-based or Excel)."""

    def __init__(self, message: str, field: str = "", row: int | None = None):
        self.message, self.field, self.row = message, field, row
        super().__init__(message)


def _where(row) -> str:
    return _("第 %(n)s 行") % {"n": row} if row is not None else ""


def validate(rows: list[dict], numbers: list[int] | None = None) -> list[dict]:
    """Check and normalise the rows (weights as Decimal, params as dict); raise SchemeError on the first
    problem, in the order a person would fix them (row by row, then the sums)."""
    numbers = numbers or list(range(1, len(rows) + 1))
    out, seen = [], {}
    for n, raw in zip(numbers, rows, strict=True):
        where = _where(n)
        code = str(raw.get("code") or "").strip()
        if not code:
            raise SchemeError(_("%(w)s“编号”：请填写指标编号") % {"w": where}, "code", n)
        if code in seen:
            raise SchemeError(_("%(w)s“编号”：编号 %(c)s 与第 %(o)s 行重复") % {"w": where, "c": code, "o": seen[code]},
                              "code", n)
        seen[code] = n
        name = str(raw.get("name") or "").strip()
        if not name:
            raise SchemeError(_("%(w)s“指标名称”：请填写指标名称") % {"w": where}, "name", n)
        try:
            weight = Decimal(str(raw.get("weight")).strip())
            if not weight.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            raise SchemeError(_("%(w)s“权重”：“%(v)s”不是数字") % {"w": where, "v": raw.get("weight")}, "weight", n) from None
        if weight <= 0 or weight > HUNDRED:
            raise SchemeError(_("%(w)s“权重”：应大于 0 且不超过 100") % {"w": where}, "weight", n)
        if weight != weight.quantize(Decimal("0.01")):
            # Stored with two decimals: 33.333 would be kept as 33.33 and the saved tree sum to 99.99.
            raise SchemeError(_("%(w)s“权重”：最多两位小数") % {"w": where}, "weight", n)
        source = str(raw.get("source") or "").strip()
        method = str(raw.get("method") or "").strip()
        if source not in Source.values:
            raise SchemeError(_("%(w)s“数据来源”：无效的来源“%(v)s”，可选：%(ok)s") % {
                "w": where, "v": source, "ok": "、".join(v for v in Source.values if v)}, "source", n)
        if method not in Method.values:
            raise SchemeError(_("%(w)s“计分方法”：无效的方法“%(v)s”，可选：%(ok)s") % {
                "w": where, "v": method, "ok": "、".join(v for v in Method.values if v)}, "method", n)
        params = raw.get("params") or {}
        if isinstance(params, str):
            try:
                params = json.loads(params) if params.strip() else {}
            except ValueError:
                raise SchemeError(_("%(w)s“计分参数”：应为 JSON，如 {\"worst\": 80, \"best\": 100}") % {"w": where},
                                  "params", n) from None
        out.append({"code": code, "parent": str(raw.get("parent") or "").strip(), "name": name[:100],
                    "weight": weight, "source": source, "method": method, "params": params, "row": n})
    by_code = {r["code"]: r for r in out}
    children = defaultdict(list)
    for r in out:
        if r["parent"] and r["parent"] not in by_code:
            raise SchemeError(_("%(w)s“上级编号”：上级指标 %(p)s 不存在") % {"w": _where(r["row"]), "p": r["parent"]},
                              "parent", r["row"])
        children[r["parent"]].append(r)
    for r in out:
        depth, node = 1, r
        while node["parent"]:
            node, depth = by_code[node["parent"]], depth + 1
            if depth > MAX_LEVELS:
                raise SchemeError(_("%(w)s：指标最多三级（或上级关系成环）") % {"w": _where(r["row"])}, "parent", r["row"])
        r["level"] = depth
        leaf = not children.get(r["code"])
        if leaf:
            if not r["source"] or not r["method"]:
                raise SchemeError(_("%(w)s：末级指标须有数据来源和计分方法") % {"w": _where(r["row"])},
                                  "source" if not r["source"] else "method", r["row"])
            problem = scoring.check_params(r["method"], r["params"])
            if problem:
                raise SchemeError(_("%(w)s“计分参数”：%(p)s") % {"w": _where(r["row"]), "p": problem}, "params", r["row"])
        elif r["source"] or r["method"]:
            raise SchemeError(_("%(w)s：有下级的分组指标不填数据来源和计分方法") % {"w": _where(r["row"])}, "source",
                              r["row"])
    if not out:
        raise SchemeError(_("方案至少需要一个指标"), "code")
    for parent, kids in children.items():
        total = sum((k["weight"] for k in kids), Decimal(0))
        if total != HUNDRED:
            what = (_("一级指标") if not parent else
                    _("“%(c)s %(n)s”的下级指标") % {"c": parent, "n": by_code[parent]["name"]})
            raise SchemeError(_("权重：%(what)s权重合计为 %(t)s，应为 100（%(rows)s）") % {
                "what": what, "t": format(total.normalize(), "f"), "rows": LIST_SEPARATOR().join(
                    _("第 %(n)s 行") % {"n": k["row"]} for k in kids)}, "weight", kids[0]["row"])
    return out


def rows_of(scheme) -> list[dict]:
    """The scheme's tree as rows (parents before children)."""
    items = list(scheme.indicators.select_related("parent").order_by("code"))
    return [{"code": i.code, "parent": i.parent.code if i.parent else "", "name": i.name, "weight": i.weight,
             "source": i.source, "method": i.method, "params": i.params} for i in items]


def export_xlsx(scheme) -> bytes:
    return write_workbook(f"{scheme.year}", COLUMNS, [
        (r["code"], r["parent"], r["name"], float(r["weight"]), r["source"], r["method"],
         json.dumps(r["params"], ensure_ascii=False) if r["params"] else "") for r in rows_of(scheme)])


def read_xlsx(data: bytes) -> list[dict]:
    """Rows of an uploaded scheme, validated; WorkbookError / SchemeError name the row and column."""
    try:
        table = read_rows(data, COLUMNS[:4], aliases=ALIASES)
    except WorkbookError as exc:
        raise SchemeError(str(exc), "file") from exc
    rows = [{k: row.get(c) for k, c in zip(KEYS, COLUMNS, strict=True)} for _n, row in table]
    return validate(rows, [n for n, _row in table])
