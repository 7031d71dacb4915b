"""Real `misinfo-risk serve` processes for end-to-end tests, and a raw HTTP/1.1 client for full-duplex streams."""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _terminate_with_parent() -> None:
    """In the child before exec: get SIGTERM if the test process dies (no orphaned servers after a killed run)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_RUNNING_ON = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class ServeProcess:
    """`python -m misinfo_risk serve --port 0 ...` in its own session; logs collected line by line."""

    def __init__(self, args: list[str], *, workers: int, env: dict[str, str] | None = None) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("RISK_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        argv = [
            sys.executable,
            "-m",
            "misinfo_risk",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            str(workers),
            *args,
        ]
        self.workers = workers
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=clean | (env or {}),
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=self._collect, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._collect, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.port = 0

    @staticmethod
    def _collect(stream: Any, lines: list[str]) -> None:
        for raw in stream:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def logs(self, stream: str = "stderr") -> list[dict[str, Any]]:
        """Parsed JSON log lines (every line must be JSON)."""
        return [json.loads(line) for line in list(getattr(self, stream))]

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"server exited ({self.proc.returncode}) while waiting for {what}:\n" + "\n".join(self.stderr[-30:])
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n" + "\n".join(self.stderr[-30:]))
            time.sleep(0.05)

    def wait_ready(self) -> ServeProcess:
        """Until the port is known and every worker has loaded the model and started serving."""

        def ready() -> bool:
            text = "\n".join(self.stderr)
            match = _RUNNING_ON.search(text)
            if match:
                self.port = int(match.group(1))
            return bool(match) and text.count("Application startup complete.") >= self.workers

        self.wait_for(ready, "the workers to start")
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> set[int]:
        return {int(e["pid"]) for e in self.logs() if e["msg"] == "model loaded"}

    def terminate(self) -> None:
        self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: the server and its children
                self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process (VmRSS now, or VmHWM = peak) from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


class RawStream:
    """One HTTP/1.1 request with a chunked body sent piece by piece while the response is read (full duplex)."""

    def __init__(self, port: int, path: str, content_type: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)  # a hang fails the test
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        self.sock.sendall(head.encode())
        self._buffer = b""
        self.status = 0
        self.headers: dict[str, str] = {}

    def send(self, data: bytes) -> None:
        if data:
            self.sock.sendall(b"%x\r\n" % len(data) + data + b"\r\n")

    def finish(self) -> None:
        self.sock.sendall(b"0\r\n\r\n")

    def _fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        self._buffer += data

    def _take_line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    def _take(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._fill()
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def read_head(self) -> None:
        self.status = int(self._take_line().split()[1])
        while line := self._take_line():
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def body_chunks(self) -> Iterator[bytes]:
        """The chunked response body, chunk by chunk, until the last one."""
        while size := int(self._take_line().split(b";")[0], 16):
            yield self._take(size)
            self._take_line()
        self._take_line()

    def lines(self) -> Iterator[bytes]:
        """The response body split into lines, as they arrive."""
        partial = b""
        for chunk in self.body_chunks():
            partial += chunk
            *complete, partial = partial.split(b"\n")
            yield from complete

    def close(self) -> None:
        self.sock.close()
