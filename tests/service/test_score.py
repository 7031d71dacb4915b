"""POST /v1/score: one article in, the assessment out (in-process app on the tiny artifact)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import parse_article
from misinfo_risk.service.app import create_app
from misinfo_risk.service.settings import Settings
from tests.service.conftest import asgi_request

SENSATIONAL = {
    "id": "story-1",
    "title": "SHOCKING: insiders say the cure WORKS",
    "text": "Sources say the miracle cure was buried by officials. Share this before it gets deleted!!! Experts claim it works.",
    "source": "example.net",
    "language": "en",
}


@pytest.mark.parametrize("which", ["client", "pool_client"])
def test_score_returns_the_scorers_assessment(which: str, request: pytest.FixtureRequest, scorer: Scorer) -> None:
    test_client: TestClient = request.getfixturevalue(which)
    response = test_client.post("/v1/score", json=SENSATIONAL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    expected = scorer.score(parse_article(SENSATIONAL)).model_dump(mode="json")
    assert body == expected
    assert body["id"] == "story-1"
    assert body["model_version"] == "test-0"


def test_evidence_spans_index_the_text_as_sent(client: TestClient) -> None:
    body = client.post("/v1/score", json=SENSATIONAL).json()
    assert body["signals"], "the sensational example fires signals"
    for signal in body["signals"]:
        assert {"name", "heuristic", "description", "count", "contribution", "evidence"} <= signal.keys()
        for ev in signal["evidence"]:
            section = SENSATIONAL["text"] if ev["section"] == "text" else SENSATIONAL["title"]
            assert section[ev["start"] : ev["end"]] == ev["text"]


def test_sentence_spans_index_the_text_as_sent_and_are_documented(client: TestClient) -> None:
    body = client.post("/v1/score", json=SENSATIONAL).json()
    assert {s["section"] for s in body["sentences"]} == {"title", "text"}
    for sentence in body["sentences"]:
        assert set(sentence) == {"section", "start", "end", "contribution"}
        source = SENSATIONAL["text"] if sentence["section"] == "text" else SENSATIONAL["title"]
        assert source[sentence["start"] : sentence["end"]].strip() == source[sentence["start"] : sentence["end"]] != ""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "SentenceContribution" in schemas and "sentences" in schemas["RiskAssessment"]["properties"]
    example = spec["paths"]["/v1/score"]["post"]["responses"]["200"]["content"]["application/json"]["examples"]
    assert example["assessed"]["value"]["sentences"][0]["section"] == "title"


def test_unknown_fields_are_ignored(client: TestClient) -> None:
    plain = client.post("/v1/score", json={"text": "The council voted on Tuesday."}).json()
    extra = client.post("/v1/score", json={"text": "The council voted on Tuesday.", "author": "x", "tags": [1, 2]}).json()
    assert extra == plain


def test_only_text_is_required(client: TestClient) -> None:
    response = client.post("/v1/score", json={"text": "Officials confirmed the figures on Monday."})
    assert response.status_code == 200
    assert response.json()["id"] is None
    assert 0.0 <= response.json()["score"] <= 1.0
    assert response.json()["level"] in ("low", "medium", "high")


def test_content_type_with_utf8_charset_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/v1/score",
        content='{"text": "Caf\u00e9 owners met the mayor."}'.encode(),
        headers={"content-type": "application/json; charset=UTF-8"},
    )
    assert response.status_code == 200


def test_long_article_is_scored(tiny_artifact: Path) -> None:
    """Texts past the inline limit are scored off the event loop, with the same result shape."""
    text = "The council met again and officials said the vote was close. " * 500  # ~31,000 characters
    with TestClient(create_app(Settings(artifact_path=tiny_artifact, pool_workers=0))) as test_client:
        response = test_client.post("/v1/score", json={"text": text})
    assert response.status_code == 200
    assert response.json()["model_version"] == "test-0"


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    sent = client.post("/v1/score", json={"text": "A plain report."}, headers={"x-request-id": "req-42.a"})
    assert sent.headers["x-request-id"] == "req-42.a"
    generated = client.post("/v1/score", json={"text": "A plain report."})
    assert len(generated.headers["x-request-id"]) == 32
    unsafe = client.post("/v1/score", json={"text": "A plain report."}, headers={"x-request-id": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    assert client.get("/healthz").headers["x-request-id"]


def test_single_articles_are_scored_in_the_web_worker_whatever_the_clients(pool_client: TestClient) -> None:
    """No scheduler: a single article never goes to the pool, however many clients are active."""
    state = pool_client.app.state.service  # type: ignore[attr-defined]  # the FastAPI app under test
    assert state.pool is not None
    sizes: list[int] = []
    original = state.pool.submit

    def counting_submit(task: object, items: list[object], *rest: object, **kwargs: object) -> object:
        sizes.append(len(items))
        return original(task, items, *rest, **kwargs)

    body = [json.dumps({"text": "The council voted on Tuesday."}).encode()]
    headers = [("content-type", "application/json")]
    state.pool.submit = counting_submit
    try:
        for n in range(6):
            client = ("10.0.0.1", 1) if n % 2 else ("10.0.0.2", 2)
            assert asgi_request(pool_client, "POST", "/v1/score", headers, body, client=client)[0] == 200
        assert sizes == []
        assert pool_client.post("/v1/score/batch", json=[{"text": "The council voted."}] * 3).status_code == 200
        assert sum(sizes) == 3
    finally:
        del state.pool.submit
