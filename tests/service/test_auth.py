"""API keys: off by default; when set, /v1 needs a Bearer or X-API-Key key (401 + WWW-Authenticate), health stays open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from misinfo_risk.service.auth import ApiKeys
from misinfo_risk.service.errors import TYPE_PREFIX
from misinfo_risk.service.settings import Settings
from tests.service.conftest import API_KEY, make_client

OTHER_KEY = "second-key-abcdefghijklmnop"


@pytest.fixture(scope="module")
def keyed(tiny_artifact: Path) -> Iterator[TestClient]:
    with make_client(tiny_artifact, api_keys=f"{API_KEY},{OTHER_KEY}") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/score"), ("POST", "/v1/score/batch"), ("GET", "/v1/model")],
    ids=["score", "batch", "model"],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong-key-0123456789abc"}, {"x-api-key": API_KEY[:-1]}, {"authorization": f"Basic {API_KEY}"}],
    ids=["none", "wrong-bearer", "truncated-header", "basic-scheme"],
)
def test_missing_or_wrong_key_is_401(keyed: TestClient, method: str, path: str, headers: dict[str, str]) -> None:
    response = keyed.request(method, path, json={"text": "A report."}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="misinfo-risk"'
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TYPE_PREFIX + "unauthorized"


@pytest.mark.parametrize(
    "headers",
    [{"authorization": f"Bearer {API_KEY}"}, {"authorization": f"bearer {OTHER_KEY}"}, {"x-api-key": OTHER_KEY}],
    ids=["bearer", "lowercase-scheme-second-key", "x-api-key"],
)
def test_valid_key_is_accepted(keyed: TestClient, headers: dict[str, str]) -> None:
    assert keyed.post("/v1/score", json={"text": "A report."}, headers=headers).status_code == 200
    assert keyed.get("/v1/model", headers=headers).status_code == 200


def test_key_is_checked_before_the_body(keyed: TestClient) -> None:
    response = keyed.post("/v1/score", content=b"not json", headers={"content-type": "text/plain"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
def test_operational_endpoints_stay_open(keyed: TestClient, path: str) -> None:
    assert keyed.get(path).status_code == 200


def test_no_keys_means_no_authentication(client: TestClient) -> None:
    assert client.post("/v1/score", json={"text": "A report."}).status_code == 200


def test_keys_compare_whole_values() -> None:
    keys = ApiKeys((API_KEY, OTHER_KEY))
    assert keys.accepts(API_KEY) and keys.accepts(OTHER_KEY)
    assert (
        not keys.accepts(API_KEY + "x") and not keys.accepts(API_KEY.upper()) and not keys.accepts("") and not keys.accepts(None)
    )
    assert not ApiKeys(()).enabled


def test_short_keys_are_refused_at_start_up() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(api_keys="short")  # type: ignore[arg-type]  # the comma-separated form, as from RISK_API_KEYS


def test_keys_come_from_a_comma_separated_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISK_API_KEYS", f" {API_KEY} ,{OTHER_KEY},")
    keys = Settings().api_keys
    assert [k.get_secret_value() for k in keys] == [API_KEY, OTHER_KEY]
    assert API_KEY not in repr(Settings())
