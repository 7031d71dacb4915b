"""Feed downloads connect to public addresses only unless allowed: checked on the address actually connected to,
for the URL and every redirect, with real HTTP servers on loopback and a real `misinfo-risk batch` process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from misinfo_risk.ingest import AddressPolicy, FetchError, fetch
from tests.batch.conftest import entries, rss2

FEED = rss2(entries(2))


class Server:
    """A real HTTP server on `host`: /feed answers a feed, /to?url=... redirects there; counts the requests it got."""

    def __init__(self, host: str) -> None:
        state = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                state.hits += 1
                if self.path.startswith("/to?url="):
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/to?url="))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                self.wfile.write(FEED)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.host, self.port = host, self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


@contextmanager
def serving(host: str) -> Iterator[Server]:
    try:
        server = Server(host)
    except OSError as exc:
        pytest.skip(f"cannot listen on {host} here: {exc}")
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join()


@pytest.fixture
def inner() -> Iterator[Server]:
    """The server a redirect must not reach (127.0.0.1: loopback, like a metadata or admin endpoint)."""
    with serving("127.0.0.1") as server:
        yield server


@pytest.fixture
def outer() -> Iterator[Server]:
    """The server the user asked for, on another loopback address that the tests allow as if it were public."""
    with serving("127.0.0.2") as server:
        yield server


OUTER_ONLY = AddressPolicy.parse(False, ["127.0.0.2/32"])


def test_loopback_is_refused_by_default_whatever_the_url_calls_it(inner: Server) -> None:
    # 2130706433 and 0x7f.1 are 127.0.0.1 too: a check of the host name alone lets them through.
    for host in ("127.0.0.1", "localhost", "2130706433", "0x7f.1"):
        with pytest.raises(FetchError, match=r"refused to download from .* \(127\.0\.0\.1\): a loopback address"):
            fetch(f"http://{host}:{inner.port}/feed", max_bytes=100_000)
    assert inner.hits == 0, "nothing may be sent to a refused address"
    assert fetch(inner.url("/feed"), max_bytes=100_000, addresses=AddressPolicy(any_address=True)) == FEED


def test_a_redirect_to_loopback_is_refused_before_anything_is_sent(outer: Server, inner: Server) -> None:
    start = outer.url(f"/to?url={inner.url('/feed')}")
    with pytest.raises(FetchError, match=r"refused to download from 127\.0\.0\.1 \(127\.0\.0\.1\): a loopback address"):
        fetch(start, max_bytes=100_000, addresses=OUTER_ONLY)
    assert (outer.hits, inner.hits) == (1, 0)
    assert fetch(outer.url("/feed"), max_bytes=100_000, addresses=OUTER_ONLY) == FEED  # the allowed server itself


def run_batch(tmp_path: Path, artifact: Path, url: str, *options: str) -> tuple[int, list[dict[str, Any]], str]:
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "misinfo_risk", "batch", url, "--output", str(out), "--artifact", str(artifact)]
    argv += ["--workers", "1", "--progress", "off", "--restart", *options]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return done.returncode, rows, done.stderr


def test_the_batch_command_refuses_private_redirects_unless_allowed(
    tmp_path: Path, tiny_artifact: Path, outer: Server, inner: Server
) -> None:
    start = outer.url(f"/to?url={inner.url('/feed')}")

    status, rows, err = run_batch(tmp_path, tiny_artifact, start, "--allow-network", "127.0.0.2/32")
    assert status == 1, err  # the run finished; the download is one error row
    assert [(r["location"], r["error"]) for r in rows] == [
        ("source", f"download failed: {start}: refused to download from 127.0.0.1 (127.0.0.1): a loopback address "
         "(--allow-private-addresses allows it)"),
    ]  # fmt: skip
    assert inner.hits == 0

    status, rows, err = run_batch(tmp_path, tiny_artifact, start, "--allow-private-addresses")
    assert status == 0, err
    assert [r["location"] for r in rows] == ["entry 1", "entry 2"] and inner.hits == 1
