"""A real Prometheus server for tests: started on a free loopback port, queried over its HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
import yaml

from tests.deploy.processes import ManagedProcess, free_port, require_binary, wait_for
from tests.deploy.promql import RULES_DIR

SCRAPE_INTERVAL = "1s"
JOB = "misinfo-risk"


class PrometheusServer:
    """Prometheus scraping one target every second and evaluating the shipped rules every second."""

    def __init__(self, target: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
            "rule_files": [str(path) for path in sorted(RULES_DIR.glob("*.yml"))],
            "scrape_configs": [{"job_name": JOB, "metrics_path": "/metrics", "static_configs": [{"targets": [target]}]}],
        }
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.process = ManagedProcess(
            "prometheus",
            [
                require_binary("prometheus"),
                f"--config.file={config_path}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            workdir / "prometheus.log",
        )
        self._http = httpx2.Client(base_url=self.url, timeout=10.0)
        wait_for(self._ready, timeout=60, what="Prometheus to be ready", process=self.process)

    def _ready(self) -> bool | None:
        try:
            return True if self._http.get("/-/ready").status_code == 200 else None
        except httpx2.TransportError:
            return None

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; returns `data`, fails on an API error."""
        response = self._http.get(f"/api/v1/{path}", params=params)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query; the vector's samples as returned by the API."""
        data = self.api("query", query=expr)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] == "vector" else [data]
        return result

    def values_by(self, expr: str, label: str) -> dict[str, float]:
        """An instant vector as {value of `label`: sample value}."""
        return {sample["metric"].get(label, ""): float(sample["value"][1]) for sample in self.query(expr)}

    def values_by_labels(self, expr: str, *labels: str) -> dict[tuple[str, ...], float]:
        """An instant vector as {(value of each label in `labels`): sample value}."""
        return {
            tuple(sample["metric"].get(label, "") for label in labels): float(sample["value"][1]) for sample in self.query(expr)
        }

    def scalar(self, expr: str) -> float | None:
        """The single sample of an instant query, or None when the result is empty."""
        samples = self.query(expr)
        assert len(samples) <= 1, f"{expr} returned {len(samples)} series"
        return float(samples[0]["value"][1]) if samples else None

    def stop(self) -> None:
        self._http.close()
        self.process.stop()
