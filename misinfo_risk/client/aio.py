"""`AsyncRiskClient`: the asyncio client (httpx2.AsyncClient underneath), the same methods as `RiskClient`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from types import TracebackType

import httpx2

from misinfo_risk.client.core import (
    DEFAULT_LIMITS,
    JSON,
    STREAM_HEADERS,
    ArticleLike,
    ClientError,
    Result,
    RetryPolicy,
    ServiceError,
    ServiceUnreachable,
    array_body,
    batches,
    blocks,
    encode,
    headers,
    params,
    parse_batch,
    parse_line,
    problem_of,
    segments,
    shifted,
    stopped,
)
from misinfo_risk.model.types import RiskAssessment
from misinfo_risk.service.results import Limits


async def _ablocks(lines: list[bytes]) -> AsyncIterator[bytes]:
    for block in blocks(lines):
        yield block


class AsyncRiskClient:
    """Score articles with a misinfo-risk service from asyncio code.

        >>> async with AsyncRiskClient("http://127.0.0.1:8000") as client:        # doctest: +SKIP
        ...     (await client.score({"text": "Insiders say doctors hate it."})).level
        'high'

    `retries` 503 answers and connection errors are retried per request, waiting about
    `backoff * 2**attempt` seconds (at most `max_backoff`, at least a 503's Retry-After).
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self._http = httpx2.AsyncClient(base_url=base_url, headers=headers(api_key), timeout=timeout, trust_env=False)
        self.policy = RetryPolicy(retries, backoff, max_backoff)
        self._limits: Limits | None = None

    async def __aenter__(self) -> AsyncRiskClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def limits(self) -> Limits:
        """The server's request limits (GET /v1/limits, read once; the documented defaults if it has none)."""
        if self._limits is None:
            try:
                self._limits = Limits.model_validate_json((await self._send("GET", "/v1/limits")).content)
            except ServiceError as exc:
                if exc.status != 404:
                    raise
                self._limits = DEFAULT_LIMITS
        return self._limits

    async def score(self, article: ArticleLike, *, base_rate: float | None = None) -> RiskAssessment:
        """Score one article. Raises ServiceError (e.g. 422 for an invalid article) or ServiceUnreachable."""
        response = await self._send("POST", "/v1/score", content=encode(article), base_rate=base_rate)
        return RiskAssessment.model_validate_json(response.content)

    async def score_many(self, articles: Iterable[ArticleLike], *, base_rate: float | None = None) -> list[Result]:
        """Score many articles, one result per article in order, in JSON-array batches cut to the server's limits."""
        out: list[Result] = []
        for group in batches(articles, await self.limits()):
            response = await self._send("POST", "/v1/score/batch", content=array_body(group), base_rate=base_rate)
            out += parse_batch(response.content, len(out))
        return out

    async def stream(self, articles: Iterable[ArticleLike], *, base_rate: float | None = None) -> AsyncIterator[Result]:
        """Score an iterable of any length over NDJSON, yielding results in order as they arrive.

        Articles are read and sent in segments (at most the server's stream limit); if a segment's
        stream breaks (connection lost, a scoring process died), its unanswered rest is sent again.
        """
        offset = 0
        for segment in segments(articles, await self.limits()):
            async for result in self._stream_segment(segment, offset, base_rate):
                yield result
            offset += len(segment)

    async def _stream_segment(self, lines: list[bytes], offset: int, base_rate: float | None) -> AsyncIterator[Result]:
        done, attempt = 0, 0
        while done < len(lines):
            start, retry_after = done, None
            try:
                async with self._http.stream(
                    "POST", "/v1/score/batch", content=_ablocks(lines[start:]), headers=STREAM_HEADERS, params=params(base_rate)
                ) as response:
                    if response.is_error:
                        await response.aread()
                        error = problem_of(response.status_code, response.headers.get("content-type", ""), response.content)
                        if response.status_code != 503 or attempt >= self.policy.retries:
                            raise error
                        retry_after = response.headers.get("retry-after")
                    else:
                        async for line in response.aiter_lines():
                            if not line.strip():
                                continue
                            result = parse_line(line)
                            problem = stopped(result)
                            if problem is not None:
                                if problem.status != 503 or attempt >= self.policy.retries:
                                    raise ServiceError(problem.status, problem)
                                break
                            yield shifted(result, offset + start)
                            done += 1
            except httpx2.TransportError as exc:
                if attempt >= self.policy.retries:
                    raise ServiceUnreachable(f"lost the stream after {offset + done} result(s): {exc}") from exc
            if done < len(lines):  # the stream broke off: send the unanswered rest again
                if done == start and attempt >= self.policy.retries:
                    raise ClientError(f"the stream stopped after {offset + done} result(s), {attempt + 1} time(s) running")
                attempt = 0 if done > start else attempt  # progress restarts the backoff
                await asyncio.sleep(self.policy.delay(attempt, retry_after))
                attempt += 1

    async def _send(
        self, method: str, path: str, *, content: bytes | None = None, base_rate: float | None = None
    ) -> httpx2.Response:
        """One request, retried on 503 and connection errors; any other error status raises ServiceError."""
        extra = {"content-type": JSON} if content is not None else {}
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, path, content=content, headers=extra, params=params(base_rate))
            except httpx2.TransportError as exc:
                if attempt >= self.policy.retries:
                    raise ServiceUnreachable(f"{method} {path}: {exc!r} (after {attempt + 1} attempt(s))") from exc
                await asyncio.sleep(self.policy.delay(attempt))
            else:
                if response.status_code != 503 or attempt >= self.policy.retries:
                    if response.is_error:
                        raise problem_of(response.status_code, response.headers.get("content-type", ""), response.content)
                    return response
                await asyncio.sleep(self.policy.delay(attempt, response.headers.get("retry-after")))
            attempt += 1
