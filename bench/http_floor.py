"""The least an HTTP server can do to score an article: the floor for `bench.http_bench latency`.

    uvicorn bench.http_floor:app --loop uvloop --http httptools --port 8000 --no-access-log

A bare ASGI app on uvicorn (uvloop + httptools, as the service runs): read the body, decode it,
`misinfo_risk.runtime.score_chunk` (validation, scoring, serialisation: the service's own scoring call),
send the JSON. No request id, auth, media-type or size checks, metrics or access log, no FastAPI.
Not a service anyone should run: it exists to show how much of the service's latency over
in-process scoring is the server and the process it scores in, rather than the service's features.

With BENCH_FLOOR_CANNED=1 it scores the first request only and answers every later one with that same
result: the HTTP exchange (client, loopback, uvloop, httptools, ASGI) without any scoring.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.runtime import Scored, score_chunk

_scorer: Scorer | None = None
_canned: bytes | None = None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _scorer, _canned
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _scorer = load_scorer()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert _scorer is not None
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if _canned is not None:
        status, payload = 200, _canned
    else:
        outcome = score_chunk(_scorer, [orjson.loads(body)], max_chars=200_000).outcomes[0]
        status, payload = (200, outcome.json) if isinstance(outcome, Scored) else (422, b'{"error": "invalid"}')
        if os.environ.get("BENCH_FLOOR_CANNED") == "1":
            _canned = payload
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})
