"""POST /v1/feeds/score on the real app (TestClient): entries in order, per-entry errors, limits, XML attacks refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from misinfo_risk.ingest import feed_articles
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import parse_article
from misinfo_risk.service.app import create_app
from misinfo_risk.service.settings import Settings
from tests.batch.conftest import Entry, LoopbackServer, article, atom, entries, rss1, rss2
from tests.batch.test_feeds import BOMB, xxe

RSS = "application/rss+xml"


def make_client(artifact: Path, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {"artifact_path": artifact, "pool_workers": 0, "api_keys": ()} | overrides
    return TestClient(create_app(Settings(**values)))


@pytest.fixture(scope="module")
def client(tiny_artifact: Path) -> Iterator[TestClient]:
    with make_client(tiny_artifact, max_batch_items=20, max_batch_body_bytes=64 * 1024) as test_client:
        yield test_client


def post(client: TestClient, body: bytes, content_type: str = RSS) -> Any:
    return client.post("/v1/feeds/score", content=body, headers={"content-type": content_type})


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_entries_scored_in_feed_order_with_errors_in_place(client: TestClient, scorer: Scorer) -> None:
    feed = rss2([*entries(2), Entry("Title only", "", "https://news.example/empty", guid="empty-1"), *entries(1, start=2)])
    before_empty = sample("risk_articles_rejected_total", {"endpoint": "feed", "reason": "empty"})
    before_sizes = sample("risk_batch_size_articles_count", {"endpoint": "feed"})
    response = post(client, feed)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["model_version"], body["count"], body["scored"], body["rejected"]) == ("test-0", 4, 3, 1)
    results = body["results"]
    assert [r["id"] for r in results] == ["a0", "a1", "empty-1", "a2"]
    assert results[2]["index"] == 2 and results[2]["error"]["errors"][0] == {
        "field": "text", "reason": "empty", "message": "must contain non-whitespace characters"
    }  # fmt: skip
    expected = scorer.score(parse_article(article(0) | {"url": "https://news.example/0", "source": "Test Gazette"}))
    assert results[0]["score"] == pytest.approx(expected.score, rel=1e-12)
    assert [s["name"] for s in results[0]["signals"]] == [s.name for s in expected.signals]
    assert sample("risk_articles_rejected_total", {"endpoint": "feed", "reason": "empty"}) == before_empty + 1
    assert sample("risk_batch_size_articles_count", {"endpoint": "feed"}) == before_sizes + 1


def test_offsets_index_the_plain_text_feed_articles_returns(client: TestClient) -> None:
    """docs/service.md: a feed entry's evidence and sentence offsets index the plain text its HTML was reduced to."""
    html = "<p>Sources say the <b>minister</b> hid 10 million dollars!!</p><p>SHOCKING: insiders claim more.</p>"
    feed = rss2([Entry("Secret plan revealed", html, "https://news.example/x")])
    [result] = post(client, feed).json()["results"]
    [fields] = feed_articles(feed)
    spans = [e for s in result["signals"] for e in s["evidence"] if e["section"] == "text"]
    assert spans and all(fields["text"][e["start"] : e["end"]] == e["text"] for e in spans)
    text_sentences = [s for s in result["sentences"] if s["section"] == "text"]
    assert text_sentences and all(0 <= s["start"] < s["end"] <= len(fields["text"]) for s in text_sentences)


def test_the_base_rate_query_parameter(client: TestClient, scorer: Scorer) -> None:
    body = post_to(client, "/v1/feeds/score?base_rate=0.05", rss2(entries(1))).json()
    expected = scorer.score(
        parse_article(article(0) | {"url": "https://news.example/0", "source": "Test Gazette"}), base_rate=0.05
    )
    assert (body["results"][0]["score"], body["results"][0]["base_rate"]) == (pytest.approx(expected.score, rel=1e-12), 0.05)
    assert body["results"][0]["level"] == expected.level
    assert post_to(client, "/v1/feeds/score?base_rate=2", rss2(entries(1))).status_code == 422


def post_to(client: TestClient, path: str, body: bytes) -> Any:
    return client.post(path, content=body, headers={"content-type": RSS})


@pytest.mark.parametrize(
    ("render", "content_type"),
    [(atom, "application/atom+xml"), (rss1, "application/xml; charset=utf-8"), (rss2, "text/xml")],
    ids=["atom", "rss1", "text-xml"],
)
def test_atom_rss1_and_xml_content_types(client: TestClient, render: Any, content_type: str) -> None:
    levels = ("low", "medium", "high")
    before = {level: sample("risk_articles_scored_total", {"endpoint": "feed", "level": level}) for level in levels}
    response = post(client, render(entries(3)), content_type)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    ids = [f"https://news.example/{i}" for i in range(3)] if render is rss1 else ["a0", "a1", "a2"]  # RSS 1.0: rdf:about
    assert [r["id"] for r in results] == ids
    after = {level: sample("risk_articles_scored_total", {"endpoint": "feed", "level": level}) for level in levels}
    assert {level: after[level] - before[level] for level in levels} == {
        level: sum(r["level"] == level for r in results) for level in levels
    }


def test_an_empty_feed_has_no_results(client: TestClient) -> None:
    response = post(client, rss2([]))
    assert response.status_code == 200 and response.json()["results"] == []


def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:misinfo-risk:problem:{kind}" and body["instance"] == "/v1/feeds/score"
    return body


def test_xml_attacks_are_refused(client: TestClient, tmp_path: Path) -> None:
    bomb = problem(post(client, BOMB), 422, "invalid-request")
    assert "unsafe XML refused" in bomb["detail"]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN", encoding="utf-8")
    response = post(client, xxe(secret))
    assert "unsafe XML refused" in problem(response, 422, "invalid-request")["detail"]
    assert "TOP-SECRET-TOKEN" not in response.text


def test_a_feed_cut_off_gets_422_not_a_partial_200(client: TestClient) -> None:
    whole = rss2(entries(3))
    detail = problem(post(client, whole[: whole.rindex(b"<item>") + 20]), 422, "invalid-request")["detail"]
    assert "the document ends before the feed is closed" in detail and "after 3 entries" in detail


def test_a_url_in_the_body_is_not_fetched(client: TestClient, http_server: LoopbackServer) -> None:
    http_server.routes["/feed.xml"] = (200, {}, rss2(entries(1)))
    url = http_server.url("/feed.xml")
    assert "cannot be read: not an RSS or Atom feed" in problem(post(client, url.encode()), 422, "invalid-request")["detail"]
    assert http_server.hits == 0


def test_wrong_content_type_size_and_entry_limits(client: TestClient) -> None:
    unsupported = problem(post(client, rss2(entries(1)), "application/json"), 415, "unsupported-media-type")
    assert "application/rss+xml" in unsupported["detail"]
    assert "UTF-8" not in unsupported["detail"], "any charset is read: the XML declares its own encoding"
    latin1 = rss2(entries(1)).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert post(client, latin1, "text/xml; charset=iso-8859-1").status_code == 200
    problem(post(client, rss2(entries(1)) + b" " * 70_000), 413, "content-too-large")
    too_many = problem(post(client, rss2(entries(21))), 413, "too-many-items")
    assert "21 entries" in too_many["detail"]
    problem(post(client, b"<html><body>Not a feed</body>"), 422, "invalid-request")


def test_entries_scored_by_the_scoring_processes(tiny_artifact: Path) -> None:
    with make_client(tiny_artifact, pool_workers=2, chunk_size=2) as pool_client:
        response = post(pool_client, rss2(entries(5)))
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["results"]] == [f"a{i}" for i in range(5)]
