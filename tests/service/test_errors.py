"""Every error path: RFC 9457 problem+json with a stable type, fields named, never a 500 from client input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misinfo_risk.service import routes
from misinfo_risk.service.errors import TYPE_PREFIX
from tests.service.conftest import asgi_request, make_client

PROBLEM = "application/problem+json"


def post_json(test_client: TestClient, path: str, value: Any) -> Any:
    """POST any JSON value (httpx sends no body at all for `json=None`)."""
    return test_client.post(path, content=json.dumps(value).encode(), headers={"content-type": "application/json"})


def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    """Check the common problem shape and return the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == TYPE_PREFIX + kind
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture(scope="module")
def small(tiny_artifact: Path) -> Iterator[TestClient]:
    """Small limits, to test them cheaply."""
    with make_client(
        tiny_artifact, max_body_bytes=2_048, max_batch_body_bytes=4_096, max_batch_items=5, max_article_chars=300
    ) as c:
        yield c


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ({"title": "No text"}, "text", "missing"),
        ({"text": ""}, "text", "empty"),
        ({"text": "  \n\t "}, "text", "empty"),
        ({"text": 42}, "text", "type"),
        ({"text": ["a"]}, "text", "type"),
        ({"text": "ok", "title": 7}, "title", "type"),
        ({"text": "ok", "published_at": "yesterday-ish"}, "published_at", "type"),
        ({"text": "x" * 301}, "text", "too_long"),
    ],
    ids=["missing", "empty", "blank", "number", "list", "title-type", "bad-date", "too-long"],
)
def test_invalid_article_is_422_naming_the_field(small: TestClient, payload: dict[str, Any], field: str, reason: str) -> None:
    body = problem(small.post("/v1/score", json=payload), 422, "invalid-article")
    assert body["errors"] == [{"field": field, "reason": reason, "message": body["errors"][0]["message"]}]
    assert body["detail"].startswith(f"{field}: ")
    assert body["instance"] == "/v1/score"


@pytest.mark.parametrize(
    "payload", [b'{"text": "unterminated', b"", b"\xff\xfe{}", b"{'single': 1}"], ids=["truncated", "empty", "not-utf8", "quotes"]
)
def test_malformed_json_is_422_naming_the_body(client: TestClient, payload: bytes) -> None:
    body = problem(client.post("/v1/score", content=payload, headers={"content-type": "application/json"}), 422, "malformed-json")
    assert body["errors"][0]["field"] == "body"


def test_body_that_is_not_utf8_is_422_pointing_at_the_bad_byte(client: TestClient) -> None:
    """orjson calls any non-UTF-8 byte "surrogates not allowed" at char 0; the detail names the byte and where it is."""
    payload = '{"text": "The café reopened on Tuesday."}'.encode("latin-1")  # é is byte 18, 0xe9
    for path in ("/v1/score", "/v1/score/batch"):
        sent = b"[" + payload + b"]" if path.endswith("batch") else payload
        body = problem(client.post(path, content=sent, headers={"content-type": "application/json"}), 422, "malformed-json")
        at = 19 if path.endswith("batch") else 18
        assert f"not UTF-8: byte 0xe9 at byte {at} " in body["detail"], body["detail"]
        assert "surrogates" not in body["detail"] and "char 0" not in body["detail"]
        assert body["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    ("payload", "kind"),
    [([{"text": "a"}], "array"), ("text", "string"), (3, "number"), (None, "null"), (True, "boolean")],
    ids=["array", "string", "number", "null", "boolean"],
)
def test_body_that_is_not_an_object_is_422(client: TestClient, payload: Any, kind: str) -> None:
    body = problem(post_json(client, "/v1/score", payload), 422, "invalid-article")
    assert body["errors"][0]["field"] == "body"
    assert body["detail"].endswith(f"not {kind}"), "JSON's name for what was sent, not Python's (list, NoneType)"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", "application/x-ndjson"],
    ids=["none", "text", "form", "latin-1", "ndjson-on-single"],
)
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post("/v1/score", content=b'{"text": "hello"}', headers=headers)
    body = problem(response, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]
    assert response.headers["accept-post"] == "application/json"


