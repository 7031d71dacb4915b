"""RFC 9457 problem details (`application/problem+json`): the only place that knows status codes.

Raise a `Problem` anywhere in a request and the installed handler renders it:

    >>> raise content_too_large(2_097_152)                                          # doctest: +SKIP
    HTTP/1.1 413  content-type: application/problem+json
    {"type": "urn:misinfo-risk:problem:content-too-large", "title": "Content too large", "status": 413, ...}

The members and every type are listed in docs/service.md ("Errors"). Batch items that fail get the same
object under `error` (see `item_error`).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from misinfo_risk.runtime import Rejected

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:misinfo-risk:problem:"

TITLES: dict[str, str] = {
    "invalid-article": "Invalid article",
    "malformed-json": "Malformed JSON",
    "invalid-batch": "Invalid batch",
    "invalid-request": "Invalid request",
    "too-many-items": "Too many items",
    "base-rate-unavailable": "Base rate unavailable",
    "content-too-large": "Content too large",
    "unsupported-media-type": "Unsupported media type",
    "unauthorized": "Unauthorized",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "not-ready": "Service not ready",
    "request-timeout": "Request timeout",
    "scoring-unavailable": "Scoring unavailable",
    "internal-error": "Internal server error",
}


@dataclass(frozen=True)
class FieldError:
    """One offending field: `field` as sent (e.g. "text"), a machine `reason`, a human `message`."""

    field: str
    reason: str
    message: str


@dataclass
class Problem(Exception):
    """An HTTP error rendered as problem+json. `kind` is a key of TITLES."""

    status: int
    kind: str
    detail: str
    errors: Sequence[FieldError] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in TITLES:
            raise ValueError(f"unknown problem kind {self.kind!r}")
        super().__init__(self.detail)

    def body(self, *, instance: str | None = None, request_id: str | None = None) -> dict[str, Any]:
        """The problem object (RFC 9457 members plus `errors` and `request_id`)."""
        out = {"type": TYPE_PREFIX + self.kind, "title": TITLES[self.kind], "status": self.status, "detail": self.detail}
        optional = {"instance": instance, "request_id": request_id, "errors": [asdict(e) for e in self.errors] or None}
        return out | {k: v for k, v in optional.items() if v is not None}

    def response(self, instance: str, request_id: str | None) -> Response:
        body = orjson.dumps(self.body(instance=instance, request_id=request_id))
        return Response(body, status_code=self.status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(self.headers))


def content_too_large(limit: int) -> Problem:
    # Close the connection: the client may still be sending a body we will not read.
    detail = f"The request body is larger than the limit of {limit:,} bytes."
    return Problem(413, "content-too-large", detail, headers={"connection": "close"})


def unsupported_media_type(got: str, allowed: Sequence[str], *, utf8_only: bool = True) -> Problem:
    """415; `utf8_only` False where any charset is read (a feed's XML declares its own encoding)."""
    charset = " (UTF-8)" if utf8_only else ""
    return Problem(
        415,
        "unsupported-media-type",
        f"Content-Type {got or '(none)'!r} is not accepted here; send {' or '.join(allowed)}{charset}.",
        headers={"accept-post": ", ".join(allowed)},
    )


def scoring_unavailable() -> Problem:
    """A scoring process died while working on the request (retryable: the pool is rebuilt)."""
    detail = "A scoring process stopped while working on this request; retry."
    return Problem(503, "scoring-unavailable", detail, headers={"retry-after": "1"})


def invalid_article(rejected: Rejected) -> Problem:
    error = FieldError(rejected.field, rejected.reason, rejected.message)
    return Problem(422, "invalid-article", f"{error.field}: {error.message}", [error])


def item_error(rejected: Rejected) -> dict[str, Any]:
    """The object that takes a rejected item's place in batch results (and NDJSON lines)."""
    problem = Problem(500, "internal-error", f"article: {rejected.message}") if rejected.internal else invalid_article(rejected)
    return {"index": rejected.index, "id": rejected.id, "error": problem.body()}


async def _problem_handler(request: Request, exc: Problem) -> Response:
    return exc.response(request.url.path, request.scope.get("state", {}).get("request_id"))


async def _http_exception_handler(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        problem = Problem(404, "not-found", f"There is no resource at {request.url.path}.")
    elif exc.status_code == 405:
        allow = (exc.headers or {}).get("Allow", "")
        problem = Problem(
            405, "method-not-allowed", f"{request.method} is not allowed here (allowed: {allow}).", headers={"allow": allow}
        )
    else:  # other framework errors keep their status; only the shape changes
        kind = "invalid-request" if 400 <= exc.status_code < 500 else "internal-error"
        problem = Problem(exc.status_code, kind, str(exc.detail))
    return await _problem_handler(request, problem)


# The app's `exception_handlers`: Problem and the framework's 404/405 rendered as problem+json. No route declares
# a parameter for FastAPI to validate (handlers read their input themselves, tests/service/test_errors.py checks),
# so FastAPI's RequestValidationError, with its own 422 shape, cannot occur.
EXCEPTION_HANDLERS: dict[Any, Callable[[Request, Any], Coroutine[Any, Any, Response]]] = {
    Problem: _problem_handler,
    StarletteHTTPException: _http_exception_handler,
}
