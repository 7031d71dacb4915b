"""Helpers for the HTTP benchmarks: start/stop a server, run wrk, watch the machine's CPU.

Servers run as their own processes (optionally under `taskset`); load generators (wrk, or a
Python client in a subprocess) run as separate processes too.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("http_post.lua")
_RUNNING_ON = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class Server:
    """A server command on 127.0.0.1 with port 0, ready once `workers` workers finished start-up."""

    def __init__(self, argv: list[str], *, workers: int, cpus: str | None = None, env: dict[str, str] | None = None) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("RISK_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        prefix = ["taskset", "-c", cpus] if cpus else []
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        self.access = tempfile.NamedTemporaryFile(prefix="bench-access-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [*prefix, *argv], stdout=self.access, stderr=self.log, env=clean | (env or {}), start_new_session=True
        )
        self.port = self._wait(workers)

    @classmethod
    def serve(cls, *options: str, workers: int = 1, cpus: str | None = None, env: dict[str, str] | None = None) -> Server:
        argv = [
            sys.executable,
            "-m",
            "misinfo_risk",
            "serve",
            "--port",
            "0",
            "--workers",
            str(workers),
            "--log-level",
            "info",
            *options,
        ]
        return cls(argv, workers=workers, cpus=cpus, env=(env or {}) | {"RISK_ACCESS_LOG": "true"})

    def _wait(self, workers: int, timeout: float = 300) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = Path(self.log.name).read_text(errors="replace")
            match = _RUNNING_ON.search(text)
            if match and text.count("Application startup complete.") >= workers:
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {text[-2000:]}")
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.unlink(self.log.name)
        os.unlink(self.access.name)

    def access_lines(self) -> int:
        """Number of access-log lines so far (a mark for `workers_serving`)."""
        return len(Path(self.access.name).read_bytes().splitlines())

    def workers_serving(self, since: int) -> str:
        """How the requests logged after `since` were split across worker processes, e.g. "1+1" or "2+0"."""
        counts: dict[int, int] = {}
        for line in Path(self.access.name).read_bytes().splitlines()[since:]:
            entry = json.loads(line)
            if entry.get("route") == "/v1/score":
                counts[entry["pid"]] = counts.get(entry["pid"], 0) + 1
        shares = sorted(counts.values(), reverse=True)
        return "/".join(f"{100 * n // max(1, sum(shares))}%" for n in shares) or "-"

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _busy_jiffies() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def machine_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over `seconds` (0..1)."""
    b0, t0 = _busy_jiffies()
    time.sleep(seconds)
    b1, t1 = _busy_jiffies()
    return (b1 - b0) / max(1, t1 - t0)


def wait_for_quiet(limit: float = 0.15, patience: float = 600) -> float:
    """Wait (up to `patience` s) until other work on the machine uses under `limit` of its CPUs; return the last reading."""
    deadline = time.monotonic() + patience
    busy = machine_busy()
    while busy > limit and time.monotonic() < deadline:
        busy = machine_busy(2.0)
    return busy


@dataclass
class Run:
    """One load-generator run: throughput, latency percentiles (ms), machine load while it ran."""

    rate: float
    p50_ms: float
    p99_ms: float
    busy: float  # share of both CPUs busy during the run (server + load generator + anything else)
    generator_cpu: float  # CPU seconds used by the load generator itself
    seconds: float
    workers_used: str = "-"  # share of the requests each worker process served, e.g. "52%/48%" or "100%"


class LoadMeter:
    """Machine CPU busy share over a block of code (background sampling of /proc/stat)."""

    def __enter__(self) -> LoadMeter:
        self._start = _busy_jiffies()
        self._children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        b1, t1 = _busy_jiffies()
        self.busy = (b1 - self._start[0]) / max(1, t1 - self._start[1])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.generator_cpu = (after.ru_utime + after.ru_stime) - (self._children.ru_utime + self._children.ru_stime)
        self.seconds = time.perf_counter() - self._t


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, bodies: Path, *, connections: int, seconds: int, threads: int = 1) -> Run:
    """Run wrk (its own process) against `url`, POSTing `bodies` in turn."""
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA),
        url,
        "--",
        str(bodies),
    ]
    with LoadMeter() as meter:
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return Run(rate, p50, p99, meter.busy, meter.generator_cpu, meter.seconds)


def write_bodies(articles: list[dict[str, object]], directory: Path) -> Path:
    path = directory / "bodies.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles))
    return path


def keep_alive_probe(url: str, seconds: int) -> float:
    """p50 latency (ms) of GET /healthz over one keep-alive connection (wrk, no script)."""
    out = subprocess.run(
        ["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", url + "/healthz"], capture_output=True, text=True, check=True
    ).stdout
    return _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
