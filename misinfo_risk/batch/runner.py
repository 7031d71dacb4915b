"""Run a planned job: read items in order, score the missing chunks on an engine, write the output."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from misinfo_risk.batch.engines import Chunk, Engine
from misinfo_risk.batch.output import Tally, write_output
from misinfo_risk.batch.plan import Job
from misinfo_risk.batch.progress import Progress
from misinfo_risk.batch.state import RunState
from misinfo_risk.ingest.items import RawItem
from misinfo_risk.ingest.sources import Source, count_source, read_source


@dataclass(frozen=True)
class Outcome:
    """A finished run: what the output holds, and how much this run itself processed and how fast."""

    tally: Tally
    processed: int
    scoring_seconds: float
    """From the start of reading to the last chunk stored (engine start-up included, shutdown not)."""
    total_seconds: float
    """Also with the engine's shutdown and writing the output."""


class StopRequest:
    """Ctrl-C / SIGTERM delivered at a safe point between chunks.

    The default handler raises KeyboardInterrupt wherever the main thread happens to be; inside a
    finaliser (e.g. a Dask future's __del__) Python prints it as "Exception ignored" and carries on,
    so the run would not stop. The batch command's handler calls request() instead; the runner calls
    check() after each stored chunk. A second signal raises at once (for a stuck engine).
    """

    def __init__(self) -> None:
        self.requested = 0

    def request(self) -> None:
        self.requested += 1
        if self.requested > 1:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def reset(self) -> None:
        self.requested = 0


STOP = StopRequest()


def run_job(
    job: Job, state: RunState, sources: list[Source], engine: Engine, *, progress_mode: str, log_interval: float
) -> Outcome:
    """Score every chunk not already in `state`, then write the output and remove the state."""
    done = state.done_chunks()
    counter = _ChunkCounter()
    progress: Progress | None = None
    began = time.monotonic()  # the run's clock includes the engine's start-up
    try:
        with engine:  # started first: its workers start up while the input is counted
            total = sum(count_source(source, job.options) for source in sources)
            already = sum(state.chunk_path(i).read_bytes().count(b"\n") for i in done)
            progress = Progress(total, already, mode=progress_mode, interval=log_interval, started=began)
            progress.note(f"batch: {total:,} items from {len(sources)} source(s); {engine.describe()}")
            todo = (chunk for chunk in counter.count(_chunks(_items(job, sources), job.chunk_size)) if chunk[0] not in done)
            for index, data in engine.run(todo):
                state.write_chunk(index, data)
                progress.advance(data.count(b"\n"))
                STOP.check()
            scoring_seconds = progress.elapsed
    finally:
        if progress is not None:
            progress.close()
    STOP.check()  # a Ctrl-C during the last chunk still stops before the output is assembled
    missing = [i for i in range(counter.n) if not state.chunk_path(i).is_file()]
    if missing:
        raise RuntimeError(f"chunks {missing[:5]} were not written; run again to resume")
    tally = write_output(state, counter.n, job.output, job.output_format)
    state.remove()
    return Outcome(tally, progress.scored_now, scoring_seconds, progress.elapsed)


def _items(job: Job, sources: list[Source]) -> Iterator[RawItem]:
    for source in sources:
        yield from read_source(source, job.options)


def _chunks(items: Iterable[RawItem], size: int) -> Iterator[Chunk]:
    batch: list[RawItem] = []
    index = 0
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield index, batch
            batch, index = [], index + 1
    if batch:
        yield index, batch


class _ChunkCounter:
    """Counts the chunks passing through, so the run knows how many make the output."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        for chunk in chunks:
            self.n = chunk[0] + 1
            yield chunk
