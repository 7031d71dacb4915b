"""Where one HTTP request's time goes, measured inside a real `misinfo-risk serve` (issue 3's latency goal).

    python -m bench.http_phases                 # instrumented server (defaults), wrk over 1 keep-alive connection
    python -m bench.http_phases --access-log off

The server is the real command in its own process with timestamps added at phase boundaries
(uvicorn's `data_received`, the outermost app middleware, the scoring call, the response body's
`send`); wrk POSTs ~5 KB articles over one keep-alive connection. Prints medians per phase next to
the in-process p50 of the same articles. The timestamps cost a few microseconds per request, so
wrk's p50 here is a little above `python -m bench.http_bench latency`'s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PHASES = (
    ("recv", "app", "uvicorn: request bytes read -> app called (parsing, task, framework's outer layers)"),
    ("app", "s0", "service: request id, in-progress gauge, auth, media type, body read, JSON decode"),
    ("s0", "s1", "`score_chunk`: validate, score, serialise (the in-process work)"),
    ("s1", "sent0", "service: response object, headers, send path down to uvicorn"),
    ("sent0", "sent1", "uvicorn: response written to the socket"),
    ("sent1", "done", "after the response: outcome metrics, HTTP metrics, access log"),
)


def serve_instrumented(out: str, argv: list[str]) -> None:
    """Run `misinfo-risk serve` (one worker) with phase timestamps written to `out` every 500 requests."""
    import uvicorn.protocols.http.httptools_impl as httptools_impl

    from misinfo_risk import runtime
    from misinfo_risk.cli import main
    from misinfo_risk.service import middleware, scoring

    now = time.perf_counter
    current: dict[str, float] = {}
    done: list[dict[str, float]] = []

    read = httptools_impl.HttpToolsProtocol.data_received

    def data_received(self: Any, data: bytes) -> None:
        if not current:
            current["recv"] = now()
        read(self, data)

    outer = middleware.RequestContextMiddleware.__call__

    async def app(self: Any, scope: Any, receive: Any, send: Any) -> None:
        current["app"] = now()

        async def timed_send(message: Any) -> None:
            body = message["type"] == "http.response.body"
            if body:
                current["sent0"] = now()
            await send(message)
            if body:
                current["sent1"] = now()

        await outer(self, scope, receive, timed_send)
        current["done"] = now()
        done.append(dict(current))
        current.clear()
        if len(done) % 500 == 0:
            Path(out).write_text(json.dumps(done))

    score_chunk = runtime.score_chunk

    def timed_score_chunk(*args: Any, **kwargs: Any) -> Any:
        current["s0"] = now()
        result = score_chunk(*args, **kwargs)
        current["s1"] = now()
        return result

    httptools_impl.HttpToolsProtocol.data_received = data_received  # type: ignore[method-assign]
    middleware.RequestContextMiddleware.__call__ = app  # type: ignore[method-assign]
    scoring.score_chunk = timed_score_chunk  # type: ignore[attr-defined]  # scoring calls it by its module global
    sys.argv = ["misinfo-risk", "serve", *argv]
    main()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--access-log", choices=("on", "off"), default="on")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--serve", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve_instrumented(args.serve[0], args.serve[1:])
        return

    from bench.http_bench import bodies, in_process_p50
    from bench.http_server import Server, wait_for_quiet, wrk

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path, articles = bodies(work)
        wait_for_quiet()
        pure, full = in_process_p50(articles)
        out = work / "phases.json"
        argv_ = [sys.executable, "-m", "bench.http_phases", "--serve", str(out), "--port", "0", "--log-level", "info"]
        env = {"RISK_ACCESS_LOG": "true" if args.access_log == "on" else "false"}
        with Server(argv_, workers=1, env=env) as server:
            wrk(server.url + "/v1/score", path, connections=1, seconds=2)  # warm-up
            wait_for_quiet()
            mark = len(json.loads(out.read_text())) if out.exists() else 0
            run = wrk(server.url + "/v1/score", path, connections=1, seconds=args.seconds)
        rows = [r for r in json.loads(out.read_text())[mark:] if all(k in r for k, _, _ in PHASES)]

    def median_us(a: str, b: str) -> float:
        return float(statistics.median(r[b] - r[a] for r in rows)) * 1e6

    gap = statistics.median(b["recv"] - a["done"] for a, b in zip(rows, rows[1:], strict=False)) * 1e6
    print(f"{len(rows)} requests, access log {args.access_log}, wrk p50 {run.p50_ms:.3f} ms, {run.rate:,.0f} req/s\n")
    print("| phase | median µs |\n|---|---|")
    for a, b, label in PHASES:
        print(f"| {label} | {median_us(a, b):.0f} |")
    print(f"| request read -> response written (server side) | {median_us('recv', 'sent1'):.0f} |")
    print(f"| end of one request -> next request read (client turnaround still left) | {gap:.0f} |")
    print(
        f"\nin-process p50: `Scorer.score` {pure * 1e3:.0f} µs, `score_chunk` {full * 1e3:.0f} µs; "
        f"wrk p50 / Scorer.score = {run.p50_ms / pure:.2f}x"
    )


if __name__ == "__main__":
    main()
