"""deploy/compose.yaml wires the shipped Prometheus rules and Grafana dashboard to the service.

CI also runs `docker compose config` on it (.ci/run, Docker step); no image is pulled here.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.processes import require_binary
from tests.deploy.promql import DEPLOY, PROMETHEUS_CONFIG, RULES_DIR

COMPOSE = DEPLOY / "compose.yaml"
COMPOSE_PROMETHEUS = DEPLOY / "compose" / "prometheus.yml"
COMPOSE_DATASOURCE = DEPLOY / "compose" / "grafana-datasource.yml"
SHIPPED_DATASOURCE = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def mounts(service: str) -> dict[str, Path]:
    """Container path -> host path of each bind mount of a compose service."""
    out = {}
    for volume in load(COMPOSE)["services"][service]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            out[target] = (DEPLOY / source).resolve()
    return out


def test_every_bind_mount_is_a_shipped_file_or_folder() -> None:
    for service in ("prometheus", "grafana"):
        for target, source in mounts(service).items():
            assert source.exists(), f"{service}: {source} (for {target}) is missing"
    assert mounts("prometheus")["/etc/prometheus/rules"] == RULES_DIR
    grafana = mounts("grafana")
    assert grafana["/var/lib/grafana/dashboards/misinfo-risk"] == DEPLOY / "grafana" / "dashboards"
    provider = load(grafana["/etc/grafana/provisioning/dashboards"] / "misinfo-risk.yml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards/misinfo-risk"


def test_the_service_is_built_from_the_dockerfile() -> None:
    service = load(COMPOSE)["services"]["misinfo-risk"]
    assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DEPLOY.parent / "Dockerfile"
    assert "8000:8000" in service["ports"]


def test_compose_prometheus_config_is_the_shipped_one_with_the_service_address() -> None:
    shipped, compose = load(PROMETHEUS_CONFIG), load(COMPOSE_PROMETHEUS)
    expected = copy.deepcopy(shipped)
    expected["scrape_configs"][0]["static_configs"] = [{"targets": ["misinfo-risk:8000"], "labels": {"env": "compose"}}]
    assert compose == expected


def test_compose_datasource_is_the_shipped_one_with_the_prometheus_address() -> None:
    shipped, compose = load(SHIPPED_DATASOURCE), load(COMPOSE_DATASOURCE)
    shipped["datasources"][0]["url"] = "http://prometheus:9090"
    assert compose == shipped


def test_promtool_accepts_the_compose_config_with_the_rules_as_mounted(tmp_path: Path) -> None:
    shutil.copy(COMPOSE_PROMETHEUS, tmp_path / "prometheus.yml")
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    result = subprocess.run(
        [require_binary("promtool"), "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and output.count("SUCCESS") >= 3, output  # the config and both rule files
