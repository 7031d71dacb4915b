"""`ServiceState`: what the lifespan builds once per worker (scorer, scoring pool, readiness).

`submit` is the one way to score a chunk: on the pool when there is one, otherwise (or while
every pool process is down) in a thread of this process. Endpoints never call the scorer
directly, so single articles, batches and feeds all behave the same.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from model.scorer import Scorer, load_scorer
from service.pool import PoolUnavailable, ScoringPool
from service.scoring import WARMUP_ARTICLE, ChunkResult, Scored, score_items
from service.settings import Settings, usable_cpus

logger = logging.getLogger("misinfo_risk.state")

CONCURRENCY_WINDOW = 1.0
"""Seconds after a request from another client during which single articles go to the pool."""

INLINE_MAX_CHARS = 20_000
"""Without a pool, a single article up to this length is scored on the event loop (about a
millisecond); longer ones go to a thread so the loop keeps serving health checks."""


@dataclass
class ServiceState:
    """The loaded model and the means to score with it (one per uvicorn worker)."""

    settings: Settings
    scorer: Scorer
    pool: ScoringPool | None
    card_json: bytes
    warmup_seconds: float
    workers_fill_cores: bool = False
    """At least one web worker per usable CPU: single articles are scored in the web worker."""
    _last_client: object = None
    _last_switch: float = float("-inf")

    @classmethod
    async def start(cls, settings: Settings) -> ServiceState:
        """Load the model, score a warm-up article, start the pool. Raises ArtifactError / PoolStartError."""
        loop = asyncio.get_running_loop()
        began = time.perf_counter()
        pool = None
        if settings.scoring_processes > 0:
            pool = ScoringPool(
                size=settings.scoring_processes,
                artifact_path=settings.artifact_path,
                max_chars=settings.max_article_chars,
                model_sha256=settings.model_sha256,
            )
        # the pool's processes load the model while this one does
        pool_started = asyncio.ensure_future(pool.start() if pool is not None else asyncio.sleep(0))
        try:
            load = functools.partial(load_scorer, settings.artifact_path, sha256=settings.model_sha256)
            scorer = await loop.run_in_executor(None, load)
            scorer.base_rate_shift(settings.base_rate)  # BaseRateError when the card has no prevalence
            warmup = score_items(scorer, [WARMUP_ARTICLE], max_chars=settings.max_article_chars)
            if not isinstance(warmup.outcomes[0], Scored):
                raise RuntimeError(f"the warm-up article was not scored: {warmup.outcomes[0]}")
        except BaseException:
            await asyncio.gather(pool_started, return_exceptions=True)
            if pool is not None:
                await pool.close()
            raise
        await pool_started  # raises PoolStartError (the pool has then stopped what it started)
        card_json = orjson.dumps(scorer.card.model_dump(mode="json"))
        state = cls(
            settings, scorer, pool, card_json, time.perf_counter() - began, workers_fill_cores=settings.workers >= usable_cpus()
        )
        logger.info(
            "model loaded",
            extra={
                "model_version": scorer.version,
                "pool_processes": pool.size if pool else 0,
                "pool_pids": pool.pids if pool else [],
                "startup_s": round(state.warmup_seconds, 3),
                # which loop serves this worker: uvloop avoids asyncio's keep-alive stall with several workers
                "event_loop": f"{type(loop).__module__}.{type(loop).__qualname__}",
            },
        )
        return state

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close(timeout=self.settings.shutdown_timeout)

    @property
    def parallelism(self) -> int:
        """How many chunks can be scored at once."""
        return max(1, self.pool.alive) if self.pool is not None else 1

    def submit(self, items: Sequence[Any], start: int = 0, base_rate: float | None = None) -> asyncio.Future[ChunkResult]:
        """Score a chunk in the background; the future resolves to its ChunkResult (in order).

        `base_rate`: the share of misleading articles to express the scores at (checked by the caller).
        """
        if self.pool is not None:
            try:
                return self.pool.submit(items, start, base_rate)
            except PoolUnavailable:
                logger.warning("no scoring process alive; scoring in the web worker")
        run = functools.partial(
            score_items, self.scorer, items, start=start, max_chars=self.settings.max_article_chars, base_rate=base_rate
        )
        return asyncio.get_running_loop().run_in_executor(None, run)

    async def score_one(self, item: Any, client: object = None, base_rate: float | None = None) -> ChunkResult:
        """Score one decoded article object (a ChunkResult with one outcome) for `client` (its address).

        While this worker serves a single client, a short article is scored right here on the
        event loop: no hand-off, the lowest latency. Once another client has been seen within
        CONCURRENCY_WINDOW seconds, articles go to the pool, so concurrent clients use every core
        even though all their connections came to this one worker. With at least one web worker
        per core, connections are dealt out evenly (service.balance) and each worker scores its
        clients' articles itself: the cores are used without the hand-off (the pool then serves
        batches and feeds only).
        """
        if _is_short(item) and (self.pool is None or self.workers_fill_cores or not self._concurrent(client)):
            return score_items(self.scorer, [item], max_chars=self.settings.max_article_chars, base_rate=base_rate)
        return await self.submit([item], base_rate=base_rate)

    def _concurrent(self, client: object) -> bool:
        now = time.monotonic()
        if client != self._last_client:
            self._last_client, self._last_switch = client, now
        return now - self._last_switch < CONCURRENCY_WINDOW


def _is_short(item: Any) -> bool:
    text = item.get("text") if isinstance(item, Mapping) else None
    return not isinstance(text, str) or len(text) <= INLINE_MAX_CHARS
