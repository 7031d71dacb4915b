"""GET /v1/limits: the settings a client splits its work by, behind the API key like the rest of /v1."""

from __future__ import annotations

from pathlib import Path

from tests.service.conftest import API_KEY, make_client


def test_limits_are_the_settings_in_force(tiny_artifact: Path) -> None:
    with make_client(tiny_artifact, max_batch_items=250, max_stream_items=5_000, api_keys=API_KEY) as client:
        assert client.get("/v1/limits").status_code == 401
        response = client.get("/v1/limits", headers={"x-api-key": API_KEY})
        spec = client.get("/openapi.json").json()
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == "test-0"
    assert (body["max_batch_items"], body["max_stream_items"]) == (250, 5_000)
    assert body["max_body_bytes"] == 2 * 1024 * 1024 and body["max_article_chars"] == 200_000
    operation = spec["paths"]["/v1/limits"]["get"]
    assert operation["security"] and "Limits" in spec["components"]["schemas"]
