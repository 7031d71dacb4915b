"""What the service's app adds to scoring one article, without the network: paired, in one process.

    python -m bench.app_overhead [--passes 3]

The service's FastAPI app (`create_app`, access log off, no pool: single articles are scored in the web
worker anyway) is called directly as an ASGI application with a `POST /v1/score` request, article by
article, alternating with the in-process work it wraps (`misinfo_risk.runtime.score_chunk`: validate,
score, serialise) on the same article. The median of the paired differences is the app's own cost per
request: routing, request id, auth, media type, body read and JSON decode, the response, outcome and HTTP
metrics (multiprocess mode, as `misinfo-risk serve` runs them). Pairing article by article cancels most of
a shared machine's drift; what it cannot see is uvicorn and the socket (`bench.http_gap` measures those).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from typing import Any

os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-app-metrics-")

import orjson  # noqa: E402

from bench.corpus import articles_5kb  # noqa: E402
from misinfo_risk.runtime import score_chunk  # noqa: E402
from misinfo_risk.service.app import create_app  # noqa: E402
from misinfo_risk.service.settings import Settings  # noqa: E402


async def post(app: Any, body: bytes) -> int:
    """One `POST /v1/score` through the whole app; returns the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/score",
        "raw_path": b"/v1/score",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def run(passes: int) -> None:
    settings = Settings(pool_workers=0, access_log=False)
    app = create_app(settings)
    items = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(200)]
    bodies = [orjson.dumps(item) for item in items]
    async with app.router.lifespan_context(app):
        scorer = app.state.service.scorer
        max_chars = settings.max_article_chars
        for item, body in zip(items[:50], bodies[:50], strict=True):  # warm-up
            score_chunk(scorer, [item], max_chars=max_chars)
            assert await post(app, body) == 200
        direct, through_app, added = [], [], []
        for _ in range(passes):
            for item, body in zip(items, bodies, strict=True):
                t0 = time.perf_counter()
                score_chunk(scorer, [item], max_chars=max_chars)
                t1 = time.perf_counter()
                status = await post(app, body)
                t2 = time.perf_counter()
                assert status == 200
                direct.append(t1 - t0)
                through_app.append(t2 - t1)
                added.append((t2 - t1) - (t1 - t0))
    ms = 1000
    print(f"articles: {len(direct)} (~5 KB each), {passes} passes")
    print(f"in-process score_chunk p50: {statistics.median(direct) * ms:.3f} ms")
    print(f"through the app (ASGI call, no network) p50: {statistics.median(through_app) * ms:.3f} ms")
    print(f"the app's own cost per request, median of paired differences: {statistics.median(added) * ms * 1000:+.0f} us")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    asyncio.run(run(parser.parse_args().passes))


if __name__ == "__main__":
    main()
