"""uvicorn's httptools protocol plus a request-head timeout (uvicorn has none of its own; docs/service.md, "Slow clients").

Without it a connection that sends nothing, or trickles its request head, is held for ever (and, by the
hundred, every file descriptor). A slow *body* is the request middleware's job (`RISK_BODY_TIMEOUT`), where
it counts only while the app waits for body bytes (not while the server itself holds reading back).
It overrides asyncio's and httptools' callbacks of a uvicorn class; tests/service/test_untrusted_e2e.py
checks the behaviour on a real server, so an upstream change fails there.
"""

from __future__ import annotations

import asyncio
import functools

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from misinfo_risk.service.settings import Settings


@functools.cache
def header_timeout() -> float:
    """Seconds allowed for a request head: the worker's RISK_HEADER_TIMEOUT setting."""
    return Settings().header_timeout


class HeadTimeoutProtocol(HttpToolsProtocol):
    """See the module docstring; passed to uvicorn as `http="misinfo_risk.service.protocol:HeadTimeoutProtocol"`."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as uvicorn declares it
        super().connection_made(transport)
        self._start_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(header_timeout(), self.transport.close)  # closing twice is harmless

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
