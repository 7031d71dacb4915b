"""Articles the model cannot read: a normal 200 result with `assessed: false`, never a made-up score (issue 10)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

PORTUGUESE = {
    "id": "pt-1",
    "text": "A prefeitura aprovou nesta terça-feira um novo plano para ampliar o transporte público no centro da cidade.",
}
EMOJI = {"id": "emoji-1", "text": "😀🔥🙏"}
ENGLISH = {
    "id": "en-1",
    "title": "Council approves budget",
    "text": "The city council voted on Tuesday to approve the budget for next year, a spokesperson said. Officials told "
    "reporters that the plan would add money for road repairs.",
}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("which", ["client", "pool_client"])
def test_single_article_not_assessed_is_a_200_with_null_score(which: str, request: pytest.FixtureRequest) -> None:
    client: TestClient = request.getfixturevalue(which)
    response = client.post("/v1/score", json=PORTUGUESE)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["assessed"], body["reason"], body["score"], body["level"]) == (
        "pt-1",
        False,
        "unsupported_language",
        None,
        None,
    )
    assert body["language"]["detected"] == "pt" and body["language"]["confidence"] > 0.9
    assert "Portuguese (pt, " in body["reason_detail"] and body["signals"] == [] and body["genre"] is None


def test_assessed_result_carries_language_genre_and_warnings(client: TestClient) -> None:
    body = client.post("/v1/score", json=ENGLISH | {"language": "fr"}).json()
    assert body["assessed"] is True and body["reason"] is None and 0 <= body["score"] <= 1
    assert body["language"] == {"detected": "en", "confidence": body["language"]["confidence"], "declared": "fr"}
    assert body["genre"]["label"] in {"news", "opinion", "press_release", "satire"}
    assert "language_mismatch" in [w["code"] for w in body["warnings"]]


def test_batch_counts_not_assessed_apart_and_keeps_order(client: TestClient) -> None:
    items: list[Any] = [ENGLISH, PORTUGUESE, {"id": "bad", "text": " "}, EMOJI]
    body = client.post("/v1/score/batch", json=items).json()
    assert (body["count"], body["scored"], body["not_assessed"], body["rejected"]) == (4, 1, 2, 1)
    results = body["results"]
    assert [r.get("id") for r in results] == ["en-1", "pt-1", "bad", "emoji-1"]
    assert [r.get("reason") for r in results[1::2]] == ["unsupported_language", "no_readable_text"]


def test_ndjson_stream_holds_not_assessed_lines(client: TestClient) -> None:
    import json

    lines = "\n".join(json.dumps(a) for a in (ENGLISH, EMOJI)) + "\n"
    response = client.post("/v1/score/batch", content=lines, headers={"content-type": "application/x-ndjson"})
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert [(r["id"], r["assessed"]) for r in rows] == [("en-1", True), ("emoji-1", False)]


def test_metrics_count_not_assessed_genre_language_and_warnings(client: TestClient) -> None:
    before = {
        "pt": value("risk_articles_not_assessed_total", endpoint="single", reason="unsupported_language"),
        "emoji": value("risk_articles_not_assessed_total", endpoint="batch", reason="no_readable_text"),
        "lang_pt": value("risk_articles_language_total", language="pt"),
        "lang_und": value("risk_articles_language_total", language="und"),
        "scored": value("risk_articles_scored_total", endpoint="single", level="low")
        + value("risk_articles_scored_total", endpoint="single", level="medium")
        + value("risk_articles_scored_total", endpoint="single", level="high"),
        "genres": sum(
            value("risk_articles_genre_total", endpoint="single", genre=g) for g in ("news", "opinion", "press_release", "satire")
        ),
        "mismatch": value("risk_result_warnings_total", warning="language_mismatch"),
    }
    client.post("/v1/score", json=PORTUGUESE)
    client.post("/v1/score/batch", json=[EMOJI])
    client.post("/v1/score", json=ENGLISH | {"language": "fr"})
    assert value("risk_articles_not_assessed_total", endpoint="single", reason="unsupported_language") == before["pt"] + 1
    assert value("risk_articles_not_assessed_total", endpoint="batch", reason="no_readable_text") == before["emoji"] + 1
    assert value("risk_articles_language_total", language="pt") == before["lang_pt"] + 1
    assert value("risk_articles_language_total", language="und") == before["lang_und"] + 1
    scored = sum(value("risk_articles_scored_total", endpoint="single", level=lv) for lv in ("low", "medium", "high"))
    assert scored == before["scored"] + 1  # the Portuguese article is not counted as scored
    genres = sum(
        value("risk_articles_genre_total", endpoint="single", genre=g) for g in ("news", "opinion", "press_release", "satire")
    )
    assert genres == before["genres"] + 1
    assert value("risk_result_warnings_total", warning="language_mismatch") == before["mismatch"] + 1


def test_new_series_start_at_zero(client: TestClient) -> None:
    for reason in ("unsupported_language", "no_readable_text"):
        assert REGISTRY.get_sample_value("risk_articles_not_assessed_total", {"endpoint": "feed", "reason": reason}) is not None
    assert REGISTRY.get_sample_value("risk_articles_genre_total", {"endpoint": "feed", "genre": "satire"}) is not None
    assert REGISTRY.get_sample_value("risk_articles_language_total", {"language": "other"}) is not None
    assert REGISTRY.get_sample_value("risk_result_warnings_total", {"warning": "not_news"}) is not None


def test_openapi_documents_the_new_fields_and_the_not_assessed_example(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["version"].startswith("2.")
    schema = spec["components"]["schemas"]["RiskAssessment"]
    for field in ("assessed", "reason", "reason_detail", "language", "genre", "warnings"):
        assert field in schema["properties"], field
    assert {"type": "null"} in schema["properties"]["score"]["anyOf"]
    examples = spec["paths"]["/v1/score"]["post"]["responses"]["200"]["content"]["application/json"]["examples"]
    assert examples["not assessed"]["value"]["score"] is None
    assert "LanguageReading" in spec["components"]["schemas"] and "GenreReading" in spec["components"]["schemas"]
