"""Score a chunk of items into result rows: the work both engines run, in worker processes.

A row is a dict with the keys in :data:`ROW_FIELDS`. A chunk's rows are encoded as JSON Lines,
the form in which chunks are stored for resuming and from which every output format is written.
Nothing here depends on timing or on which engine ran it, so a chunk always encodes to the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from misinfo_risk import runtime
from misinfo_risk.ingest.items import RawItem
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import Article, RiskAssessment
from misinfo_risk.runtime import Assessed, Rejected

ROW_FIELDS = (
    "id",
    "source",
    "location",
    "title",
    "url",
    "assessed",
    "reason",
    "score",
    "level",
    "score_calibrated",
    "base_rate",
    "language",
    "genre",
    "warnings",
    "model_version",
    "signals",
    "top_sentence",
    "error",
)
"""`assessed` is false (and `score`, `level` empty) when the model cannot read the article, `reason` says why;
all three are empty on an error row. `score` is expressed at `base_rate` (the --base-rate option, else the
training share); `score_calibrated` is the model's own score, from which `level` is read. `warnings` holds
warning codes, `signals` the fired signal names, `top_sentence` the sentence (or title) that raised the risk
most, cut to TOP_SENTENCE_CHARS."""

TOP_SENTENCE_CHARS = 300

log = logging.getLogger(__name__)


def score_items(scorer: Scorer, items: Sequence[RawItem], max_chars: int, base_rate: float | None = None) -> list[dict[str, Any]]:
    """One row per item, in order: the runtime's `score_items` (one rule for every front door) turned into rows.

    `base_rate`: express the scores at this share of misleading articles (checked by the caller).
    """
    placeholders = [
        item.fields if item.error is None and item.fields is not None else Rejected(i, None, "article", "invalid", "")
        for i, item in enumerate(items)
    ]
    rows = []
    for item, outcome in zip(
        items, runtime.score_items(scorer, placeholders, max_chars=max_chars, base_rate=base_rate), strict=True
    ):
        if isinstance(outcome, Assessed):
            rows.append(scored_row(item, outcome.article, outcome.assessment))
        elif item.error is not None or item.fields is None:
            rows.append(error_row(item, item.error or "no data"))
        elif outcome.internal:
            rows.append(error_row(item, f"scoring failed: {outcome.message}"))
        else:
            rows.append(error_row(item, f"invalid article: {outcome.field}: {outcome.message}"))
    return rows


def score_chunk(scorer: Scorer, items: Sequence[RawItem], max_chars: int, base_rate: float | None = None) -> bytes:
    """The chunk's rows as JSON Lines (module-level so Dask workers can import it)."""
    return encode_rows(score_items(scorer, items, max_chars, base_rate))


def encode_rows(rows: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def scored_row(item: RawItem, article: Article, result: RiskAssessment) -> dict[str, Any]:
    return {
        "id": article.id,
        "source": _text_or_none(item.source),
        "location": item.location,
        "title": article.title,
        "url": article.url,
        "assessed": result.assessed,
        "reason": result.reason,
        "score": result.score,
        "level": result.level,
        "score_calibrated": result.score_calibrated,
        "base_rate": result.base_rate,
        "language": result.language.detected if result.language is not None else None,
        "genre": result.genre.label if result.genre is not None else None,
        "warnings": [w.code for w in result.warnings],
        "model_version": result.model_version,
        "signals": [signal.name for signal in result.signals],
        "top_sentence": next((s.quote(article, TOP_SENTENCE_CHARS) for s in result.riskiest_sentences(1)), None),
        "error": None,
    }


def error_row(item: RawItem, error: str) -> dict[str, Any]:
    fields = item.fields or {}
    return {
        "id": _text_or_none(fields.get("id")),
        "source": _text_or_none(item.source),
        "location": item.location,
        "title": _text_or_none(fields.get("title")),
        "url": _text_or_none(fields.get("url")),
        "assessed": None,
        "reason": None,
        "score": None,
        "level": None,
        "score_calibrated": None,
        "base_rate": None,
        "language": None,
        "genre": None,
        "warnings": [],
        "model_version": None,
        "signals": [],
        "top_sentence": None,
        "error": _text_or_none(error),
    }


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    # Undecodable bytes (a CSV cell, a file name) arrive as lone surrogates: keep the row encodable.
    return value.encode("utf-8", "replace").decode("utf-8")
