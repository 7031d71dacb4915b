"""`ServiceState`: what each web worker holds to score (the scorer, its pool); scoring many items with it; batch bodies.

Where each request is scored: docs/service.md ("Processes, cores and shutdown"); the rule: docs/runtime.md.

    >>> body = await score_batch(state, items, endpoint="feed")   # one result or item error per item  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from misinfo_risk.model.errors import BaseRateError
from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.runtime import IN_FLIGHT_PER_PROCESS, WARMUP_ARTICLE, ChunkPool, ChunkResult, Rejected, Scored, score_chunk
from misinfo_risk.service import metrics
from misinfo_risk.service.errors import FieldError, Problem, item_error, scoring_unavailable
from misinfo_risk.service.settings import Settings

logger = logging.getLogger("misinfo_risk.scoring")


@dataclass
class ServiceState:
    """The loaded model and its pool (one per web worker); built by the app's lifespan."""

    settings: Settings
    scorer: Scorer
    pool: ChunkPool | None
    card_json: bytes
    warmup_seconds: float

    @classmethod
    async def start(cls, settings: Settings) -> ServiceState:
        """Load the model, score a warm-up article, start the pool. Raises ArtifactError, BaseRateError, PoolStartError."""
        began = time.perf_counter()
        scorer = await asyncio.to_thread(load_scorer, settings.artifact_path, sha256=settings.model_sha256)
        scorer.base_rate_shift(settings.base_rate)  # BaseRateError when the card has no prevalence
        warmup = score_chunk(scorer, [WARMUP_ARTICLE], max_chars=settings.max_article_chars).outcomes[0]
        if not isinstance(warmup, Scored):
            raise RuntimeError(f"the warm-up article was not scored: {warmup}")
        pool = None
        if settings.pool_workers > 0:
            pool = ChunkPool(settings.pool_workers, settings.artifact_path, model_sha256=settings.model_sha256)
            await asyncio.to_thread(pool.start)
        state = cls(settings, scorer, pool, orjson.dumps(scorer.card.model_dump(mode="json")), time.perf_counter() - began)
        loop = asyncio.get_running_loop()
        logger.info(
            "model loaded",
            extra={
                "model_version": scorer.version,
                "pool_processes": pool.size if pool else 0,
                "pool_pids": pool.pids if pool else [],
                "startup_s": round(state.warmup_seconds, 3),
                "event_loop": f"{type(loop).__module__}.{type(loop).__qualname__}",
            },
        )
        return state

    async def close(self) -> None:
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close)

    def score_one(self, item: Any, base_rate: float | None = None) -> ChunkResult:
        """Score one decoded article object here, in the web worker (a ChunkResult with one outcome)."""
        return score_chunk(self.scorer, [item], max_chars=self.settings.max_article_chars, base_rate=base_rate)

    async def score_chunk(self, items: Sequence[Any], start: int = 0, base_rate: float | None = None) -> ChunkResult:
        """Score a chunk on the pool (in a thread without one); outcomes in order; a 503 problem if a process died.

        A chunk that fails as a whole in the pool for any other reason (e.g. an item too deeply nested for
        pickle to send it to a process) is scored again item by item; an item that fails alone is scored
        here, in a thread of the web worker, with the same rule (`score_chunk` never raises for an item).
        """
        options: dict[str, Any] = {"max_chars": self.settings.max_article_chars, "base_rate": base_rate}
        if self.pool is not None:
            began = time.perf_counter()
            try:
                return await asyncio.wrap_future(self.pool.submit(score_chunk, items, start, **options))
            except BrokenProcessPool as exc:
                raise scoring_unavailable() from exc  # retryable: the next chunk starts a new pool
            except Exception:  # noqa: BLE001 - the chunk failed as a whole: find the item at fault
                if len(items) > 1:
                    parts = await asyncio.gather(
                        *(self.score_chunk([item], start + i, base_rate) for i, item in enumerate(items))
                    )
                    return ChunkResult([o for part in parts for o in part.outcomes], time.perf_counter() - began)
                logger.warning("a chunk of one item failed in the pool; scoring it in the web worker", exc_info=True)
        return await asyncio.to_thread(score_chunk, self.scorer, items, start, **options)


