"""Least-connections accept across uvicorn's worker processes (`misinfo-risk serve --workers N`).

uvicorn's workers all accept from one listening socket, and uvloop accepts every pending
connection in one go, so the worker that wakes first often takes all of them: 2 connections of 2
and 16 of 16 in `bench/http_bench.py`, leaving the other cores idle for as long as those
keep-alive connections live. Here each worker publishes how many connections it holds on a small
shared board (an mmap'd file, one slot per worker) and accepts a new connection only when no live
sibling holds fewer; otherwise it leaves the connection in the kernel's queue for that sibling and
looks again a millisecond later. If the sibling has not taken it after `MAX_DEFER` seconds (it may
be busy with a large request) the worker takes it after all, so deferring never costs a client
more than that.

`BalancedLoop` is a uvloop event loop whose `create_server(sock=...)` does this accepting; serve
passes it to uvicorn as `loop="misinfo_risk.service.balance:BalancedLoop"` (uvicorn calls it to make each
worker's loop) together with `BOARD_ENV` when
it runs more than one worker. Everything else (HTTP protocol, keep-alive, graceful shutdown) is
uvicorn's own: accepted sockets are handed to its protocol with `loop.connect_accepted_socket`.

    board = Board.create(path)            # in the supervisor, before the workers start
    os.environ[BOARD_ENV] = str(path)     # the workers inherit it
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import uvloop

logger = logging.getLogger("misinfo_risk.balance")

BOARD_ENV = "MISINFO_RISK_ACCEPT_BOARD"
SLOTS = 64
RECHECK = 0.001
"""Seconds between looks at the queue while deferring a connection to a less-loaded sibling."""
MAX_DEFER = 0.02
"""Seconds a connection may wait for a less-loaded sibling before this worker takes it anyway."""

_SLOT = struct.Struct("=qq")  # pid, open connections


class Board:
    """The shared table of (pid, open connections), one slot per worker process."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "r+b")  # noqa: SIM115 (kept open for the life of the worker)
        self._map = mmap.mmap(self._file.fileno(), SLOTS * _SLOT.size)

    @staticmethod
    def create(path: Path) -> None:
        """Write an empty board at `path` (the supervisor does this once)."""
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
        fewest: int | None = None
        for other in range(SLOTS):
            if other == slot:
                continue
            pid, connections = _SLOT.unpack_from(self._map, other * _SLOT.size)
            if pid and (fewest is None or connections < fewest) and psutil.pid_exists(pid):
                fewest = connections
        return fewest

    def release(self, slot: int) -> None:
        _SLOT.pack_into(self._map, slot * _SLOT.size, 0, 0)

    def close(self) -> None:
        self._map.close()
        self._file.close()


ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class BalancedServer:
    """Accepts from a listening socket shared with sibling workers, least-connections first.

    Quacks like the `asyncio.Server` that uvicorn expects from `create_server`: `close()`,
    `wait_closed()`, `sockets`.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, factory: ProtocolFactory, sock: socket.socket, board: Board, backlog: int
    ) -> None:
        self._loop = loop
        self._factory = factory
        self._sock = sock
        self._board = board
        self._slot = board.claim(os.getpid())
        self._connections: set[asyncio.BaseProtocol] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._deferred_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._refusing = sock
        sock.setblocking(False)
        sock.listen(backlog)  # uvicorn binds the shared socket; the loop's create_server would listen
        loop.add_reader(sock.fileno(), self._on_readable)

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._closed else (self._sock,)

    @property
    def connections(self) -> int:
        return len(self._connections)

    def is_serving(self) -> bool:
        return not self._closed

    def close(self) -> None:
        """Stop serving new connections: from now on they are reset at once (open ones drain in uvicorn).

        The listening socket is shared with the supervisor and the siblings, so it stays open during the
        drain; leaving new connections in its queue would make their clients wait for the whole drain.
        """
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        self._loop.remove_reader(self._sock.fileno())
        # uvicorn closes this worker's descriptor of the socket right after close(): refuse on a duplicate
        self._refusing = self._sock.dup()
        self._loop.add_reader(self._refusing.fileno(), self._refuse)
        self._board.release(self._slot)
        self._board.close()

    def _refuse(self) -> None:
        try:
            conn, _ = self._refusing.accept()
        except OSError:  # a sibling took it, or the socket is gone
            return
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        conn.close()

    async def wait_closed(self) -> None:
        return None

    def _on_readable(self) -> None:
        if self._closed:
            return
        fewest = self._board.fewest_elsewhere(self._slot)
        if fewest is not None and fewest < len(self._connections) and self._may_defer():
            self._loop.remove_reader(self._sock.fileno())
            self._timer = self._loop.call_later(RECHECK, self._resume)
            return
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            self._deferred_since = None  # a sibling took it
            return
        except OSError as exc:  # out of file descriptors or memory: back off rather than spin
            logger.error("cannot accept a connection; pausing 0.1 s", extra={"error": str(exc)})
            self._loop.remove_reader(self._sock.fileno())
            self._timer = self._loop.call_later(0.1, self._resume)
            return
        self._deferred_since = None
        self._serve(conn)

    def _may_defer(self) -> bool:
        now = time.monotonic()
        if self._deferred_since is None:
            self._deferred_since = now
        return now - self._deferred_since < MAX_DEFER

    def _resume(self) -> None:
        self._timer = None
        if not self._closed:
            self._loop.add_reader(self._sock.fileno(), self._on_readable)

    def _serve(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle stall on keep-alive
        protocol = self._factory()
        self._track(protocol)
        task = self._loop.create_task(self._loop.connect_accepted_socket(lambda: protocol, conn))
        self._tasks.add(task)
        task.add_done_callback(self._connected)

    def _connected(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("an accepted connection failed to open", extra={"error": str(task.exception())})

    def _track(self, protocol: asyncio.BaseProtocol) -> None:
        """Count `protocol` until its connection is lost (wraps its `connection_lost`)."""
        self._connections.add(protocol)
        self._board.publish(self._slot, len(self._connections))
        original = protocol.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            self._connections.discard(protocol)
            if not self._closed:
                self._board.publish(self._slot, len(self._connections))
            original(exc)

        protocol.connection_lost = connection_lost  # type: ignore[method-assign]


class BalancedLoop(uvloop.Loop):
    """uvloop, except that `create_server(sock=...)` for a shared TCP socket balances accepting."""

    async def create_server(self, protocol_factory: Any, host: Any = None, port: Any = None, **kwargs: Any) -> Any:
        sock = kwargs.get("sock")
        board = os.environ.get(BOARD_ENV)
        if board is None or sock is None or kwargs.get("ssl") is not None or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return await super().create_server(protocol_factory, host, port, **kwargs)
        try:
            shared = Board(Path(board))
        except (OSError, ValueError) as exc:  # e.g. removed by a /tmp cleaner: serve anyway, unbalanced
            logger.warning("cannot open the accept board; accepting without balancing", extra={"error": str(exc)})
            return await super().create_server(protocol_factory, host, port, **kwargs)
        return BalancedServer(self, protocol_factory, sock, shared, kwargs.get("backlog") or 2048)
