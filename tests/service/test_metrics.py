"""The agreed Prometheus metrics: names, labels, values after real requests; multiprocess merging."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from tests.service.conftest import article_dict


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_http_request_metrics(client: TestClient) -> None:
    route = {"route": "/v1/score"}
    before = {
        "ok": value("risk_http_requests_total", method="POST", status_class="2xx", **route),
        "bad": value("risk_http_requests_total", method="POST", status_class="4xx", **route),
        "count": value("risk_http_request_duration_seconds_count", **route),
        "size": value("risk_http_request_size_bytes_sum", **route),
        "resp": value("risk_http_response_size_bytes_count", **route),
    }
    payload = b'{"text": "The council voted on Tuesday."}'
    assert client.post("/v1/score", content=payload, headers={"content-type": "application/json"}).status_code == 200
    assert client.post("/v1/score", json={"text": ""}).status_code == 422
    assert value("risk_http_requests_total", method="POST", status_class="2xx", **route) == before["ok"] + 1
    assert value("risk_http_requests_total", method="POST", status_class="4xx", **route) == before["bad"] + 1
    assert value("risk_http_request_duration_seconds_count", **route) == before["count"] + 2
    assert value("risk_http_request_size_bytes_sum", **route) >= before["size"] + len(payload)
    assert value("risk_http_response_size_bytes_count", **route) == before["resp"] + 2
    assert value("risk_http_requests_in_progress", **route) == 0


def test_unmatched_paths_and_odd_methods_have_bounded_labels(client: TestClient) -> None:
    before = value("risk_http_requests_total", route="other", method="other", status_class="4xx")
    for path in ("/a", "/b/c", "/a?q=secret-article-text"):  # ("/" is the review page now)
        client.request("BREW", path)
    assert value("risk_http_requests_total", route="other", method="other", status_class="4xx") == before + 3
    labels = {s.labels.get("route") for m in REGISTRY.collect() if m.name == "risk_http_requests" for s in m.samples}
    assert not labels & {"/a", "/b/c", "/a?q=secret-article-text"}


def test_scoring_metrics_per_endpoint(client: TestClient) -> None:
    levels = ("low", "medium", "high")
    before_scored = {lv: value("risk_articles_scored_total", endpoint="batch", level=lv) for lv in levels}
    before_rejected = value("risk_articles_rejected_total", endpoint="batch", reason="empty")
    before_type = value("risk_articles_rejected_total", endpoint="batch", reason="type")
    before_scores = value("risk_score_count", endpoint="batch")
    before_batches = value("risk_batch_size_articles_count", endpoint="batch")
    before_durations = value("risk_scoring_duration_seconds_count", endpoint="batch")
    items = [article_dict(i) for i in range(10)] + [{"text": " "}, 5]
    body = client.post("/v1/score/batch", json=items).json()
    scored = sum(value("risk_articles_scored_total", endpoint="batch", level=lv) - before_scored[lv] for lv in levels)
    assert scored == 10 == body["scored"]
    assert value("risk_articles_rejected_total", endpoint="batch", reason="empty") == before_rejected + 1
    assert value("risk_articles_rejected_total", endpoint="batch", reason="type") == before_type + 1
    assert value("risk_score_count", endpoint="batch") == before_scores + 10
    assert value("risk_batch_size_articles_count", endpoint="batch") == before_batches + 1
    assert value("risk_scoring_duration_seconds_count", endpoint="batch") >= before_durations + 1


def test_signal_fired_counts_articles_not_hits(client: TestClient) -> None:
    text = "Insiders say it works. Sources say it works. Experts claim it works."
    result = client.post("/v1/score", json={"text": text}).json()
    fired = {s["name"]: s["count"] for s in result["signals"]}
    assert fired.get("unnamed_sources", 0) >= 2
    before = value("risk_signal_fired_total", signal="unnamed_sources")
    client.post("/v1/score", json={"text": text})
    assert value("risk_signal_fired_total", signal="unnamed_sources") == before + 1


def test_single_endpoint_score_histogram_buckets(client: TestClient) -> None:
    before = value("risk_score_count", endpoint="single")
    client.post("/v1/score", json={"text": "The council said on Tuesday that the report was published."})
    assert value("risk_score_count", endpoint="single") == before + 1
    buckets = [
        s.labels["le"] for m in REGISTRY.collect() if m.name == "risk_score" for s in m.samples if s.name == "risk_score_bucket"
    ]
    assert buckets[:3] == ["0.05", "0.1", "0.15"] and "1.0" in buckets and "+Inf" in buckets


def test_single_article_outcomes_are_recorded_on_the_event_loop_not_in_the_thread_pool(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the response, but not in Starlette's thread pool: that thread would contend for the GIL
    with the next request's scoring (it cost ~0.25 ms at p50 over one keep-alive connection)."""
    from misinfo_risk.service import metrics

    threads: list[str] = []
    record = metrics.record_outcomes

    def spy(endpoint: str, result: object) -> None:
        threads.append(threading.current_thread().name)
        record(endpoint, result)  # type: ignore[arg-type]

    monkeypatch.setattr(metrics, "record_outcomes", spy)
    before = value("risk_score_count", endpoint="single")
    assert (
        client.post("/v1/score", json={"text": "The council said on Tuesday that the report was published."}).status_code == 200
    )
    assert value("risk_score_count", endpoint="single") == before + 1
    assert len(threads) == 1 and "AnyIO worker" not in threads[0], threads


