"""Answering with a typed model without validating it twice.

FastAPI validates an endpoint's return value against its ``response_model`` before serialising it; for a
model the endpoint built itself that is a second pass over every field. Routes keep ``response_model`` for
the OpenAPI document and return :func:`model_response`, serialised once by pydantic's own encoder.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel


def model_response(
    model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``model`` as ``application/json`` (UTF-8, times in RFC 3339 as pydantic writes them)."""
    return Response(
        model.model_dump_json().encode(),
        status_code=status_code,
        media_type="application/json",
        headers=dict(headers or {}),
    )