async def _blocks_of(items: Sequence[Any]) -> AsyncIterator[Sequence[Any]]:
    yield items


async def score_chunks(
    state: ServiceState, blocks: AsyncIterable[Sequence[Any]] | Sequence[Any], *, base_rate: float | None = None
) -> AsyncIterator[ChunkResult]:
    """Yield ChunkResults in input order for items arriving in `blocks` (or one sequence of items).

    A feeder task reads blocks and submits chunks (never merging blocks, so items that arrived are scored
    without waiting for more input), with at most IN_FLIGHT_PER_PROCESS chunks per scoring process in
    flight; results are yielded as soon as they and every earlier chunk are done. Raises the 503 problem of a
    dead scoring process, and whatever reading the blocks raises (e.g. ClientDisconnect).
    """
    processes = state.pool.size if state.pool is not None else 1  # chunks scored at once
    size = state.settings.chunk_size
    if isinstance(blocks, Sequence):  # all items known: spread them over every scoring process
        size = max(1, min(size, math.ceil(len(blocks) / processes)))
        blocks = _blocks_of(blocks)
    slots = asyncio.Semaphore(IN_FLIGHT_PER_PROCESS * processes)
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def feed(source: AsyncIterable[Sequence[Any]]) -> None:
        submitted = 0
        try:
            async for block in source:
                for begin in range(0, len(block), size):
                    chunk = block[begin : begin + size]
                    await slots.acquire()
                    queue.put_nowait(asyncio.ensure_future(state.score_chunk(chunk, submitted, base_rate)))
                    submitted += len(chunk)
        except Exception as exc:  # handed to the consumer, which re-raises it in order
            queue.put_nowait(exc)
        else:
            queue.put_nowait(None)  # the end

    feeder = asyncio.create_task(feed(blocks))
    try:
        while (entry := await queue.get()) is not None:
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


Outcome = Scored | Rejected


def base_rate_of(request: Request, state: ServiceState) -> float | None:
    """The request's `base_rate` query parameter, else the setting; a 422 or 409 problem if unusable (callers check it first)."""
    given = request.query_params.getlist("base_rate") if request.scope.get("query_string") else []  # parse only if any
    if not given:
        return state.settings.base_rate
    raw = given[0]
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if len(given) > 1 or not 0.0 < value < 1.0:  # also refuses nan and inf; of several, which one was meant is not ours to guess
        message = f"must be a number between 0 and 1 (exclusive), e.g. 0.05, not {raw!r}"
        if len(given) > 1:
            message = f"given {len(given)} times ({', '.join(map(repr, given))}); give it once"
        raise Problem(422, "invalid-request", f"base_rate: {message}", [FieldError("base_rate", "invalid", message)])
    try:
        state.scorer.base_rate_shift(value)
    except BaseRateError as exc:
        raise Problem(409, "base-rate-unavailable", f"base_rate={raw}: {exc}; omit base_rate.") from exc
    return value


async def score_batch(state: ServiceState, items: Sequence[Any], *, endpoint: str, base_rate: float | None = None) -> bytes:
    """Score items (decoded article objects) on every core, metrics recorded: the JSON batch body (`batch_body`).

    A 503 problem if a scoring process died meanwhile."""
    metrics.record_batch_size(endpoint, len(items))
    outcomes: list[Outcome] = []
    async for result in score_chunks(state, items, base_rate=base_rate):
        metrics.record_outcomes(endpoint, result)
        outcomes.extend(result.outcomes)
    return batch_body(state.scorer.version, outcomes)


def outcome_json(outcome: Outcome) -> bytes:
    """An outcome as it appears in batch results: the assessment, or `{"index", "id", "error"}`."""
    return outcome.json if isinstance(outcome, Scored) else orjson.dumps(item_error(outcome))


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