def test_model_info_and_baseline(client: TestClient, tiny_artifact: Path) -> None:
    from misinfo_risk.model.artifact import load_card

    card = load_card(tiny_artifact)
    info = {"version": "test-0", "sklearn_version": card.sklearn_version, "trained_at": card.created_at.isoformat()}
    assert value("risk_model_info", **info) == 1
    assert value("risk_model_expected_high_share") == pytest.approx(card.baseline["high_share"])
    assert value("risk_model_expected_mean_score") == pytest.approx(card.baseline["mean_score"])


def test_scoring_series_start_at_zero_so_rate_sees_the_first_event(client: TestClient) -> None:
    """Every bounded scoring label combination exists from start-up (a series born at 1 hides its first event)."""
    names = client.app.state.service.scorer.signal_names  # type: ignore[attr-defined]
    assert len(names) == len(client.app.state.service.scorer.card.heuristics) >= 12  # type: ignore[attr-defined]
    for signal in names:
        assert REGISTRY.get_sample_value("risk_signal_fired_total", {"signal": signal}) is not None
    for endpoint in ("single", "batch", "feed"):
        for level in ("low", "medium", "high"):
            assert REGISTRY.get_sample_value("risk_articles_scored_total", {"endpoint": endpoint, "level": level}) is not None
        for reason in ("missing", "empty", "type", "too_long", "invalid"):
            labels = {"endpoint": endpoint, "reason": reason}
            assert REGISTRY.get_sample_value("risk_articles_rejected_total", labels) is not None
    assert REGISTRY.get_sample_value("risk_batch_size_articles_count", {"endpoint": "single"}) is None


def test_metrics_endpoint_serves_the_exposition(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for name in ("risk_http_requests_total", "risk_articles_scored_total", "risk_model_info", "risk_http_requests_in_progress"):
        assert name in response.text
    openmetrics = client.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")


WORKER = textwrap.dedent(
    """
    import sys
    from misinfo_risk.service import metrics
    metrics.record_request("/v1/score", "POST", 200, 0.01, 100, 200)
    metrics.in_progress("/v1/score").inc()   # dies with a request "in progress"
    """
)
SCRAPE = textwrap.dedent(
    """
    from misinfo_risk.service import metrics
    body, _ = metrics.exposition(None)
    print(body.decode())
    """
)


def test_multiprocess_counters_sum_and_dead_workers_leave_live_gauges(tmp_path: Path) -> None:
    """Two worker processes count into one directory; the scrape sums them and drops dead ones from live gauges."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISK_")} | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True)
    scrape = subprocess.run([sys.executable, "-c", SCRAPE], env=env, check=True, capture_output=True, text=True).stdout
    assert 'risk_http_requests_total{method="POST",route="/v1/score",status_class="2xx"} 2.0' in scrape
    assert 'risk_http_requests_in_progress{route="/v1/score"}' not in scrape
    assert not list(tmp_path.glob("gauge_livesum_*.db"))


def test_process_collector_sums_the_service_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    """process_* metrics cover the process named by ROOT_ENV and its children (here: a sleeping child)."""
    from misinfo_risk.service.metrics import ServiceProcessCollector
    from misinfo_risk.service.settings import ROOT_ENV

    monkeypatch.setenv(ROOT_ENV, str(os.getpid()))
    alone = {m.name: m.samples[0].value for m in ServiceProcessCollector().collect()}
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        values = {m.name: m.samples[0].value for m in ServiceProcessCollector().collect()}
    finally:
        child.kill()
        child.wait()
    assert values["risk_service_processes"] == alone["risk_service_processes"] + 1
    assert values["process_resident_memory_bytes"] > alone["process_resident_memory_bytes"] > 10 * 1024 * 1024
    assert values["process_cpu_seconds"] > 0 and values["process_open_fds"] >= 3
    assert values["process_start_time_seconds"] > 1_600_000_000


def test_multiprocess_exposition_has_process_and_python_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from misinfo_risk.service import metrics

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body, _ = metrics.exposition(None)
    text = body.decode()
    assert "\nprocess_resident_memory_bytes " in text
    assert "\nprocess_cpu_seconds_total " in text
    assert "python_info{" in text
