"""Structured access logs: one JSON object per request, never the article text."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from fastapi.testclient import TestClient

from misinfo_risk.service.logs import ACCESS_LOGGER, JsonFormatter, log_config

SECRET = "Zanzibar-unique-article-words-7731"


def test_access_log_line_per_request_without_article_text(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    response = client.post(
        "/v1/score", json={"text": f"{SECRET} said the council.", "title": SECRET}, headers={"x-request-id": "log-1"}
    )
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert SECRET not in line
    entry = json.loads(line)
    assert entry["msg"] == "request"
    assert {k: entry[k] for k in ("request_id", "method", "route", "path", "status")} == {
        "request_id": "log-1",
        "method": "POST",
        "route": "/v1/score",
        "path": "/v1/score",
        "status": 200,
    }
    assert entry["request_bytes"] > len(SECRET) and entry["response_bytes"] > 0 and entry["duration_ms"] > 0
    assert entry["level"] == "info" and entry["ts"].endswith("Z") and isinstance(entry["pid"], int)


def test_errors_are_logged_as_json_with_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("here",), exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "failed here" and "ValueError: boom" in entry["exc"]


def test_log_config_sends_everything_through_the_json_formatter() -> None:
    config = log_config("warning")
    assert config["formatters"]["json"]["()"] == "misinfo_risk.service.logs.JsonFormatter"
    assert config["loggers"]["uvicorn"]["level"] == "WARNING"
    assert config["loggers"][ACCESS_LOGGER]["handlers"] == ["stdout"]
    assert config["disable_existing_loggers"] is False  # (the e2e tests run a server with it)
