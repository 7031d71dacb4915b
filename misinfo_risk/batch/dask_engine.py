"""The Dask engine: each chunk is one task on a Dask distributed cluster, or on a LocalCluster."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from misinfo_risk.batch.engines import Chunk, EngineError, preload_scoring_modules, take
from misinfo_risk.runtime import IN_FLIGHT_PER_PROCESS, usable_cpus

if TYPE_CHECKING:
    from misinfo_risk.model.scorer import Scorer

SCATTER_ABOVE_BYTES = 8 * 1024 * 1024  # Dask warns about task graphs over 10 MB: larger chunks are scattered


def score_pickled_chunk(scorer: Scorer, payload: bytes, max_chars: int, base_rate: float | None = None) -> bytes:
    """The task run on a worker: a pickled list of items in, JSON Lines rows out."""
    from misinfo_risk.batch.rows import score_chunk

    return score_chunk(scorer, pickle.loads(payload), max_chars, base_rate)


LOCAL_CLUSTER_CONFIG = {
    # the workers' statistical profiler costs CPU time and is not needed here
    "distributed.worker.profile.enabled": False,
    # workers are forked from a server that has already imported distributed, scikit-learn and
    # the scorer's modules (see _preload_forkserver): each worker then starts in a fraction of a
    # second instead of importing them all again
    "distributed.worker.multiprocessing-method": "forkserver",
    # on a machine whose every core scores, the monitors' polling is taken from scoring
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,  # every worker holds two chunks at most
}


DASK_PRELOAD = ["distributed"]
"""What Dask's workers need first (Dask preloads it too); the scoring stack follows."""


def _preload_forkserver() -> None:
    """Let Dask make its multiprocessing context (it sets its own preload list once per process), then set ours."""
    from distributed.utils import get_mp_context

    get_mp_context()  # sets Dask's own list (once per process), replacing ours
    preload_scoring_modules(DASK_PRELOAD)  # ours again: Dask's module first, then the scoring stack


class LocalClusterStarter:
    """Starts a LocalCluster in a background thread, so the batch command can go on loading the
    model and counting the input meanwhile (its workers take a second or two to start).

        starter = LocalClusterStarter(workers=2)   # returns at once
        cluster = starter.result()                 # waits; raises what the start raised
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # The forkserver the workers will be forked from starts importing Dask and the scoring
        # stack right now, while this process imports them too (on another core).
        from multiprocessing import forkserver

        preload_scoring_modules(DASK_PRELOAD)
        forkserver.ensure_running()
        self._cluster: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._start, name="start-local-cluster", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            import dask
            from distributed import LocalCluster

            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                _preload_forkserver()
                # dashboard ":0": a free port, so no clash with another cluster on this machine
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits for the cluster
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._cluster

    def close(self) -> None:
        """Stop the cluster if it was started but never handed out."""
        self._thread.join()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


_LOADED: dict[tuple[str | None, str], Scorer] = {}


def score_with_artifact(
    artifact: str | None,
    pipeline_sha256: str,
    payload: bytes,
    max_chars: int,
    base_rate: float | None = None,
    model_sha256: str | None = None,
) -> bytes:
    """The task on a LocalCluster worker: the scorer is loaded from the artifact on this machine, once per process.

    Loading in the worker (instead of receiving the scorer from the client) lets the workers
    import scikit-learn and load the model while the client is already reading and sending
    chunks. `pipeline_sha256` pins the exact model the client planned the run with; `model_sha256`, the
    user's pin of the whole artifact (--model-sha256), is checked here too.
    """
    from misinfo_risk.batch.rows import score_chunk
    from misinfo_risk.model.scorer import load_scorer

    key = (artifact, pipeline_sha256)
    scorer = _LOADED.get(key)
    if scorer is None:
        scorer = load_scorer(artifact, sha256=model_sha256)
        if scorer.card.pipeline_sha256 != pipeline_sha256:
            raise RuntimeError(f"the artifact at {artifact or 'the shipped path'} changed during the run")
        _LOADED.clear()
        _LOADED[key] = scorer
    return score_chunk(scorer, pickle.loads(payload), max_chars, base_rate)


class DaskEngine:
    """Dask distributed: the scorer is broadcast to every worker once; each chunk is one task.

    The client reads the inputs and ships each chunk to the cluster, so workers need the
    `misinfo-risk` package (same versions) but neither the input files nor the artifact.
    With no scheduler address a `LocalCluster` with one single-threaded worker process per core
    is started (its workers' statistical profiler is off: it costs CPU time, not needed here);
    its workers load the artifact themselves (same machine), overlapping their start-up with
    the client's reading instead of waiting for the scorer to be broadcast.
    """

    def __init__(
        self,
        scorer: Scorer,
        max_chars: int,
        scheduler: str | None = None,
        workers: int | None = None,
        artifact: Path | None = None,
        starter: LocalClusterStarter | None = None,
        base_rate: float | None = None,
        model_sha256: str | None = None,
    ) -> None:
        self.scorer = scorer
        self.base_rate = base_rate
        self.model_sha256 = model_sha256
        self.artifact = artifact
        self._starter = starter
        self.max_chars = max_chars
        self.scheduler = scheduler
        self.workers = workers or usable_cpus()
        self._client: Any = None
        self._cluster: Any = None
        self._scattered_scorer: Any = None
        self._pending: dict[str, tuple[int, Any]] = {}

    def __enter__(self) -> DaskEngine:
        from distributed import Client

        try:
            if self.scheduler:
                self._client = Client(self.scheduler)
            else:
                starter = self._starter or LocalClusterStarter(self.workers)
                self._starter = None
                self._cluster = starter.result()
                self._client = Client(self._cluster)
            self.workers = max(1, sum(self._client.nthreads().values()))
            if self.scheduler:  # remote workers may not have the artifact: send them the scorer
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
        if self._starter is not None:  # never entered
            self._starter.close()
        self._client = self._cluster = self._scattered_scorer = self._starter = None

    def describe(self) -> str:
        client = self._client
        if client is None:
            return "Dask engine (not connected)"
        if self.scheduler:
            where = f"scheduler {self.scheduler}"
            return f"Dask engine on {where}, {self.workers} worker thread(s), dashboard {client.dashboard_link}"
        return f"Dask engine on a LocalCluster, {self.workers} worker process(es)"

    def run(self, chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]:
        from distributed import as_completed

        client = self._client
        assert client is not None, "use the engine as a context manager"
        pending = self._pending  # future key -> (chunk index, future); released if interrupted
        finished = as_completed([], with_results=False)
        limit = self.workers * IN_FLIGHT_PER_PROCESS
        while True:
            for index, items in take(chunks, limit - len(pending)):
                payload: Any = pickle.dumps(list(items), protocol=pickle.HIGHEST_PROTOCOL)
                if len(payload) > SCATTER_ABOVE_BYTES:
                    payload = client.scatter(payload, hash=False)
                future = self._submit(client, payload)
                pending[future.key] = (index, future)
                finished.add(future)
            if not pending:
                return
            future = next(finished)
            yield pending.pop(future.key)[0], _result(future)

    def _submit(self, client: Any, payload: Any) -> Any:
        if self._scattered_scorer is not None:
            return client.submit(score_pickled_chunk, self._scattered_scorer, payload, self.max_chars, self.base_rate, pure=False)
        artifact = None if self.artifact is None else str(self.artifact.resolve())
        sha = self.scorer.card.pipeline_sha256
        return client.submit(
            score_with_artifact, artifact, sha, payload, self.max_chars, self.base_rate, self.model_sha256, pure=False
        )


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
