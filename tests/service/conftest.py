"""Service fixtures: apps on the tiny artifact, in-process (TestClient) and as real `misinfo-risk serve` processes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from misinfo_risk.service.app import create_app
from misinfo_risk.service.settings import Settings

API_KEY = "test-key-0123456789abcdef"


def make_settings(artifact: Path, **overrides: Any) -> Settings:
    """Settings for tests: the tiny artifact, no scoring pool, no API keys, unless overridden."""
    values: dict[str, Any] = {"artifact_path": artifact, "pool_workers": 0, "api_keys": ()} | overrides
    return Settings(**values)


def make_client(artifact: Path, **overrides: Any) -> TestClient:
    return TestClient(create_app(make_settings(artifact, **overrides)))


@pytest.fixture(scope="module")
def client(tiny_artifact: Path) -> Iterator[TestClient]:
    """In-process app, scoring in the web worker (no pool)."""
    with make_client(tiny_artifact) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def pool_client(tiny_artifact: Path) -> Iterator[TestClient]:
    """In-process app with two real scoring processes and small chunks."""
    with make_client(tiny_artifact, pool_workers=2, chunk_size=8) as test_client:
        yield test_client


def article_dict(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid, distinct article object for batches."""
    return {
        "id": f"a-{i}",
        "title": f"Report number {i}",
        "text": f"The council met on day {i} and voted 7-2 on Tuesday, officials said.",
    } | overrides


def asgi_request(
    test_client: TestClient,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]],
    chunks: Sequence[bytes],
    client: tuple[str, int] = ("127.0.0.1", 50000),
) -> tuple[int, dict[str, str], bytes, int]:
    """Call the app directly (inside the client's event loop), feeding the body in `chunks`.

    Returns (status, headers, body, number of body chunks the app asked for). Lets tests check
    what the app read before answering, which an HTTP client cannot see.
    """
    consumed = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal consumed
        if consumed < len(chunks):
            consumed += 1
            return {"type": "http.request", "body": chunks[consumed - 1], "more_body": consumed < len(chunks)}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": client,
        "server": ("127.0.0.1", 8000),
        "state": {},
        "app": test_client.app,
    }

    async def call() -> None:
        await test_client.app(scope, receive, send)  # type: ignore[arg-type]  # a plain dict scope is a valid ASGI scope

    portal = test_client.portal
    assert portal is not None, "use inside `with TestClient(...)`"
    portal.call(call)
    start = sent[0]
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], response_headers, body, consumed
