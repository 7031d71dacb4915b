"""Request middleware (pure ASGI, cheap): request id, HTTP metrics, access log, last-resort problem+json 500.

The request id and the access log are as docs/service.md describes them ("Logs and request ids").
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from misinfo_risk.service import metrics
from misinfo_risk.service.errors import Problem
from misinfo_risk.service.logs import ACCESS_LOGGER
from misinfo_risk.service.settings import Settings

REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}")
CLIENT_CLOSED = 499  # nginx's code for "client closed the request", used in logs and metrics only

access_logger = logging.getLogger(ACCESS_LOGGER)
error_logger = logging.getLogger("misinfo_risk.errors")


class RequestContextMiddleware:
    """See the module docstring. Add with `app.add_middleware(RequestContextMiddleware, settings=settings)`."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._known: frozenset[str] | None = None

    def route_label(self, scope: Scope) -> str:
        """The path if it is a route template of the app's OpenAPI document (a static route), else "other".

        Used before the request is routed (for the in-progress gauge); afterwards the label is the
        template of the route the router matched.
        """
        if self._known is None:
            app = scope.get("app")
            self._known = frozenset([*app.openapi()["paths"], app.openapi_url]) if app is not None else frozenset()
        path: str = scope["path"]
        return path if path in self._known else "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id", "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        route = self.route_label(scope)
        state: dict[str, Any] = {"status": 0, "sent": 0, "received": 0, "body_done": False, "waited": 0.0}

        async def receive_counting() -> Message:
            if state["body_done"]:
                return await receive()
            # the body's time counts only while the app waits for it: each part within body_timeout of the last,
            # and after the first body_timeout seconds, body_min_rate bytes per second of waiting on average
            budget = max(self.settings.body_timeout, state["received"] / self.settings.body_min_rate) - state["waited"]
            asked = time.perf_counter()
            try:
                async with asyncio.timeout(min(self.settings.body_timeout, budget)):
                    message = await receive()
            except TimeoutError:  # answered by the app's handler, or as a stream's last line
                detail = f"The request body stopped arriving for more than {self.settings.body_timeout:g} s, or arrived at under "
                detail += f"{self.settings.body_min_rate:,.0f} bytes/s."
                raise Problem(408, "request-timeout", detail, headers={"connection": "close"}) from None
            state["waited"] += time.perf_counter() - asked
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                state["body_done"] = not message.get("more_body", False)
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id.encode("ascii"))]
            elif message["type"] == "http.response.body":
                state["sent"] += len(message.get("body", b""))
            await send(message)

        in_progress = metrics.in_progress(route)
        in_progress.inc()
        try:
            await self.app(scope, receive_counting, send_with_id)
        except ClientDisconnect:
            state["status"] = state["status"] or CLIENT_CLOSED
        except Exception:
            error_logger.exception("unhandled error", extra={"request_id": request_id, "route": route})
            if not state["status"]:
                problem = Problem(500, "internal-error", "The server failed to handle this request; it has been logged.")
                await problem.response(scope["path"], request_id)(scope, receive, send_with_id)
            state["status"] = 500
        finally:
            in_progress.dec()
            final_route = getattr(scope.get("route"), "path", route)  # the matched route's template
            self._finish(scope, headers, final_route, request_id, state, time.perf_counter() - began)

    def _finish(self, scope: Scope, headers: Headers, route: str, request_id: str, state: dict[str, Any], seconds: float) -> None:
        declared = headers.get("content-length", "")
        request_bytes = (int(declared) if declared.isdigit() else 0) or state["received"]
        metrics.record_request(route, scope["method"], state["status"], seconds, request_bytes, state["sent"])
        if self.settings.access_log and access_logger.isEnabledFor(logging.INFO):
            client = scope.get("client")
            access_logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"][:200],
                    "status": state["status"],
                    "duration_ms": round(seconds * 1000, 3),
                    "request_bytes": request_bytes,
                    "response_bytes": state["sent"],
                    "client": client[0] if client else None,
                    "user_agent": headers.get("user-agent", "")[:200],
                },
            )
