"""Builders for the real files the batch tests write: feeds, JSON Lines, CSV, Parquet, and a loopback HTTP server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

OPENINGS = [
    "The city council voted 7-2 on Tuesday to approve the library budget, a spokesperson said.",
    "SHOCKING: insiders say the cure WORKS and doctors don't want you to know!!!",
    "The regional rail operator said punctuality rose to 91.4 percent in the third quarter.",
    "Sources claim the mayor secretly banned the festival, and everyone is furious!",
    "According to figures published by the regulator, prices fell for a second month.",
    "You won't believe what they found. Share this before it gets deleted!!!",
]
MIDDLES = [
    "Officials confirmed the figures in a written statement on Monday.",
    "Some people are saying the truth is being hidden from all of us.",
    "The report, published by the national statistics office, covers 2,400 households.",
    "Experts warn this could change everything, absolutely everything.",
]


def article(i: int) -> dict[str, Any]:
    """A deterministic, varied article (different texts give different scores and signals)."""
    text = " ".join([OPENINGS[i % len(OPENINGS)], MIDDLES[(i // 3) % len(MIDDLES)], f"Item number {i} of the test corpus."])
    return {"id": f"a{i}", "title": f"Headline {i}" + ("!!!" if i % 5 == 0 else ""), "text": text}


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@dataclass
class Entry:
    """A feed entry to render; `html` is put in the description/summary as escaped HTML."""

    title: str
    html: str
    link: str
    guid: str | None = None
    published: datetime = field(default_factory=lambda: datetime(2024, 3, 1, 9, 30, tzinfo=UTC))


def rss2(entries: list[Entry], title: str = "Test Gazette") -> bytes:
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{e.link}</link>"
        + (f'<guid isPermaLink="false">{e.guid}</guid>' if e.guid else "")
        + f"<pubDate>{format_datetime(e.published)}</pubDate><description>{escape(e.html)}</description></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://gazette.example/</link><description>News</description>"
        f"<language>en</language>{items}</channel></rss>"
    ).encode()


def atom(entries: list[Entry], title: str = "Atom Times") -> bytes:
    items = "".join(
        f'<entry><title>{escape(e.title)}</title><link href="{e.link}"/><id>{e.guid or e.link}</id>'
        f'<updated>{e.published.isoformat()}</updated><content type="html">{escape(e.html)}</content></entry>'
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:atom-times</id><updated>2024-03-01T00:00:00Z</updated>{items}</feed>"
    ).encode()


def rss1(entries: list[Entry], title: str = "RDF Herald") -> bytes:
    seq = "".join(f'<rdf:li rdf:resource="{e.link}"/>' for e in entries)
    items = "".join(
        f'<item rdf:about="{e.link}"><title>{escape(e.title)}</title><link>{e.link}</link>'
        f"<description>{escape(e.html)}</description><dc:date>{e.published.isoformat()}</dc:date></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://herald.example/"><title>{escape(title)}</title><link>https://herald.example/</link>'
        f"<description>News</description><items><rdf:Seq>{seq}</rdf:Seq></items></channel>{items}</rdf:RDF>"
    ).encode()


def entries(n: int, start: int = 0) -> list[Entry]:
    out = []
    for i in range(start, start + n):
        a = article(i)
        out.append(Entry(a["title"], f"<p>{escape(a['text'])}</p>", f"https://news.example/{i}", guid=a["id"]))
    return out


Route = tuple[int, dict[str, str], bytes]


@dataclass
class LoopbackServer:
    """A real HTTP server on 127.0.0.1 serving fixed routes: path -> (status, headers, body)."""

    routes: dict[str, Route]
    port: int = 0
    hits: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    server_state = LoopbackServer(routes={})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            server_state.hits += 1
            status, headers, body = server_state.routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


RowsReader = Callable[[Path], list[dict[str, Any]]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


CLI = [sys.executable, "-m", "misinfo_risk", "batch"]


def corpus(path: Path, n: int) -> Path:
    """`n` articles with a malformed line every 500 (error rows must survive resuming too)."""
    write_jsonl(path, [article(i) for i in range(n)])
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i in range(250, len(lines), 500):
        lines[i] = '{"text": \n'
    path.write_text("".join(lines), encoding="utf-8")
    return path


class Runs:
    """Batch subprocesses in their own sessions, so the test can signal and clean up whole process groups."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"run{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([*CLI, *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.tmp_path / f"run{self.procs.index(proc)}.log").read_text(encoding="utf-8")

    def kill_all(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Runs]:
    runs = Runs(tmp_path)
    try:
        yield runs
    finally:
        runs.kill_all()


def wait_for_chunks(chunks: Path, at_least: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> int:
    """Poll until the running batch has stored `at_least` chunks (it must still be running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        done = len(list(chunks.glob("*.jsonl"))) if chunks.is_dir() else 0
        if done >= at_least:
            return done
        time.sleep(0.01)
    raise AssertionError(f"no {at_least} chunks stored within {timeout}s")
