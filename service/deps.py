"""The per-worker `ServiceState` in a handler, by plain calls: FastAPI's dependency resolution costs more
per request than all the rest of the HTTP handling together (measured ~50 us with four dependencies).

    >>> @router.post("/v1/thing", openapi_extra={"security": SECURITY})
    ... async def thing(request: Request) -> Response:
    ...     state = authorized_state(request)      # 401 without a valid key, 503 before start-up   # doctest: +SKIP
"""

from __future__ import annotations

from fastapi import Request

from misinfo_risk.service.auth import check_api_key
from misinfo_risk.service.errors import Problem
from misinfo_risk.service.scoring import ServiceState


def service_state(request: Request) -> ServiceState:
    """The worker's ServiceState; a 503 problem if start-up has not finished."""
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:
        raise Problem(503, "not-ready", "The model is not loaded yet.", headers={"retry-after": "1"})
    return state


def authorized_state(request: Request) -> ServiceState:
    """`check_api_key` then `service_state`."""
    check_api_key(request)
    return service_state(request)
