"""The Grafana dashboard is provisioning-ready, complete, and every panel's PromQL parses.

That its queries only name metrics the running service really exports is checked against a
real `misinfo-risk serve` in test_e2e_prometheus.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.processes import require_binary
from tests.deploy.promql import (
    DEPLOY,
    GRAFANA_BUILTINS,
    PanelQuery,
    iter_panels,
    load_dashboard,
    metric_names,
    panel_queries,
    rules_of,
    substitute,
    template_variables,
    variables_used,
)

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SAMPLE_VALUES = {"datasource": "prometheus", "job": "misinfo-risk", "instance": ".*"} | {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "5m",
    "__interval_ms": "15000",
    "__range_s": "300",
    "__range_ms": "300000",
}

DASHBOARD = load_dashboard()
PANELS = [panel for panel in iter_panels(DASHBOARD) if panel["type"] != "row"]
QUERIES = panel_queries(DASHBOARD)


def _panel(title: str) -> dict[str, Any]:
    matches = [panel for panel in PANELS if panel["title"] == title]
    assert len(matches) == 1, f"expected one panel titled {title!r}, found {len(matches)}"
    return matches[0]


def _exprs(panel: dict[str, Any]) -> str:
    return "\n".join(target["expr"] for target in panel["targets"])


def test_dashboard_is_provisioning_ready() -> None:
    assert DASHBOARD["id"] is None, "provisioned dashboards must not carry a database id"
    assert DASHBOARD["uid"] == "misinfo-risk"
    assert "__inputs" not in DASHBOARD, "__inputs is for manual import; provisioning needs no inputs"
    variables = template_variables(DASHBOARD)
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_every_panel_and_query_uses_the_datasource_variable() -> None:
    for panel in PANELS:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, f"{panel['title']} {target['refId']}"
    for name, variable in template_variables(DASHBOARD).items():
        if variable["type"] == "query":
            assert variable["datasource"] == DATASOURCE, name


def test_panel_ids_are_unique_and_panels_do_not_overlap() -> None:
    ids = [panel["id"] for panel in iter_panels(DASHBOARD)]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in iter_panels(DASHBOARD):
        pos = panel["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]


@pytest.mark.parametrize(
    ("title", "panel_type", "metric"),
    [
        ("Requests by route", "timeseries", "risk_http_requests_total"),
        ("Request latency p50 / p90 / p99", "timeseries", "risk_http_request_duration_seconds_bucket"),
        ("Errors by route", "timeseries", "risk_http_requests_total"),
        ("Risk-level mix", "timeseries", "risk_articles_scored_total"),
        ("Score distribution", "heatmap", "risk_score_bucket"),
        ("Signal firing rates", "timeseries", "risk_signal_fired_total"),
        ("Model version", "table", "risk_model_info"),
        ("Not assessed by reason", "timeseries", "risk_articles_not_assessed_total"),
        ("Genre of assessed articles", "timeseries", "risk_articles_genre_total"),
        ("Detected language", "timeseries", "risk_articles_language_total"),
        ("Result warnings", "timeseries", "risk_result_warnings_total"),
    ],
    ids=[
        "traffic",
        "latency",
        "errors",
        "risk-mix",
        "score-heatmap",
        "signals",
        "model-version",
        "not-assessed",
        "genre",
        "language",
        "warnings",
    ],
)
def test_required_panel(title: str, panel_type: str, metric: str) -> None:
    panel = _panel(title)
    assert panel["type"] == panel_type
    assert metric in metric_names(_exprs(panel))
    assert panel["description"], "each panel explains itself in its description"


def test_latency_panel_shows_p50_p90_p99() -> None:
    assert {"0.5", "0.9", "0.99"} == set(
        re.findall(r"histogram_quantile\(([\d.]+)", _exprs(_panel("Request latency p50 / p90 / p99")))
    )


def test_heatmap_reads_buckets_as_a_heatmap() -> None:
    panel = _panel("Score distribution")
    assert [t["format"] for t in panel["targets"]] == ["heatmap"]
    assert panel["options"]["calculate"] is False, "buckets come from Prometheus, Grafana must not re-bucket"


def test_queries_use_only_defined_variables() -> None:
    defined = set(template_variables(DASHBOARD)) | GRAFANA_BUILTINS
    for query in QUERIES:
        assert variables_used(query.expr) <= defined, str(query)
        assert 'job=~"$job"' in query.expr and 'instance=~"$instance"' in query.expr, f"{query} ignores the job/instance picker"


def test_every_panel_query_parses(tmp_path: Path) -> None:
    """promtool parses each query (variables substituted as Grafana would) as a recording rule."""
    names = {f"dashboard:query{i}:expr": query for i, query in enumerate(QUERIES)}
    rules = [{"record": name, "expr": substitute(query.expr, SAMPLE_VALUES)} for name, query in names.items()]
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    result = subprocess.run([require_binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    failing = [str(query) for name, query in names.items() if f'"{name}"' in output]
    assert result.returncode == 0, f"unparsable panel queries {failing}:\n{output}"
    assert f"SUCCESS: {len(rules)} rules found" in output


def test_dashboard_names_only_risk_metrics() -> None:
    names = set().union(*(metric_names(query.expr) for query in QUERIES))
    assert names and all(name.startswith("risk_") for name in names), sorted(names)


def test_runbooks_name_existing_panels() -> None:
    """Runbooks point operators at panels by their quoted title; those titles must exist."""
    titles = {panel["title"] for panel in PANELS}
    for rule in rules_of("alert"):
        quoted = re.findall(r'"([A-Z][^"]*)"', rule["annotations"]["runbook"])
        assert set(quoted) <= titles, f"{rule['alert']} names missing panels {set(quoted) - titles}"


def test_provisioning_examples_point_at_the_dashboard() -> None:
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/misinfo-risk.yml").read_text())
    assert provider["apiVersion"] == 1 and provider["providers"][0]["type"] == "file"
    assert provider["providers"][0]["options"]["path"].endswith("/misinfo-risk")
    sources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert sources["datasources"][0]["type"] == "prometheus"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (route) (rate(risk_http_requests_total{job=~"$job"}[$__rate_interval]))', {"risk_http_requests_total"}),
        ("histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > 1e-3", {"a_bucket"}),
        ('a / ignoring (signal) group_left () sum(b{x="by (y)"}) unless on (job) c offset 5m', {"a", "b", "c"}),
        ("sort_desc(max(up) == bool 1) or vector(0)", {"up"}),
        (
            "job:risk_score:mean_rate1h - on (job) max by (job) (risk_model_expected_mean_score)",
            {
                "job:risk_score:mean_rate1h",
                "risk_model_expected_mean_score",
            },
        ),
    ],
    ids=["selector", "numbers", "grouping-and-strings", "functions-and-keywords", "recording-rule-names"],
)
def test_metric_names_extraction(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_query_list_is_not_empty() -> None:
    assert len(QUERIES) >= 20
    assert all(isinstance(query, PanelQuery) and query.expr.strip() for query in QUERIES)
