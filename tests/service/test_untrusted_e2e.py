"""Issue 12's defects, on a real `misinfo-risk serve` over real sockets: no client input gives a 500 or loses results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.service.conftest import article_dict
from tests.service.server import ServeProcess

pytestmark = pytest.mark.e2e
DEPTH = 600


@pytest.fixture(scope="module")
def server(tiny_artifact: Path) -> Iterator[ServeProcess]:
    proc = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "2"], workers=1)
    try:
        yield proc.wait_ready()
    finally:
        proc.stop()


def nested_article(i: int) -> str:
    """An article with a field the schema ignores, nested DEPTH levels deep (JSON text: json.dumps would recurse too)."""
    return json.dumps(article_dict(i))[:-1] + ', "extra": ' + "[" * DEPTH + "]" * DEPTH + "}"


def batch_body(n: int = 200, nested_at: int = 57) -> bytes:
    items = [nested_article(i) if i == nested_at else json.dumps(article_dict(i)) for i in range(n)]
    return ("[" + ",".join(items) + "]").encode()


def test_a_deeply_nested_item_in_a_streamed_batch_loses_no_result(server: ServeProcess) -> None:
    response = httpx2.post(
        f"{server.url}/v1/score/batch",
        content=batch_body(),
        headers={"content-type": "application/json", "accept": "application/x-ndjson"},
        timeout=120,
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [f"a-{i}" for i in range(200)]  # every item, in order
    assert all("error" not in line for line in lines), [line for line in lines if "error" in line]


def test_a_deeply_nested_item_in_a_json_batch_or_alone_gets_no_500(server: ServeProcess) -> None:
    batch = httpx2.post(
        f"{server.url}/v1/score/batch", content=batch_body(), headers={"content-type": "application/json"}, timeout=120
    )
    assert batch.status_code == 200, batch.text
    assert [r["id"] for r in batch.json()["results"]] == [f"a-{i}" for i in range(200)]
    single = httpx2.post(
        f"{server.url}/v1/score", content=nested_article(7), headers={"content-type": "application/json"}, timeout=60
    )
    assert single.status_code == 200 and single.json()["id"] == "a-7", single.text


def test_a_deeply_nested_line_in_an_ndjson_stream_loses_no_result(server: ServeProcess) -> None:
    lines = [nested_article(i) if i % 50 == 3 else json.dumps(article_dict(i)) for i in range(200)]
    response = httpx2.post(
        f"{server.url}/v1/score/batch",
        content=("\n".join(lines) + "\n").encode(),
        headers={"content-type": "application/x-ndjson"},
        timeout=120,
    )
    assert response.status_code == 200
    assert [json.loads(line)["id"] for line in response.text.splitlines()] == [f"a-{i}" for i in range(200)]
