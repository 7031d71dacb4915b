"""Batch requests: the base rate to score at, scoring a whole batch, and the batch response bodies.

>>> outcomes = await score_batch(state, items, endpoint="feed")   # doctest: +SKIP
>>> [o.level if isinstance(o, Scored) else o.reason for o in outcomes]   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from starlette.requests import Request

from misinfo_risk.model.errors import BaseRateError
from misinfo_risk.service import metrics
from misinfo_risk.service.errors import FieldError, Problem, item_error, scoring_unavailable
from misinfo_risk.service.scoring import PoolBroken, Rejected, Scored, ServiceState, score_chunks

Outcome = Scored | Rejected


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


async def score_batch(
    state: ServiceState, items: Sequence[Any], *, endpoint: str, base_rate: float | None = None
) -> list[Outcome]:
    """Score items (decoded article objects) on every core; outcomes in order; metrics recorded.

    A 503 problem if a scoring process died meanwhile."""
    metrics.record_batch_size(endpoint, len(items))
    outcomes: list[Outcome] = []
    try:
        async for result in score_chunks(state, items, base_rate=base_rate):
            metrics.record_outcomes(endpoint, result)
            outcomes.extend(result.outcomes)
    except PoolBroken as exc:
        raise scoring_unavailable() from exc
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
    """The last NDJSON line of a stream that stops early: no more results follow."""
    return orjson.dumps({"index": index, "id": None, "error": problem.body()}) + b"\n"
