"""In-process scoring speed of the shipped model on ~5 KB articles.

    python -m bench.inprocess            # prints a Markdown table for BENCHMARKS.md

Measures: Scorer.score p50/p99 (signals, evidence and explanations included), Scorer.score_many
articles/s on one core, and all heuristic signals alone in MB/s.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

from bench.corpus import articles_5kb
from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics import run_heuristics
from misinfo_risk.model.scorer import load_scorer


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    scorer = load_scorer()
    articles = articles_5kb(2_000)
    size = statistics.mean(len(a.text) + len(a.title or "") for a in articles)
    for a in articles[:200]:
        scorer.score(a)  # warm-up
    single = []
    for a in articles[:1_000]:
        t0 = time.perf_counter()
        scorer.score(a)
        single.append(time.perf_counter() - t0)
    single.sort()
    t0 = time.perf_counter()
    for i in range(0, len(articles), 100):
        scorer.score_many(articles[i : i + 100])
    batch_rate = len(articles) / (time.perf_counter() - t0)
    names = scorer.card.heuristics
    t0 = time.perf_counter()
    for a in articles:
        run_heuristics(Doc(a), names)
    signal_seconds = time.perf_counter() - t0
    mb_s = sum(len(a.text) + len(a.title or "") for a in articles) / signal_seconds / 1e6
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"articles: {len(articles)}, mean {size:,.0f} characters")
    print("| measure | result |")
    print("|---|---|")
    print(f"| Scorer.score p50 | {single[len(single) // 2] * 1e3:.3f} ms |")
    print(f"| Scorer.score p99 | {single[int(len(single) * 0.99)] * 1e3:.3f} ms |")
    print(f"| Scorer.score_many (chunks of 100, one core) | {batch_rate:,.0f} articles/s |")
    print(f"| all {len(names)} signals incl. normalisation | {mb_s:.1f} MB/s |")


if __name__ == "__main__":
    main()
