"""The HTTP endpoints: scoring (`router`, under /v1) and operations (`operations`: /healthz, /readyz, /metrics).

Scoring (POST /v1/score, /v1/score/batch and /v1/feeds/score; GET /v1/model and /v1/limits) needs an API key
when keys are configured; operations are always open. Scoring handlers read their bodies themselves (size
limit before reading, one JSON parse, no re-validation) and return results that the scoring processes already
serialised; the OpenAPI description of the bodies comes from service/schemas.py. A feed is the RSS or Atom
document itself, sent as the body: docs/batch.md ("The HTTP endpoint").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from misinfo_risk.ingest.feeds import FeedError, feed_articles
from misinfo_risk.jsonerrors import json_type
from misinfo_risk.runtime import ChunkResult, Scored
from misinfo_risk.service import metrics, schemas
from misinfo_risk.service.auth import SECURITY, authorized_state, service_state
from misinfo_risk.service.bodies import (
    FEED_TYPES,
    JSON,
    JSON_TYPES,
    NDJSON,
    NDJSON_TYPES,
    NdjsonLines,
    decode_json,
    read_body,
    require_media_type,
)
from misinfo_risk.service.errors import FieldError, Problem, invalid_article
from misinfo_risk.service.results import Limits
from misinfo_risk.service.scoring import (
    ServiceState,
    base_rate_of,
    outcome_json,
    score_batch,
    score_chunks,
)
from misinfo_risk.service.streaming import Spool, SpooledStreamResponse

router = APIRouter(prefix="/v1", tags=["scoring"])
operations = APIRouter(tags=["operations"])
logger = logging.getLogger("misinfo_risk.routes")


@router.post("/score", response_model=None, **schemas.SCORE_DOCS)
async def score_article(request: Request) -> Response:
    """Score one article: risk score, level, the signals that fired with evidence spans, top terms."""
    state = authorized_state(request)
    require_media_type(request, JSON_TYPES)
    base_rate = base_rate_of(request, state)
    item = decode_json(await read_body(request, state.settings.max_body_bytes))
    result = state.score_one(item, base_rate)
    outcome = result.outcomes[0]
    if not isinstance(outcome, Scored):
        metrics.record_outcomes("single", result)
        if outcome.field == "article":  # the body as a whole is not an article object
            raise Problem(422, "invalid-article", f"body: {outcome.message}", [FieldError("body", "type", outcome.message)])
        raise invalid_article(outcome)
    # recorded once the response is sent: the client does not wait for the metric writes
    return Response(outcome.json, media_type=JSON, background=BackgroundTask(_record_single, result))


async def _record_single(result: ChunkResult) -> None:
    """Outcome metrics of a scored article, in the request's own task once its response is sent.

    A coroutine on purpose: Starlette runs a plain function given as a background task in its
    thread pool, and that thread then competes for the GIL with the next request's scoring
    (measured: +0.25 ms at p50 over one keep-alive connection).
    """
    metrics.record_outcomes("single", result)


@router.post("/score/batch", response_model=None, **schemas.BATCH_DOCS)
async def score_articles(request: Request) -> Response:
    """Score many articles, in order; an invalid item gets an error object in its place.

    Send a JSON array (`application/json`, up to `RISK_MAX_BATCH_ITEMS` items) or NDJSON
    (`application/x-ndjson`, one article per line, streamed both ways). With
    `Accept: application/x-ndjson` a JSON array's results are streamed as NDJSON too.
    """
    state = authorized_state(request)
    kind = require_media_type(request, JSON_TYPES + NDJSON_TYPES, shown=(JSON, NDJSON))
    settings = state.settings
    base_rate = base_rate_of(request, state)
    if kind != JSON:
        lines = NdjsonLines(request, max_line_bytes=settings.max_body_bytes, max_items=settings.max_stream_items)
        return _stream(state, lines, base_rate)
    items = decode_json(await read_body(request, settings.max_batch_body_bytes))
    if not isinstance(items, list):
        detail = f"The body must be a JSON array of article objects, not {json_type(items)}."
        raise Problem(422, "invalid-batch", detail, [FieldError("body", "type", "must be a JSON array of article objects")])
    if len(items) > settings.max_batch_items:
        raise Problem(
            413,
            "too-many-items",
            f"The batch has {len(items):,} items; the limit is {settings.max_batch_items:,}. Split it, or stream it as NDJSON.",
        )
    if any(t in request.headers.get("accept", "").lower() for t in NDJSON_TYPES):  # Accept asks for NDJSON
        return _stream(state, items, base_rate)
    return Response(await score_batch(state, items, endpoint="batch", base_rate=base_rate), media_type=JSON)


def _stream(state: ServiceState, blocks: NdjsonLines | list[Any], base_rate: float | None) -> Response:
    """Stream NDJSON results for the items of an NDJSON body (`NdjsonLines`, which may overflow) or a JSON array."""

    async def produce(spool: Spool) -> None:
        count = 0
        problem: Problem | None = None
        try:
            async for result in score_chunks(state, blocks, base_rate=base_rate):
                metrics.record_outcomes("batch", result)
                count += len(result.outcomes)
                await spool.put(b"".join(outcome_json(o) + b"\n" for o in result.outcomes))
        except Problem as exc:  # a scoring process died (503), or the request body stopped arriving (408)
            problem = exc
        except ClientDisconnect:
            raise
        except Exception:  # a failure no item can be blamed for: end the stream with an explicit error, never cleanly
            logger.exception("a stream failed", extra={"items_sent": count})
            problem = Problem(500, "internal-error", "The server failed while streaming; it has been logged.")
        finally:
            metrics.record_batch_size("batch", count)
        if problem is None and isinstance(blocks, NdjsonLines) and blocks.overflowed:
            limit = state.settings.max_stream_items
            problem = Problem(413, "too-many-items", f"The stream has more than {limit:,} items; the rest was not read.")
        if problem is not None:  # the last line: no more results follow
            spool.put_nowait(orjson.dumps({"index": count, "id": None, "error": problem.body()}) + b"\n")

    spool = Spool(state.settings.stream_memory_bytes, state.settings.stream_buffer_bytes)
    return SpooledStreamResponse(produce, spool, media_type=NDJSON)


@router.get("/model", **schemas.MODEL_DOCS)
async def model_card(request: Request) -> Response:
    """The model card of the loaded artifact: version, training data hashes, thresholds, evaluation."""
    state = authorized_state(request)
    return Response(state.card_json, media_type=JSON)


# misinfo_risk.client reads /v1/limits once and cuts `score_many` into batches and streams that fit.
@router.get(
    "/limits",
    response_model=Limits,
    summary="The request limits (batch items and bytes, stream items, article length)",
    openapi_extra={"security": SECURITY},
    responses=schemas.problem_responses(401),
)
async def limits(request: Request) -> Limits:
    """The RISK_MAX_* settings this service enforces, and the loaded model's version."""
    state = authorized_state(request)
    limits = state.settings.model_dump(include=set(Limits.model_fields) - {"model_version"})
    return Limits(model_version=state.scorer.version, **limits)


