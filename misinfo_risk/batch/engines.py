"""Engines that score chunks in parallel: a local process pool, or a Dask distributed cluster.

Both take an iterator of chunks ``(index, items)`` and yield ``(index, encoded rows)`` as chunks
finish (not necessarily in order), keeping only a few chunks in flight so memory stays bounded
however large the input is. Both run :func:`misinfo_risk.batch.rows.score_chunk`, so a chunk
gives the same bytes on either engine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from ingest.items import RawItem
from misinfo_risk.batch.rows import score_chunk
from model.scorer import Scorer, load_scorer

Chunk = tuple[int, Sequence[RawItem]]
IN_FLIGHT_PER_WORKER = 2


class Engine(Protocol):
    """Scores chunks; use as a context manager."""

    workers: int

    def describe(self) -> str: ...

    def __enter__(self) -> Engine: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None: ...

    def run(self, chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]: ...


def default_workers() -> int:
    """The cores this process may use (respects `taskset` and container CPU sets)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --- local engine -------------------------------------------------------------------------------------

_WORKER_SCORER: Scorer | None = None


def _init_worker(artifact: Path | None) -> None:
    """Per worker process: load the scorer once, leave Ctrl-C to the parent, die with the parent."""
    global _WORKER_SCORER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    _WORKER_SCORER = load_scorer(artifact)


def _exit_when_orphaned(parent: int) -> None:
    # If the batch process is SIGKILLed its pool workers would otherwise wait forever.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _score_in_worker(items: Sequence[RawItem], max_chars: int) -> bytes:
    assert _WORKER_SCORER is not None, "worker initializer did not run"
    return score_chunk(_WORKER_SCORER, items, max_chars)


class LocalEngine:
    """A process pool on this machine; each worker loads the artifact once and scores whole chunks."""

    def __init__(self, artifact: Path | None, max_chars: int, workers: int | None = None) -> None:
        self.artifact = artifact
        self.max_chars = max_chars
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalEngine:
        # spawn: workers start clean (no copied threads or locks from the parent)
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(self.artifact,)
        )
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
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
        while True:
            for index, items in _take(chunks, limit - len(pending)):
                pending[pool.submit(_score_in_worker, items, self.max_chars)] = index
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()


def _take(chunks: Iterator[Chunk], n: int) -> list[Chunk]:
    out: list[Chunk] = []
    while len(out) < n and (chunk := next(chunks, None)) is not None:
        out.append(chunk)
    return out


# --- Dask engine --------------------------------------------------------------------------------------


class DaskEngine:
    """Dask distributed: the scorer is broadcast to every worker once; each chunk is one task.

    The client reads the inputs and ships each chunk to the cluster, so workers need the
    `misinfo-risk` package (same versions) but neither the input files nor the artifact.
    With no scheduler address a `LocalCluster` with one single-threaded worker process per core is started.
    """

    def __init__(self, scorer: Scorer, max_chars: int, scheduler: str | None = None, workers: int | None = None) -> None:
        self.scorer = scorer
        self.max_chars = max_chars
        self.scheduler = scheduler
        self.workers = workers or default_workers()
        self._client: Any = None
        self._cluster: Any = None
        self._scattered_scorer: Any = None
        self._pending: dict[str, tuple[int, Any]] = {}

    def __enter__(self) -> DaskEngine:
        from distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler)
        else:
            # ":0": the scheduler's HTTP server always starts; a free port avoids clashing with other clusters
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=":0")
            self._client = Client(self._cluster)
        self.workers = max(1, sum(self._client.nthreads().values()))
        self._scattered_scorer = self._client.scatter(self.scorer, broadcast=True, hash=False)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            # Release what this run holds before the workers go away (else the scheduler logs it as lost).
            for _, future in self._pending.values():  # only when interrupted: unfinished chunks
                future.release()
            self._pending.clear()
            if self._scattered_scorer is not None:
                self._scattered_scorer.release()
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = self._scattered_scorer = None

    def describe(self) -> str:
        client = self._client
        if client is None:
            return "Dask engine (not connected)"
        where = f"scheduler {self.scheduler}" if self.scheduler else "a LocalCluster"
        return f"Dask engine on {where}, {self.workers} worker thread(s), dashboard {client.dashboard_link}"

    def run(self, chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]:
        from distributed import as_completed

        client = self._client
        assert client is not None, "use the engine as a context manager"
        pending = self._pending  # future key -> (chunk index, future); cancelled if interrupted
        finished = as_completed([], with_results=False)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            for index, items in _take(chunks, limit - len(pending)):
                [data] = client.scatter([list(items)], hash=False)
                future = client.submit(score_chunk, self._scattered_scorer, data, self.max_chars, pure=False)
                pending[future.key] = (index, future)
                finished.add(future)
            if not pending:
                return
            future = next(finished)
            result = future.result()
            yield pending.pop(future.key)[0], result
