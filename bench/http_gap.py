"""What one article costs over HTTP beyond in-process scoring (issue 12's latency check), with the floor.

    python -m bench.http_gap [--rounds 5] [--seconds 5] [--spin]

Each round measures, one after the other on the same ~5 KB articles (bench.corpus):

- in-process: p50 of `misinfo_risk.runtime.score_chunk` on one article (validate, score, serialise: the
  work the service does for `POST /v1/score`), 3 passes over 200 articles in a fresh process;
- floor: wrk p50 over 1 keep-alive connection against `bench/http_floor.py`, a bare ASGI app on uvicorn
  (uvloop + httptools) that reads the body, calls `score_chunk` and sends the bytes: no FastAPI, request
  id, auth, checks, metrics or access log; what serving over HTTP costs on this machine before any feature;
- service: wrk p50 over 1 keep-alive connection against `misinfo-risk serve --workers 1` (access log off);
- HTTP alone: the floor's server answering every request with one result scored once (BENCH_FLOOR_CANNED=1):
  the exchange without scoring. Floor - in-process - HTTP alone is what scoring itself costs more in a server,
  between requests, than back to back in a loop (its memory colder).

Prints each round's figures and the gaps (floor minus in-process, service minus in-process, service minus
floor), then their medians. Interleaving the three within a round cancels most of the VM's drift. `--spin`
runs everything with a SCHED_IDLE busy loop on every CPU (bench.idle_cost): it takes no time from the servers,
wrk or the scorer, but keeps the CPUs from going idle between requests.
Needs `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.corpus import articles_5kb
from bench.http_server import write_bodies, wrk
from bench.http_side_by_side import ROOT, TreeServer, in_process_p50
from bench.idle_cost import spinners

FLOOR = [sys.executable, "-m", "uvicorn", "bench.http_floor:app", "--loop", "uvloop", "--http", "httptools", "--no-access-log"]
"""The floor's server: uvicorn with uvloop and httptools, as `misinfo-risk serve` runs, and no access log."""


def one_round(bodies: Path, seconds: int) -> dict[str, float]:
    out = {"in_process": in_process_p50(ROOT, bodies)}
    with TreeServer(ROOT, workers=1, command=FLOOR) as floor:
        wrk(floor.url, bodies, connections=1, seconds=2)  # warm-up
        out["floor"] = wrk(floor.url, bodies, connections=1, seconds=seconds).p50_ms
    with TreeServer(ROOT, workers=1, command=["env", "BENCH_FLOOR_CANNED=1", *FLOOR]) as canned:
        wrk(canned.url, bodies, connections=1, seconds=2)
        out["http_alone"] = wrk(canned.url, bodies, connections=1, seconds=seconds).p50_ms
    with TreeServer(ROOT, workers=1) as server:
        wrk(server.url + "/v1/score", bodies, connections=1, seconds=2)
        out["service"] = wrk(server.url + "/v1/score", bodies, connections=1, seconds=seconds).p50_ms
    return out


def _row(m: dict[str, float]) -> str:
    return (
        f"{m['in_process']:.3f} | {m['floor']:.3f} | {m['service']:.3f} | {m['floor_gap']:+.3f} | {m['gap']:+.3f} "
        f"| {m['own']:+.3f} | {m['http_alone']:.3f} | {m['colder']:+.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--spin", action="store_true", help="keep every CPU busy with SCHED_IDLE spinners")
    args = parser.parse_args()
    with spinners(args.spin):
        run(args.rounds, args.seconds, spin=args.spin)


def run(n_rounds: int, seconds: int, *, spin: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-gap-"))
    bodies = write_bodies([a.model_dump(mode="json", exclude_none=True) for a in articles_5kb(200)], work)
    rounds = []
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    spun = "; every CPU kept busy by a SCHED_IDLE spinner" if spin else ""
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; commit {commit.strip()}{spun}")
    print("\n| round | in-process p50 (ms) | floor p50 | service p50 | floor - in-process | service - in-process", end="")
    print(" | service - floor | HTTP alone p50 | scoring's own extra in a server |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in range(n_rounds):
        m = one_round(bodies, seconds)
        m |= {"floor_gap": m["floor"] - m["in_process"], "gap": m["service"] - m["in_process"], "own": m["service"] - m["floor"]}
        m["colder"] = m["floor_gap"] - m["http_alone"]
        rounds.append(m)
        print(f"| {r + 1} | {_row(m)} |", flush=True)
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    print(f"| median | {_row(med)} |")
    print(json.dumps({"rounds": rounds}), file=sys.stderr)


if __name__ == "__main__":
    main()
