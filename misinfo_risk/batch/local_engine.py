"""The local engine: the runtime's chunk pool on this machine, each scoring process loading the model once."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from misinfo_risk.batch.engines import Chunk, EngineError, take
from misinfo_risk.ingest.items import RawItem
from misinfo_risk.runtime import IN_FLIGHT_PER_PROCESS, ChunkPool, PoolStartError, failed_item, usable_cpus

if TYPE_CHECKING:
    from misinfo_risk.model.scorer import Scorer


def _score_rows(scorer: Scorer, items: Sequence[RawItem], max_chars: int, base_rate: float | None) -> bytes:
    """The task run in a scoring process: the chunk's rows as JSON Lines."""
    from misinfo_risk.batch.rows import score_chunk

    return score_chunk(scorer, items, max_chars, base_rate)


class LocalEngine:
    """A chunk pool on this machine (misinfo_risk.runtime.ChunkPool); one scoring process per core by default."""

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
        self.workers = workers or usable_cpus()
        self._pool: ChunkPool | None = None
        self._starter: threading.Thread | None = None

    def __enter__(self) -> LocalEngine:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        """Start the scoring processes (if not yet started); they load the model in the background."""
        if self._pool is not None:
            return
        self._pool = ChunkPool(self.workers, self.artifact, preload=["misinfo_risk.batch.rows"], model_sha256=self.model_sha256)
        # From a thread: the first process waits until the forkserver has imported the scoring stack,
        # and this process has its own imports and the input to count meanwhile.
        self._starter = threading.Thread(target=self._pool.start, kwargs={"wait": False}, daemon=True)
        self._starter.start()

    def close(self) -> None:
        """Stop the scoring processes (unfinished chunks are dropped; finished ones were stored)."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def describe(self) -> str:
        return f"local engine, {self.workers} scoring process(es)"

    def run(self, chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]:
        assert self._pool is not None, "use the engine as a context manager"
        pool = self._pool
        pending: dict[Future[bytes], Chunk] = {}
        limit = self.workers * IN_FLIGHT_PER_PROCESS
        try:
            while True:
                for index, items in take(chunks, limit - len(pending)):
                    pending[pool.submit(_score_rows, items, self.max_chars, self.base_rate)] = (index, items)
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index, items = pending.pop(future)
                    yield index, self._result(future, items)
        except (BrokenProcessPool, PoolStartError) as exc:
            raise EngineError(f"a scoring process died (out of memory, or killed): {exc}") from exc

    def _result(self, future: Future[bytes], items: Sequence[RawItem]) -> bytes:
        """The chunk's rows; a chunk that failed as a whole (not a dead process) is scored item by item."""
        from misinfo_risk.batch.rows import encode_rows, error_row

        try:
            return future.result()
        except (BrokenProcessPool, PoolStartError):
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. an item too deeply nested to be sent to a process
            if len(items) == 1:
                failed = failed_item(0, items[0].fields, exc)
                return encode_rows([error_row(items[0], f"invalid article: {failed.message}")])
        assert self._pool is not None
        return b"".join(
            self._result(self._pool.submit(_score_rows, [item], self.max_chars, self.base_rate), [item]) for item in items
        )
