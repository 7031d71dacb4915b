"""HTTP benchmarks of `misinfo-risk serve` (issue 3) on ~5 KB articles cut from ../shared/data at run time.

    python -m bench.http_bench all           # every part; prints Markdown for BENCHMARKS.md
    python -m bench.http_bench ceiling       # scoring alone, 1 process vs 2 at once: what 2 cores can give here
    python -m bench.http_bench latency       # HTTP p50 (wrk, 1 keep-alive connection) vs in-process p50
    python -m bench.http_bench throughput    # req/s, p50/p99: 1 vs 2 workers, 16 and 2 connections, 1 vs 2 cores
    python -m bench.http_bench batch         # 1,000-article batches over one connection, server on 1 vs 2 cores
    python -m bench.http_bench keepalive     # the ~40 ms keep-alive stall: uvicorn's asyncio loop vs uvloop, 2 workers

Needs `wrk` (Debian: apt-get install wrk) and `taskset` (util-linux). Servers and load generators
are separate processes; "1 core" pins the whole server (web worker and scoring processes) with
`taskset -c 0`. Every measurement waits until the rest of the machine is quiet, is repeated
(median reported), and records how busy the machine was while it ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import articles_5kb
from bench.http_server import LoadMeter, Run, Server, keep_alive_probe, wait_for_quiet, write_bodies, wrk

SECONDS = 10
REPEATS = 3


def bodies(directory: Path, n: int = 200) -> tuple[Path, list[dict[str, Any]]]:
    articles = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(n)]
    return write_bodies(articles, directory), articles


def median_run(runs: list[Run]) -> Run:
    """The run with the median rate (its latencies come with it)."""
    return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]


def measure(
    server: Server, path: Path, connections: int, seconds: int = SECONDS, repeats: int = REPEATS
) -> tuple[Run, list[Run]]:
    """Median run and all runs; each wrk run opens new connections (so the kernel deals them out afresh)."""
    wrk(server.url + "/v1/score", path, connections=connections, seconds=2)  # warm-up
    runs = []
    for _ in range(repeats):
        wait_for_quiet()
        mark = server.access_lines()
        run = wrk(server.url + "/v1/score", path, connections=connections, seconds=seconds)
        run.workers_used = server.workers_serving(since=mark)
        runs.append(run)
    return median_run(runs), runs


def row(name: str, run: Run, runs: list[Run]) -> str:
    rates = sorted(r.rate for r in runs)
    split = ", ".join(str(r.workers_used) for r in runs)
    return (
        f"| {name} | {run.rate:,.0f} | {rates[0]:,.0f}-{rates[-1]:,.0f} | {split} | {run.p50_ms:.2f} | {run.p99_ms:.2f} "
        f"| {run.busy:.0%} |"
    )


def in_process_p50(articles: list[dict[str, Any]], scorer: Any = None, passes: int = 5) -> tuple[float, float]:
    """p50 (ms) of Scorer.score, and of the service's own scoring call (validation + scoring + JSON), same articles."""
    from misinfo_risk.model.scorer import load_scorer
    from misinfo_risk.model.types import parse_article
    from misinfo_risk.runtime import score_chunk

    scorer = scorer or load_scorer()
    parsed = [parse_article(a) for a in articles]
    for a in parsed:
        scorer.score(a)
    pure, full = [], []
    for _ in range(passes):  # separate loops: neither call warms the caches for the other
        for a in parsed:
            t0 = time.perf_counter()
            scorer.score(a)
            pure.append(time.perf_counter() - t0)
        for raw in articles:
            t0 = time.perf_counter()
            score_chunk(scorer, [raw], max_chars=200_000)
            full.append(time.perf_counter() - t0)
    return statistics.median(pure) * 1e3, statistics.median(full) * 1e3


LATENCY_ROUNDS = 5


