"""GeoReport v2 documents as JSON or XML, with the spec's element names and nesting (open311.github.io
GeoReport v2: "services", "service_definition", "service_requests", "errors", "discovery").

JSON documents are top-level arrays where the spec says so (services, requests, POST answers, token
answers, errors); XML wraps the same items in the spec's root and item elements. Pure functions: no
database, no request.
"""

from __future__ import annotations

from typing import Any, Literal
from xml.etree import ElementTree as ET

from fastapi.responses import JSONResponse, Response

Format = Literal["json", "xml"]
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
# Elements whose children repeat one item element, by the spec's nesting.
ITEM_OF = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return "" if value is None else str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _append(element, key, inner)
    elif isinstance(value, list) and name in ITEM_OF:
        for item in value:
            _append(element, ITEM_OF[name], item)
    elif isinstance(value, list):  # keywords: the spec's XML writes them as one comma-separated text
        element.text = ", ".join(_text(v) for v in value)
    else:
        element.text = _text(value)


def xml_document(root: str, item: str | None, body: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    """``<root><item>..</item>..</root>`` for a list, ``<root>..</root>`` for one object."""
    top = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _append(top, item or "item", entry)
    else:
        for key, value in body.items():
            _append(top, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")


def render(fmt: Format, root: str, item: str | None, body: list[dict[str, Any]] | dict[str, Any],
           status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The document as ``application/json`` or ``text/xml`` (GeoReport v2's content types)."""
    if fmt == "xml":
        return Response(xml_document(root, item, body), status_code=status, media_type=XML_MEDIA_TYPE,
                        headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def errors(fmt: Format, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """GeoReport v2's error list: ``[{"code": 404, "description": ...}]`` / ``<errors><error>``."""
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status, headers)


def format_of(path: str) -> Format:
    """The format a path asks for by its extension (``.xml``), JSON otherwise."""
    return "xml" if path.rstrip("/").lower().endswith(".xml") else "json"
