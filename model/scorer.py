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
from model.heuristics import get_heuristic, run_heuristics
from model.pipeline import CalibratedLinear
from model.text import Hit
from model.types import Article, Evidence, RiskAssessment, Signal, TermContribution

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

    def __init__(self, pipeline: Pipeline, card: ModelCard) -> None:
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
        term_x = self._terms.transform(docs)
        signal_x = self._signals.transform(docs)
        signal_parts = (signal_x - self._signals.baseline_) * self._signal_weights
        log_odds = np.asarray(term_x @ self._term_weights).ravel() + signal_x @ self._signal_weights + self._offset
        scores = 1.0 / (1.0 + np.exp(-log_odds))
        out = []
        for i, doc in enumerate(docs):
            row = term_x.getrow(i)
            out.append(self._assess(doc, float(scores[i]), signal_parts[i], row.indices, row.data))
        return out

    def _assess(
        self, doc: Doc, score: float, signal_parts: np.ndarray, term_idx: np.ndarray, term_val: np.ndarray
    ) -> RiskAssessment:
        hits = run_heuristics(doc, self._signals.heuristics_)
        signals = [
            Signal(
                name=signal,
                heuristic=name,
                description=description,
                count=len(hits[name]),
                contribution=round(float(signal_parts[j]), 6),
                evidence=tuple(_evidence(doc, hits[name][:MAX_EVIDENCE_PER_SIGNAL])),
            )
            for j, (name, signal, description) in enumerate(self._heuristics)
            if hits[name]
        ]
        signals.sort(key=lambda s: -s.contribution)
        return RiskAssessment(
            id=doc.article.id,
            score=min(max(score, 0.0), 1.0),
            level=self.card.thresholds.level_for(score),
            model_version=self.version,
            signals=tuple(signals),
            top_terms=tuple(self._top_terms(term_idx, term_val)),
        )

    def _top_terms(self, idx: np.ndarray, val: np.ndarray) -> list[TermContribution]:
        if len(idx) == 0:
            return []
        parts = self._term_weights[idx] * val
        order = np.argsort(parts)
        up = [k for k in order[::-1][:TOP_TERMS] if parts[k] > 0]
        down = [k for k in order[:TOP_TERMS] if parts[k] < 0]
        return [TermContribution(term=str(self._term_names[idx[k]]), contribution=round(float(parts[k]), 6)) for k in up + down]


def _evidence(doc: Doc, hits: Sequence[Hit]) -> list[Evidence]:
    out = []
    for hit in hits:
        section = doc.section(hit.section)
        a, b = section.original_span(hit.start, hit.end)
        out.append(Evidence(section=hit.section, start=a, end=b, text=section.orig[a:b]))
    return out


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


def load_scorer(path: Path | str | None = None) -> Scorer:
    """Load the artifact directory at `path`, or the shipped one. Raises ArtifactError."""
    pipeline, card = load_artifact(Path(path) if path is not None else shipped_artifact_dir())
    return Scorer(pipeline, card)


@functools.cache
def _default_scorer() -> Scorer:
    return load_scorer()


def score(article: Article) -> RiskAssessment:
    """Score with the shipped artifact. For notebooks and scripts; the service holds its own Scorer."""
    return _default_scorer().score(article)
