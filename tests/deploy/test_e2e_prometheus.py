"""End to end: a real Prometheus scrapes a real `misinfo-risk serve --workers 2` and evaluates the shipped rules.

The test sends a known mix of articles through all three scoring endpoints (single requests, JSON
batches, RSS feeds; a few invalid items, and a few valid ones the model cannot read or that carry a
warning, among them) in two phases, waits until Prometheus has scraped them, and checks through
Prometheus's HTTP API the exact counts per risk level, endpoint, signal, rejection reason, score
bucket, not-assessed reason, genre, detected language and warning, against the in-process scorer on
the same articles.
It also checks that the recording rules evaluate, and that every dashboard query runs and names
only metrics the service really exports.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from prometheus_client.parser import text_string_to_metric_families

from misinfo_risk.ingest.feeds import feed_articles
from misinfo_risk.model.errors import InvalidArticle
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import RiskAssessment, parse_article
from misinfo_risk.service.metrics import LANGUAGES
from tests.conftest import TINY
from tests.deploy.processes import group_members, wait_for
from tests.deploy.prometheus_server import JOB, PrometheusServer
from tests.deploy.promql import SYNTHETIC_SERIES, load_dashboard, metric_names, panel_queries, rules_of, substitute
from tests.deploy.service_server import ServiceServer

# One service + Prometheus per module and test process (under `pytest -n 2` each worker that runs
# some of these tests starts its own pair, on its own ports and directories).
pytestmark = pytest.mark.e2e

SEL = f'job="{JOB}"'
SCORE_BUCKETS = [round(0.05 * i, 2) for i in range(1, 21)]
INVALID_SINGLE = {"title": "Blank", "text": "   "}
INVALID_BATCH_ITEMS = [{"title": "No text at all"}, {"text": 5}]
EMPTY_FEED_ENTRY = "<item><title>Headline only</title><guid>entry-without-text</guid></item>"
# Valid articles the model (English only) cannot read, and assessed ones that carry a warning.
FRENCH = {
    "title": "Le conseil municipal approuve le budget",
    "text": "Le conseil municipal a voté mardi par sept voix contre deux pour approuver un budget de 4,2 millions "
    "d'euros pour la bibliothèque centrale, a déclaré un porte-parole du maire dans un communiqué.",
}
GERMAN = {
    "id": "e2e:german",
    "title": "Stadtrat beschließt Haushalt",
    "text": "Der Stadtrat hat am Dienstag mit sieben zu zwei Stimmen einen Haushalt von 4,2 Millionen Euro für die "
    "Zentralbibliothek beschlossen, sagte ein Sprecher des Bürgermeisters.",
}
NO_LETTERS = {"title": "🔥🔥", "text": "👍👍 123 !!!"}
SHORT = {"title": "Study published", "text": "The agency said on Tuesday the study data was published."}


@dataclass
class Phase:
    """Requests sent together before waiting for a scrape."""

    single: list[dict[str, Any]]
    batch: list[Any]
    feed: bytes


@dataclass
class Expected:
    """What the in-process scorer says about everything sent, by endpoint."""

    scored: dict[str, list[RiskAssessment]] = field(default_factory=lambda: {"single": [], "batch": [], "feed": []})
    """Every valid article's result by endpoint, assessed or not (not assessed: no score, no level)."""
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)

    @property
    def assessments(self) -> list[RiskAssessment]:
        """Results the model assessed (with a score and a level); `scored` also holds the not-assessed ones."""
        return [a for scored in self.scored.values() for a in scored if a.assessed]

    @property
    def results(self) -> list[RiskAssessment]:
        """Every valid article's result, assessed or not."""
        return [a for scored in self.scored.values() for a in scored]

    def add(self, scorer: Scorer, endpoint: str, items: Sequence[Any]) -> None:
        """Validate and score `items` as one request to `endpoint` would."""
        articles = []
        for item in items:
            try:
                articles.append(parse_article(item))
            except InvalidArticle as exc:
                self.rejected[(endpoint, exc.reason)] += 1
        self.scored[endpoint] += scorer.score_many(articles)
        self.items[endpoint] += len(items)


