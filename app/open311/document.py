"""What the OpenAPI document says of GeoReport v2 beyond the routes' code: the query parameters, described;
the fields of a filing; and examples of the documents, answers of the demo service (``grid-inspector serve
--demo``) in JSON and in the XML the same route writes (app.open311.formats). The routes name them in
their signatures and decorators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query

from app.open311.formats import xml_document

CAP = 1000  # the spec's default cap on a requests list
Fmt = Annotated[Literal["json", "xml"], Path(description="the answer's format: `json` or `xml`")]
Jurisdiction = Annotated[
    str | None, Query(description="GeoReport v2 `jurisdiction_id`; only `GRID_JURISDICTION_ID` is served")
]
ApiKeyQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="one of our API keys: adds the requests filed with it (required when "
        "`GRID_OPEN311_PUBLIC_READS=none`)",
    ),
]
StartDate = Annotated[
    str | None,
    Query(max_length=40, description="RFC 3339 with an offset or `Z`: changed or filed from then on"),
]
EndDate = Annotated[
    str | None, Query(max_length=40, description="RFC 3339 with an offset or `Z`: up to then")
]
PageNumber = Annotated[int, Query(ge=1, le=100_000, description="1-based page number (extension)")]
PageSize = Annotated[int, Query(ge=1, le=CAP, description="items per page, at most 1,000 (extension)")]

DISCOVERY: dict[str, Any] = {
    "changeset": "2026-11-30T00:00:00Z",
    "contact": "Grid Inspector command centre",
    "key_service": "API keys are issued by the command centre's administrators",
    "endpoints": [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "https://grid.example.gov.cn/open311/v2/",
            "changeset": "2026-11-30T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }
    ],
}
SERVICES: list[dict[str, Any]] = [
    {
        "service_code": "06010",
        "service_name": "暴露垃圾",
        "description": "暴露垃圾 / Exposed garbage",
        "metadata": True,
        "type": "realtime",
        "keywords": "垃圾, 暴露垃圾, 乱倒垃圾",
        "group": "市容环境",
    },
    {
        "service_code": "09009",
        "service_name": "机动车乱停放",
        "description": "机动车乱停放 / Illegal parking",
        "metadata": True,
        "type": "realtime",
        "keywords": "乱停车, 违停, 乱停放",
        "group": "街面秩序",
    },
]
DEFINITION: dict[str, Any] = {
    "service_code": "06010",
    "attributes": [
        {
            "variable": True,
            "code": "amount",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "数量 How much",
            "values": [
                {"key": "small", "name": "少量 a bag or less"},
                {"key": "medium", "name": "一车以内 up to a cartload"},
                {"key": "large", "name": "大量 more than a cartload"},
            ],
        }
    ],
}
REQUESTS: list[dict[str, Any]] = [
    {
        "service_request_id": "2",
        "status": "open",
        "status_notes": None,
        "service_name": "暴露垃圾",
        "service_code": "06010",
        "description": "路边垃圾堆放",
        "agency_responsible": "崆峒区城市管理综合执法局",
        "service_notice": None,
        "requested_datetime": "2026-12-07T12:26:02.241091Z",
        "updated_datetime": "2026-12-07T12:26:02.241091Z",
        "expected_datetime": "2026-12-08T07:00:00Z",
        "address": "中山街12号",
        "address_id": None,
        "zipcode": None,
        "lat": 35.5428,
        "long": 106.6652,
        "media_url": None,
        "extended_attributes": {"status": "dispatched", "tracking_code": "20261207-CLV8ZH"},
    }
]
FILED: list[dict[str, Any]] = [
    {"service_request_id": "2", "token": "20261207-CLV8ZH", "service_notice": None, "account_id": None}
]
TOKEN: list[dict[str, Any]] = [{"service_request_id": "2", "token": "20261207-CLV8ZH"}]
UPDATES: list[dict[str, Any]] = [
    {
        "update_id": "11",
        "service_request_id": "2",
        "status": "open",
        "updated_datetime": "2026-12-07T12:26:02.241091Z",
        "description": "已派遣 dispatched",
        "media_url": None,
        "extended_attributes": {"action": "dispatch", "status": "dispatched"},
    }
]


def answer(root: str, item: str | None, body: list[dict[str, Any]] | dict[str, Any]) -> dict[int, Any]:
    """The 200 examples of a route answering ``body`` as ``<root>`` of ``<item>`` elements in XML."""
    return {200: {"application/json": body, "text/xml": xml_document(root, item, body).decode()}}


# The fields of a filing (form, multipart or JSON), each described.
FIELDS: dict[str, Any] = {
    "api_key": {"type": "string", "description": "one of our API keys (required)"},
    "jurisdiction_id": {"type": "string", "description": "only `GRID_JURISDICTION_ID` is served"},
    "service_code": {
        "type": "string",
        "example": "06010",
        "description": "an active service code (required)",
    },
    "lat": {"type": "number", "example": 35.5428, "description": "latitude, WGS-84 (required)"},
    "long": {"type": "number", "example": 106.6652, "description": "longitude, WGS-84 (required)"},
    "address_string": {
        "type": "string",
        "description": "the address as people say it (at most 255 characters)",
    },
    "address_id": {"type": "string", "description": "ignored: there is no address register"},
    "email": {"type": "string", "description": "the reporter's contact, kept for staff only"},
    "device_id": {"type": "string", "description": "the reporting device, kept for staff only"},
    "account_id": {"type": "string", "description": "the reporter's account in the client, echoed back"},
    "first_name": {"type": "string", "description": "the reporter's contact, kept for staff only"},
    "last_name": {"type": "string", "description": "the reporter's contact, kept for staff only"},
    "phone": {"type": "string", "description": "the reporter's contact, kept for staff only"},
    "description": {
        "type": "string",
        "maxLength": 4000,
        "description": "what is wrong, in the reporter's words",
    },
    "media_url": {
        "type": "string",
        "format": "uri",
        "description": "a link to a photo (http(s), at most 2048 characters): stored, never fetched",
    },
}
FILING_EXAMPLE: dict[str, Any] = {
    "api_key": "gik_f5e1d47a_zoPj1XscSkSpFJUy22ChGHo4CS2o-CbLicaKrhYLvSI",
    "service_code": "06010",
    "lat": 35.5428,
    "long": 106.6652,
    "address_string": "中山街12号",
    "description": "路边垃圾堆放",
    "attribute[amount]": "medium",
}
FORM = {
    "type": "object",
    "required": ["service_code"],
    "properties": FIELDS,
    "additionalProperties": {
        "type": "string",
        "description": "attribute[code] (or attribute[code][]) answers "
        "to the service definition's attributes",
    },
}
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": FORM, "example": FILING_EXAMPLE},
            "multipart/form-data": {
                "schema": {
                    **FORM,
                    "properties": {
                        **FIELDS,
                        "media": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "photos of the problem, checked like a native report's",
                        },
                    },
                },
                "example": FILING_EXAMPLE,
            },
            "application/json": {"schema": FORM, "example": FILING_EXAMPLE},
        },
    }
}
