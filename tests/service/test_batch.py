"""POST /v1/score/batch: JSON arrays and NDJSON streams, in order, with per-item errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import parse_article
from misinfo_risk.service.errors import TYPE_PREFIX
from tests.service.conftest import article_dict, make_client

NDJSON = {"content-type": "application/x-ndjson"}
INVALID = {7: {"text": ""}, 123: {"title": "no text"}, 500: 42, 998: {"text": 5, "id": "bad-998"}}


def thousand_with_invalid() -> list[Any]:
    return [INVALID.get(i, article_dict(i)) for i in range(1000)]


def check_results(results: list[dict[str, Any]], items: list[Any]) -> None:
    """One result per item, in order: an assessment echoing the id, or an error object at its index."""
    assert len(results) == len(items)
    for i, (item, result) in enumerate(zip(items, results, strict=True)):
        if i in INVALID:
            assert result["index"] == i
            assert result["id"] == (item.get("id") if isinstance(item, dict) else None)
            assert result["error"]["type"] == TYPE_PREFIX + "invalid-article"
            assert result["error"]["errors"][0]["field"] in ("text", "article")
        else:
            assert result["id"] == f"a-{i}"
            assert "error" not in result


@pytest.mark.parametrize("which", ["client", "pool_client"])
def test_thousand_articles_with_invalid_ones_come_back_complete_and_in_order(which: str, request: pytest.FixtureRequest) -> None:
    test_client: TestClient = request.getfixturevalue(which)
    items = thousand_with_invalid()
    response = test_client.post("/v1/score/batch", json=items)
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["scored"], body["rejected"], body["model_version"]) == (1000, 996, 4, "test-0")
    check_results(body["results"], items)


def test_batch_results_equal_single_results(pool_client: TestClient, scorer: Scorer) -> None:
    items = [article_dict(i, text=f"Insiders say item {i} is a SHOCKING cover-up!!! Share this now.") for i in range(20)]
    results = pool_client.post("/v1/score/batch", json=items).json()["results"]
    expected = [scorer.score(parse_article(item)).model_dump(mode="json") for item in items]
    # a vectorised batch may differ from one-by-one scoring in the last bits (1.1e-16 seen): docs/runtime.md
    assert_same_results(results, expected)


SCORE_TOLERANCE = 1e-9
"""Batch and single scoring of the same article agree within this (relative and absolute), as docs/runtime.md states."""


def assert_same_results(got: object, expected: object, where: str = "results") -> None:
    """Equal JSON values, floats within SCORE_TOLERANCE."""
    if isinstance(expected, float) and isinstance(got, int | float):
        assert got == pytest.approx(expected, rel=SCORE_TOLERANCE, abs=SCORE_TOLERANCE), where
    elif isinstance(expected, dict) and isinstance(got, dict):
        assert got.keys() == expected.keys(), where
        for key in expected:
            assert_same_results(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list) and isinstance(got, list):
        assert len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same_results(g, e, f"{where}[{i}]")
    else:
        assert got == expected, where


def test_empty_batch(client: TestClient) -> None:
    assert client.post("/v1/score/batch", json=[]).json() == {
        "model_version": "test-0",
        "count": 0,
        "scored": 0,
        "not_assessed": 0,
        "rejected": 0,
        "results": [],
    }


@pytest.mark.parametrize("which", ["client", "pool_client"])
def test_ndjson_request_streams_ndjson_results(which: str, request: pytest.FixtureRequest) -> None:
    test_client: TestClient = request.getfixturevalue(which)
    items = thousand_with_invalid()[:300]
    body = "".join(json.dumps(item) + "\n" for item in items).encode()
    response = test_client.post("/v1/score/batch", content=body, headers=NDJSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    check_results([json.loads(line) for line in response.text.splitlines()], items)


def test_accept_ndjson_streams_the_results_of_an_array(pool_client: TestClient) -> None:
    items = thousand_with_invalid()
    response = pool_client.post("/v1/score/batch", json=items, headers={"accept": "application/x-ndjson"})
    assert response.headers["content-type"] == "application/x-ndjson"
    check_results([json.loads(line) for line in response.text.splitlines()], items)


def test_ndjson_lines_blank_crlf_malformed_and_unterminated(client: TestClient) -> None:
    body = b'{"id": "a", "text": "First report."}\r\n\n   \n{not json}\n[1, 2]\n{"id": "d", "text": "Last report, no newline."}'
    lines = [json.loads(x) for x in client.post("/v1/score/batch", content=body, headers=NDJSON).text.splitlines()]
    assert [line.get("id") for line in lines] == ["a", None, None, "d"]
    assert lines[1]["index"] == 1 and lines[1]["error"]["errors"][0]["field"] == "article"
    assert "not valid JSON" in lines[1]["error"]["detail"]
    assert "line 1" not in lines[1]["error"]["detail"], "the position is `index` (the 4th line of the body is item 1)"
    assert lines[2]["index"] == 2 and lines[2]["error"]["errors"][0]["reason"] == "type"
    assert lines[2]["error"]["detail"].endswith("not array"), lines[2]["error"]["detail"]


def test_ndjson_line_that_is_not_utf8_names_the_byte(client: TestClient) -> None:
    body = b'{"id": "a", "text": "First report."}\n{"id": "b", "text": "caf\xe9"}\n{"id": "c", "text": "Third report."}\n'
    lines = [json.loads(x) for x in client.post("/v1/score/batch", content=body, headers=NDJSON).text.splitlines()]
    assert [line.get("id") for line in lines] == ["a", None, "c"]
    detail = lines[1]["error"]["detail"]
    assert lines[1]["index"] == 1 and "not UTF-8: byte 0xe9 at byte 25 " in detail, detail
    assert "surrogates" not in detail


@pytest.fixture(scope="module")
def small_stream(tiny_artifact: Path) -> Iterator[TestClient]:
    with make_client(tiny_artifact, max_body_bytes=1_024, max_stream_items=50, stream_memory_bytes=0, chunk_size=4) as c:
        yield c


def test_overlong_ndjson_line_is_an_item_error_and_the_rest_is_scored(small_stream: TestClient) -> None:
    body = b'{"text": "short one"}\n{"text": "' + b"x" * 5_000 + b'"}\n{"text": "short two"}\n'
    lines = [json.loads(x) for x in small_stream.post("/v1/score/batch", content=body, headers=NDJSON).text.splitlines()]
    assert len(lines) == 3
    assert lines[1]["index"] == 1
    assert lines[1]["error"]["errors"][0] == {
        "field": "article",
        "reason": "too_long",
        "message": lines[1]["error"]["errors"][0]["message"],
    }
    assert "score" in lines[0] and "score" in lines[2]


def test_stream_over_the_item_limit_ends_with_an_error_line(small_stream: TestClient) -> None:
    body = "".join(json.dumps(article_dict(i)) + "\n" for i in range(60)).encode()
    lines = [json.loads(x) for x in small_stream.post("/v1/score/batch", content=body, headers=NDJSON).text.splitlines()]
    assert len(lines) == 51
    assert [line["id"] for line in lines[:50]] == [f"a-{i}" for i in range(50)]
    assert lines[50]["index"] == 50
    assert lines[50]["error"]["type"] == TYPE_PREFIX + "too-many-items"


def test_results_spilled_to_disk_come_back_in_order(small_stream: TestClient) -> None:
    """stream_memory_bytes=0: every result passes through the temporary file."""
    items = [article_dict(i) for i in range(40)]
    body = "".join(json.dumps(item) + "\n" for item in items).encode()
    lines = [json.loads(x) for x in small_stream.post("/v1/score/batch", content=body, headers=NDJSON).text.splitlines()]
    assert [line["id"] for line in lines] == [f"a-{i}" for i in range(40)]


def test_stream_does_not_wait_for_the_client_to_read(small_stream: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """A client that reads nothing until it has sent everything: sending a response chunk blocks until
    the whole body was read, which deadlocks unless the server keeps reading and parks results (on disk)."""
    caplog.set_level(logging.INFO, logger="misinfo_risk.streaming")
    items = [article_dict(i) for i in range(48)]
    chunks = [(json.dumps(item) + "\n").encode() for item in items]  # one line per receive: many chunks
    app, consumed = small_stream.app, 0
    all_read = asyncio.Event()
    received: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        consumed += 1
        if consumed == len(chunks):
            all_read.set()
        return {"type": "http.request", "body": chunks[consumed - 1], "more_body": consumed < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await all_read.wait()  # the client is still uploading: it does not read yet
            received.append(message.get("body", b""))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/score/batch",
        "raw_path": b"/v1/score/batch",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/x-ndjson")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }

    async def run() -> None:
        await asyncio.wait_for(app(scope, receive, send), timeout=60)  # type: ignore[arg-type]  # a dict is an ASGI scope

    portal = small_stream.portal
    assert portal is not None
    portal.call(run)
    lines = [json.loads(line) for line in b"".join(received).splitlines()]
    assert [line["id"] for line in lines] == [f"a-{i}" for i in range(48)]
    (finished,) = [r for r in caplog.records if r.getMessage() == "stream finished"]
    assert finished.spilled_bytes > 0  # type: ignore[attr-defined]  # an `extra=` field


def test_a_scoring_process_killed_mid_stream_ends_it_with_an_error_line_and_the_pool_is_rebuilt(tiny_artifact: Path) -> None:
    """A failure no item explains: the stream ends with an explicit error line, never a clean end; the next request is served."""
    items = [article_dict(i) for i in range(40)]
    with make_client(tiny_artifact, pool_workers=1, chunk_size=4) as client:
        state = client.app.state.service  # type: ignore[attr-defined]  # the FastAPI app under test
        (victim,) = state.pool.pids
        os.kill(victim, signal.SIGSTOP)  # holds the first chunks until it is killed
        killer = threading.Timer(1.0, os.kill, (victim, signal.SIGKILL))
        killer.start()
        response = client.post("/v1/score/batch", json=items, headers={"accept": "application/x-ndjson"})
        killer.join()
        lines = [json.loads(line) for line in response.text.splitlines()]
        assert response.status_code == 200 and len(lines) < len(items)
        assert lines[-1]["error"]["type"] == TYPE_PREFIX + "scoring-unavailable" and lines[-1]["id"] is None
        again = client.post("/v1/score/batch", json=items)
        assert again.status_code == 200 and again.json()["scored"] == len(items)
        assert victim not in state.pool.pids
