"""Scoring a chunk of untrusted items: the work done inside a scoring process (or in-process).

No HTTP and no metrics here: this module is imported by the scoring processes, which must not
create Prometheus files of their own. Results come back already serialised (`Scored.json`), so
the web worker only concatenates bytes.

    >>> result = score_items(scorer, [{"text": "Officials confirmed the figures."}, {"text": ""}])  # doctest: +SKIP
    >>> [type(o).__name__ for o in result.outcomes]                                                  # doctest: +SKIP
    ['Scored', 'Rejected']
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from model.errors import InvalidArticle
from model.scorer import Scorer
from model.types import Article, RiskAssessment, parse_article

WARMUP_ARTICLE = {
    "title": "Council approves budget after long debate",
    "text": "The city council voted 7-2 on Tuesday to approve the budget, a spokesperson said. "
    "Critics say the plan raises taxes; officials declined to comment further.",
}


@dataclass(frozen=True, slots=True)
class Scored:
    """An article that was scored (assessed or not): its result as JSON plus what metrics need."""

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
        return RiskAssessment.model_validate_json(self.json)


@dataclass(frozen=True, slots=True)
class Rejected:
    """An item that could not be scored, at position `index` of its request."""

    index: int
    id: str | None
    field: str
    reason: str
    message: str


Outcome = Scored | Rejected


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """Outcomes of one chunk, in input order, and the seconds spent validating and scoring it."""

    outcomes: list[Outcome]
    seconds: float


def _item_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else None


def _decode(item: Any) -> Any:
    """Raw NDJSON lines arrive as bytes; everything else is already-decoded JSON."""
    if not isinstance(item, bytes | bytearray | memoryview):
        return item
    try:
        return orjson.loads(item)
    except orjson.JSONDecodeError as exc:
        raise InvalidArticle("article", f"is not valid JSON: {exc}", "invalid") from exc


def _parse(item: Any, index: int, max_chars: int) -> Article | Rejected:
    if isinstance(item, Rejected):
        return item
    try:
        return parse_article(_decode(item), max_chars=max_chars)
    except InvalidArticle as exc:
        return Rejected(index, _item_id(item), exc.field, exc.reason, exc.message)


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


def score_items(
    scorer: Scorer, items: Sequence[Any], *, start: int = 0, max_chars: int, base_rate: float | None = None
) -> ChunkResult:
    """Validate and score `items` (decoded JSON values, raw JSON bytes or `Rejected` placeholders).

    Invalid items become `Rejected` with their absolute position (`start + i`); the valid ones are
    scored in one vectorised call, their scores expressed at `base_rate` (None: the training share;
    the caller has checked it, see Scorer.base_rate_shift). Never raises for bad input.
    """
    began = time.perf_counter()
    parsed = [_parse(item, start + i, max_chars) for i, item in enumerate(items)]
    articles = [p for p in parsed if isinstance(p, Article)]
    assessments = iter(scorer.score_many(articles, base_rate=base_rate))
    outcomes: list[Outcome] = [_scored(next(assessments)) if isinstance(p, Article) else p for p in parsed]
    return ChunkResult(outcomes, time.perf_counter() - began)
