"""`ScoringPool`: persistent scoring processes fed over pipes, held by each web worker.

uvicorn's workers share connections, not requests: one client on one keep-alive connection
lands on one worker. The pool lets that worker use every core. Each child (see
`service.scoring_worker`) loads the model once; chunks go to the least-busy child as
length-prefixed pickles over its stdin and results come back over its stdout. The event loop
talks to the pipes directly (no executor threads), so a round trip costs ~20 microseconds,
cheap enough to send single articles through it as well.

    >>> pool = ScoringPool(size=2, artifact_path=None, max_chars=200_000)   # doctest: +SKIP
    >>> await pool.start()                                                  # doctest: +SKIP
    >>> result = await pool.submit([{"text": "..."}], start=0)              # doctest: +SKIP
    >>> result = await pool.submit([{"text": "..."}], 0, base_rate=0.05)    # doctest: +SKIP
    >>> await pool.close()                                                  # doctest: +SKIP

A child that dies fails only its own pending chunks (`WorkerLost`) and is replaced in the
background; while no child is alive `submit` raises `PoolUnavailable`.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.scoring import ChunkResult
from service.scoring_worker import HEADER

logger = logging.getLogger("misinfo_risk.pool")

START_TIMEOUT = 180.0
MAX_RESPAWN_DELAY = 30.0


class PoolError(Exception):
    """The scoring pool could not do the work."""


class PoolStartError(PoolError):
    """A scoring process failed to start (its message says why, e.g. a bad artifact)."""


class PoolUnavailable(PoolError):
    """No scoring process is alive right now."""


class WorkerLost(PoolError):
    """The scoring process working on this chunk died."""


class ChunkFailed(PoolError):
    """Scoring raised an unexpected exception (a bug); the message holds the child's traceback."""


class _Child:
    """One scoring process and the futures of the chunks it has been sent, oldest first."""

    def __init__(self, proc: asyncio.subprocess.Process, pid: int) -> None:
        self.proc = proc
        self.pid = pid
        self.pending: deque[asyncio.Future[ChunkResult]] = deque()
        self.alive = True
        self.reader: asyncio.Task[None] | None = None

    def send(self, payload: bytes) -> asyncio.Future[ChunkResult]:
        assert self.proc.stdin is not None
        future: asyncio.Future[ChunkResult] = asyncio.get_running_loop().create_future()
        self.proc.stdin.write(HEADER.pack(len(payload)) + payload)
        self.pending.append(future)
        return future

    async def read_frame(self) -> Any:
        assert self.proc.stdout is not None
        header = await self.proc.stdout.readexactly(HEADER.size)
        (size,) = HEADER.unpack(header)
        return pickle.loads(await self.proc.stdout.readexactly(size))


class ScoringPool:
    """`size` scoring processes for one web worker (see the module docstring)."""

    def __init__(self, *, size: int, artifact_path: Path | None, max_chars: int, model_sha256: str | None = None) -> None:
        if size < 1:
            raise ValueError("a scoring pool needs at least one process")
        self.size = size
        self._artifact_path = artifact_path
        self._model_sha256 = model_sha256
        self._max_chars = max_chars
        self._children: list[_Child | None] = [None] * size
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def alive(self) -> int:
        """Scoring processes currently alive."""
        return sum(1 for c in self._children if c is not None and c.alive)

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self._children if c is not None and c.alive]

    async def start(self) -> None:
        """Start every process and wait until each has loaded the model. Raises PoolStartError."""
        results = await asyncio.gather(*(self._spawn() for _ in range(self.size)), return_exceptions=True)
        for slot, result in enumerate(results):
            if isinstance(result, _Child):
                self._attach(slot, result)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await self.close()
            raise PoolStartError(f"scoring process failed to start: {errors[0]}") from errors[0]

    def submit(self, items: Sequence[Any], start: int, base_rate: float | None = None) -> asyncio.Future[ChunkResult]:
        """Send a chunk to the least-busy process; the future resolves to its `ChunkResult`.

        `base_rate`: express the scores at this share of misleading articles (None: the training share).
        """
        candidates = [c for c in self._children if c is not None and c.alive]
        if not candidates:
            raise PoolUnavailable("no scoring process is alive")
        child = min(candidates, key=lambda c: len(c.pending))
        return child.send(pickle.dumps((list(items), start, base_rate), protocol=pickle.HIGHEST_PROTOCOL))

    async def close(self, timeout: float = 10.0) -> None:
        """Let each process finish what it was sent, then stop it (killed after `timeout`)."""
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        children = [c for c in self._children if c is not None]
        for child in children:
            if child.proc.stdin is not None and not child.proc.stdin.is_closing():
                child.proc.stdin.close()
        for child in children:
            try:
                await asyncio.wait_for(child.proc.wait(), timeout)
            except TimeoutError:
                child.proc.kill()
                await child.proc.wait()
            if child.reader is not None:
                await asyncio.gather(child.reader, return_exceptions=True)

    async def _spawn(self) -> _Child:
        args = [sys.executable, "-m", "service.scoring_worker", "--max-chars", str(self._max_chars)]
        if self._artifact_path is not None:
            args += ["--artifact", str(self._artifact_path)]
        if self._model_sha256 is not None:
            args += ["--model-sha256", self._model_sha256]
        proc = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        child = _Child(proc, proc.pid)
        try:
            kind, info = await asyncio.wait_for(child.read_frame(), START_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError, pickle.UnpicklingError) as exc:
            proc.kill()
            await proc.wait()
            raise PoolStartError(f"scoring process {proc.pid} exited during start-up (code {proc.returncode})") from exc
        if kind != "ready":
            await proc.wait()
            raise PoolStartError(str(info))
        return child

    def _attach(self, slot: int, child: _Child) -> None:
        self._children[slot] = child
        child.reader = asyncio.create_task(self._read(slot, child))

    async def _read(self, slot: int, child: _Child) -> None:
        """Resolve the child's futures in order until its stdout closes."""
        try:
            while True:
                kind, value = await child.read_frame()
                future = child.pending.popleft()
                if future.done():  # the request went away; drop the result
                    continue
                if kind == "result":
                    future.set_result(value)
                else:
                    future.set_exception(ChunkFailed(str(value)))
        except (asyncio.IncompleteReadError, ConnectionError, pickle.UnpicklingError):
            pass
        child.alive = False
        await child.proc.wait()
        while child.pending:
            future = child.pending.popleft()
            if not future.done():
                future.set_exception(WorkerLost(f"scoring process {child.pid} died"))
        if not self._closing:
            logger.error("scoring process died; starting a replacement", extra={"child_pid": child.pid})
            task = asyncio.create_task(self._respawn(slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _respawn(self, slot: int) -> None:
        delay = 0.5
        while not self._closing:
            try:
                self._attach(slot, await self._spawn())
                return
            except (PoolStartError, OSError) as exc:
                logger.error("cannot restart a scoring process", extra={"error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RESPAWN_DELAY)
