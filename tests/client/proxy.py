"""A real HTTP server in front of a real `misinfo-risk serve`: answers 503 (or drops the connection) a given
number of times, then forwards requests and relays the answers; it can also break off NDJSON answers after
some lines, with the service's own 503 stop line or by closing the connection. For the client's retry tests."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROBLEM_503 = (
    b'{"type":"urn:misinfo-risk:problem:scoring-unavailable","title":"Scoring unavailable","status":503,'
    b'"detail":"A scoring process stopped while working on this request; retry."}'
)


class FlakyProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        upstream_port: int,
        *,
        fail: int = 0,
        drop: int = 0,
        retry_after: str = "0",
        cut: int = 0,
        hang_up: int = 0,
        empty: int = 0,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream_port = upstream_port
        self.fail, self.drop, self.retry_after = fail, drop, retry_after
        self.cut, self.hang_up = cut, hang_up  # NDJSON answers: stop after this many lines (once each)
        self.empty = empty  # NDJSON answers sent as 200 with no line at all (this many times)
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status answered; 0 = dropped)
        self.bodies: list[bytes] = []  # every request body received, in order
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def verdict(self) -> str:
        """'drop', '503' or 'forward' for the next request."""
        with self.lock:
            if self.drop > 0:
                self.drop -= 1
                return "drop"
            if self.fail > 0:
                self.fail -= 1
                return "503"
            return "forward"


class _Handler(BaseHTTPRequestHandler):
    server: FlakyProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                out += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return out
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _handle(self) -> None:
        body = self._body()
        self.server.bodies.append(body)
        verdict = self.server.verdict()
        if verdict == "drop":
            self.server.requests.append((self.command, self.path, 0))
            self.close_connection = True
            self.connection.close()
            return
        if verdict == "503":
            self.server.requests.append((self.command, self.path, 503))
            self._answer(503, {"content-type": "application/problem+json", "retry-after": self.server.retry_after}, PROBLEM_503)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.upstream_port, timeout=300)
        try:
            names = ("content-type", "accept", "authorization", "x-api-key")
            upstream.request(
                self.command, self.path, body=body, headers={k: v for k, v in self.headers.items() if k.lower() in names}
            )
            response = upstream.getresponse()
            data = response.read()
            self.server.requests.append((self.command, self.path, response.status))
            content_type = response.getheader("content-type", "")
            if content_type.startswith("application/x-ndjson"):
                data = self._break_off(data)
                if data is None:
                    return
            self._answer(response.status, {"content-type": content_type}, data)
        finally:
            upstream.close()

    def _break_off(self, data: bytes) -> bytes | None:
        """Cut the stream after `cut` lines with a 503 stop line, as a service whose scoring process died does;
        or send `hang_up` lines of a longer announced body and close the connection (None: already answered)."""
        lines = data.splitlines(keepends=True)
        with self.server.lock:
            cut, hang_up, empty = self.server.cut, self.server.hang_up, self.server.empty > 0
            self.server.cut = self.server.hang_up = 0
            self.server.empty -= empty
        if empty:
            return b""
        if cut and cut < len(lines):
            stop = b'{"index":%d,"id":null,"error":%s}\n' % (cut, PROBLEM_503)
            return b"".join(lines[:cut]) + stop
        if hang_up and hang_up < len(lines):
            self.send_response(200)
            self.send_header("content-type", "application/x-ndjson")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(b"".join(lines[:hang_up]))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return None
        return data

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle


@contextmanager
def flaky_proxy(upstream_port: int, **kwargs: int | str) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(upstream_port, **kwargs)  # type: ignore[arg-type]  # fail/drop are ints, retry_after a str
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
