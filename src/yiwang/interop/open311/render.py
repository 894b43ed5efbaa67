"""One document, two formats, with the exact content types clients check.

XML has a declaration, no namespace, and one element per field in order; a list is a
wrapper element with one child per item (`<services><service>…`), as the spec's examples
and XML::Simple-style readers expect. Empty values are empty elements, booleans
`true`/`false`. JSON is the same data (numbers and booleans as JSON types)."""

import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from yiwang.interop.open311 import representation
from yiwang.interop.text import strip_invalid

XML = "text/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# List element → the element of each item.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return strip_invalid(str(value))


def _element(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _element(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _element(node, ITEMS[name], item)
    else:
        node.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """`data` is the root's content: a dict of fields, or the list of its items."""
    tree = ET.Element(root)
    if isinstance(data, list):
        for item in data:
            _element(tree, ITEMS[root], item)
    else:
        for key, item in data.items():
            _element(tree, key, item)
    return (DECLARATION + ET.tostring(tree, encoding="unicode")).encode()


def respond(fmt: str, root: str, data: Any, status: int = 200) -> HttpResponse:
    """`root` names the XML root; JSON is the bare document (a list for lists)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False).encode()
        return HttpResponse(body, status=status, content_type=JSON)
    return HttpResponse(to_xml(root, data), status=status, content_type=XML)


def error(fmt: str, status: int, descriptions: list[str], retry_after: int | None = None):
    response = respond(fmt, "errors", representation.errors(status, descriptions), status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
