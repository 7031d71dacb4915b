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

from ingest.items import RawItem
from model.errors import InvalidArticle
from model.scorer import Scorer
from model.types import Article, RiskAssessment, parse_article

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
    """One row per item, in order: scored with one vectorised `score_many`, or with its error.

    `base_rate`: express the scores at this share of misleading articles (checked by the caller).
    """
    rows: list[dict[str, Any] | None] = [None] * len(items)
    valid: list[tuple[int, Article]] = []
    for i, item in enumerate(items):
        if item.error is not None or item.fields is None:
            rows[i] = error_row(item, item.error or "no data")
            continue
        try:
            valid.append((i, parse_article(item.fields, max_chars=max_chars)))
        except InvalidArticle as exc:
            rows[i] = error_row(item, f"invalid article: {exc}")
    for (i, article), result in zip(valid, _score_all(scorer, [a for _, a in valid], base_rate), strict=True):
        rows[i] = scored_row(items[i], article, result) if isinstance(result, RiskAssessment) else error_row(items[i], result)
    return [row for row in rows if row is not None]


def score_chunk(scorer: Scorer, items: Sequence[RawItem], max_chars: int, base_rate: float | None = None) -> bytes:
    """The chunk's rows as JSON Lines (module-level so Dask workers can import it)."""
    return encode_rows(score_items(scorer, items, max_chars, base_rate))


def encode_rows(rows: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def _score_all(scorer: Scorer, articles: list[Article], base_rate: float | None) -> list[RiskAssessment | str]:
    try:
        return list(scorer.score_many(articles, base_rate=base_rate))
    except Exception:  # noqa: BLE001 - isolate the article that breaks the scorer, score the rest
        log.exception("score_many failed on a chunk; scoring its articles one by one")
    out: list[RiskAssessment | str] = []
    for article in articles:
        try:
            out.append(scorer.score(article, base_rate=base_rate))
        except Exception as exc:  # noqa: BLE001 - one article's failure must not lose the others
            out.append(f"scoring failed: {type(exc).__name__}: {exc}")
    return out


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
