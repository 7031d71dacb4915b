"""End to end: real `misinfo-risk serve` processes on free loopback ports, over real HTTP."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import uvloop

from misinfo_risk.service.balance import BalancedLoop
from tests.service.conftest import article_dict
from tests.service.server import RawStream, ServeProcess, rss_bytes

pytestmark = pytest.mark.e2e

SECRET = "Quetzalcoatl-marker-words-5521"


@pytest.fixture(scope="module")
def two_workers(tiny_artifact: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "1"], workers=2)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_every_worker_runs_uvloop(two_workers: ServeProcess) -> None:
    """Regression guard for the ~40 ms keep-alive stall with more than one worker.

    With asyncio's own loop, sockets accepted from the listening socket the supervisor shares have
    proto 0, asyncio skips TCP_NODELAY on them, and each response (headers and body written
    separately) waits for the client's delayed ACK. uvloop sets TCP_NODELAY on every connection.
    The stall itself is measured in bench/http_keepalive.py.
    """
    loaded = [e for e in two_workers.logs() if e["msg"] == "model loaded"]
    assert len({e["pid"] for e in loaded}) == 2
    assert {e["event_loop"] for e in loaded} == {"misinfo_risk.service.balance.BalancedLoop"}
    assert issubclass(BalancedLoop, uvloop.Loop)
    # uvicorn hands its shared socket to the loop's create_server(sock=...): fails here if upstream stops doing so
    balanced = [e for e in two_workers.logs() if e["msg"] == "accepting least-connections first"]
    assert {e["pid"] for e in balanced} == {e["pid"] for e in loaded}
    assert all(e["pool_processes"] == 1 for e in loaded)


def test_connections_are_dealt_out_evenly_between_workers(two_workers: ServeProcess) -> None:
    """Four keep-alive connections: both workers get some (uvloop alone gives one worker all four).

    Each connection is opened once the previous one has had its first answer, so the workers' counts
    on the board are settled: opened all at once, a sibling that the VM deschedules for more than
    MAX_DEFER (20 ms) loses its turn by design, and on the 2-core CI machine that happened in 1-2 runs
    of 4 (seen 2026-11-28, before and after issue 10). Each connection then sends a second request;
    the access log says which worker answered each.
    """
    conns: list[socket.socket] = []
    try:
        for i in range(4):
            conns.append(socket.create_connection(("127.0.0.1", two_workers.port), timeout=60))
            _send_balance_request(conns[i], f"balance-{i}-0")
        for i, conn in enumerate(conns):
            _send_balance_request(conn, f"balance-{i}-1")
    finally:
        for conn in conns:
            conn.close()
    two_workers.wait_for(lambda: len(_balance_lines(two_workers)) >= 8, "the access log lines")
    pid_of = {e["request_id"]: e["pid"] for e in _balance_lines(two_workers)}
    for i in range(4):  # a connection stays with the worker that accepted it
        assert pid_of[f"balance-{i}-0"] == pid_of[f"balance-{i}-1"]
    per_worker = Counter(pid_of[f"balance-{i}-0"] for i in range(4))
    # Usually 2 + 2; 1 + 3 when a worker was descheduled for longer than MAX_DEFER while a connection
    # waited for it (by design: a connection never waits longer), which a loaded 2-core VM does.
    assert len(per_worker) == 2, per_worker


def _send_balance_request(conn: socket.socket, request_id: str) -> None:
    body = json.dumps({"text": "The council approved the budget on Tuesday, officials said."}).encode()
    conn.sendall(
        b"POST /v1/score HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + f"x-request-id: {request_id}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    assert _read_response(conn).startswith(b"HTTP/1.1 200")


def _balance_lines(server: ServeProcess) -> list[dict[str, object]]:
    return [e for e in server.logs("stdout") if str(e.get("request_id", "")).startswith("balance-")]


def _read_response(conn: socket.socket) -> bytes:
    """One HTTP/1.1 response with a content-length (what the service sends for JSON)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        rest += conn.recv(65536)
    return head


def test_scoring_over_http_is_counted_by_metrics_from_both_workers(two_workers: ServeProcess) -> None:
    """Requests on fresh connections until both workers have served some; every scrape then counts them all."""
    sent = 0
    with httpx2.Client(base_url=two_workers.url, timeout=60) as http:
        while len(served_by(two_workers)) < 2:
            assert sent < 500, "the kernel never gave a connection to the second worker"
            response = http.post(
                "/v1/score", json={"text": f"{SECRET} said the mayor.", "id": f"r{sent}"}, headers={"connection": "close"}
            )
            assert response.status_code == 200 and response.json()["id"] == f"r{sent}"
            assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
            sent += 1
            two_workers.wait_for(lambda n=sent: len(score_lines(two_workers)) >= n, "the access log line")  # type: ignore[misc]
        assert served_by(two_workers) == two_workers.worker_pids()
        total = len(score_lines(two_workers))  # with other tests' requests to this server
        for _ in range(4):  # whichever worker answers the scrape sees both workers' counts
            exposition = http.get("/metrics", headers={"connection": "close"}).text
            assert f'risk_http_requests_total{{method="POST",route="/v1/score",status_class="2xx"}} {float(total)}' in exposition
            assert "risk_articles_scored_total" in exposition and "risk_model_info{" in exposition
    everything = "\n".join(two_workers.stdout + two_workers.stderr)
    assert SECRET not in everything, "article text must never reach the logs"


def score_lines(server: ServeProcess) -> list[dict[str, object]]:
    return [e for e in server.logs("stdout") if e.get("route") == "/v1/score"]


