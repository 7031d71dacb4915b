"""Request bodies: content types (415), size limits (413, before reading whole bodies), JSON (422), NDJSON lines.

For route handlers that read the body themselves (`request: Request`), in this order:

    >>> kind = require_media_type(request, JSON_TYPES)              # doctest: +SKIP
    >>> data = decode_json(await read_body(request, limit=2 << 20))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from starlette.requests import Request

from misinfo_risk.jsonerrors import json_problem
from misinfo_risk.runtime import Rejected
from misinfo_risk.service.errors import FieldError, Problem, content_too_large, unsupported_media_type

JSON = "application/json"
NDJSON = "application/x-ndjson"
JSON_TYPES = (JSON,)
NDJSON_TYPES = (NDJSON, "application/ndjson", "application/jsonl", "application/x-jsonlines")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")


def require_media_type(
    request: Request, allowed: Sequence[str], *, shown: Sequence[str] | None = None, any_charset: bool = False
) -> str:
    """The media type if it is one of `allowed` (UTF-8 unless `any_charset`); otherwise a 415 Problem.

    A compressed body (Content-Encoding other than identity) is a 415 too: bodies are read as sent."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        detail = f"Content-Encoding {encoding[:40]!r} is not accepted: send the body uncompressed."
        raise Problem(415, "unsupported-media-type", detail, headers={"accept-encoding": "identity"})
    raw = request.headers.get("content-type", "")
    main, _, params = raw.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    kind = main.strip().lower()
    if kind not in allowed or not (any_charset or charset in (None, "utf-8", "utf8")):
        raise unsupported_media_type(raw, shown or allowed, utf8_only=not any_charset)
    return kind


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing with 413 as soon as it is known to exceed `limit` bytes (declared or read)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise content_too_large(limit)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise content_too_large(limit)
    return bytes(body)


def decode_json(body: bytes) -> Any:
    """Parse a JSON body (UTF-8); a 422 Problem naming the position if it is malformed."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        message = f"is not valid JSON: {json_problem(body, exc, one_line=False)}"
        raise Problem(422, "malformed-json", f"The request body {message}", [FieldError("body", "invalid", message)]) from exc


class NdjsonLines:
    """Async iterator over an NDJSON body: yields, per received block, the complete lines in it.

    Lines are raw bytes (decoded later, in a scoring process). Blank lines are skipped. A line
    longer than `max_line_bytes` becomes a `Rejected` placeholder and is never held whole. After
    `max_items` items it stops reading and sets `overflowed`. Memory stays bounded by one line.
    """

    def __init__(self, request: Request, *, max_line_bytes: int, max_items: int) -> None:
        self._request = request
        self._max_line = max_line_bytes
        self._max_items = max_items
        self.count = 0
        self.overflowed = False

    async def __aiter__(self) -> AsyncIterator[list[Any]]:
        partial = bytearray()  # the start of a line whose end has not arrived
        skipping = False  # inside an over-long line: drop bytes until its newline
        async for data in self._request.stream():
            items: list[Any] = []
            *ends, rest = data.split(b"\n")
            for end in ends:
                if not skipping:
                    partial += end
                    self._push(bytes(partial), items)
                partial.clear()
                skipping = False
            if not skipping:
                partial += rest
                if len(partial) > self._max_line:
                    partial.clear()
                    skipping = True
                    self._push(None, items)
            if items:
                yield items
            if self.overflowed:
                return
        tail: list[Any] = []
        self._push(bytes(partial), tail)  # empty while skipping (an over-long last line was already pushed)
        if tail:
            yield tail

    def _push(self, line: bytes | None, items: list[Any]) -> None:
        """Add one line (None: a line known to be too long) unless it is blank or the stream is full."""
        if line is not None:
            line = line.strip()
            if not line:
                return
        if self.count >= self._max_items:
            self.overflowed = True
            return
        if line is None or len(line) > self._max_line:
            message = f"line is longer than the limit of {self._max_line:,} bytes"
            items.append(Rejected(self.count, None, "article", "too_long", message))
        else:
            items.append(line)
        self.count += 1
