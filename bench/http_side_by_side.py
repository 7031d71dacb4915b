"""HTTP speed of two checkouts side by side, in one run: this tree and an older commit (issue 12's check).

    git worktree add --detach /tmp/misinfo-old <commit>
    python -m bench.http_side_by_side --old /tmp/misinfo-old [--rounds 3] [--seconds 10]

Each round starts `misinfo-risk serve` from the old tree, measures, stops it, then does the same for
this tree (old, new, old, new, ...: the shared VM's speed drifts, interleaving cancels most of it), on
the same ~5 KB articles (bench.corpus). Both trees run with the same explicit options, so a changed
default does not change the comparison:

- throughput: `--workers 2`, 16 keep-alive connections (wrk, 10 s), `POST /v1/score`: requests/s;
- batch: `--workers 1` and its default pool, five 1,000-article `POST /v1/score/batch` over one
  connection: articles/s (median);
- latency: `--workers 1`, 1 keep-alive connection (wrk): HTTP p50 of one 5 KB article, against the
  in-process p50 of the same work in this tree (validate, score, serialise: `misinfo_risk.runtime.score_chunk`).

Prints a Markdown table with each tree's median over the rounds and the per-round new/old ratios.
Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import articles_5kb
from bench.http_server import write_bodies, wrk

ROOT = Path(__file__).resolve().parents[1]
_RUNNING_ON = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")

_INPROCESS = r"""
import json, sys, time
from misinfo_risk.runtime import score_chunk
from misinfo_risk.model.scorer import load_scorer
articles = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
scorer = load_scorer()
for a in articles[:100]:
    score_chunk(scorer, [a], max_chars=200_000)
times = []
for a in articles * 3:
    t0 = time.perf_counter()
    score_chunk(scorer, [a], max_chars=200_000)
    times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({"p50_ms": times[len(times) // 2] * 1000}))
"""


class TreeServer:
    """`misinfo-risk serve` run from `tree` (its own code and shipped model), on a free port; `command`: another
    uvicorn command line to run there instead (e.g. bench/http_floor.py's app), given `--port 0`."""

    def __init__(self, tree: Path, workers: int, command: list[str] | None = None) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("RISK_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        self.log = tempfile.NamedTemporaryFile(prefix="bench-side-", suffix=".log", delete=False)
        argv = command or [sys.executable, "-m", "misinfo_risk", "serve", "--workers", str(workers)]
        argv = [*argv, "--port", "0"]
        env = clean | {"RISK_ACCESS_LOG": "false", "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen(argv, cwd=tree, stdout=subprocess.DEVNULL, stderr=self.log, env=env, start_new_session=True)
        deadline = time.monotonic() + 300
        while True:
            text = Path(self.log.name).read_text(errors="replace")
            match = _RUNNING_ON.search(text)
            if match and text.count("Application startup complete.") >= workers:
                self.url = f"http://127.0.0.1:{match.group(1)}"
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server in {tree} did not start: {text[-2000:]}")
            time.sleep(0.2)

    def __enter__(self) -> TreeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=120)
        os.unlink(self.log.name)


def batch_rate(url: str, body: bytes, rounds: int = 5) -> float:
    import httpx2

    with httpx2.Client(base_url=url, timeout=600) as http:
        headers = {"content-type": "application/json"}
        assert http.post("/v1/score/batch", content=body, headers=headers).status_code == 200
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            response = http.post("/v1/score/batch", content=body, headers=headers)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200 and response.json()["count"] == 1_000
    return 1_000 / statistics.median(times)


def in_process_p50(tree: Path, bodies: Path) -> float:
    child = [sys.executable, "-c", _INPROCESS, str(bodies)]
    env = os.environ | {"PYTHONPATH": str(tree)}
    p50: float = json.loads(subprocess.run(child, cwd=tree, env=env, capture_output=True, text=True, check=True).stdout)["p50_ms"]
    return p50


def measure(tree: Path, bodies: Path, batch: bytes, seconds: int, *, in_process: bool) -> dict[str, float]:
    out: dict[str, float] = {}
    with TreeServer(tree, workers=2) as server:
        wrk(server.url + "/v1/score", bodies, connections=16, seconds=2)  # warm-up
        out["rps_2w_16c"] = wrk(server.url + "/v1/score", bodies, connections=16, seconds=seconds).rate
    with TreeServer(tree, workers=1) as server:
        out["batch_articles_s"] = batch_rate(server.url, batch)
        wrk(server.url + "/v1/score", bodies, connections=1, seconds=2)
        out["p50_ms_1c"] = wrk(server.url + "/v1/score", bodies, connections=1, seconds=seconds).p50_ms
    if in_process:  # right after the HTTP p50, so that both see the same load
        out["inprocess_p50_ms"] = in_process_p50(tree, bodies)
    return out


def _commit(tree: Path) -> str:
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the older commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-side-"))
    articles = [a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(200)]
    bodies = write_bodies(articles, work)
    batch = json.dumps([a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(1_000)]).encode()
    trees = {"old": args.old.resolve(), "new": ROOT}
    results: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    for r in range(args.rounds):
        for name, tree in trees.items():
            results[name].append(measure(tree, bodies, batch, args.seconds, in_process=name == "new"))
            print(f"round {r + 1} {name}: {results[name][-1]}", file=sys.stderr, flush=True)
    commits = {n: _commit(t) for n, t in trees.items()}
    machine = f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    print(f"machine: {machine}; old {commits['old']}, new {commits['new']}")
    print("\n| measure | old (median) | new (median) | new/old per round |\n|---|---|---|---|")
    for key, label in (("rps_2w_16c", "single articles, 2 workers x 16 connections (req/s)"),
                       ("batch_articles_s", "1,000-article batches, 1 worker (articles/s)"),
                       ("p50_ms_1c", "p50 of one 5 KB article, 1 connection (ms)")):  # fmt: skip
        old = [r[key] for r in results["old"]]
        new = [r[key] for r in results["new"]]
        ratios = ", ".join(f"{n / o:.2f}" for o, n in zip(old, new, strict=True))
        print(f"| {label} | {statistics.median(old):,.2f} | {statistics.median(new):,.2f} | {ratios} |")
    gaps = ", ".join(f"{r['p50_ms_1c'] - r['inprocess_p50_ms']:+.2f}" for r in results["new"])
    inprocess = statistics.median(r["inprocess_p50_ms"] for r in results["new"])
    print(f"\nnew tree, in-process p50 of the same work (validate, score, serialise): {inprocess:.3f} ms (median);")
    print(f"HTTP p50 minus in-process p50, per round (ms): {gaps}")


if __name__ == "__main__":
    main()
