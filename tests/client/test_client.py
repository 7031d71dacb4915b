"""`misinfo_risk.client` against a real `misinfo-risk serve` (the tiny artifact), and a real flaky proxy for retries."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from misinfo_risk.client import (
    AsyncRiskClient,
    ClientError,
    ItemError,
    RiskAssessment,
    RiskClient,
    ServiceError,
    ServiceUnreachable,
)
from misinfo_risk.model.scorer import load_scorer
from misinfo_risk.model.types import Article, parse_article
from tests.client.proxy import flaky_proxy
from tests.conftest import DATA
from tests.service.server import ServeProcess

API_KEY = "client-test-key-0123456789"
STREAM_LIMIT = 2_000  # the server's RISK_MAX_STREAM_ITEMS here, so a 5,000-article stream takes three requests
FOREIGN = [json.loads(line)["text"] for line in (DATA / "foreign_samples.jsonl").read_text().splitlines() if line.strip()]
FAST = {"backoff": 0.01, "max_backoff": 0.05}


@pytest.fixture(scope="module")
def server(tiny_artifact: Path) -> Iterator[ServeProcess]:
    env = {"RISK_API_KEYS": API_KEY, "RISK_MAX_STREAM_ITEMS": str(STREAM_LIMIT)}
    process = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "1"], workers=1, env=env)
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def articles(n: int, *, invalid: tuple[int, ...] = (), foreign: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """n distinct articles; blank text (an invalid article) at `invalid`, non-English text at `foreign`."""
    out = []
    for i in range(n):
        text = f"The council met on day {i} and voted {i % 9}-2 on Tuesday, officials said. Insiders say {i} more will follow."
        if i in invalid:
            text = "   "
        elif i in foreign:
            text = FOREIGN[i % len(FOREIGN)]
        out.append({"id": f"a-{i}", "title": f"Report {i}", "text": text})
    return out


def batch_requests(server: ServeProcess) -> int:
    return sum(1 for e in server.logs("stdout") if e.get("msg") == "request" and e.get("path") == "/v1/score/batch")


def test_score_one_matches_the_scorer_and_sends_the_key(server: ServeProcess, tiny_artifact: Path) -> None:
    fields = {"title": "SHOCKING cure", "text": "Insiders say doctors hate it. Sources indicate it WORKS!!!"}
    with RiskClient(server.url, api_key=API_KEY) as client:
        result = client.score(fields)
        from_model = client.score(Article(**fields))
        limits = client.limits()
    local = load_scorer(tiny_artifact).score(parse_article(fields))
    assert isinstance(result, RiskAssessment) and result == from_model
    assert result.model_version == "test-0" == limits.model_version
    assert result.score == pytest.approx(local.score) and result.level == local.level
    assert [s.name for s in result.signals] == [s.name for s in local.signals]
    assert limits.max_batch_items == 1_000 and limits.max_stream_items == STREAM_LIMIT


def test_errors_are_typed_problems(server: ServeProcess) -> None:
    with RiskClient(server.url, **FAST) as client:
        with pytest.raises(ServiceError) as missing_key:
            client.score({"text": "Plain report."})
    assert missing_key.value.status == 401 and missing_key.value.problem is not None
    assert missing_key.value.problem.type.endswith(":unauthorized")
    with RiskClient(server.url, api_key=API_KEY) as client:
        with pytest.raises(ServiceError) as invalid:
            client.score({"text": "   "})
        assert invalid.value.status == 422 and invalid.value.problem is not None
        assert invalid.value.problem.errors is not None and invalid.value.problem.errors[0].field == "text"
        not_read = client.score({"text": FOREIGN[0]})
    assert not_read.assessed is False and not_read.score is None and not_read.reason == "unsupported_language"


def test_score_many_5000_articles_in_batches_cut_to_the_limit(server: ServeProcess) -> None:
    given = articles(5_000, invalid=(17, 4_321), foreign=(3, 2_999))
    before = batch_requests(server)
    with RiskClient(server.url, api_key=API_KEY) as client:
        results = client.score_many(given)
    assert len(results) == 5_000
    errors = {i: r for i, r in enumerate(results) if isinstance(r, ItemError)}
    assert sorted(errors) == [17, 4_321]
    assert all(e.index == i and e.id == f"a-{i}" and e.error.status == 422 for i, e in errors.items())
    assessed = [r for r in results if isinstance(r, RiskAssessment)]
    assert [r.id for r in assessed] == [a["id"] for i, a in enumerate(given) if i not in errors]
    assert {r.id for r in assessed if not r.assessed} == {"a-3", "a-2999"}
    assert all(r.score is not None for r in assessed if r.assessed)
    server.wait_for(lambda: batch_requests(server) - before >= 5, "the access log of the five batch requests", timeout=10)
    assert batch_requests(server) - before == 5  # 5,000 articles / 1,000 per batch


def test_async_stream_5000_articles_over_ndjson(server: ServeProcess) -> None:
    given = articles(5_000, invalid=(2_500,), foreign=(4_999,))
    before = batch_requests(server)

    async def run() -> list[Any]:
        async with AsyncRiskClient(server.url, api_key=API_KEY) as client:
            return [r async for r in client.stream(iter(given))]

    results = asyncio.run(run())
    assert len(results) == 5_000
    assert [r.id for r in results if isinstance(r, RiskAssessment)] == [a["id"] for i, a in enumerate(given) if i != 2_500]
    bad = results[2_500]
    assert isinstance(bad, ItemError) and bad.index == 2_500  # counted from the start of the input, not of its request
    assert isinstance(results[4_999], RiskAssessment) and results[4_999].assessed is False
    server.wait_for(lambda: batch_requests(server) - before >= 3, "the access log of the three streams", timeout=10)
    assert batch_requests(server) - before == 3  # 2,000 + 2,000 + 1,000 (the server's stream limit)


def test_503_is_retried_with_backoff(server: ServeProcess) -> None:
    with flaky_proxy(server.port, fail=2) as proxy, RiskClient(proxy.url, api_key=API_KEY, **FAST) as client:
        result = client.score({"text": "The council voted 7-2 on Tuesday, officials said."})
    assert result.assessed and result.model_version == "test-0"
    assert [status for _, _, status in proxy.requests] == [503, 503, 200]


def test_503_is_retried_for_batches_and_streams(server: ServeProcess) -> None:
    given = articles(30)
    with flaky_proxy(server.port, fail=2) as proxy:
        with RiskClient(proxy.url, api_key=API_KEY, **FAST) as client:
            assert [r.id for r in client.score_many(given)] == [a["id"] for a in given]  # type: ignore[union-attr]
        proxy.fail = 2
        with RiskClient(proxy.url, api_key=API_KEY, **FAST) as client:
            assert [r.id for r in client.stream(given)] == [a["id"] for a in given]  # type: ignore[union-attr]
    statuses = [(path, status) for _, path, status in proxy.requests]
    assert statuses == [
        ("/v1/limits", 503),
        ("/v1/limits", 503),
        ("/v1/limits", 200),
        ("/v1/score/batch", 200),
        ("/v1/limits", 503),
        ("/v1/limits", 503),
        ("/v1/limits", 200),
        ("/v1/score/batch", 200),
    ]


def test_async_503_retry_then_give_up(server: ServeProcess) -> None:
    async def run(fail: int) -> tuple[Any, list[int]]:
        with flaky_proxy(server.port, fail=fail) as proxy:
            async with AsyncRiskClient(proxy.url, api_key=API_KEY, retries=3, **FAST) as client:
                try:
                    outcome: Any = await client.score({"text": "The council voted 7-2 on Tuesday."})
                except ServiceError as exc:
                    outcome = exc
            return outcome, [status for _, _, status in proxy.requests]

    retried, statuses = asyncio.run(run(fail=3))
    assert isinstance(retried, RiskAssessment) and statuses == [503, 503, 503, 200]
    gave_up, statuses = asyncio.run(run(fail=10))
    assert isinstance(gave_up, ServiceError) and gave_up.status == 503 and statuses == [503] * 4
    assert gave_up.problem is not None and gave_up.problem.type.endswith(":scoring-unavailable")


@pytest.mark.parametrize("how", ["cut", "hang_up"], ids=["503-stop-line", "connection-lost"])
def test_a_broken_stream_resends_only_its_unanswered_articles(server: ServeProcess, how: str) -> None:
    given = articles(50, invalid=(45,))
    with flaky_proxy(server.port, **{how: 20}) as proxy, RiskClient(proxy.url, api_key=API_KEY, **FAST) as client:
        results = list(client.stream(given))
    assert len(results) == 50
    assert [r.id for r in results if isinstance(r, RiskAssessment)] == [a["id"] for i, a in enumerate(given) if i != 45]
    assert isinstance(results[45], ItemError) and results[45].index == 45  # counted from the start, across the resend
    streams = [b for (_, path, _), b in zip(proxy.requests, proxy.bodies, strict=True) if path == "/v1/score/batch"]
    assert [len(b.splitlines()) for b in streams] == [50, 30]  # the second request carries only articles 20..49
    assert json.loads(streams[1].splitlines()[0])["id"] == "a-20"


def test_a_stream_that_keeps_ending_without_results_fails_after_the_retries(server: ServeProcess) -> None:
    with flaky_proxy(server.port, empty=10) as proxy, RiskClient(proxy.url, api_key=API_KEY, retries=2, **FAST) as client:
        with pytest.raises(ClientError, match="stopped after 0 result"):
            list(client.stream(articles(5)))
    assert [path for _, path, _ in proxy.requests].count("/v1/score/batch") == 3


def test_the_services_own_503_when_a_scoring_process_dies_is_retried(server: ServeProcess) -> None:
    """No proxy: the scoring process is killed mid-stream; the service ends the stream with its 503 stop line
    (scoring-unavailable) and the client sends the unanswered rest again."""
    pids = [pid for e in server.logs() for pid in e.get("pool_pids", [])]
    assert len(pids) == 1
    given = articles(STREAM_LIMIT)  # one request's worth: ~2 s of scoring, so the kill lands while it is scored
    before = batch_requests(server)
    results = []
    with RiskClient(server.url, api_key=API_KEY, **FAST) as client:
        for result in client.stream(given):
            if not results:
                os.kill(pids[0], signal.SIGKILL)
            results.append(result)
    assert [r.id for r in results] == [a["id"] for a in given]
    server.wait_for(lambda: any(e["msg"].startswith("scoring process died") for e in server.logs()), "the pool's log line")
    server.wait_for(lambda: batch_requests(server) - before >= 2, "the access log of the resent stream", timeout=10)
    assert batch_requests(server) - before == 2


def test_connection_errors_are_retried(server: ServeProcess) -> None:
    with flaky_proxy(server.port, drop=2) as proxy, RiskClient(proxy.url, api_key=API_KEY, **FAST) as client:
        result = client.score({"text": "The council voted 7-2 on Tuesday, officials said."})
    assert result.assessed and [status for _, _, status in proxy.requests] == [0, 0, 200]


def test_unreachable_server_raises_after_retries() -> None:
    with flaky_proxy(1) as proxy:
        url = proxy.url  # a port that was just free, closed again on leaving the block
    with RiskClient(url, retries=2, **FAST) as client, pytest.raises(ServiceUnreachable, match="3 attempt"):
        client.score({"text": "Plain report."})


def test_client_imports_no_web_stack() -> None:
    code = "import sys, misinfo_risk.client; print(sorted({'fastapi', 'starlette', 'uvicorn', 'prometheus_client'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
