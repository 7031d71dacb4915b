"""What the sync and async clients share: encoding, cutting work to the server's limits, parsing, retry policy.

No I/O here: `sync.py` and `aio.py` send the requests this module plans and read the answers it parses.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from misinfo_risk.model.types import RiskAssessment
from misinfo_risk.service.results import BatchResult, ItemError, Limits, ProblemDetails

Result = RiskAssessment | ItemError
"""One item's result: its assessment (`assessed` may be False), or an error object in its place."""

ArticleLike = BaseModel | Mapping[str, Any]
"""A `model.Article` or a mapping with its fields (`text`, and optionally `title`, `url`, `id`, ...)."""

DEFAULT_LIMITS = Limits(
    model_version="",
    max_body_bytes=2 * 1024 * 1024,
    max_batch_body_bytes=20 * 1024 * 1024,
    max_batch_items=1_000,
    max_stream_items=100_000,
    max_article_chars=200_000,
)
"""The service's default limits, used against a server too old to have GET /v1/limits."""

JSON, NDJSON, PROBLEM = "application/json", "application/x-ndjson", "application/problem+json"
STREAM_SEGMENT_ITEMS = 10_000
"""Articles per NDJSON request in `stream`: kept in memory so that the unanswered rest can be sent again."""

_RESULT = TypeAdapter[Result](Result)
_STOPPED_STREAM = 422  # item errors are 422; any other status in a stream line means the stream stopped there


class ClientError(Exception):
    """Base class of the client's errors."""


class ServiceError(ClientError):
    """The service answered with an error (after retries, for 503). `problem` is its RFC 9457 body, if it sent one."""

    def __init__(self, status: int, problem: ProblemDetails | None, text: str = "") -> None:
        self.status = status
        self.problem = problem
        detail = problem.detail if problem is not None else text[:200]
        super().__init__(f"HTTP {status}: {detail}")


class ServiceUnreachable(ClientError):
    """The service could not be reached (connection refused, reset, timed out), even after retries."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: attempt n waits about backoff * 2**n seconds (at most max_backoff),
    and never less than a 503's Retry-After (also capped by max_backoff)."""

    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        wait: float = min(self.max_backoff, self.backoff * 2.0**attempt) * random.uniform(0.5, 1.0)
        try:
            wait = max(wait, min(self.max_backoff, float(retry_after or 0)))
        except ValueError:  # an HTTP-date Retry-After: keep our own delay
            pass
        return wait


def encode(article: ArticleLike) -> bytes:
    """One article as compact UTF-8 JSON (None fields left out; dates as ISO 8601)."""
    fields = article.model_dump(mode="json", exclude_none=True) if isinstance(article, BaseModel) else dict(article)
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=_iso).encode()


def _iso(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def batches(articles: Iterable[ArticleLike], limits: Limits) -> Iterator[list[bytes]]:
    """Encoded articles in groups that fit one JSON-array request (items and body bytes)."""
    group: list[bytes] = []
    size = 2  # "[" and "]"
    for article in articles:
        item = encode(article)
        if group and (len(group) >= limits.max_batch_items or size + len(item) + 1 > limits.max_batch_body_bytes):
            yield group
            group, size = [], 2
        group.append(item)
        size += len(item) + 1
    if group:
        yield group


def segments(articles: Iterable[ArticleLike], limits: Limits) -> Iterator[list[bytes]]:
    """Encoded NDJSON lines in groups of at most one stream request (and STREAM_SEGMENT_ITEMS)."""
    size = max(1, min(limits.max_stream_items, STREAM_SEGMENT_ITEMS))
    group: list[bytes] = []
    for article in articles:
        group.append(encode(article) + b"\n")
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


def array_body(group: list[bytes]) -> bytes:
    return b"[" + b",".join(group) + b"]"


def shifted(result: Result, offset: int) -> Result:
    """A result with its error index counted from the start of the caller's input, not of its request."""
    if isinstance(result, ItemError) and offset:
        return result.model_copy(update={"index": result.index + offset})
    return result


def parse_batch(content: bytes, offset: int) -> list[Result]:
    return [shifted(r, offset) for r in BatchResult.model_validate_json(content).results]


def parse_line(line: str | bytes) -> Result:
    return _RESULT.validate_json(line)


def stopped(result: Result) -> ProblemDetails | None:
    """The problem that ended a stream early (a 503 or 413 line), or None for a normal result."""
    if isinstance(result, ItemError) and result.error.status != _STOPPED_STREAM:
        return result.error
    return None


def problem_of(status: int, content_type: str, content: bytes) -> ServiceError:
    problem = None
    if content_type.split(";")[0].strip() in (PROBLEM, JSON):
        try:
            problem = ProblemDetails.model_validate_json(content)
        except ValidationError:
            problem = None
    return ServiceError(status, problem, content.decode("utf-8", "replace"))


def headers(api_key: str | None) -> dict[str, str]:
    out = {"accept": JSON, "user-agent": "misinfo-risk-client"}
    if api_key:
        out["authorization"] = f"Bearer {api_key}"
    return out


def params(base_rate: float | None) -> dict[str, str]:
    return {} if base_rate is None else {"base_rate": repr(base_rate)}


BLOCK_BYTES = 256 * 1024


def blocks(lines: list[bytes]) -> Iterator[bytes]:
    """NDJSON lines joined into ~256 KiB pieces of a streamed request body."""
    piece: list[bytes] = []
    size = 0
    for line in lines:
        piece.append(line)
        size += len(line)
        if size >= BLOCK_BYTES:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


STREAM_HEADERS = {"content-type": NDJSON, "accept": NDJSON}
