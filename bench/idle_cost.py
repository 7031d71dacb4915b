"""What scoring one article costs right after the process has idled, against back to back (no HTTP at all).

    python -m bench.idle_cost [--pause-us 100] [--passes 3]

Pinned to CPU 0, article by article: score it once (so its own data is as warm as it gets), score it again at
once ("back to back"), sleep `--pause-us`, score it a third time ("after a pause"); the median of the paired
differences is what idling costs. A server idles like this between requests on one keep-alive connection
(bench.http_gap's "scoring's own extra in a server"). Measured twice: on a machine left alone, then with a
spinner at SCHED_IDLE priority on every CPU, which runs only when nothing else wants the CPU: it takes no time
from the scorer but keeps the CPU from going idle (on a VM, from halting and being handed back to the host).
If the cost is the CPU idling and not our code's memory, the spinner makes it vanish.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.corpus import articles_5kb
from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.runtime import score_chunk

MAX_CHARS = 200_000
_SPIN = "import os\nos.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\nwhile True: pass"


@contextmanager
def spinners(on: bool) -> Iterator[None]:
    """One SCHED_IDLE busy loop pinned to each CPU while the block runs (nothing if not `on`)."""
    procs = (
        [subprocess.Popen(["taskset", "-c", str(cpu), sys.executable, "-c", _SPIN]) for cpu in sorted(os.sched_getaffinity(0))]
        if on
        else []
    )
    try:
        time.sleep(0.5 if on else 0)
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def measure(scorer: Scorer, items: list[dict[str, object]], pause: float, passes: int) -> tuple[float, float, float]:
    back, after = [], []
    for _ in range(passes):
        for item in items:
            score_chunk(scorer, [item], max_chars=MAX_CHARS)
            t0 = time.perf_counter()
            score_chunk(scorer, [item], max_chars=MAX_CHARS)
            back.append(time.perf_counter() - t0)
            time.sleep(pause)
            t0 = time.perf_counter()
            score_chunk(scorer, [item], max_chars=MAX_CHARS)
            after.append(time.perf_counter() - t0)
    paired = statistics.median(a - b for a, b in zip(after, back, strict=True))
    return statistics.median(back), statistics.median(after), paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pause-us", type=float, default=100.0)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {0})
    scorer = load_scorer()
    items = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(200)]
    print(f"{os.cpu_count()} CPUs, pause {args.pause_us:g} us, {len(items)} articles x {args.passes} passes\n")
    print("| CPUs | back to back p50 (ms) | after a pause p50 (ms) | paired difference, median (us) |")
    print("|---|---|---|---|")
    for on in (False, True, False, True):
        with spinners(on):
            back, after, paired = measure(scorer, items, args.pause_us / 1e6, args.passes)
        label = "kept busy by SCHED_IDLE spinners" if on else "left alone"
        print(f"| {label} | {back * 1e3:.3f} | {after * 1e3:.3f} | {paired * 1e6:+.0f} |", flush=True)


if __name__ == "__main__":
    main()
