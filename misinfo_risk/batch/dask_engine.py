"""The Dask engine: each chunk is one task on a Dask distributed cluster, or on a LocalCluster."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from misinfo_risk.batch.engines import IN_FLIGHT_PER_WORKER, Chunk, EngineError, default_workers, take
from misinfo_risk.batch.rows import score_chunk
from model.scorer import Scorer

SCATTER_ABOVE_BYTES = 8 * 1024 * 1024  # Dask warns about task graphs over 10 MB: larger chunks are scattered


def score_pickled_chunk(scorer: Scorer, payload: bytes, max_chars: int) -> bytes:
    """The task run on a worker: a pickled list of items in, JSON Lines rows out."""
    return score_chunk(scorer, pickle.loads(payload), max_chars)


class DaskEngine:
    """Dask distributed: the scorer is broadcast to every worker once; each chunk is one task.

    The client reads the inputs and ships each chunk to the cluster, so workers need the
    `misinfo-risk` package (same versions) but neither the input files nor the artifact.
    With no scheduler address a `LocalCluster` with one single-threaded worker process per core
    is started (its workers' statistical profiler is off: it costs CPU time, not needed here).
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
        import dask
        from distributed import Client, LocalCluster

        try:
            if self.scheduler:
                self._client = Client(self.scheduler)
            else:
                with dask.config.set({"distributed.worker.profile.enabled": False}):
                    # ":0": the scheduler's HTTP server always starts; a free port avoids clashing with other clusters
                    self._cluster = LocalCluster(
                        n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
                    )
                self._client = Client(self._cluster)
            self.workers = max(1, sum(self._client.nthreads().values()))
            self._scattered_scorer = self._client.scatter(self.scorer, broadcast=True, hash=False)
        except (OSError, TimeoutError) as exc:
            self.__exit__(None, None, None)
            raise EngineError(f"cannot reach the Dask scheduler {self.scheduler or '(LocalCluster)'}: {exc}") from exc
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
        pending = self._pending  # future key -> (chunk index, future); released if interrupted
        finished = as_completed([], with_results=False)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            for index, items in take(chunks, limit - len(pending)):
                payload: Any = pickle.dumps(list(items), protocol=pickle.HIGHEST_PROTOCOL)
                if len(payload) > SCATTER_ABOVE_BYTES:
                    payload = client.scatter(payload, hash=False)
                future = client.submit(score_pickled_chunk, self._scattered_scorer, payload, self.max_chars, pure=False)
                pending[future.key] = (index, future)
                finished.add(future)
            if not pending:
                return
            future = next(finished)
            yield pending.pop(future.key)[0], _result(future)


def _result(future: Any) -> bytes:
    from distributed.scheduler import KilledWorker

    try:
        result: bytes = future.result()
    except (KilledWorker, OSError, TimeoutError) as exc:
        raise EngineError(f"the Dask cluster could not run a chunk: {type(exc).__name__}: {exc}") from exc
    except ImportError as exc:
        hint = "install the same misinfo-risk[batch] on every worker"
        raise EngineError(f"a Dask worker cannot import the scoring code ({exc}): {hint}") from exc
    return result
