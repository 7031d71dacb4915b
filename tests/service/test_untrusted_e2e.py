"""Issue 12's defects, on a real `misinfo-risk serve` over real sockets: no client input gives a 500 or loses results."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.service.conftest import article_dict
from tests.service.server import RawStream, ServeProcess

pytestmark = pytest.mark.e2e
DEPTH = 600


@pytest.fixture(scope="module")
def server(tiny_artifact: Path) -> Iterator[ServeProcess]:
    proc = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "2"], workers=1)
    try:
        yield proc.wait_ready()
    finally:
        proc.stop()


def nested_article(i: int) -> str:
    """An article with a field the schema ignores, nested DEPTH levels deep (JSON text: json.dumps would recurse too)."""
    return json.dumps(article_dict(i))[:-1] + ', "extra": ' + "[" * DEPTH + "]" * DEPTH + "}"


def batch_body(n: int = 200, nested_at: int = 57) -> bytes:
    items = [nested_article(i) if i == nested_at else json.dumps(article_dict(i)) for i in range(n)]
    return ("[" + ",".join(items) + "]").encode()


def test_a_deeply_nested_item_in_a_streamed_batch_loses_no_result(server: ServeProcess) -> None:
    response = httpx2.post(
        f"{server.url}/v1/score/batch",
        content=batch_body(),
        headers={"content-type": "application/json", "accept": "application/x-ndjson"},
        timeout=120,
    )
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["id"] for line in lines] == [f"a-{i}" for i in range(200)]  # every item, in order
    assert all("error" not in line for line in lines), [line for line in lines if "error" in line]


def test_a_deeply_nested_item_in_a_json_batch_or_alone_gets_no_500(server: ServeProcess) -> None:
    batch = httpx2.post(
        f"{server.url}/v1/score/batch", content=batch_body(), headers={"content-type": "application/json"}, timeout=120
    )
    assert batch.status_code == 200, batch.text
    assert [r["id"] for r in batch.json()["results"]] == [f"a-{i}" for i in range(200)]
    single = httpx2.post(
        f"{server.url}/v1/score", content=nested_article(7), headers={"content-type": "application/json"}, timeout=60
    )
    assert single.status_code == 200 and single.json()["id"] == "a-7", single.text


def test_a_deeply_nested_line_in_an_ndjson_stream_loses_no_result(server: ServeProcess) -> None:
    lines = [nested_article(i) if i % 50 == 3 else json.dumps(article_dict(i)) for i in range(200)]
    response = httpx2.post(
        f"{server.url}/v1/score/batch",
        content=("\n".join(lines) + "\n").encode(),
        headers={"content-type": "application/x-ndjson"},
        timeout=120,
    )
    assert response.status_code == 200
    assert [json.loads(line)["id"] for line in response.text.splitlines()] == [f"a-{i}" for i in range(200)]


@pytest.fixture(scope="module")
def impatient(tiny_artifact: Path) -> Iterator[ServeProcess]:
    """Short head and body timeouts (1 s), so that the tests need not wait the 10 s defaults."""
    env = {"RISK_HEADER_TIMEOUT": "1", "RISK_BODY_TIMEOUT": "1"}
    proc = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "0"], workers=1, env=env)
    try:
        yield proc.wait_ready()
    finally:
        proc.stop()


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took (fails after `limit` s)."""
    began = time.monotonic()
    sock.settimeout(limit)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection was still open after {limit} s")
    return data, time.monotonic() - began


def test_a_connection_that_sends_nothing_is_closed(impatient: ServeProcess) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port)) as sock:
        data, seconds = read_until_closed(sock, 8)
    assert data == b"" and 0.8 < seconds < 4


def test_a_trickled_request_head_is_closed(impatient: ServeProcess) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port)) as sock:
        began = time.monotonic()
        sock.sendall(b"POST /v1/score HTTP/1.1\r\nhost: x\r\n")
        with contextlib.suppress(OSError):  # the server may close while we trickle
            for _ in range(30):
                time.sleep(0.2)
                sock.sendall(b"x")
        data, _ = read_until_closed(sock, 8)
    assert data == b"" and time.monotonic() - began < 4


def test_a_body_that_stops_arriving_gets_408_and_the_connection_closes(impatient: ServeProcess) -> None:
    with socket.create_connection(("127.0.0.1", impatient.port)) as sock:
        sock.sendall(b'POST /v1/score HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"te')
        data, seconds = read_until_closed(sock, 8)
    assert data.startswith(b"HTTP/1.1 408") and b"request-timeout" in data and seconds < 4


def test_a_trickled_body_gets_408_and_the_connection_closes(impatient: ServeProcess) -> None:
    """A byte every 0.3 s never leaves a 1 s gap, but averages far under RISK_BODY_MIN_RATE (500 bytes/s)."""
    with socket.create_connection(("127.0.0.1", impatient.port)) as sock:
        began = time.monotonic()
        sock.sendall(b"POST /v1/score HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n")
        sock.settimeout(0.3)
        data = b""
        with contextlib.suppress(OSError):  # the server may close while we trickle
            while not data and time.monotonic() - began < 8:
                sock.sendall(b" ")
                with contextlib.suppress(TimeoutError):
                    data = sock.recv(65536)
        rest, _ = read_until_closed(sock, 8)
    assert (data + rest).startswith(b"HTTP/1.1 408") and b"bytes/s" in data + rest
    assert time.monotonic() - began < 4