def served_by(server: ServeProcess) -> set[int]:
    return {int(str(e["pid"])) for e in score_lines(server)}


def test_sigterm_lets_an_in_flight_request_finish(tiny_artifact: Path) -> None:
    """A stream is half sent when the server gets SIGTERM; the rest is sent afterwards and fully scored."""
    server = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "1"], workers=2).wait_ready()
    try:
        items = [article_dict(i) for i in range(100)]
        stream = RawStream(server.port, "/v1/score/batch", "application/x-ndjson")
        stream.send("".join(json.dumps(item) + "\n" for item in items[:40]).encode())
        stream.read_head()
        lines = stream.lines()
        first = json.loads(next(lines))  # the request is in flight: results are coming back
        server.terminate()
        server.wait_for(lambda: "\n".join(server.stderr).count("Shutting down") >= 2, "both workers to begin shutting down")
        stream.send("".join(json.dumps(item) + "\n" for item in items[40:]).encode())
        stream.finish()
        results = [first] + [json.loads(line) for line in lines]
        stream.close()
        assert stream.status == 200
        assert [r["id"] for r in results] == [f"a-{i}" for i in range(100)]
        assert server.proc.wait(timeout=60) == 0
    finally:
        server.stop()


@pytest.fixture(scope="module")
def one_worker(tiny_artifact: Path) -> Iterator[ServeProcess]:
    server = ServeProcess(
        ["--artifact", str(tiny_artifact), "--pool-workers", "2"], workers=1, env={"RISK_STREAM_MEMORY_BYTES": "1048576"}
    )
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def test_ndjson_stream_of_20000_articles_keeps_server_memory_flat(one_worker: ServeProcess) -> None:
    """~79 MB of articles in, ~20,000 result lines out over one connection, while the web worker's peak memory barely moves."""
    padding = " ".join(["The committee published its figures and the minister answered questions in parliament."] * 45)  # ~4 kB
    total = 20_000
    with httpx2.Client(base_url=one_worker.url) as http:  # warm up the path being measured
        assert (
            http.post(
                "/v1/score/batch", content=b'{"text": "warm"}\n', headers={"content-type": "application/x-ndjson"}
            ).status_code
            == 200
        )
    before = rss_bytes(one_worker.proc.pid)
    stream = RawStream(one_worker.port, "/v1/score/batch", "application/x-ndjson")
    sent_bytes = 0

    def send_all() -> None:
        nonlocal sent_bytes
        block: list[str] = []
        for i in range(total):
            block.append(json.dumps({"id": f"s{i}", "text": f"Article {i}. {padding}"}) + "\n")
            if len(block) == 16:
                data = "".join(block).encode()
                stream.send(data)
                sent_bytes += len(data)
                block = []
        stream.send("".join(block).encode())
        stream.finish()

    sender = threading.Thread(target=send_all)
    sender.start()
    stream.read_head()
    count = 0
    for line in stream.lines():
        assert json.loads(line)["id"] == f"s{count}"
        count += 1
    sender.join()
    stream.close()
    growth = rss_bytes(one_worker.proc.pid, "VmHWM") - before
    assert count == total
    assert sent_bytes > 75_000_000
    assert growth < 40_000_000, f"peak memory grew by {growth / 1e6:.0f} MB for {sent_bytes / 1e6:.0f} MB streamed"


def test_a_client_that_reads_only_after_sending_gets_every_result(one_worker: ServeProcess) -> None:
    """Most clients send the whole body before reading; the server keeps reading while results wait.

    (Whether results reach the spool's file here depends on how much the kernel buffers; the
    in-process test_stream_does_not_wait_for_the_client_to_read forces it.)"""
    noisy = "Insiders say it is SHOCKING!!! Share this now, experts claim. " * 12  # many signals: long results
    items = [article_dict(i, text=f"Item {i}: {noisy}") for i in range(8_000)]
    body = "".join(json.dumps(item) + "\n" for item in items).encode()
    with httpx2.Client(base_url=one_worker.url, timeout=300) as http:
        response = http.post("/v1/score/batch", content=body, headers={"content-type": "application/x-ndjson"})
    lines = response.text.splitlines()
    assert len(response.content) > 20_000_000  # far more than the socket buffers hold
    assert [json.loads(line)["id"] for line in lines] == [f"a-{i}" for i in range(8_000)]


def test_one_worker_serves_its_own_metrics(tiny_artifact: Path) -> None:
    """The default `misinfo-risk serve` (one worker, run inside the serve process): /metrics counts the requests.

    Regression: the serve command imported prometheus_client before pointing PROMETHEUS_MULTIPROC_DIR
    at its directory, so the in-process worker kept its metrics in memory and /metrics showed none.
    """
    server = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "0"], workers=1).wait_ready()
    try:
        with httpx2.Client(base_url=server.url, timeout=60) as http:
            result = http.post("/v1/score", json={"text": "The council approved the budget on Tuesday, officials said."}).json()
            exposition = http.get("/metrics").text
    finally:
        server.stop()
    level = result["level"]
    assert f'risk_articles_scored_total{{endpoint="single",level="{level}"}} 1.0' in exposition
    assert 'risk_http_requests_total{method="POST",route="/v1/score",status_class="2xx"} 1.0' in exposition
    assert "risk_model_info{" in exposition


def test_the_serve_command_does_not_import_prometheus_client_before_choosing_its_mode() -> None:
    import subprocess
    import sys

    code = "import sys, misinfo_risk.service.__main__; assert 'prometheus_client' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
