"""What the Prometheus metrics cost: scoring with the service's metric recording on vs off.

    python -m bench.metrics_cost                 # ~1 minute; prints a Markdown table for BENCHMARKS.md
    python -m bench.metrics_cost --articles 200 --rounds 3   # a quick look

The service has no switch to turn metrics off, so this measures the recording calls directly,
around the same scoring call the service makes (`misinfo_risk.runtime.score_chunk`, i.e. validation +
`Scorer.score_many` + serialisation), in Prometheus multiprocess mode as `misinfo-risk serve`
runs it (PROMETHEUS_MULTIPROC_DIR set, values in memory-mapped files):

- single: per article, what POST /v1/score does: in-flight gauge inc/dec, `record_outcomes("single")`,
  `record_request(...)` (4 HTTP metrics);
- batch: per 100-article request scored in chunks of 32, what POST /v1/score/batch does:
  `record_outcomes("batch")` per chunk, `record_batch_size`, in-flight gauge and `record_request`.

"off" runs the same request without those calls. Both variants of each request run back to back
in alternating order, and each request's best time over the rounds is kept (as `timeit` does:
slower runs are other processes getting in the way, not the code); the table sums them. The
recording calls of one request are also timed alone, in a tight loop. HTTP parsing and the network are
left out on purpose: they would only dilute the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

# Multiprocess mode must be chosen before prometheus_client is imported (service.metrics imports it).
_METRICS_DIR = tempfile.mkdtemp(prefix="bench-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _METRICS_DIR
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench.corpus import articles_5kb  # noqa: E402
from misinfo_risk.model.scorer import Scorer, load_scorer  # noqa: E402
from misinfo_risk.model.types import MAX_ARTICLE_CHARS  # noqa: E402
from misinfo_risk.runtime import score_chunk  # noqa: E402
from misinfo_risk.service import metrics  # noqa: E402

BATCH = 100
CHUNK = 32

Request = Callable[[bool], None]
"""One request's work: scoring, plus the metric recording when called with True."""


def single_requests(scorer: Scorer, items: Sequence[dict[str, Any]]) -> list[Request]:
    def request(item: dict[str, Any]) -> Request:
        def run(record: bool) -> None:
            began = time.perf_counter()
            if record:
                in_progress = metrics.HTTP_IN_PROGRESS.labels("/v1/score")
                in_progress.inc()
            result = score_chunk(scorer, [item], max_chars=MAX_ARTICLE_CHARS)
            if record:
                metrics.record_outcomes("single", result)
                in_progress.dec()
                metrics.record_request("/v1/score", "POST", 200, time.perf_counter() - began, 5_000, 2_000)

        return run

    return [request(item) for item in items]


def batch_requests(scorer: Scorer, items: Sequence[dict[str, Any]]) -> list[Request]:
    def request(batch: Sequence[dict[str, Any]]) -> Request:
        def run(record: bool) -> None:
            began = time.perf_counter()
            if record:
                in_progress = metrics.HTTP_IN_PROGRESS.labels("/v1/score/batch")
                in_progress.inc()
            for start in range(0, len(batch), CHUNK):
                result = score_chunk(scorer, batch[start : start + CHUNK], start=start, max_chars=MAX_ARTICLE_CHARS)
                if record:
                    metrics.record_outcomes("batch", result)
            if record:
                metrics.record_batch_size("batch", len(batch))
                in_progress.dec()
                metrics.record_request("/v1/score/batch", "POST", 200, time.perf_counter() - began, 500_000, 200_000)

        return run

    return [request(items[i : i + BATCH]) for i in range(0, len(items), BATCH)]


def compare(requests: Sequence[Request], rounds: int) -> tuple[float, float]:
    """Seconds for all requests without and with recording: each request's best time over `rounds`.

    Both variants of a request run back to back, in alternating order, so whatever else the
    machine is doing hits them alike; the best of several rounds drops the interrupted ones.
    """
    for run in requests:  # warm-up: creates every labelled child and its mmap entries
        run(True)
        run(False)
    off = [float("inf")] * len(requests)
    on = [float("inf")] * len(requests)
    for r in range(rounds):
        for i, run in enumerate(requests):
            for record in (False, True) if (r + i) % 2 == 0 else (True, False):
                began = time.perf_counter()
                run(record)
                elapsed = time.perf_counter() - began
                if record:
                    on[i] = min(on[i], elapsed)
                else:
                    off[i] = min(off[i], elapsed)
    return sum(off), sum(on)


def recording_only_us(scorer: Scorer, items: Sequence[dict[str, Any]], repeat: int = 2_000) -> float:
    """Best microseconds for the recording calls of one single-article request, without the scoring."""
    results = [score_chunk(scorer, [item], max_chars=MAX_ARTICLE_CHARS) for item in items[:repeat]]
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        for result in results:
            in_progress = metrics.HTTP_IN_PROGRESS.labels("/v1/score")
            in_progress.inc()
            metrics.record_outcomes("single", result)
            in_progress.dec()
            metrics.record_request("/v1/score", "POST", 200, 0.001, 5_000, 2_000)
        best = min(best, (time.perf_counter() - began) / len(results))
    return best * 1e6


def exposition_ms(repeat: int = 20) -> float:
    """Median milliseconds to render /metrics from this process's files (what one scrape costs)."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        metrics.exposition(None)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1e3


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000, help="~5 KB articles per pass (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all requests (default 5)")
    args = parser.parse_args(argv)
    try:
        scorer = load_scorer()
        items = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(args.articles)]
        metrics.set_model(scorer.card)
        print(f"machine: {os.cpu_count()} cores, {_cpu_model()}, Python {platform.python_version()}; model {scorer.version}")
        print(f"{len(items)} articles of ~{statistics.mean(len(i['text']) for i in items):,.0f} chars, {args.rounds} rounds\n")
        print("| workload | metrics off | metrics on | on / off |")
        print("|---|---|---|---|")
        single_off = 0.0
        workloads = {"single (POST /v1/score path)": single_requests, "batch (100 per request, chunks of 32)": batch_requests}
        for name, workload in workloads.items():
            off, on = compare(workload(scorer, items), args.rounds)
            per_off, per_on = off / len(items) * 1e6, on / len(items) * 1e6
            single_off = single_off or per_off
            print(f"| {name} | {per_off:,.0f} µs/article | {per_on:,.0f} µs/article | {on / off:.3f} |")
        calls = recording_only_us(scorer, items)
        share = calls / single_off
        print(f"\nrecording calls of one single-article request alone: {calls:.1f} µs = {share:.1%} of its scoring time")
        print(f"rendering /metrics (one scrape, this process's files): {exposition_ms():.2f} ms")
    finally:
        shutil.rmtree(_METRICS_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
