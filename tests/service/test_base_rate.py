"""A caller's base rate over HTTP: the RISK_BASE_RATE setting and the ?base_rate= query parameter."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from misinfo_risk.model.errors import BaseRateError
from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.model.types import parse_article
from misinfo_risk.service.__main__ import main as serve_main
from tests.model.test_base_rate import copy_with_prevalence
from tests.service.conftest import article_dict, make_client

ARTICLE = {"id": "a", "title": "SHOCKING: insiders say it WORKS", "text": "Sources say the cure was buried. Share this!!!"}


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


@pytest.fixture(scope="module")
def no_prevalence(tiny_artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_with_prevalence(tiny_artifact, tmp_path_factory.mktemp("card") / "artifact", None)


@pytest.fixture(scope="module")
def set_client(tiny_artifact: Path) -> Iterator[TestClient]:
    """A service whose setting says 5% of what it scores is misleading (two scoring processes: the frames carry it)."""
    with make_client(tiny_artifact, base_rate=0.05, pool_workers=2, chunk_size=2) as client:
        yield client


def test_the_query_parameter_re_expresses_the_score_and_keeps_the_level(client: TestClient, scorer: Scorer) -> None:
    assert scorer.card.prevalence is not None  # the tiny model's card records its training share
    plain = client.post("/v1/score", json=ARTICLE).json()
    body = client.post("/v1/score?base_rate=0.05", json=ARTICLE).json()
    assert body == scorer.score(parse_article(ARTICLE), base_rate=0.05).model_dump(mode="json")
    assert plain["base_rate"] == scorer.card.prevalence and body["base_rate"] == 0.05
    assert body["score_calibrated"] == plain["score"] == plain["score_calibrated"]
    assert logit(body["score"]) == pytest.approx(logit(plain["score"]) + logit(0.05) - logit(scorer.card.prevalence), abs=1e-9)
    assert body["level"] == plain["level"]


def test_batches_and_streams_take_the_query_parameter(client: TestClient, scorer: Scorer) -> None:
    items = [article_dict(i) for i in range(3)]
    expected = [scorer.score(parse_article(i), base_rate=0.2).model_dump(mode="json") for i in items]
    assert client.post("/v1/score/batch?base_rate=0.2", json=items).json()["results"] == expected
    ndjson = "".join(json.dumps(i) + "\n" for i in items)
    streamed = client.post(
        "/v1/score/batch?base_rate=0.2", content=ndjson, headers={"content-type": "application/x-ndjson"}
    ).text.splitlines()
    assert [json.loads(line) for line in streamed] == expected


def test_the_setting_is_the_default_and_the_query_overrides_it(set_client: TestClient, scorer: Scorer) -> None:
    article = parse_article(ARTICLE)
    assert set_client.post("/v1/score", json=ARTICLE).json()["base_rate"] == 0.05
    assert set_client.post("/v1/score?base_rate=0.3", json=ARTICLE).json()["base_rate"] == 0.3
    items = [article_dict(i) for i in range(5)]  # chunks of 2 on the pool: every frame carries the base rate
    results = set_client.post("/v1/score/batch", json=items).json()["results"]
    assert results == [scorer.score(parse_article(i), base_rate=0.05).model_dump(mode="json") for i in items]
    assert set_client.post("/v1/score", json=ARTICLE).json()["score"] == pytest.approx(
        scorer.score(article, base_rate=0.05).score, abs=1e-15
    )


@pytest.mark.parametrize("bad", ["0", "1", "-0.1", "1.5", "nan", "inf", "five", ""])
def test_base_rates_outside_zero_one_are_a_422(client: TestClient, bad: str) -> None:
    for path in ("/v1/score", "/v1/score/batch"):
        body = ARTICLE if path == "/v1/score" else [ARTICLE]
        response = client.post(f"{path}?base_rate={bad}", json=body)
        assert response.status_code == 422, (path, bad)
        problem = response.json()
        assert problem["type"] == "urn:misinfo-risk:problem:invalid-request"
        assert problem["errors"][0]["field"] == "base_rate" and "between 0 and 1" in problem["detail"]


def test_a_base_rate_given_twice_is_a_422_not_the_last_one(client: TestClient) -> None:
    feed = b'<rss version="2.0"><channel><title>G</title><item><title>T</title><description>Text</description></item></channel></rss>'
    for path, body in (("/v1/score", ARTICLE), ("/v1/score/batch", [ARTICLE]), ("/v1/feeds/score", feed)):
        query = f"{path}?base_rate=0.05&base_rate=0.5"
        response = (
            client.post(query, content=feed, headers={"content-type": "application/rss+xml"})
            if isinstance(body, bytes)
            else client.post(query, json=body)
        )
        assert response.status_code == 422, (path, response.text)
        problem = response.json()
        assert problem["errors"][0]["field"] == "base_rate" and "given 2 times ('0.05', '0.5')" in problem["detail"]


def test_a_model_without_prevalence_answers_409_and_refuses_the_setting(no_prevalence: Path) -> None:
    with make_client(no_prevalence) as client:
        assert client.post("/v1/score", json=ARTICLE).json()["base_rate"] is None
        for path, body in (("/v1/score", ARTICLE), ("/v1/score/batch", [ARTICLE])):
            response = client.post(f"{path}?base_rate=0.05", json=body)
            assert response.status_code == 409
            problem = response.json()
            assert problem["type"] == "urn:misinfo-risk:problem:base-rate-unavailable" and "prevalence" in problem["detail"]
    with pytest.raises(BaseRateError), make_client(no_prevalence, base_rate=0.05):
        pass  # start-up refuses a setting the model cannot honour


def test_serve_exits_2_for_a_base_rate_the_model_cannot_honour(
    no_prevalence: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RISK_BASE_RATE", "RISK_ARTIFACT_PATH"):  # the command exports its options: restore them afterwards
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    assert serve_main(["--artifact", str(no_prevalence), "--base-rate", "0.05"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("misinfo-risk serve: invalid settings: base rate 0.05:") and "prevalence" in err
    assert err.count("\n") == 1
    assert load_scorer(no_prevalence).card.prevalence is None


def test_openapi_documents_the_parameter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/v1/score", "/v1/score/batch", "/v1/feeds/score"):
        operation = spec["paths"][path]["post"]
        (parameter,) = operation["parameters"]
        assert parameter["name"] == "base_rate" and parameter["in"] == "query"
        assert parameter["schema"] == {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
        assert "409" in operation["responses"]
    properties = spec["components"]["schemas"]["RiskAssessment"]["properties"]
    assert {"score_calibrated", "base_rate", "sentences"} <= properties.keys()
