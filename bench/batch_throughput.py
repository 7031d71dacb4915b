"""Benchmark `misinfo-risk batch`: articles/s for ~5 KB articles, local engine on 1 and 2 cores, Dask on 2 workers.

    python bench/batch_throughput.py                      # 20,000 synthetic ~5 KB articles, 3 repeats
    python bench/batch_throughput.py --articles 2000 --repeat 1   # a quick look

Each configuration runs the real command in a subprocess (`python -m misinfo_risk batch ... --restart`),
pinned with `taskset` to the cores it may use. Two figures per run:
- "run articles/s": from the command's own summary: items / time from the start of the run (counting
  the input) to the last chunk stored; the worker processes or the LocalCluster are started earlier,
  at the top of the command, so their start-up overlaps the command's own and only partly counts here;
- "wall articles/s": items / wall-clock time of the whole command (interpreter start to exit).
The configurations run interleaved, `--repeat` rounds, and the best of the rounds is reported,
with the CPU seconds the whole machine was busy during the run (the command's processes, Dask's
forkserver-started workers included, plus anything else running) and the load average before the run (on a shared
machine other work slows some runs down; `--quiet-timeout` waits for the load to drop first).
The outputs of all configurations are checked to be identical.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SENTENCES = [
    "The city council voted 7-2 on Tuesday to approve a $4.2 million budget for the central library.",
    "A spokesperson for the mayor said in a statement that weekend opening hours would start in March.",
    "According to figures published by the national statistics office, inflation eased to 2.1 percent.",
    "The regional rail operator said punctuality rose to 91.4 percent in the third quarter.",
    "Officials confirmed the numbers at a press conference attended by reporters from several outlets.",
    "The report, which covers 2,400 households, was peer reviewed before publication.",
    "Shares in the company fell 3 percent after it cut its forecast for the year.",
    "The hospital's chief nurse, Maria Lopez, told reporters the new ward would reduce waiting times.",
    "Sources say the minister was furious, but nobody is willing to go on the record.",
    "SHOCKING footage shows what the government doesn't want you to see!!!",
    "Insiders claim the real numbers are being hidden from the public.",
    "You won't believe what happened next, share this before it gets deleted!",
    "Experts warn this could change absolutely everything we thought we knew.",
    "Many people are saying the truth will come out sooner or later.",
    "It is possible that the decision may be reversed, some analysts suggested.",
    "The court adjourned the hearing until next month after a request from the defence.",
    "Researchers at the university published their findings in a journal on Monday.",
    "Everyone knows the mainstream media will never report this story.",
    "The weather service forecast heavy rain for the coast over the weekend.",
    "Police said two people were arrested and charged with burglary on Friday night.",
]
TITLES = ["Council approves budget", "BREAKING: You won't believe this", "Rail punctuality improves",
          "What they are hiding from you", "Inflation eases again", "Hospital opens new ward"]  # fmt: skip


def synthetic_articles(n: int, size: int, seed: int = 7) -> list[dict[str, str]]:
    """`n` deterministic news-like articles of about `size` characters, mixing calm and sensational sentences."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        parts: list[str] = []
        length = 0
        while length < size:
            sentence = rng.choice(SENTENCES)
            parts.append(sentence)
            length += len(sentence) + 1
        out.append({"id": f"bench-{i}", "title": rng.choice(TITLES), "text": " ".join(parts)})
    return out


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews the figures."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_until_quiet(limit: float, timeout: float) -> float:
    """Wait (at most `timeout` s) for the load average to drop below `limit`; return it."""
    deadline = time.monotonic() + timeout
    while (load := load_average()) >= limit and time.monotonic() < deadline:
        time.sleep(5)
    return load


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs of the machine have spent busy since boot (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def run(config: dict[str, object], data: Path, out: Path, chunk_size: int) -> dict[str, float]:
    cmd = ["taskset", "-c", str(config["cpus"]), sys.executable, "-m", "misinfo_risk", "batch", str(data),
           "--output", str(out), "--restart", "--progress", "off", "--chunk-size", str(chunk_size),
           "--engine", str(config["engine"]), "--workers", str(config["workers"])]  # fmt: skip
    busy_before = machine_busy_seconds()
    # Output to a file, not a pipe: the wall time ends when the command exits, as at a terminal.
    # (Its multiprocessing forkserver, which also holds stderr, tears down for a few hundred ms
    # more in the background; a pipe would wait for that too.)
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        returncode = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=log, text=True, check=False).returncode
        wall = time.perf_counter() - started
        log.seek(0)
        stderr = log.read()
    # machine-wide: Dask's forkserver workers are not our children, so getrusage would miss them
    cpu = machine_busy_seconds() - busy_before
    if returncode != 0:
        raise SystemExit(f"{config['name']} failed ({returncode}):\n{stderr}")
    match = re.search(r"throughput: ([\d,.]+) articles/s \(([\d,]+) items processed in this run", stderr)
    assert match, stderr
    items = int(match.group(2).replace(",", ""))
    return {"run_rate": float(match.group(1).replace(",", "")), "wall_rate": items / wall, "wall_s": wall, "cpu_s": cpu}


