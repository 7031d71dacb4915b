"""GET /v1/limits: the request limits of this service, so clients can split their work to fit.

`misinfo_risk.client` reads it once and cuts `score_many` into JSON-array batches of at most
`max_batch_items` articles and `max_batch_body_bytes` bytes, and streams into NDJSON requests of at
most `max_stream_items` articles.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from misinfo_risk.service import schemas
from misinfo_risk.service.auth import SECURITY
from misinfo_risk.service.deps import authorized_state
from misinfo_risk.service.results import Limits

router = APIRouter(prefix="/v1", tags=["scoring"])


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
