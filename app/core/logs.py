"""Logs as JSON lines, each carrying the request id of app.core.http, for ``grid-inspector serve``."""

from __future__ import annotations

import json
import logging
from typing import Any

from app.core.http import request_id_var


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> dict[str, Any]:
    """A logging config (for uvicorn's ``log_config``): JSON lines on stderr for the app and uvicorn's
    own messages; uvicorn's access log is off because :class:`RequestContext` writes a better one."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            "alembic": {"level": "WARNING"},
        },  # readiness probes read the revision often
    }