@router.post("/feeds/score", response_model=None, **schemas.FEED_DOCS)
async def score_feed(request: Request) -> Response:
    """Score every entry of the RSS 0.9x/1.0/2.0 or Atom document in the body, in feed order."""
    state = authorized_state(request)
    require_media_type(request, FEED_TYPES, shown=FEED_TYPES[:3], any_charset=True)  # XML declares its own encoding
    settings = state.settings
    base_rate = base_rate_of(request, state)
    body = await read_body(request, settings.max_batch_body_bytes)
    try:
        # feedparser is CPU-bound: keep the event loop free for other requests
        items = await asyncio.to_thread(feed_articles, body, max_bytes=settings.max_batch_body_bytes)
    except FeedError as exc:
        error = FieldError("body", "invalid", str(exc))
        raise Problem(422, "invalid-request", f"The feed in the body cannot be read: {exc}", [error]) from exc
    if len(items) > settings.max_batch_items:
        raise Problem(413, "too-many-items", f"The feed has {len(items):,} entries; the limit is {settings.max_batch_items:,}.")
    return Response(await score_batch(state, items, endpoint="feed", base_rate=base_rate), media_type=JSON)


@operations.get("/healthz", response_model=schemas.Health, summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    """Always 200 while the process serves HTTP (does not look at the model)."""
    return {"status": "ok"}


@operations.get(
    "/readyz",
    response_model=schemas.Readiness,
    summary="Readiness: the model is loaded and a warm-up score succeeded",
    responses=schemas.problem_responses(503),
)
async def readyz(request: Request) -> schemas.Readiness:
    """200 once this worker has loaded the model, scored a warm-up article and started its pool; 503 before."""
    state = service_state(request)
    return schemas.Readiness(
        status="ready",
        model_version=state.scorer.version,
        pool_processes=len(state.pool.pids) if state.pool is not None else 0,
        startup_seconds=round(state.warmup_seconds, 3),
    )


# HEAD as well as GET for the probes (RFC 9110 9.3.2: HEAD wherever GET is): uptime monitors and some load
# balancers probe with HEAD and took the 405 for a dead service. Out of the OpenAPI document (one operation each).
for _path, _probe in (("/healthz", healthz), ("/readyz", readyz)):
    operations.add_api_route(_path, _probe, methods=["HEAD"], include_in_schema=False)


@operations.get(
    "/metrics",
    summary="Prometheus metrics (all workers)",
    response_class=Response,
    responses={200: {"description": "Prometheus text exposition", "content": {"text/plain": {}}}},
)
def prometheus_metrics(request: Request) -> Response:
    """Plain def: reading the worker files is blocking I/O, so it runs in the threadpool.

    Every worker's metrics, merged (Prometheus multiprocess mode); OpenMetrics if the scraper asks for it."""
    body, content_type = metrics.exposition(request.headers.get("accept"))
    return Response(body, media_type=content_type)
