"""`Scorer`: a fitted pipeline plus its model card -> explained, calibrated risk assessments."""

from __future__ import annotations

import functools
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from model.artifact import ModelCard, load_artifact, shipped_artifact_dir
from model.document import Doc
from model.errors import ArtifactError
from model.features import SignalFeatures, TermFeatures
from model.genre import GENRE_NAMES, NOT_NEWS_CONFIDENCE, GenreReader, load_genre_reader
from model.heuristics import get_heuristic, run_heuristics
from model.pipeline import CalibratedLinear
from model.reading import Reader, Reading
from model.types import Article, GenreReading, ResultWarning, RiskAssessment, Signal, TermContribution

MAX_EVIDENCE_PER_SIGNAL = 50
TOP_TERMS = 5


class Scorer:
    """Scores articles with one fitted pipeline. Thread-safe: scoring only reads.

    The risk score is the pipeline's calibrated probability. Explanations are exact linear
    attributions in calibrated log-odds: a signal's contribution is what its hits added
    compared with the same article without them; a term's is its weight times its TF-IDF value.

    >>> scorer = load_scorer()                                    # doctest: +SKIP
    >>> scorer.score(Article(text="Sources say the cure WORKS!!!")).level  # doctest: +SKIP
    'high'
    """

    def __init__(self, pipeline: Pipeline, card: ModelCard, genre: GenreReader | None = None) -> None:
        try:
            union = pipeline.named_steps["features"]
            steps = dict(union.transformer_list)
            terms, signals = steps["terms"], steps["signals"]
            classifier = pipeline.named_steps["classifier"]
        except (KeyError, AttributeError, TypeError) as exc:
            raise ArtifactError(f"pipeline of artifact {card.version} does not have the expected steps: {exc}") from exc
        if not (
            isinstance(terms, TermFeatures) and isinstance(signals, SignalFeatures) and isinstance(classifier, CalibratedLinear)
        ):
            raise ArtifactError(f"pipeline of artifact {card.version} has unexpected step types")
        if tuple(signals.heuristics_) != tuple(card.heuristics):
            raise ArtifactError(f"artifact {card.version}: model card and pipeline list different heuristics")
        self._pipeline = pipeline
        self.card = card
        self._terms = terms
        self._signals = signals
        self._term_names = terms.get_feature_names_out()
        n_terms = len(self._term_names)
        weights = classifier.slope_ * classifier.coef_
        self._term_weights = weights[:n_terms]
        self._signal_weights = weights[n_terms:]
        self._offset = classifier.slope_ * classifier.intercept_ + classifier.offset_
        heuristics = [get_heuristic(name) for name in signals.heuristics_]
        self._heuristics = [(h.name, h.signal, h.description) for h in heuristics]  # docstrings parsed once
        known = [t for t in terms.vocabulary_ if " " not in t and not t.startswith("title:") and not t.isdigit()]
        self._reader = Reader(card.languages, known)
        self._genre = genre
        # the genre model reads this model's term matrix when it was trained on the same terms (the
        # shipped pair is): counting the terms once saves ~0.3 ms per 5 KB article on this machine
        self._genre_shares_terms = genre is not None and genre.reads_terms_of(terms)

    @property
    def genre_version(self) -> str | None:
        """The genre model's version, or None when this scorer reports no genre."""
        return self._genre.version if self._genre is not None else None

    @property
    def version(self) -> str:
        return self.card.version

    @property
    def signal_names(self) -> tuple[str, ...]:
        """The names of every signal this scorer can report (one per heuristic of the model)."""
        return tuple(signal for _, signal, _ in self._heuristics)

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def score(self, article: Article) -> RiskAssessment:
        """Score one article."""
        return self.score_many([article])[0]

    def score_many(self, articles: Sequence[Article]) -> list[RiskAssessment]:
        """Score a batch in one vectorised pass; results are in input order."""
        if not articles:
            return []
        with collector_paused():
            return self._score_many(articles)

    def _score_many(self, articles: Sequence[Article]) -> list[RiskAssessment]:
        docs = [Doc(a) for a in articles]
        readings = [self._reader.read(doc) for doc in docs]
        out: list[RiskAssessment | None] = [
            None if reading.assessed else self._not_assessed(doc, reading) for doc, reading in zip(docs, readings, strict=True)
        ]
        todo = [i for i, reading in enumerate(readings) if reading.assessed]
        if not todo:
            return out  # type: ignore[return-value]  # every slot is filled
        ready = [docs[i] for i in todo]
        term_x = self._terms.transform(ready)
        signal_x = self._signals.transform(ready)
        signal_parts = (signal_x - self._signals.baseline_) * self._signal_weights
        # a row sum, not `signal_x @ weights`: BLAS gemv sums in another order for 1 row than for 25
        # (seen on AVX-512), and a batch must give exactly the scores of one-by-one scoring
        signal_sum = (signal_x * self._signal_weights).sum(axis=1)
        log_odds = np.asarray(term_x @ self._term_weights).ravel() + signal_sum + self._offset
        scores = 1.0 / (1.0 + np.exp(-log_odds))
        genres = (
            self._genre.read(ready, term_x if self._genre_shares_terms else None)
            if self._genre is not None
            else [None] * len(ready)
        )
        for k, i in enumerate(todo):
            row = term_x.getrow(k)
            out[i] = self._assess(ready[k], readings[i], genres[k], float(scores[k]), signal_parts[k], row.indices, row.data)
        return out  # type: ignore[return-value]

    def _not_assessed(self, doc: Doc, reading: Reading) -> RiskAssessment:
        return RiskAssessment(
            id=doc.article.id,
            assessed=False,
            reason=reading.reason,
            reason_detail=reading.detail,
            model_version=self.version,
            language=reading.language,
            warnings=reading.warnings,
        )

    def _assess(
        self,
        doc: Doc,
        reading: Reading,
        genre: GenreReading | None,
        score: float,
        signal_parts: np.ndarray,
        term_idx: np.ndarray,
        term_val: np.ndarray,
    ) -> RiskAssessment:
        hits = run_heuristics(doc, self._signals.heuristics_)
        signals = [
            Signal(
                name=signal,
                heuristic=name,
                description=description,
                count=len(hits[name]),
                contribution=round(float(signal_parts[j]), 6),
                evidence=tuple(doc.evidence(hits[name][:MAX_EVIDENCE_PER_SIGNAL])),
            )
            for j, (name, signal, description) in enumerate(self._heuristics)
            if hits[name]
        ]
        signals.sort(key=lambda s: -s.contribution)
        level = self.card.thresholds.level_for(score)
        warnings = list(reading.warnings)
        if doc.n_words < self.card.short_text_words:
            warnings.append(self._short_text(doc.n_words))
            level = "medium" if level == "high" else level
        if genre is not None and genre.label != "news" and genre.confidence >= NOT_NEWS_CONFIDENCE:
            warnings.append(_not_news(genre))
        return RiskAssessment(
            id=doc.article.id,
            score=min(max(score, 0.0), 1.0),
            level=level,
            model_version=self.version,
            language=reading.language,
            genre=genre,
            warnings=tuple(warnings),
            signals=tuple(signals),
            top_terms=tuple(self._top_terms(term_idx, term_val)),
        )

    def _short_text(self, words: int) -> ResultWarning:
        return ResultWarning(
            code="short_text",
            message=f"Only {words} word(s) of text. Below {self.card.short_text_words} words this model's style cues "
            "are unreliable (held-out genuine articles cut this short were put at high far more often than in full), "
            "so the level is at most medium.",
        )

    def _top_terms(self, idx: np.ndarray, val: np.ndarray) -> list[TermContribution]:
        if len(idx) == 0:
            return []
        parts = self._term_weights[idx] * val
        order = np.argsort(parts)
        up = [k for k in order[::-1][:TOP_TERMS] if parts[k] > 0]
        down = [k for k in order[:TOP_TERMS] if parts[k] < 0]
        return [TermContribution(term=str(self._term_names[idx[k]]), contribution=round(float(parts[k]), 6)) for k in up + down]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block (restored afterwards, also on errors).

    Scoring allocates hundreds of thousands of small containers (tokens, spans, phrase hits) that
    reference counting frees as soon as an article is done; none of them form cycles. They still
    trigger the collector: ~320 young and ~2.5 full collections per 500 articles, and each full
    collection walks every object the batch and the loaded libraries hold (~100,000 of them).
    Measured on 500-article chunks (`python -m bench.gc_pause`): 0.71 s per chunk with the collector
    running, 0.43 s paused (1.64x).
    Cycles made meanwhile are collected by the first collection after the block. With several
    threads scoring at once, the collector comes back when the first of them finishes.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _not_news(genre: GenreReading) -> ResultWarning:
    return ResultWarning(
        code="not_news",
        message=f"This reads as {GENRE_NAMES[genre.label]} ({genre.confidence:.2f}), not news reporting. The risk score "
        "measures how much a text reads like fake news; it was not made for this genre, and the genre is not itself a risk.",
    )


def load_scorer(path: Path | str | None = None, *, genre: Path | str | None | bool = True) -> Scorer:
    """Load the risk artifact at `path` (default: the shipped one) and the genre model. Raises ArtifactError.

    `genre`: True for the shipped genre model, a directory for another one, False for no genre.
    """
    pipeline, card = load_artifact(Path(path) if path is not None else shipped_artifact_dir())
    reader = None
    if genre is not False and genre is not None:
        reader = load_genre_reader(None if genre is True else Path(genre))
    return Scorer(pipeline, card, reader)


@functools.cache
def _default_scorer() -> Scorer:
    return load_scorer()


def score(article: Article) -> RiskAssessment:
    """Score with the shipped artifact. For notebooks and scripts; the service holds its own Scorer."""
    return _default_scorer().score(article)