def test_batch_lists_both_accepted_content_types(client: TestClient) -> None:
    response = client.post("/v1/score/batch", content=b"[]", headers={"content-type": "text/csv"})
    problem(response, 415, "unsupported-media-type")
    assert response.headers["accept-post"] == "application/json, application/x-ndjson"


def test_oversized_body_is_refused_before_it_is_read(small: TestClient) -> None:
    """A Content-Length over the limit is answered 413 without reading a single body chunk."""
    headers = [("content-type", "application/json"), ("content-length", "10000000")]
    status, response_headers, body, consumed = asgi_request(small, "POST", "/v1/score", headers, [b"{" * 65_536] * 150)
    assert (status, consumed) == (413, 0)
    assert response_headers["content-type"] == PROBLEM
    assert response_headers["connection"] == "close"
    assert json.loads(body)["type"] == TYPE_PREFIX + "content-too-large"


def test_chunked_body_is_read_only_until_it_passes_the_limit(small: TestClient) -> None:
    chunks = [b" " * 1_000] * 50  # 50 kB without a Content-Length; the limit is 2,048 bytes
    status, _, _, consumed = asgi_request(small, "POST", "/v1/score", [("content-type", "application/json")], chunks)
    assert status == 413
    assert consumed == 3


def test_oversized_batch_body_is_413(small: TestClient) -> None:
    batch = [{"text": "y" * 200}] * 30  # > 4,096 bytes
    problem(small.post("/v1/score/batch", json=batch), 413, "content-too-large")


def test_too_many_batch_items_is_413(small: TestClient) -> None:
    body = problem(small.post("/v1/score/batch", json=[{"text": "a"}] * 6), 413, "too-many-items")
    assert "limit is 5" in body["detail"]


@pytest.mark.parametrize("payload", [{"text": "a"}, "x", 1, None], ids=["object", "string", "number", "null"])
def test_batch_that_is_not_an_array_is_422(client: TestClient, payload: Any) -> None:
    body = problem(post_json(client, "/v1/score/batch", payload), 422, "invalid-batch")
    assert body["errors"][0]["field"] == "body"
    assert not any(f"not {name}." in body["detail"] for name in ("dict", "str", "int", "NoneType")), body["detail"]


def test_unknown_path_and_wrong_method_are_problems(client: TestClient) -> None:
    problem(client.get("/v2/nothing"), 404, "not-found")
    response = client.get("/v1/score")
    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


def test_unexpected_exception_is_a_logged_500_problem(tiny_artifact: Path, caplog: pytest.LogCaptureFixture) -> None:
    with make_client(tiny_artifact) as test_client:

        async def broken() -> None:
            raise RuntimeError("a bug")

        test_client.app.add_api_route("/broken", broken)  # type: ignore[attr-defined]  # the FastAPI app under test
        body = problem(test_client.get("/broken"), 500, "internal-error")
    assert "a bug" not in json.dumps(body)
    assert any(r.name == "misinfo_risk.errors" and r.exc_info for r in caplog.records)


# Any JSON value, and arbitrary bytes: the service answers 200, 413, 415 or 422, never 500.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["text", "title", "id", "url", "x"]), children, max_size=5)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_no_json_value_causes_a_server_error(small: TestClient, value: Any) -> None:
    for path in ("/v1/score", "/v1/score/batch"):
        response = post_json(small, path, value)
        assert response.status_code in (200, 413, 422), response.text
        if response.status_code != 200:
            assert response.headers["content-type"] == PROBLEM


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "application/x-ndjson", "text/plain", ""]),
)
def test_no_bytes_cause_a_server_error(small: TestClient, payload: bytes, content_type: str) -> None:
    for path in ("/v1/score", "/v1/score/batch"):
        response = small.post(path, content=payload, headers={"content-type": content_type})
        assert response.status_code in (200, 413, 415, 422), response.text


def test_no_route_declares_parameters_for_fastapi_to_validate() -> None:
    """Handlers read their bodies and `base_rate` themselves; a validated parameter would answer FastAPI's own
    422 shape (RequestValidationError has no problem+json handler)."""
    for route in (*routes.router.routes, *routes.operations.routes):
        assert isinstance(route, APIRoute)
        d = route.dependant
        declared = [*d.query_params, *d.path_params, *d.header_params, *d.cookie_params, *d.body_params, *d.dependencies]
        assert not declared, route.path
