"""GeoReport v2 bodies in JSON and XML, and its error format.

The views build plain Python values (dicts, lists, strings, numbers, booleans, None);
this module writes them out. XML follows the spec's examples: a root element per
response (<services>, <service_definition>, <service_requests>, <discovery>,
<errors>), a list becomes a wrapper element holding one element per item (<services>
→ <service>, <attributes> → <attribute>, <values> → <value>, <endpoints> →
<endpoint>, <formats> → <format>), booleans are `true`/`false`, None is an empty
element. Characters XML 1.0 cannot carry (control characters) are dropped from XML
only; JSON keeps the text as it is.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# What each list's items are called in XML.
ITEM_TAGS = {
    "services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
    "formats": "format", "attributes": "attribute", "values": "value",
}
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, (list, tuple)):
        tag = ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, tag), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _json_default(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=_json_default).encode("utf-8")


def render(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    """`value` as JSON, or as XML under the element `root`; an unknown format is JSON."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        fmt, body = "json", to_json(value)
    response = HttpResponse(body, status=status, content_type=FORMATS[fmt])
    response["Cache-Control"] = "no-store"
    return response


def error(fmt: str, status: int, description: str, code: int | None = None) -> HttpResponse:
    """The spec's error format: [{"code": 400, "description": "…"}] / <errors><error>…."""
    return render(fmt, "errors", [{"code": code or status, "description": str(description)}], status=status)
