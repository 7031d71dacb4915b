"""Least-connections accepting across the web workers of `misinfo-risk serve --workers N` (N > 1).

Why, and measured: docs/runtime.md ("Spreading connections over web workers"). Each worker publishes how
many connections it holds on a shared board (an mmap'd file, one slot per worker) and leaves a new connection
in the kernel's queue while a live sibling holds fewer, looking again every RECHECK seconds; after MAX_DEFER
it takes it anyway. After close() (SIGTERM) new connections are reset at once.

Everything else (HTTP, keep-alive, shutdown) is uvicorn's: serve passes
`loop="misinfo_risk.service.balance:BalancedLoop"` and sets BOARD_ENV; uvicorn then calls the loop's public
`create_server(sock=...)` for the socket its supervisor shares, and accepted sockets go to uvicorn's protocol
through `loop.connect_accepted_socket`. tests/service/test_e2e.py fails if uvicorn stops doing so.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import os
import socket
import struct
import time
from pathlib import Path
from typing import Any

import psutil
import uvloop

logger = logging.getLogger("misinfo_risk.balance")

BOARD_ENV = "MISINFO_RISK_ACCEPT_BOARD"
SLOTS = 64
RECHECK = 0.001  # seconds between looks at the queue while a less-loaded sibling may take a connection
MAX_DEFER = 0.02  # seconds a connection may wait for such a sibling before this worker takes it
_SLOT = struct.Struct("=qq")  # pid, open connections


class Board:
    """The shared table of (pid, open connections), one slot per worker process."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "r+b")  # noqa: SIM115 (kept open for the life of the worker)
        self._map = mmap.mmap(self._file.fileno(), SLOTS * _SLOT.size)

    @staticmethod
    def create(path: Path) -> None:
        path.write_bytes(bytes(SLOTS * _SLOT.size))

    def claim(self, pid: int) -> int:
        """Take a free slot (or one left by a dead process) for `pid`; returns its index."""
        fcntl.flock(self._file, fcntl.LOCK_EX)
        try:
            for slot in range(SLOTS):
                owner, _ = _SLOT.unpack_from(self._map, slot * _SLOT.size)
                if owner in (0, pid) or not psutil.pid_exists(owner):
                    _SLOT.pack_into(self._map, slot * _SLOT.size, pid, 0)
                    return slot
        finally:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        raise RuntimeError(f"the accept board has no free slot (more than {SLOTS} workers?)")

    def publish(self, slot: int, connections: int) -> None:
        struct.pack_into("=q", self._map, slot * _SLOT.size + 8, connections)

    def fewest_elsewhere(self, slot: int) -> int | None:
        """The fewest connections any other live worker holds (None when there is no other worker)."""
        counts = [_SLOT.unpack_from(self._map, other * _SLOT.size) for other in range(SLOTS) if other != slot]
        return min((n for pid, n in counts if pid and psutil.pid_exists(pid)), default=None)

    def release(self, slot: int) -> None:
        _SLOT.pack_into(self._map, slot * _SLOT.size, 0, 0)

    def close(self) -> None:
        self._map.close()
        self._file.close()


class BalancedServer:
    """What uvicorn gets from `create_server`: `close()`, `wait_closed()`, `sockets`, `is_serving()`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, factory: Any, sock: socket.socket, board: Board, backlog: int) -> None:
        self._loop, self._factory, self._sock, self._board = loop, factory, sock, board
        self._slot = board.claim(os.getpid())
        self.connections = 0  # open connections, published on the board
        self._tasks: set[asyncio.Task[Any]] = set()
        self._deferred_since: float | None = None
        self._closed = False
        sock.setblocking(False)
        sock.listen(backlog)  # uvicorn binds the shared socket; the loop's own create_server would listen
        loop.add_reader(sock.fileno(), self._on_readable)
        logger.info("accepting least-connections first", extra={"slot": self._slot})

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._closed else (self._sock,)

    def is_serving(self) -> bool:
        return not self._closed

    def close(self) -> None:
        """Stop serving: new connections are reset from now on (open ones drain in uvicorn).

        The listening socket is shared with the supervisor and the siblings, so it stays open during the
        drain, and uvicorn closes this worker's descriptor right after close(): refuse on a duplicate.
        """
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._sock.fileno())
        refusing = self._sock.dup()
        self._loop.add_reader(refusing.fileno(), self._refuse, refusing)
        self._board.release(self._slot)
        self._board.close()

    @staticmethod
    def _refuse(refusing: socket.socket) -> None:
        try:
            conn, _ = refusing.accept()
        except OSError:  # a sibling took it, or the socket is gone
            return
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        conn.close()

    async def wait_closed(self) -> None:
        return None

    def _on_readable(self) -> None:
        fewest = self._board.fewest_elsewhere(self._slot)
        if fewest is not None and fewest < self.connections:
            now = time.monotonic()
            self._deferred_since = self._deferred_since or now
            if now - self._deferred_since < MAX_DEFER:
                self._pause(RECHECK)
                return
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            conn = None  # a sibling took it
        except OSError as exc:  # out of file descriptors or memory: back off rather than spin
            logger.error("cannot accept a connection; pausing 0.1 s", extra={"error": str(exc)})
            self._pause(0.1)
            return
        self._deferred_since = None
        if conn is not None:
            self._serve(conn)

    def _pause(self, seconds: float) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        if not self._closed:  # close() may have come during the pause
            self._loop.add_reader(self._sock.fileno(), self._on_readable)

    def _serve(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stall on keep-alive responses
        protocol = self._factory()
        self.connections += 1
        self._board.publish(self._slot, self.connections)
        original = protocol.connection_lost

        def connection_lost(exc: Exception | None) -> None:  # asyncio's protocol callback (called once), wrapped to count
            self.connections -= 1
            if not self._closed:
                self._board.publish(self._slot, self.connections)
            original(exc)

        protocol.connection_lost = connection_lost
        task = self._loop.create_task(self._loop.connect_accepted_socket(lambda: protocol, conn))
        self._tasks.add(task)  # a strong reference until it is done
        task.add_done_callback(self._tasks.discard)


class BalancedLoop(uvloop.Loop):
    """uvloop, except that `create_server(sock=...)` for a shared TCP socket balances accepting."""

    async def create_server(self, protocol_factory: Any, host: Any = None, port: Any = None, **kwargs: Any) -> Any:
        sock, board = kwargs.get("sock"), os.environ.get(BOARD_ENV)
        if board and sock is not None and kwargs.get("ssl") is None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                return BalancedServer(self, protocol_factory, sock, Board(Path(board)), kwargs.get("backlog") or 2048)
            except (OSError, ValueError) as exc:  # e.g. removed by a /tmp cleaner: serve anyway, unbalanced
                logger.warning("cannot open the accept board; accepting without balancing", extra={"error": str(exc)})
        return await super().create_server(protocol_factory, host, port, **kwargs)
