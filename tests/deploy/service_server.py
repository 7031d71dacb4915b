"""A real `misinfo-risk serve` for tests, on a free loopback port, with its own metrics directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx2

from tests.deploy.processes import ManagedProcess, free_port, wait_for


def serve_command() -> list[str]:
    """The installed `misinfo-risk` console script of this interpreter (or `python -m misinfo_risk`)."""
    script = Path(sys.executable).with_name("misinfo-risk")
    return [str(script)] if script.exists() else [sys.executable, "-m", "misinfo_risk"]


class ServiceServer:
    """`misinfo-risk serve --workers N` on the given artifact; `stop()` ends it and all its processes."""

    def __init__(self, artifact: Path, workdir: Path, *, workers: int = 2) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_dir = workdir / "prometheus-multiproc"
        env = {key: value for key, value in os.environ.items() if not key.startswith("RISK_")}
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        env["RISK_ARTIFACT_PATH"] = str(artifact)
        argv = [*serve_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self.process = ManagedProcess("misinfo-risk serve", [*argv, "--log-level", "warning"], workdir / "serve.log", env)
        self.http = httpx2.Client(base_url=self.url, timeout=30.0)
        wait_for(self._ready, timeout=120, what="misinfo-risk serve to be ready", process=self.process)

    def _ready(self) -> bool | None:
        try:
            return True if self.http.get("/readyz").status_code == 200 else None
        except httpx2.TransportError:
            return None

    def stop(self) -> None:
        self.http.close()
        self.process.stop()
