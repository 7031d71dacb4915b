"""Every Prometheus metric the service exports, defined once. Add new ones here, nowhere else.

Names and labels are agreed with deploy/ (alert rules, dashboard): do not rename them. Label values are
bounded (route templates, levels, reasons, genres, a fixed set of language codes, signal names); never
article text, ids or URLs. With several workers the client library's multiprocess mode is used:
`misinfo-risk serve` sets PROMETHEUS_MULTIPROC_DIR before any worker imports this module, and `/metrics`
merges every worker's files (`exposition`). Tests run without it and read the default registry.
"""

from __future__ import annotations

import functools
import os
from collections import Counter as Tally
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, PlatformCollector, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from misinfo_risk.model.artifact import ModelCard
from misinfo_risk.runtime import ChunkResult, Scored
from misinfo_risk.service.settings import ROOT_ENV

ENDPOINTS = ("single", "batch", "feed")
LEVELS = ("low", "medium", "high")
REJECT_REASONS = ("missing", "empty", "type", "too_long", "invalid")
NOT_ASSESSED_REASONS = ("unsupported_language", "no_readable_text")
GENRES = ("news", "opinion", "press_release", "satire")
WARNINGS = ("short_text", "language_mismatch", "not_news")
LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "ru", "uk", "pl", "tr", "ar", "fa", "hi", "zh", "ja", "ko", "id")
"""Detected languages with their own label value; every other one counts as "other" ("und": nothing to detect)."""

_SIZE_BUCKETS = (256, 1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864)
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SCORING_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000)
_SCORE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))