def test_a_stream_whose_body_stops_arriving_ends_with_a_408_line(impatient: ServeProcess) -> None:
    head = b"POST /v1/score/batch HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n"
    line = json.dumps(article_dict(1)).encode() + b"\n"
    with socket.create_connection(("127.0.0.1", impatient.port)) as sock:
        sock.sendall(head + f"{len(line):x}\r\n".encode() + line + b"\r\n")  # one article, then nothing more
        sock.settimeout(8)
        data = b""
        while b"request-timeout" not in data and (chunk := sock.recv(65536)):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    chunks = [part for part in data.split(b"\r\n") if part.startswith(b"{")]  # the chunked body's chunks
    lines = [json.loads(line) for chunk in chunks for line in chunk.splitlines()]
    assert [line.get("error", {}).get("status") for line in lines] == [None, 408]  # the article's result, then the 408
    assert lines[1]["index"] == 1 and lines[1]["error"]["type"].endswith("request-timeout")


def test_a_keep_alive_connection_still_works_within_the_timeouts(impatient: ServeProcess) -> None:
    with httpx2.Client(base_url=impatient.url) as http:
        for _ in range(3):
            assert http.post("/v1/score", json=article_dict(1)).status_code == 200
            time.sleep(0.4)


def test_compressed_bodies_get_415_and_trailing_slashes_404(impatient: ServeProcess) -> None:
    body = gzip.compress(json.dumps(article_dict(1)).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    for path in ("/v1/score", "/v1/score/batch"):
        response = httpx2.post(impatient.url + path, content=body, headers=headers)
        assert response.status_code == 415 and "Content-Encoding" in response.json()["detail"], response.text
    feed = httpx2.post(impatient.url + "/v1/feeds/score", content=body, headers=headers | {"content-type": "application/rss+xml"})
    assert feed.status_code == 415
    slash = httpx2.post(impatient.url + "/v1/score/", json=article_dict(1), headers={"host": "evil.example"})
    assert slash.status_code == 404 and "location" not in slash.headers


def test_connections_opened_during_the_drain_are_refused_at_once(tiny_artifact: Path) -> None:
    """Two workers, SIGTERM while a request is in flight: a new connection is reset at once, not queued until the drain ends."""
    server = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "0"], workers=2).wait_ready()
    try:
        busy = socket.create_connection(("127.0.0.1", server.port))
        busy.sendall(b"POST /v1/score HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        time.sleep(0.5)
        server.terminate()
        time.sleep(1.0)
        began = time.monotonic()
        try:
            late = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            late.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            data, _ = read_until_closed(late, 5)
            late.close()
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
            data = b""
        assert data == b"" and time.monotonic() - began < 2
        busy.close()
    finally:
        server.stop()


def test_a_stream_client_that_does_not_read_holds_back_the_server(tiny_artifact: Path) -> None:
    """Results wait for a client that does not read up to RISK_STREAM_BUFFER_BYTES; then the server stops
    reading the request (it used to buffer ~6x the input in temporary files). Every result still arrives."""
    env = {"RISK_STREAM_MEMORY_BYTES": "262144", "RISK_STREAM_BUFFER_BYTES": "1048576"}
    server = ServeProcess(["--artifact", str(tiny_artifact), "--pool-workers", "1"], workers=1, env=env).wait_ready()
    noisy = "Insiders say it is SHOCKING!!! Share this now, experts claim. " * 12  # many signals: long results
    total = 8_000
    try:
        stream = RawStream(server.port, "/v1/score/batch", "application/x-ndjson")
        stream.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)  # the kernel holds few results for us
        sent = threading.Event()

        def send_all() -> None:
            for start in range(0, total, 100):
                stream.send(
                    "".join(
                        json.dumps(article_dict(i, text=f"Item {i}: {noisy}")) + "\n" for i in range(start, start + 100)
                    ).encode()
                )
            stream.finish()
            sent.set()

        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        sent.wait(25)  # the client reads nothing for a while: main spilled megabytes to a temporary file by then
        stream.read_head()
        ids = [json.loads(line)["id"] for line in stream.lines()]
        sender.join(60)
        stream.close()
        assert ids == [f"a-{i}" for i in range(total)]
        server.wait_for(lambda: any(e.get("msg") == "stream finished" for e in server.logs()), "the stream's log line")
        (finished,) = [e for e in server.logs() if e.get("msg") == "stream finished"]
        # At most the bound plus one chunk's results wait at once (before the bound: all the results the socket
        # buffers did not take). Not `spilled_bytes`: it counts every byte that went through the file, and once
        # the client reads, results keep flowing through the file until it drains, more the slower the machine.
        assert finished["peak_bytes"] < 2 * 1048576, finished
    finally:
        server.stop()