CONFIGS = [
    {"name": "local, 1 core", "engine": "local", "workers": 1, "cpus": "0"},
    {"name": "local, 2 cores", "engine": "local", "workers": 2, "cpus": "0,1"},
    {"name": "dask LocalCluster, 2 workers", "engine": "dask", "workers": 2, "cpus": "0,1"},
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=5_000, help="characters per article (about)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--quiet-load", type=float, default=0.5, help="wait for the load average to drop below this")
    parser.add_argument("--quiet-timeout", type=float, default=0.0, help="seconds to wait for a quiet machine (0: no wait)")
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs at least 2 cores")
    workdir = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        data = workdir / "articles.jsonl"
        data.write_text("".join(json.dumps(a) + "\n" for a in synthetic_articles(args.articles, args.size)), encoding="utf-8")
        print(f"{args.articles:,} articles, {data.stat().st_size / args.articles / 1000:.1f} KB each on average; "
              f"chunk size {args.chunk_size}; best of {args.repeat}")  # fmt: skip
        runs: dict[str, list[dict[str, float]]] = {str(c["name"]): [] for c in CONFIGS}
        outputs: dict[str, bytes] = {}
        for round_ in range(args.repeat):  # interleaved, so a busy spell on a shared machine hits every config alike
            for config in CONFIGS:
                name = str(config["name"])
                out = workdir / f"out-{config['engine']}-{config['workers']}.jsonl"
                load = wait_until_quiet(args.quiet_load, args.quiet_timeout)
                runs[name].append(run(config, data, out, args.chunk_size) | {"load_before": load})
                outputs[name] = out.read_bytes()
                last = runs[name][-1]
                print(f"  round {round_ + 1}: {name:<30} run {last['run_rate']:8.1f} articles/s   wall {last['wall_rate']:8.1f}"
                      f" articles/s   ({last['wall_s']:.1f} s wall, {last['cpu_s']:.1f} s CPU, load before {load:.2f})",
                      flush=True)  # fmt: skip
        results: dict[str, dict[str, float]] = {}
        for name, done in runs.items():
            best = max(done, key=lambda r: r["run_rate"])
            results[name] = best | {"wall_rate": max(r["wall_rate"] for r in done), "wall_s": min(r["wall_s"] for r in done)}
            print(f"best: {name:<30} run {best['run_rate']:8.1f} articles/s   wall {results[name]['wall_rate']:8.1f} articles/s"
                  f"   ({best['cpu_s']:.1f} s CPU)")  # fmt: skip
        one, two, dask = (results[str(c["name"])] for c in CONFIGS)
        identical = len(set(outputs.values())) == 1
        for key, label in (("run_rate", "run"), ("wall_rate", "wall")):
            print(f"{label}: 2 cores / 1 core = {two[key] / one[key]:.2f}x (goal >= 1.8x); "
                  f"dask / local on 2 cores = {dask[key] / two[key]:.2f} (goal >= 0.85)")  # fmt: skip
        print(f"outputs identical across configurations: {identical}")
        if args.json:
            record = {"results": results, "runs": runs, "identical": identical}
            args.json.write_text(json.dumps(record, indent=2), encoding="utf-8")
        return 0 if identical else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