def part_latency(work: Path) -> list[str]:
    """Interleaved rounds (in-process, then each server over HTTP), so the VM's drift hits both sides of a ratio."""
    from misinfo_risk.model.scorer import load_scorer

    path, articles = bodies(work)
    scorer = load_scorer()
    floor = [sys.executable, "-m", "uvicorn", "bench.http_floor:app", "--loop", "uvloop", "--http", "httptools"]
    floor += ["--port", "0", "--no-access-log", "--log-level", "info"]
    starts: dict[str, Callable[[], Server]] = {
        "1 worker, scoring pool (default)": Server.serve,
        "1 worker, no pool (`--pool-workers 0`)": lambda: Server.serve("--pool-workers", "0"),
        "the floor: a bare ASGI app on uvicorn, body -> `score_chunk` -> JSON (`bench/http_floor.py`)": lambda: Server(
            floor, workers=1
        ),
    }
    rounds: list[dict[str, float]] = []
    with contextlib.ExitStack() as stack:  # every server started is stopped, also if a later one fails
        servers = {label: stack.enter_context(start()) for label, start in starts.items()}
        for server in servers.values():
            wrk(server.url + "/v1/score", path, connections=1, seconds=2)  # warm-up
        for _ in range(LATENCY_ROUNDS):
            wait_for_quiet()
            pure, full = in_process_p50(articles, scorer, passes=3)
            measured = {"pure": pure, "full": full}
            for label, server in servers.items():
                wait_for_quiet()
                measured[label] = wrk(server.url + "/v1/score", path, connections=1, seconds=5).p50_ms
            rounds.append(measured)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def ratios(key: str) -> str:
        each = sorted(r[key] / r["pure"] for r in rounds)
        return f"**{statistics.median(each):.2f}x** ({each[0]:.2f}-{each[-1]:.2f})"

    lines = [
        f"{LATENCY_ROUNDS} rounds; each: in-process p50 (3 passes over 200 articles), then 5 s of wrk per server.",
        "",
        "| measure | p50, median of rounds | vs `Scorer.score`, median of per-round ratios (min-max) |",
        "|---|---|---|",
        f"| in-process `Scorer.score` | {median('pure'):.3f} ms | 1.00x |",
        f"| in-process validate + score + serialise (`misinfo_risk.runtime.score_chunk`) "
        f"| {median('full'):.3f} ms | {ratios('full')} |",
    ]
    for label in starts:
        lines.append(f"| HTTP, {label}, 1 keep-alive connection (wrk) | {median(label):.3f} ms | {ratios(label)} |")
    return lines


