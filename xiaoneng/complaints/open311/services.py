"""Complaint categories as GeoReport v2 services and their definitions (attributes).

`Category.attributes` holds the spec's attribute objects as JSON. They are typed by
administrators, so everything read from them is normalised here (unknown datatypes
become "string", missing keys get defaults) and `attribute_errors` lets the admin
refuse a malformed list before it is saved.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext as _

from ..models import Category

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def attributes(category: Category) -> list[dict]:
    """The category's attributes in the spec's shape, ordered by `order`."""
    found = []
    for position, raw in enumerate(category.attributes if isinstance(category.attributes, list) else []):
        if not isinstance(raw, dict) or not CODE_RE.match(str(raw.get("code", ""))):
            continue
        datatype = raw.get("datatype") if raw.get("datatype") in DATATYPES else "string"
        item = {
            "variable": raw.get("variable", True) is not False,
            "code": str(raw["code"]),
            "datatype": datatype,
            "required": raw.get("required") is True,
            "datatype_description": str(raw.get("datatype_description") or ""),
            "order": _int(raw.get("order"), position + 1),
            "description": str(raw.get("description") or ""),
        }
        if datatype in LISTS:
            item["values"] = [{"key": str(v["key"]), "name": str(v.get("name") or v["key"])}
                              for v in raw.get("values") or [] if isinstance(v, dict) and "key" in v]
        found.append(item)
    return sorted(found, key=lambda a: a["order"])


def attribute_errors(value) -> list[str]:
    """What is wrong with an attributes list an administrator typed (empty when fine)."""
    if not isinstance(value, list):
        return [_("附加字段必须是 JSON 数组")]
    errors, seen = [], set()
    for n, raw in enumerate(value, start=1):
        if not isinstance(raw, dict):
            errors.append(_("第 %(n)d 项必须是 JSON 对象") % {"n": n})
            continue
        code = str(raw.get("code", ""))
        if not CODE_RE.match(code):
            errors.append(_("第 %(n)d 项的 code 只能由字母、数字、下划线和连字符组成（1-40 个字符）") % {"n": n})
        elif code in seen:
            errors.append(_("第 %(n)d 项的 code %(code)s 重复") % {"n": n, "code": code})
        seen.add(code)
        if raw.get("datatype") not in DATATYPES:
            errors.append(_("第 %(n)d 项的 datatype 必须是 %(types)s 之一") % {"n": n, "types": ", ".join(DATATYPES)})
        elif raw["datatype"] in LISTS:
            values = raw.get("values")
            if not isinstance(values, list) or not values or not all(
                    isinstance(v, dict) and str(v.get("key", "")).strip() for v in values):
                errors.append(_("第 %(n)d 项是列表类型，values 必须是非空的 [{\"key\": …, \"name\": …}] 数组") % {"n": n})
        if not str(raw.get("description", "")).strip():
            errors.append(_("第 %(n)d 项缺少 description（向群众提出的问题）") % {"n": n})
    return errors


def service_name(category: Category) -> str:
    """The Chinese name; the English one when the client asked for English and there is one."""
    return category.label


def service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": service_name(category),
        "description": category.description,
        "metadata": any(a["variable"] for a in attributes(category)),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


def definition(category: Category) -> dict:
    return {"service_code": category.code, "attributes": attributes(category)}


def active():
    return Category.objects.filter(is_active=True).order_by("order", "code")