@dataclass
class Scenario:
    """The running servers, what they were sent, and what the in-process scorer expects."""

    service: ServiceServer
    prometheus: PrometheusServer
    expected: Expected
    exposition: str


def _tiny_articles() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in TINY.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{key: value for key, value in row.items() if key != "label"} for row in rows]


def _rss(articles: Sequence[dict[str, Any]], extra: str = "") -> bytes:
    items = "".join(
        f"<item><title>{escape(a['title'])}</title><guid>{escape(a['id'])}</guid><description>{escape(a['text'])}</description></item>"
        for a in articles
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test feed</title>{items}{extra}</channel></rss>'.encode()


def _plan() -> list[Phase]:
    """Two phases; in each, every endpoint gets real (first half of the file) and fake (second half) news."""
    articles = _tiny_articles()
    half = len(articles) // 2
    real, fake = articles[:half], articles[half:]
    single, feed, batch = real[:5] + fake[:5], real[5:8] + fake[5:8], real[8:] + fake[8:]
    # a language hint that disagrees with the (confidently English) text: a language_mismatch warning
    mismatch = dict(real[1], language="de")
    return [
        Phase(single[0::2], batch[0::2], _rss(feed[0::2])),
        Phase(
            single[1::2] + [FRENCH, mismatch],
            batch[1::2][:3] + INVALID_BATCH_ITEMS + [NO_LETTERS, SHORT] + batch[1::2][3:],
            _rss([*feed[1::2], GERMAN], EMPTY_FEED_ENTRY),
        ),
    ]


def _post_ok(service: ServiceServer, path: str, **kwargs: Any) -> None:
    # A fresh connection per request, so the kernel can hand requests to either worker.
    response = service.http.post(path, headers={"connection": "close"} | kwargs.pop("headers", {}), **kwargs)
    assert response.status_code == 200, response.text


def _send(service: ServiceServer, phase: Phase) -> None:
    for article in phase.single:
        _post_ok(service, "/v1/score", json=article)
    _post_ok(service, "/v1/score/batch", json=phase.batch)
    _post_ok(service, "/v1/feeds/score", content=phase.feed, headers={"content-type": "application/rss+xml"})


def _expect(scorer: Scorer, phase: Phase, expected: Expected) -> None:
    for article in phase.single:
        expected.add(scorer, "single", [article])
    expected.add(scorer, "batch", phase.batch)
    expected.add(scorer, "feed", feed_articles(phase.feed))


def _wait_for_total(prometheus: PrometheusServer, metric: str, expected: float) -> None:
    wait_for(
        lambda: True if prometheus.scalar(f"sum({metric}{{{SEL}}})") == expected else None,
        timeout=60,
        what=f"Prometheus to scrape sum({metric}) == {expected}",
        process=prometheus.process,
    )


def _wait_for_next_scrape(prometheus: PrometheusServer) -> None:
    scrapes = f"count_over_time(up{{{SEL}}}[1h])"
    seen = prometheus.scalar(scrapes) or 0.0
    wait_for(
        lambda: True if (prometheus.scalar(scrapes) or 0.0) > seen else None,
        timeout=60,
        what="one more scrape",
        process=prometheus.process,
    )


def _run(service: ServiceServer, prometheus: PrometheusServer, scorer: Scorer) -> Expected:
    """Send both phases, each scraped before the next (counters must grow between scrapes for rate() to see traffic)."""
    expected = Expected()
    for phase in _plan():
        _send(service, phase)
        _expect(scorer, phase, expected)
        _wait_for_total(prometheus, "risk_articles_scored_total", len(expected.assessments))
    assert service.http.post("/v1/score", json=INVALID_SINGLE).status_code == 422
    expected.add(scorer, "single", [INVALID_SINGLE])
    assert service.http.get("/no/such/page").status_code == 404
    _wait_for_total(prometheus, "risk_articles_rejected_total", sum(expected.rejected.values()))
    # Series born in the second phase need a second sample before rate() can see them.
    _wait_for_next_scrape(prometheus)
    return expected


@pytest.fixture(scope="module")
def scenario(tiny_artifact: Path, scorer: Scorer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    workdir = tmp_path_factory.mktemp("e2e-prometheus")
    service = ServiceServer(tiny_artifact, workdir, workers=2)
    prometheus: PrometheusServer | None = None
    try:
        prometheus = PrometheusServer(f"127.0.0.1:{service.port}", workdir)
        expected = _run(service, prometheus, scorer)
        yield Scenario(service, prometheus, expected, service.http.get("/metrics").text)
    finally:
        if prometheus is not None:
            prometheus.stop()
        service.stop()
    leftovers = group_members(service.process.pgid) + (group_members(prometheus.process.pgid) if prometheus else [])
    assert not leftovers, f"processes left running after the test: {leftovers}"


def test_the_mix_is_meaningful(scenario: Scenario) -> None:
    """Guards the test itself: several levels, every endpoint, several rejection and not-assessed reasons, warnings."""
    expected = scenario.expected
    assert {a.level for a in expected.assessments} >= {"low", "high"}
    assert all(len(scored) >= 5 for scored in expected.scored.values())
    assert {reason for _, reason in expected.rejected} >= {"empty", "missing", "type"}
    assert {endpoint for endpoint, _ in expected.rejected} == {"single", "batch", "feed"}
    assert {a.reason for a in expected.results if not a.assessed} == {"unsupported_language", "no_readable_text"}
    assert {w.code for a in expected.assessments for w in a.warnings} >= {"short_text", "language_mismatch"}


def nonzero(values: dict[Any, float]) -> dict[Any, float]:
    """The series that counted something (every scoring series is created at 0 when a worker starts)."""
    return {key: value for key, value in values.items() if value}


def test_counts_per_risk_level(scenario: Scenario) -> None:
    expected = Counter(a.level for a in scenario.expected.assessments)
    got = scenario.prometheus.values_by(f"sum by (level) (risk_articles_scored_total{{{SEL}}})", "level")
    assert nonzero(got) == {level: float(n) for level, n in expected.items()}
    assert set(got) == {"low", "medium", "high"}  # every level exists from start-up, at 0 until used


def test_counts_per_endpoint_and_level(scenario: Scenario) -> None:
    expected = Counter(
        (endpoint, a.level) for endpoint, results in scenario.expected.scored.items() for a in results if a.assessed
    )
    got = scenario.prometheus.values_by_labels(
        f"sum by (endpoint, level) (risk_articles_scored_total{{{SEL}}})", "endpoint", "level"
    )
    assert nonzero(got) == {key: float(n) for key, n in expected.items()}


def test_counts_per_signal(scenario: Scenario, scorer: Scorer) -> None:
    expected = Counter(signal.name for a in scenario.expected.assessments for signal in a.signals)
    assert len(expected) >= 5
    got = scenario.prometheus.values_by(f"sum by (signal) (risk_signal_fired_total{{{SEL}}})", "signal")
    assert nonzero(got) == {name: float(n) for name, n in expected.items()}
    assert len(got) == len(scorer.signal_names)  # every signal of the model exists from start-up


def test_rejections_per_endpoint_and_reason(scenario: Scenario) -> None:
    got = scenario.prometheus.values_by_labels(
        f"sum by (endpoint, reason) (risk_articles_rejected_total{{{SEL}}})", "endpoint", "reason"
    )
    assert nonzero(got) == {key: float(n) for key, n in scenario.expected.rejected.items()}
    assert len(got) == 3 * 5  # endpoints x reasons, at 0 until used


def test_not_assessed_per_endpoint_and_reason(scenario: Scenario) -> None:
    expected = Counter(
        (endpoint, a.reason) for endpoint, results in scenario.expected.scored.items() for a in results if not a.assessed
    )
    got = scenario.prometheus.values_by_labels(
        f"sum by (endpoint, reason) (risk_articles_not_assessed_total{{{SEL}}})", "endpoint", "reason"
    )
    assert nonzero(got) == {key: float(n) for key, n in expected.items()}
    assert len(got) == 3 * 2  # endpoints x reasons, at 0 until used


def test_genre_per_endpoint(scenario: Scenario) -> None:
    expected = Counter(
        (endpoint, a.genre.label) for endpoint, results in scenario.expected.scored.items() for a in results if a.genre
    )
    assert sum(expected.values()) == len(scenario.expected.assessments), "every assessed article has a genre"
    got = scenario.prometheus.values_by_labels(
        f"sum by (endpoint, genre) (risk_articles_genre_total{{{SEL}}})", "endpoint", "genre"
    )
    assert nonzero(got) == {key: float(n) for key, n in expected.items()}
    assert len(got) == 3 * 4  # endpoints x genres, at 0 until used


def test_detected_languages(scenario: Scenario) -> None:
    def bucket(code: str) -> str:
        return code if code in LANGUAGES or code == "und" else "other"

    expected = Counter(bucket(a.language.detected) for a in scenario.expected.results if a.language)
    assert sum(expected.values()) == len(scenario.expected.results), "every valid article has a detected language"
    assert set(expected) >= {"en", "fr", "de", "und"}
    got = scenario.prometheus.values_by(f"sum by (language) (risk_articles_language_total{{{SEL}}})", "language")
    assert nonzero(got) == {language: float(n) for language, n in expected.items()}
    assert set(got) == {*LANGUAGES, "other", "und"}  # a bounded set, every value at 0 until used


def test_result_warnings(scenario: Scenario) -> None:
    expected = Counter(w.code for a in scenario.expected.assessments for w in a.warnings)
    got = scenario.prometheus.values_by(f"sum by (warning) (risk_result_warnings_total{{{SEL}}})", "warning")
    assert nonzero(got) == {code: float(n) for code, n in expected.items()}
    assert set(got) == {"short_text", "language_mismatch", "not_news"}


def test_score_histogram_buckets(scenario: Scenario) -> None:
    scores = [a.score for a in scenario.expected.assessments if a.score is not None]
    assert len(scores) == len(scenario.expected.assessments)
    got = scenario.prometheus.values_by(f"sum by (le) (risk_score_bucket{{{SEL}}})", "le")
    expected = {str(bound): float(sum(s <= bound for s in scores)) for bound in SCORE_BUCKETS}
    expected["+Inf"] = float(len(scores))
    assert got == expected
    assert scenario.prometheus.scalar(f"sum(risk_score_sum{{{SEL}}})") == pytest.approx(sum(scores), rel=1e-9)


def test_http_requests_by_route_and_status(scenario: Scenario) -> None:
    got = scenario.prometheus.values_by_labels(
        f'sum by (route, method, status_class) (risk_http_requests_total{{{SEL}, route=~"/v1/.*|other"}})',
        "route",
        "method",
        "status_class",
    )
    assert got == {
        ("/v1/score", "POST", "2xx"): float(len(scenario.expected.scored["single"])),
        ("/v1/score", "POST", "4xx"): 1.0,
        ("/v1/score/batch", "POST", "2xx"): 2.0,
        ("/v1/feeds/score", "POST", "2xx"): 2.0,
        ("other", "GET", "4xx"): 1.0,
    }


def test_batch_sizes(scenario: Scenario) -> None:
    got = scenario.prometheus.values_by(f"sum by (endpoint) (risk_batch_size_articles_sum{{{SEL}}})", "endpoint")
    items = scenario.expected.items
    assert got == {"batch": float(items["batch"]), "feed": float(items["feed"])}


def test_in_flight_gauge_sums_live_workers_to_zero(scenario: Scenario) -> None:
    got = scenario.prometheus.values_by(f'sum by (route) (risk_http_requests_in_progress{{{SEL}, route=~"/v1/.*"}})', "route")
    assert got == {"/v1/score": 0.0, "/v1/score/batch": 0.0, "/v1/feeds/score": 0.0}


def test_model_info_and_expected_baseline(scenario: Scenario, scorer: Scorer) -> None:
    card = scorer.card
    [info] = scenario.prometheus.query(f"risk_model_info{{{SEL}}}")
    labels = {k: v for k, v in info["metric"].items() if k not in {"__name__", "job", "instance"}}
    assert labels == {"version": card.version, "sklearn_version": card.sklearn_version, "trained_at": card.created_at.isoformat()}
    assert float(info["value"][1]) == 1.0
    assert scenario.prometheus.scalar(f"risk_model_expected_high_share{{{SEL}}}") == card.baseline["high_share"]
    assert scenario.prometheus.scalar(f"risk_model_expected_mean_score{{{SEL}}}") == card.baseline["mean_score"]


def test_recording_rules_evaluate(scenario: Scenario) -> None:
    prometheus = scenario.prometheus
    rate = wait_for(
        lambda: prometheus.scalar(f"job:risk_articles_scored:rate5m{{{SEL}}} > 0"),
        timeout=60,
        what="the recording rule job:risk_articles_scored:rate5m to evaluate",
        process=prometheus.process,
    )
    assert rate > 0
    share = wait_for(
        lambda: prometheus.scalar(f"job:risk_articles_scored_high:ratio_rate5m{{{SEL}}}"),
        timeout=60,
        what="the recording rule job:risk_articles_scored_high:ratio_rate5m to evaluate",
        process=prometheus.process,
    )
    assert 0.0 <= share <= 1.0
    errors = wait_for(
        lambda: prometheus.scalar(f"job:risk_http_server_errors:ratio_rate5m{{{SEL}}}"),
        timeout=60,
        what="the recording rule job:risk_http_server_errors:ratio_rate5m to evaluate",
        process=prometheus.process,
    )
    assert errors == 0.0, "no request failed with a 5xx, so the server-error ratio is a real 0 (not missing)"
    not_assessed = wait_for(
        lambda: prometheus.scalar(f"job:risk_articles_not_assessed:ratio_rate15m{{{SEL}}} > 0"),
        timeout=60,
        what="the recording rule job:risk_articles_not_assessed:ratio_rate15m to evaluate",
        process=prometheus.process,
    )
    assert 0.0 < not_assessed < 0.5, "a few of the valid articles sent were not assessed"


def test_every_rule_loads_and_evaluates_without_error(scenario: Scenario) -> None:
    expected = {rule.get("record") or rule.get("alert") for rule in rules_of("record") + rules_of("alert")}

    def evaluated() -> list[dict[str, Any]] | None:
        rules = [rule for group in scenario.prometheus.api("rules")["groups"] for rule in group["rules"]]
        return rules if all(rule["health"] != "unknown" for rule in rules) else None

    rules = wait_for(evaluated, timeout=60, what="every rule to be evaluated once", process=scenario.prometheus.process)
    assert {rule["name"] for rule in rules} == expected
    assert [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"] == []


def _exported_names(exposition: str) -> set[str]:
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}


def test_dashboard_queries_name_only_exported_metrics(scenario: Scenario) -> None:
    exported = _exported_names(scenario.exposition)
    used = {name: str(query) for query in panel_queries(load_dashboard()) for name in metric_names(query.expr)}
    assert {name: where for name, where in used.items() if name not in exported} == {}


def test_rules_name_only_exported_or_recorded_metrics(scenario: Scenario) -> None:
    known = _exported_names(scenario.exposition) | {rule["record"] for rule in rules_of("record")} | SYNTHETIC_SERIES
    used = {
        name: rule.get("record") or rule.get("alert")
        for rule in rules_of("record") + rules_of("alert")
        for name in metric_names(rule["expr"])
    }
    assert {name: where for name, where in used.items() if name not in known} == {}


def test_dashboard_queries_run_on_prometheus(scenario: Scenario) -> None:
    """Each panel query, with variables as Grafana would fill them in, is accepted by the real query API and has data."""
    values = {"job": JOB, "instance": ".*", "__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
    empty = []
    for query in panel_queries(load_dashboard()):
        if not scenario.prometheus.query(substitute(query.expr, values)):
            empty.append(str(query))
    assert empty == []
