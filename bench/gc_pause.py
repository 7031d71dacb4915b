"""What Python's cyclic garbage collector costs the scorer: chunks scored with it paused (what
`Scorer.score_many` does, see `misinfo_risk.model.scorer.collector_paused`) and with it left running.

    python -m bench.gc_pause                    # 4 chunks of 500 synthetic ~5 KB articles, 3 rounds
    python -m bench.gc_pause --chunk 100

Both variants run the batch command's chunk function (`misinfo_risk.batch.rows.score_chunk`:
validation, scoring, JSON rows) on the same items in one process, alternating, best round kept;
the collections per chunk come from `gc.get_stats()`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import platform
import time
from collections.abc import Iterator
from unittest import mock

from bench.batch_throughput import synthetic_articles
from misinfo_risk.batch.rows import score_chunk
from misinfo_risk.ingest.items import RawItem
from misinfo_risk.model.scorer import Scorer, load_scorer


@contextlib.contextmanager
def _collector_left_running() -> Iterator[None]:
    yield


def run(scorer: Scorer, chunks: list[list[RawItem]], paused: bool) -> tuple[float, list[float]]:
    patch = (
        contextlib.nullcontext() if paused else mock.patch("misinfo_risk.model.scorer.collector_paused", _collector_left_running)
    )
    with patch:
        before = [s["collections"] for s in gc.get_stats()]
        began = time.perf_counter()
        for chunk in chunks:
            score_chunk(scorer, chunk, 200_000)
        seconds = (time.perf_counter() - began) / len(chunks)
        after = [s["collections"] for s in gc.get_stats()]
    return seconds, [(a - b) / len(chunks) for a, b in zip(after, before, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    articles = synthetic_articles(args.chunk * args.chunks, 5_000)
    items = [RawItem("bench", f"line {i + 1}", fields=a) for i, a in enumerate(articles)]
    chunks = [items[i : i + args.chunk] for i in range(0, len(items), args.chunk)]
    scorer = load_scorer()
    score_chunk(scorer, chunks[0][:50], 200_000)  # warm-up
    best: dict[bool, tuple[float, list[float]]] = {}
    for _ in range(args.rounds):
        for paused in (True, False):
            result = run(scorer, chunks, paused)
            if paused not in best or result[0] < best[paused][0]:
                best[paused] = result
    print(f"machine: Python {platform.python_version()}; {args.chunks} chunks of {args.chunk} articles, best of {args.rounds}")
    print("| collector | s per chunk | articles/s | collections per chunk (gen 0, 1, 2) |")
    print("|---|---|---|---|")
    for paused, label in ((False, "running (Python's default)"), (True, "paused during scoring (shipped)")):
        seconds, collections = best[paused]
        counts = ", ".join(f"{c:g}" for c in collections)
        print(f"| {label} | {seconds:.3f} | {args.chunk / seconds:,.0f} | {counts} |")
    print(f"speed-up: {best[False][0] / best[True][0]:.2f}x")


if __name__ == "__main__":
    main()
