"""Scoring many items: chunks spread over the pool, results kept in input order.

    >>> outcomes = await score_batch(state, items, endpoint="feed")   # doctest: +SKIP
    >>> [o.level if isinstance(o, Scored) else o.reason for o in outcomes]   # doctest: +SKIP

`score_chunks` is the streaming form: it takes blocks of items as they arrive (e.g. NDJSON lines)
and yields each chunk's result as soon as it and every chunk before it are done, with at most
two chunks per scoring process in flight, so memory does not grow with the number of items.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import Any

import orjson
from starlette.requests import Request

from model.errors import BaseRateError
from service import metrics
from service.errors import FieldError, Problem, item_error, stream_error
from service.pool import ChunkFailed, PoolError, WorkerLost
from service.scoring import ChunkResult, Outcome, Rejected, Scored
from service.state import ServiceState

logger = logging.getLogger("misinfo_risk.batching")
IN_FLIGHT_PER_PROCESS = 2


def base_rate_of(request: Request, state: ServiceState) -> float | None:
    """The base rate to express scores at: the request's `base_rate` query parameter, else the setting.

    A 422 problem when the parameter is not a number strictly between 0 and 1, a 409 when the loaded
    model's card records no prevalence to convert from. Checked before the body is read.
    """
    if not request.scope.get("query_string"):
        return state.settings.base_rate
    raw = request.query_params.get("base_rate")
    if raw is None:
        return state.settings.base_rate
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.0 < value < 1.0:  # also refuses nan and inf
        message = f"must be a number between 0 and 1 (exclusive), e.g. 0.05, not {raw!r}"
        raise Problem(422, "invalid-request", f"base_rate: {message}", [FieldError("base_rate", "invalid", message)])
    try:
        state.scorer.base_rate_shift(value)
    except BaseRateError as exc:
        raise Problem(409, "base-rate-unavailable", f"base_rate={raw}: {exc}; omit base_rate.") from exc
    return value


def scoring_problem(exc: PoolError) -> Problem:
    """The HTTP problem for a pool failure (a dead scoring process is retryable, a bug is not)."""
    if isinstance(exc, WorkerLost):
        return Problem(
            503,
            "scoring-unavailable",
            "A scoring process stopped while working on this request; retry.",
            headers={"retry-after": "1"},
        )
    if isinstance(exc, ChunkFailed):
        logger.error("scoring failed", extra={"traceback": str(exc)})
    return Problem(500, "internal-error", "Scoring failed unexpectedly; it has been logged.")


async def _blocks_of(items: Sequence[Any]) -> AsyncIterator[Sequence[Any]]:
    yield items


_END = object()


async def score_chunks(
    state: ServiceState,
    blocks: AsyncIterable[Sequence[Any]] | Sequence[Any],
    *,
    chunk_size: int | None = None,
    base_rate: float | None = None,
) -> AsyncIterator[ChunkResult]:
    """Yield ChunkResults in input order for items arriving in `blocks` (or one sequence of items).

    A feeder task reads blocks and submits chunks (never merging blocks, so items that arrived are
    scored without waiting for more input), with at most two chunks per scoring process in
    flight; results are yielded as soon as they and every earlier chunk are done. Raises
    PoolError (see `scoring_problem`) if a chunk cannot be scored, and whatever reading the
    blocks raises (e.g. ClientDisconnect). Scores are expressed at `base_rate` (see `base_rate_of`).
    """
    if isinstance(blocks, Sequence):
        size = chunk_size or _even_chunk(len(blocks), state)
        blocks = _blocks_of(blocks)
    else:
        size = chunk_size or state.settings.chunk_size
    slots = asyncio.Semaphore(IN_FLIGHT_PER_PROCESS * state.parallelism)
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def feed(source: AsyncIterable[Sequence[Any]]) -> None:
        submitted = 0
        try:
            async for block in source:
                for begin in range(0, len(block), size):
                    chunk = block[begin : begin + size]
                    await slots.acquire()
                    queue.put_nowait(state.submit(chunk, submitted, base_rate))
                    submitted += len(chunk)
        except Exception as exc:  # handed to the consumer, which re-raises it in order
            queue.put_nowait(exc)
        else:
            queue.put_nowait(_END)

    feeder = asyncio.create_task(feed(blocks))
    try:
        while (entry := await queue.get()) is not _END:
            if isinstance(entry, Exception):
                raise entry
            result = await entry
            slots.release()
            yield result
    finally:
        feeder.cancel()
        while not queue.empty():
            entry = queue.get_nowait()
            if isinstance(entry, asyncio.Future):
                entry.cancel()


def _even_chunk(n: int, state: ServiceState) -> int:
    """Chunk size for a known number of items: every process gets work, chunks stay <= chunk_size."""
    return max(1, min(state.settings.chunk_size, math.ceil(n / state.parallelism)))


async def score_batch(
    state: ServiceState, items: Sequence[Any], *, endpoint: str, base_rate: float | None = None
) -> list[Outcome]:
    """Score items (decoded article objects) on every core; outcomes in order; metrics recorded.

    For service/feeds.py. Raises PoolError (turn it into a response with `scoring_problem`).
    """
    metrics.record_batch_size(endpoint, len(items))
    outcomes: list[Outcome] = []
    async for result in score_chunks(state, items, base_rate=base_rate):
        metrics.record_outcomes(endpoint, result)
        outcomes.extend(result.outcomes)
    return outcomes


def outcome_json(outcome: Outcome) -> bytes:
    """An outcome as it appears in batch results: the assessment, or `{"index", "id", "error"}`."""
    return outcome.json if isinstance(outcome, Scored) else orjson.dumps(item_error(outcome))


def ndjson_lines(outcomes: Iterable[Outcome]) -> bytes:
    return b"".join(outcome_json(o) + b"\n" for o in outcomes)


def batch_body(model_version: str, outcomes: Sequence[Outcome]) -> bytes:
    """The JSON-array batch response body, built from already-serialised results."""
    rejected = sum(1 for o in outcomes if isinstance(o, Rejected))
    unread = sum(1 for o in outcomes if isinstance(o, Scored) and o.level is None)
    head = orjson.dumps(
        {
            "model_version": model_version,
            "count": len(outcomes),
            "scored": len(outcomes) - rejected - unread,
            "not_assessed": unread,
            "rejected": rejected,
        }
    )
    return head[:-1] + b',"results":[' + b",".join(outcome_json(o) for o in outcomes) + b"]}"


def stream_error_line(index: int, problem: Problem) -> bytes:
    """The NDJSON line that ends a stream early (see errors.stream_error)."""
    return orjson.dumps(stream_error(index, problem)) + b"\n"
