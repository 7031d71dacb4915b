"""What reading the text first costs: language identification + genre, per 5 KB article, in one process.

    python -m bench.reading_cost

The same scorer code scores each article twice, alternately, on one core: once as shipped, and once
with the reading step replaced by a fixed "English, assessed" answer and no genre model. Pairing
article by article cancels the VM's drift, which moves separate runs by +-30% here. Reports the p50
of each and the median of the per-article differences (what language + genre add), for single
articles and for `score_many` chunks of 100. Last, the language identifier alone on each article's first
look (100 characters): right after scoring an article (its tables cold, as when scoring) and again at once
(warm); what it costs while scoring is set by memory, not arithmetic.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.corpus import articles_5kb
from misinfo_risk.model.document import Doc
from misinfo_risk.model.reading import SAMPLE_CHARS, Reading, identify, word_sample
from misinfo_risk.model.scorer import load_scorer
from misinfo_risk.model.types import LanguageReading

_ENGLISH = Reading(LanguageReading(detected="en", confidence=1.0))


class _NoReading:
    """Stands in for the Reader: every article is English and readable, nothing is identified."""

    def read(self, doc: Doc) -> Reading:
        return _ENGLISH


def _paired(
    first: Callable[[Any], object], second: Callable[[Any], object], items: Sequence[Any]
) -> tuple[list[float], list[float]]:
    """Seconds of `first(item)` and `second(item)` for each item, the two calls back to back."""
    a, b = [], []
    for item in items:
        t0 = time.perf_counter()
        first(item)
        t1 = time.perf_counter()
        second(item)
        a.append(t1 - t0)
        b.append(time.perf_counter() - t1)
    return a, b


def main() -> None:
    os.sched_setaffinity(0, {0})
    shipped = load_scorer()
    bare = load_scorer(genre=False)
    bare._reader = _NoReading()  # type: ignore[assignment]  # a benchmark stand-in with the same read() method
    articles = articles_5kb(2_000)
    for a in articles[:200]:
        shipped.score(a)
        bare.score(a)
    with_, without = _paired(shipped.score, bare.score, articles[200:1_700])
    diff = [a - b for a, b in zip(with_, without, strict=True)]
    chunks = [articles[i : i + 100] for i in range(0, len(articles), 100)]
    chunk_with, chunk_without = _paired(shipped.score_many, bare.score_many, chunks)
    rate_with = len(articles) / sum(chunk_with)
    rate_without = len(articles) / sum(chunk_without)
    cold, warm = [], []
    for article in articles[200:1_200]:
        bare.score(article)  # the identifier's tables evicted by the rest of the scorer, as when scoring
        (first,), (again,) = _paired(identify, identify, [word_sample(Doc(article), SAMPLE_CHARS)])
        cold.append(first)
        warm.append(again)
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print("| measure | without reading | with language + genre | added |")
    print("|---|---|---|---|")
    p50 = statistics.median
    print(
        f"| `Scorer.score` p50, 5 KB article | {p50(without) * 1e3:.3f} ms | {p50(with_) * 1e3:.3f} ms | "
        f"{p50(diff) * 1e3:.3f} ms (median of paired differences) |"
    )
    print(
        f"| `score_many`, chunks of 100 | {rate_without:,.0f} articles/s | {rate_with:,.0f} articles/s | "
        f"{rate_with / rate_without - 1:+.1%} throughput |"
    )
    print(
        f"| language identifier alone, {SAMPLE_CHARS} characters, p50 | warm (again at once): {p50(warm) * 1e6:.0f} us "
        f"| right after scoring an article (cold): {p50(cold) * 1e6:.0f} us | |"
    )


if __name__ == "__main__":
    main()
