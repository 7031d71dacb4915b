"""Downloading feeds from a real HTTP server on loopback: limits, errors and refused redirects."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from misinfo_risk.ingest import AddressPolicy, FetchError, fetch, is_url, parse_feed
from tests.batch.conftest import LoopbackServer, entries, rss2

LOOPBACK = AddressPolicy(any_address=True)  # these servers are on 127.0.0.1, refused by default


def test_fetch_a_feed_and_parse_it(http_server: LoopbackServer) -> None:
    http_server.routes["/rss"] = (200, {"Content-Type": "application/rss+xml"}, rss2(entries(3)))
    data = fetch(http_server.url("/rss"), max_bytes=1_000_000, addresses=LOOPBACK)
    assert [i.location for i in parse_feed(data, http_server.url("/rss"))] == ["entry 1", "entry 2", "entry 3"]


def test_size_limit_http_errors_and_non_http_redirects(http_server: LoopbackServer) -> None:
    http_server.routes["/big"] = (200, {}, b"x" * 5_000)
    http_server.routes["/to-file"] = (302, {"Location": "file:///etc/passwd"}, b"")
    http_server.routes["/to-ftp"] = (302, {"Location": "ftp://127.0.0.1/feed.xml"}, b"")
    http_server.routes["/to-rss"] = (301, {"Location": "/rss"}, b"")
    http_server.routes["/rss"] = (200, {}, b"<rss/>")
    with pytest.raises(FetchError, match="limit"):
        fetch(http_server.url("/big"), max_bytes=1_000, addresses=LOOPBACK)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(http_server.url("/missing"), max_bytes=1_000, addresses=LOOPBACK)
    with pytest.raises(FetchError, match="Redirection to url 'file:///etc/passwd' is not allowed"):
        fetch(http_server.url("/to-file"), max_bytes=1_000, addresses=LOOPBACK)
    with pytest.raises(FetchError, match="refused redirect to a non-http"):
        fetch(http_server.url("/to-ftp"), max_bytes=1_000, addresses=LOOPBACK)
    assert fetch(http_server.url("/to-rss"), max_bytes=1_000, addresses=LOOPBACK) == b"<rss/>"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_server_that_never_answers_times_out(silent_server: str) -> None:
    with pytest.raises(FetchError, match="timed out"):
        fetch(silent_server, max_bytes=1_000, timeout=0.3, addresses=LOOPBACK)


def test_only_http_urls_are_fetched() -> None:
    assert is_url("https://x.example/feed") and not is_url("file:///etc/passwd") and not is_url("feed.xml")
    with pytest.raises(FetchError, match="only http"):
        fetch("file:///etc/passwd", max_bytes=1_000)
