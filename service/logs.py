"""Structured logs: one JSON object per line, for uvicorn's own logs and the access log.

The access log (logger `misinfo_risk.access`, stdout) has one line per request and never any article text,
query string or header other than the user agent; docs/service.md ("Logs and request ids") shows a line.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import orjson

ACCESS_LOGGER = "misinfo_risk.access"

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format records as single-line JSON objects (fields from `extra=` included)."""

    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        out: dict[str, Any] = {"ts": ts, "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        out |= {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}
        out.setdefault("pid", record.process or os.getpid())
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict for uvicorn (`log_config=`): JSON lines everywhere."""
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "misinfo_risk.service.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
            "misinfo_risk": {"handlers": ["stderr"], "level": upper, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
