"""Operational endpoints, always open (no API key): GET /healthz, GET /readyz, GET /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from misinfo_risk.service import metrics, schemas
from misinfo_risk.service.auth import service_state

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=schemas.Health, summary="Liveness: the process is up")
async def healthz() -> dict[str, str]:
    """Always 200 while the process serves HTTP (does not look at the model)."""
    return {"status": "ok"}


@router.get(
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


@router.get(
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
