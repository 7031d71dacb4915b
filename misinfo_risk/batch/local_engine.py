"""The local engine: a process pool on this machine, each worker loading the model once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from ingest.items import RawItem
from misinfo_risk.batch.engines import (
    IN_FLIGHT_PER_WORKER,
    Chunk,
    EngineError,
    default_workers,
    preload_scoring_modules,
    take,
)

if TYPE_CHECKING:
    from model.scorer import Scorer

# Light at import time: the batch command starts this pool before importing scikit-learn itself.
_WORKER_SCORER: Scorer | None = None


def _init_worker(artifact: Path | None, model_sha256: str | None = None) -> None:
    """Per worker process: load the scorer once, leave Ctrl-C to the parent, die with the parent."""
    global _WORKER_SCORER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    from model.errors import ArtifactError
    from model.scorer import load_scorer

    try:
        _WORKER_SCORER = load_scorer(artifact, sha256=model_sha256)
    except ArtifactError:
        pass  # the command loads the same artifact itself and reports why in one line (exit status 3)


def _exit_when_orphaned(parent: int) -> None:
    # If the batch process is SIGKILLed its pool workers would otherwise wait forever.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _ready() -> None:
    """A no-op task: submitting one per worker makes the pool start them all at once."""


def _start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    try:
        for _ in range(workers):
            pool.submit(_ready)
    except RuntimeError:  # the pool was shut down first (an early usage error): nothing to start
        pass


def _score_in_worker(items: Sequence[RawItem], max_chars: int, base_rate: float | None) -> bytes:
    from misinfo_risk.batch.rows import score_chunk

    if _WORKER_SCORER is None:
        raise RuntimeError("the model artifact could not be loaded in this worker process")
    return score_chunk(_WORKER_SCORER, items, max_chars, base_rate)


class LocalEngine:
    """A process pool on this machine; each worker loads the artifact once and scores whole chunks."""

    def __init__(
        self,
        artifact: Path | None,
        max_chars: int,
        workers: int | None = None,
        base_rate: float | None = None,
        model_sha256: str | None = None,
    ) -> None:
        self.artifact = artifact
        self.model_sha256 = model_sha256
        self.max_chars = max_chars
        self.base_rate = base_rate
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None
        self._starter: threading.Thread | None = None

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Start the worker processes (if not yet started); they load the model in the background."""
        if self._pool is not None:
            return
        # forkserver: workers start clean (no copied threads or locks from this process) and are
        # forked from a server that imported the scoring stack once, instead of each importing it
        preload_scoring_modules()
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=get_context("forkserver"),
            initializer=_init_worker,
            initargs=(self.artifact, self.model_sha256),
        )
        # Start every worker now (the pool would start them one submit at a time), from a thread:
        # starting the first one waits until the forkserver has imported the scoring stack, and
        # this process has its own imports and the input to count meanwhile.
        self._starter = threading.Thread(target=_start_workers, args=(self._pool, self.workers), daemon=True)
        self._starter.start()

    def close(self) -> None:
        """Stop the workers (unfinished chunks are dropped; finished ones were stored)."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        return f"local engine, {self.workers} worker process(es)"

    def run(self, chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]:
        assert self._pool is not None, "use the engine as a context manager"
        pool = self._pool
        pending: dict[Future[bytes], int] = {}
        limit = self.workers * IN_FLIGHT_PER_WORKER
        try:
            while True:
                for index, items in take(chunks, limit - len(pending)):
                    pending[pool.submit(_score_in_worker, items, self.max_chars, self.base_rate)] = index
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield pending.pop(future), future.result()
        except BrokenProcessPool as exc:
            raise EngineError(f"a worker process died (out of memory, or killed): {exc}") from exc
