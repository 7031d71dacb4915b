"""Health, readiness, the model card and the OpenAPI docs."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from misinfo_risk.model.artifact import load_card
from misinfo_risk.service.app import create_app
from misinfo_risk.service.errors import TYPE_PREFIX
from misinfo_risk.service.schemas import EXAMPLE_ARTICLE
from tests.service.conftest import make_settings


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_reports_the_loaded_model(client: TestClient, pool_client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready" and body["model_version"] == "test-0" and body["pool_processes"] == 0
    assert body["startup_seconds"] > 0
    assert pool_client.get("/readyz").json()["pool_processes"] == 2


def test_probes_answer_head_as_well_as_get(client: TestClient, tiny_artifact: Path) -> None:
    """Uptime monitors and load balancers often probe with HEAD: the same status as GET, never a 405."""
    for path in ("/healthz", "/readyz"):
        response = client.head(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.content == b""
    not_started = TestClient(create_app(make_settings(tiny_artifact)))
    assert not_started.head("/readyz").status_code == 503 and not_started.head("/healthz").status_code == 200
    assert set(client.get("/openapi.json").json()["paths"]["/healthz"]) == {"get"}


def test_not_ready_before_start_up(tiny_artifact: Path) -> None:
    """Without the lifespan (no `with`), the model is not loaded: readiness and scoring say 503."""
    test_client = TestClient(create_app(make_settings(tiny_artifact)))
    for response in (test_client.get("/readyz"), test_client.post("/v1/score", json={"text": "x"})):
        assert response.status_code == 503
        assert response.json()["type"] == TYPE_PREFIX + "not-ready"
    assert test_client.get("/healthz").status_code == 200


def test_model_card(client: TestClient, tiny_artifact: Path) -> None:
    card = client.get("/v1/model").json()
    assert card == json.loads(load_card(tiny_artifact).model_dump_json())
    assert {"version", "thresholds", "training_data_sha256", "evaluation"} <= card.keys()


def test_openapi_documents_the_api_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/score", "/v1/score/batch", "/v1/model", "/healthz", "/readyz", "/metrics"} <= spec["paths"].keys()
    score = spec["paths"]["/v1/score"]["post"]
    body = score["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Article"}
    assert body["examples"]["sensational"]["value"]["text"]
    examples = score["responses"]["200"]["content"]["application/json"]["examples"]
    scored = client.post("/v1/score", json=EXAMPLE_ARTICLE).json()
    assert examples["assessed"]["value"] == scored  # the loaded model's own result: the docs cannot drift
    assert examples["not assessed"]["value"]["level"] is None and examples["not assessed"]["value"]["assessed"] is False
    assert "application/problem+json" in score["responses"]["422"]["content"]
    assert score["security"] == [{"BearerKey": []}, {"HeaderKey": []}]
    batch = spec["paths"]["/v1/score/batch"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-ndjson"} <= batch.keys()
    schemas = spec["components"]["schemas"]
    assert {"Article", "RiskAssessment", "ProblemDetails", "BatchResult", "ModelCard"} <= schemas.keys()
    assert schemas["Article"]["required"] == ["text"]
    assert "/healthz" not in json.dumps(spec["paths"]["/healthz"].get("get", {}).get("security", []))


def test_docs_page_renders(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text and "/openapi.json" in response.text
