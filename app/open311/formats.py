"""GeoReport v2 documents as JSON or XML, with the spec's element names and nesting (open311.github.io
GeoReport v2: "services", "service_definition", "service_requests", "errors", "discovery").

JSON documents are top-level arrays where the spec says so (services, requests, POST answers, token
answers, errors); XML wraps the same items in the spec's root and item elements. Pure functions: no
database, no request.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from xml.etree import ElementTree as ET

from fastapi.responses import JSONResponse, Response

Format = Literal["json", "xml"]
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
# Elements whose children repeat one item element, by the spec's nesting.
ITEM_OF = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/FFFF): written as
# U+FFFD, so that no stored text or echoed input can make a document unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return "" if value is None else _NOT_XML.sub("\ufffd", str(value))


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


def render(
    fmt: Format,
    root: str,
    item: str | None,
    body: list[dict[str, Any]] | dict[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The document as ``application/json`` or ``text/xml`` (GeoReport v2's content types)."""
    if fmt == "xml":
        return Response(
            xml_document(root, item, body), status_code=status, media_type=XML_MEDIA_TYPE, headers=headers
        )
    return JSONResponse(_clean(body), status_code=status, headers=headers)


def _clean(value: Any) -> Any:
    # Lone surrogates cannot be encoded as UTF-8 JSON either (a stored one must not break every read).
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(value) else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def errors(fmt: Format, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """GeoReport v2's error list: ``[{"code": 404, "description": ...}]`` / ``<errors><error>``."""
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status, headers)


def format_of(path: str) -> Format:
    """The format a path asks for by its extension (``.xml``), JSON otherwise."""
    return "xml" if path.rstrip("/").lower().endswith(".xml") else "json"