HTTP_REQUESTS = Counter(
    "risk_http_requests", "HTTP requests, by route template, method and status class.", ["route", "method", "status_class"]
)
HTTP_DURATION = Histogram(
    "risk_http_request_duration_seconds",
    "Time from request start to the last response byte.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge("risk_http_requests_in_progress", "Requests being handled now.", ["route"], multiprocess_mode="livesum")
HTTP_REQUEST_SIZE = Histogram("risk_http_request_size_bytes", "Request body size.", ["route"], buckets=_SIZE_BUCKETS)
HTTP_RESPONSE_SIZE = Histogram("risk_http_response_size_bytes", "Response body size.", ["route"], buckets=_SIZE_BUCKETS)

ARTICLES_SCORED = Counter("risk_articles_scored", "Articles scored, by endpoint and risk level.", ["endpoint", "level"])
SCORE = Histogram("risk_score", "Risk scores returned.", ["endpoint"], buckets=_SCORE_BUCKETS)
SCORING_DURATION = Histogram(
    "risk_scoring_duration_seconds",
    "Time inside the scorer (validation + scoring), per request or chunk.",
    ["endpoint"],
    buckets=_SCORING_BUCKETS,
)
BATCH_SIZE = Histogram("risk_batch_size_articles", "Items per batch or feed request.", ["endpoint"], buckets=_BATCH_BUCKETS)
ARTICLES_REJECTED = Counter(
    "risk_articles_rejected", "Items refused as invalid articles, by endpoint and reason.", ["endpoint", "reason"]
)
SIGNAL_FIRED = Counter("risk_signal_fired", "Scored articles on which a signal fired.", ["signal"])
ARTICLES_NOT_ASSESSED = Counter(
    "risk_articles_not_assessed",
    "Valid articles given no risk because the model cannot read them, by endpoint and reason.",
    ["endpoint", "reason"],
)
ARTICLES_GENRE = Counter(
    "risk_articles_genre", "Assessed articles, by endpoint and the genre they read as.", ["endpoint", "genre"]
)
ARTICLES_LANGUAGE = Counter(
    "risk_articles_language",
    "Valid articles by detected language (a fixed set of codes, 'other', 'und'), assessed or not.",
    ["language"],
)
RESULT_WARNINGS = Counter("risk_result_warnings", "Assessed articles that carry a warning, by warning.", ["warning"])

MODEL_INFO = Gauge(
    "risk_model_info",
    "The loaded model artifact (value 1).",
    ["version", "sklearn_version", "trained_at"],
    multiprocess_mode="max",
)
MODEL_EXPECTED_HIGH_SHARE = Gauge(
    "risk_model_expected_high_share", "Share of training articles scored high (model card baseline).", multiprocess_mode="max"
)
MODEL_EXPECTED_MEAN_SCORE = Gauge(
    "risk_model_expected_mean_score", "Mean score on the training articles (model card baseline).", multiprocess_mode="max"
)

_STATUS_CLASSES = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@functools.cache
def _child(metric: Any, *label_values: str) -> Any:
    """`metric.labels(*label_values)`, memoised: label values are bounded, lookups are on the hot path."""
    return metric.labels(*label_values)


def in_progress(route: str) -> Any:
    """The in-progress gauge child for `route` (call .inc() / .dec())."""
    return _child(HTTP_IN_PROGRESS, route)


def record_request(route: str, method: str, status: int, seconds: float, request_bytes: int, response_bytes: int) -> None:
    """Record one finished HTTP request (called by the request middleware)."""
    method = method if method in _METHODS else "other"  # the client chooses the method: keep the label bounded
    _child(HTTP_REQUESTS, route, method, _STATUS_CLASSES.get(status // 100, "5xx")).inc()
    _child(HTTP_DURATION, route).observe(seconds)
    _child(HTTP_REQUEST_SIZE, route).observe(request_bytes)
    _child(HTTP_RESPONSE_SIZE, route).observe(response_bytes)


def record_outcomes(endpoint: str, result: ChunkResult) -> None:
    """Record a scored chunk (or single article): levels, scores, signals, rejections, scoring time."""
    counts: Tally[tuple[Any, tuple[str, ...]]] = Tally()  # (counter, label values) -> increment
    score = _child(SCORE, endpoint)
    for outcome in result.outcomes:
        if not isinstance(outcome, Scored):
            counts[ARTICLES_REJECTED, (endpoint, outcome.reason if outcome.reason in REJECT_REASONS else "invalid")] += 1
            continue
        language = outcome.language if outcome.language in LANGUAGES or outcome.language == "und" else "other"
        counts[ARTICLES_LANGUAGE, (language,)] += 1
        if outcome.level is None or outcome.score is None:
            reason = outcome.reason if outcome.reason in NOT_ASSESSED_REASONS else "no_readable_text"
            counts[ARTICLES_NOT_ASSESSED, (endpoint, reason)] += 1
            continue
        counts[ARTICLES_SCORED, (endpoint, outcome.level)] += 1
        counts.update((SIGNAL_FIRED, (name,)) for name in outcome.signals)
        counts.update((RESULT_WARNINGS, (w,)) for w in outcome.warnings if w in WARNINGS)
        if outcome.genre in GENRES:
            counts[ARTICLES_GENRE, (endpoint, outcome.genre)] += 1
        score.observe(outcome.score)
    for (metric, labels), count in counts.items():
        _child(metric, *labels).inc(count)
    _child(SCORING_DURATION, endpoint).observe(result.seconds)


def record_batch_size(endpoint: str, items: int) -> None:
    _child(BATCH_SIZE, endpoint).observe(items)


def set_model(card: ModelCard, signals: Sequence[str] = ()) -> None:
    """Publish the loaded model's identity and its training baseline; create the scoring series at 0.

    A counter series that first appears with value 1 has no earlier sample, so rate() and
    increase() miss that first event; every bounded label combination of the scoring metrics
    (endpoints x levels, endpoints x reasons, the model's signals) therefore starts at 0.
    """
    MODEL_INFO.labels(card.version, card.sklearn_version, card.created_at.isoformat()).set(1)
    MODEL_EXPECTED_HIGH_SHARE.set(card.baseline.get("high_share", float("nan")))
    MODEL_EXPECTED_MEAN_SCORE.set(card.baseline.get("mean_score", float("nan")))
    labelled = {
        ARTICLES_SCORED: LEVELS,
        ARTICLES_REJECTED: REJECT_REASONS,
        ARTICLES_NOT_ASSESSED: NOT_ASSESSED_REASONS,
        ARTICLES_GENRE: GENRES,
    }
    for endpoint in ENDPOINTS:
        for metric, values in labelled.items():
            for value in values:
                _child(metric, endpoint, value)
        _child(SCORE, endpoint)
        _child(SCORING_DURATION, endpoint)
        if endpoint != "single":
            _child(BATCH_SIZE, endpoint)
    not_by_endpoint = {SIGNAL_FIRED: signals, ARTICLES_LANGUAGE: (*LANGUAGES, "other", "und"), RESULT_WARNINGS: WARNINGS}
    for counter, names in not_by_endpoint.items():
        for name in names:
            _child(counter, name)


def mark_this_process_dead() -> None:
    """Called when a worker shuts down cleanly: its live gauges stop counting, counters keep totals."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]  # untyped in prometheus_client


class ServiceProcessCollector(Collector):
    """process_* metrics summed over the service's processes (psutil).

    The client library's own process collector reports only the process that renders the page; with
    several web workers and pools that is one arbitrary process. This one sums over the process that ran
    `misinfo-risk serve` (ROOT_ENV, inherited by every child) and all its descendants.
    """

    def collect(self) -> Iterator[Metric]:
        try:
            root = psutil.Process(int(os.environ.get(ROOT_ENV) or os.getpid()))
            processes = [root, *root.children(recursive=True)]
            started = root.create_time()
        except psutil.Error:
            return
        cpu = rss = vms = fds = alive = 0
        for process in processes:
            try:
                with process.oneshot():
                    times, memory, files = process.cpu_times(), process.memory_info(), process.num_fds()
            except psutil.Error:  # exited meanwhile
                continue
            alive += 1
            cpu += times.user + times.system
            rss += memory.rss
            vms += memory.vms
            fds += files
        yield CounterMetricFamily("process_cpu_seconds", "CPU seconds of all service processes.", value=cpu)
        yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of all service processes.", value=rss)
        yield GaugeMetricFamily("process_virtual_memory_bytes", "Virtual memory of all service processes.", value=vms)
        yield GaugeMetricFamily("process_open_fds", "Open file descriptors of all service processes.", value=fds)
        yield GaugeMetricFamily("risk_service_processes", "Live service processes (workers, pools).", value=alive)
        yield GaugeMetricFamily("process_start_time_seconds", "Start time of the service (epoch seconds).", value=started)


def exposition(accept: str | None) -> tuple[bytes, str]:
    """The metrics page (body, content type): every worker's metrics in multiprocess mode."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        registry = REGISTRY
    else:
        # workers that died without shutting down (crash, SIGKILL) are marked dead, so live gauges drop them
        for path in Path(directory).glob("gauge_live*_*.db"):  # gauge_livesum_<pid>.db, ...
            pid = path.stem.rpartition("_")[2]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                multiprocess.mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]  # untyped in prometheus_client
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped in prometheus_client
        # the default process/platform metrics, made correct for several processes
        registry.register(ServiceProcessCollector())
        PlatformCollector(registry=registry)
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
