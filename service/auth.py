"""Optional API keys for everything under /v1 (docs/service.md, "API keys"): a missing or wrong key is a 401.

Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every configured key, so the time
taken depends neither on how much of a key matched nor on which key it was. Handlers get the worker's
`ServiceState` by plain calls, not FastAPI dependencies (whose resolution cost more per request than all
the rest of the HTTP handling together: ~50 us measured with four of them):

    >>> @router.post("/v1/thing", openapi_extra={"security": SECURITY})
    ... async def thing(request: Request) -> Response:
    ...     state = authorized_state(request)      # 401 without a valid key, 503 before start-up   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from misinfo_risk.service.errors import Problem
from misinfo_risk.service.scoring import ServiceState

KEY_REQUIRED = "An API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."


class ApiKeys:
    """A set of accepted keys, held as digests. Empty means authentication is off."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._digests = tuple(hashlib.sha256(k.encode()).digest() for k in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    def accepts(self, candidate: str | None) -> bool:
        if candidate is None:
            return False
        digest = hashlib.sha256(candidate.encode("utf-8", "surrogatepass")).digest()
        matched = False
        for known in self._digests:  # no early exit: every key is compared every time
            matched |= hmac.compare_digest(digest, known)
        return matched


def service_state(request: Request) -> ServiceState:
    """The worker's ServiceState; a 503 problem if start-up has not finished."""
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:
        raise Problem(503, "not-ready", "The model is not loaded yet.", headers={"retry-after": "1"})
    return state


def authorized_state(request: Request) -> ServiceState:
    """`service_state` once the API key is checked: a 401 problem if keys are on and no valid one was sent."""
    keys: ApiKeys = request.app.state.api_keys
    if keys.enabled:
        candidate = _presented_key(request)
        if not keys.accepts(candidate):
            detail = KEY_REQUIRED if candidate is None else "The API key is not valid."
            raise Problem(401, "unauthorized", detail, headers={"www-authenticate": 'Bearer realm="misinfo-risk"'})
    return service_state(request)


def _presented_key(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key")


SECURITY_SCHEMES = {
    "BearerKey": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <API key>`"},
    "HeaderKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "`X-API-Key: <API key>`"},
}
SECURITY: list[dict[str, list[str]]] = [{"BearerKey": []}, {"HeaderKey": []}]
"""OpenAPI `security` of an operation that needs a key (`openapi_extra={"security": SECURITY}`)."""