def part_throughput(work: Path) -> list[str]:
    path, _ = bodies(work)
    configs: list[tuple[str, dict[str, Any]]] = [
        ("1 worker, pool (default), 1 core (taskset)", {"workers": 1, "cpus": "0"}),
        ("1 worker, pool (default), 2 cores", {"workers": 1}),
        ("2 workers, pool (default), 2 cores", {"workers": 2}),
        ("1 worker, no pool, 2 cores", {"workers": 1, "options": ("--pool-workers", "0")}),
        ("2 workers, no pool, 2 cores", {"workers": 2, "options": ("--pool-workers", "0")}),
    ]
    results: dict[tuple[str, int], tuple[Run, list[Run]]] = {}
    for name, config in configs:
        with Server.serve(*config.get("options", ()), workers=config["workers"], cpus=config.get("cpus")) as server:
            for connections in (16, 2):
                results[(name, connections)] = measure(server, path, connections)
    lines = [
        "| server | connections | req/s (median) | min-max | workers that served, per run | p50 ms | p99 ms | machine busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (name, connections), (run, runs) in results.items():
        lines.append(row(f"{name} | {connections}", run, runs))
    lines += ["", "| ratio | 16 connections | 2 connections |", "|---|---|---|"]

    def ratio(a: str, b: str) -> str:
        return " | ".join(f"{results[(a, c)][0].rate / results[(b, c)][0].rate:.2f}x" for c in (16, 2))

    lines.append(f"| **2 workers (2 cores) / 1 worker (1 core)**, default | {ratio(configs[2][0], configs[0][0])} |")
    lines.append(f"| 1 worker, 2 cores / 1 core, default | {ratio(configs[1][0], configs[0][0])} |")
    lines.append(f"| 2 workers / 1 worker (default, pool) | {ratio(configs[2][0], configs[1][0])} |")
    lines.append(f"| 2 workers / 1 worker (no pool) | {ratio(configs[4][0], configs[3][0])} |")
    return lines


def batch_client(url: str, batch: Path, rounds: int) -> dict[str, float]:
    """Runs in its own process: POST the same 1,000-article batch `rounds` times over one keep-alive connection."""
    import httpx2

    body = batch.read_bytes()
    count = len(json.loads(body))
    with httpx2.Client(base_url=url, timeout=600) as http:
        assert http.post("/v1/score/batch", content=body, headers={"content-type": "application/json"}).status_code == 200
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            response = http.post("/v1/score/batch", content=body, headers={"content-type": "application/json"})
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200 and response.json()["count"] == count
    return {"articles_per_s": count / statistics.median(times), "seconds_median": statistics.median(times)}


def part_batch(work: Path, rounds: int = 5) -> list[str]:
    articles = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(1_000)]
    batch = work / "batch.json"
    batch.write_text(json.dumps(articles))
    lines = ["| server | articles/s | s per batch | machine busy |", "|---|---|---|---|"]
    rates = {}
    for label, cpus in (("1 worker, 1 core (taskset -c 0)", "0"), ("1 worker, 2 cores", None)):
        with Server.serve(workers=1, cpus=cpus) as server:
            runs = []
            for _ in range(REPEATS):
                wait_for_quiet()
                with LoadMeter() as meter:
                    out = subprocess.run(
                        [sys.executable, "-m", "bench.http_bench", "_batch_client", server.url, str(batch), str(rounds)],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                runs.append((json.loads(out), meter.busy))
            result, busy = sorted(runs, key=lambda r: r[0]["articles_per_s"])[len(runs) // 2]
        rates[label] = result["articles_per_s"]
        lines.append(f"| {label} | {result['articles_per_s']:,.0f} | {result['seconds_median']:.3f} | {busy:.0%} |")
    one, two = rates.values()
    lines.append(f"| **2 cores / 1 core** | **{two / one:.2f}x** | | |")
    return lines


def part_keepalive(work: Path) -> list[str]:
    """GET /healthz over one keep-alive connection with 2 workers: uvicorn on asyncio vs uvloop."""
    metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-")
    lines = ["| server (2 workers, 1 keep-alive connection, GET /healthz) | p50 |", "|---|---|"]
    for loop in ("asyncio", "uvloop"):
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "misinfo_risk.service.app:create_app",
            "--factory",
            "--port",
            "0",
            "--workers",
            "2",
            "--loop",
            loop,
            "--http",
            "httptools",
            "--log-level",
            "info",
        ]
        with Server(argv, workers=2, env={"PROMETHEUS_MULTIPROC_DIR": metrics_dir, "RISK_POOL_WORKERS": "0"}) as server:
            wait_for_quiet()
            p50 = keep_alive_probe(server.url, 5)
        lines.append(f"| `uvicorn --loop {loop}` | {p50:.3f} ms |")
    with Server.serve(workers=2, env={"RISK_POOL_WORKERS": "0"}) as server:
        wait_for_quiet()
        lines.append(f"| `misinfo-risk serve --workers 2` | {keep_alive_probe(server.url, 5):.3f} ms |")
    return lines


def score_loop(seconds: float) -> float:
    """Runs in its own process: in-process scoring (validate + score + serialise) for `seconds`; articles/s."""
    from misinfo_risk.model.scorer import load_scorer
    from misinfo_risk.runtime import score_chunk

    scorer = load_scorer()
    articles = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(200)]
    for a in articles:
        score_chunk(scorer, [a], max_chars=200_000)
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for a in articles:
            score_chunk(scorer, [a], max_chars=200_000)
        count += len(articles)
    return count / (time.perf_counter() - t0)


def part_ceiling(work: Path) -> list[str]:
    """What two cores give for scoring alone on this machine: one scoring process, then two at once."""
    argv = [sys.executable, "-m", "bench.http_bench", "_score_loop", "10"]
    wait_for_quiet()
    one = float(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    wait_for_quiet()
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    two = [float(p.communicate()[0]) for p in procs]
    return [
        "| in-process scoring, no HTTP | articles/s |",
        "|---|---|",
        f"| one process alone | {one:,.0f} |",
        f"| two processes at once (each) | {two[0]:,.0f}, {two[1]:,.0f} |",
        f"| **two / one** | **{sum(two) / one:.2f}x** |",
    ]


PARTS = {
    "ceiling": part_ceiling,
    "latency": part_latency,
    "throughput": part_throughput,
    "batch": part_batch,
    "keepalive": part_keepalive,
}


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "_batch_client":
        print(json.dumps(batch_client(args[1], Path(args[2]), int(args[3]))))
        return
    if args and args[0] == "_score_loop":
        print(score_loop(float(args[1])))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.http_bench")
    parser.add_argument("part", choices=[*PARTS, "all"])
    part = parser.parse_args(args).part
    print(
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
        f"wrk {SECONDS}s x{REPEATS} (median), ~5 KB articles from ../shared/data"
    )
    with tempfile.TemporaryDirectory(prefix="http-bench-") as tmp:
        for name, function in PARTS.items():
            if part in (name, "all"):
                print(f"\n### {name}\n")
                print("\n".join(function(Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
