"""`Scorer`: a fitted pipeline plus its model card -> explained, calibrated risk assessments."""

from __future__ import annotations

import bisect
import functools
import gc
import itertools
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.pipeline import Pipeline

from misinfo_risk.model.artifact import ModelCard, load_artifact, shipped_artifact_dir
from misinfo_risk.model.document import Doc
from misinfo_risk.model.errors import ArtifactError, BaseRateError
from misinfo_risk.model.features import SignalFeatures, TermFeatures
from misinfo_risk.model.genre import GENRE_NAMES, NOT_NEWS_CONFIDENCE, GenreReader, load_genre_reader
from misinfo_risk.model.heuristics import get_heuristic, run_heuristics
from misinfo_risk.model.pipeline import CalibratedLinear
from misinfo_risk.model.reading import Reader, Reading
from misinfo_risk.model.sentences import split_sentences
from misinfo_risk.model.text import Hit
from misinfo_risk.model.types import Article, GenreReading, ResultWarning, RiskAssessment, Signal, TermContribution

MAX_EVIDENCE_PER_SIGNAL = 50
TOP_TERMS = 5
CONTRACTION_ENDINGS = frozenset({"s", "t", "d", "m", "ll", "re", "ve"})
CONTRACTION_STEMS = frozenset(
    {"don", "doesn", "didn", "isn", "aren", "wasn", "weren", "hasn", "haven", "hadn", "won", "wouldn", "couldn", "shouldn"}
    | {"mustn", "needn", "ain", "ca"}
)


class Scorer:
    """Scores articles with one fitted pipeline. Thread-safe: scoring only reads.

    The risk score is the pipeline's calibrated probability. Explanations are exact linear
    attributions in calibrated log-odds: a signal's contribution is what its hits added
    compared with the same article without them; a term's is its weight times its TF-IDF value.

    **Sentence contributions** split the same log-odds over the places in the text that caused them:

    - a term's contribution w_t * x_t is shared equally among its occurrences (x_t depends on the
      total count only); a sentence of the text gets the shares of the words in it and of the word
      pairs whose first word is in it; 'title:<word>' terms go to the title, which counts as one sentence;
    - a signal's contribution is shared equally among its hits, each share going to the sentence
      (or title) where the hit starts.

    What no span causes is `base_log_odds`: the calibrated intercept plus, for every signal, its
    weight times its standardised value at zero hits, i.e. the calibrated log-odds of an article with
    no vocabulary term and no signal hit. It is one constant per model (a signal that fired is
    counted from that same zero-hit value), so for every assessed result

        base_log_odds + sum(s.contribution for s in result.sentences) == logit(result.score_calibrated)

    up to floating-point rounding (~1e-12). They cost little on top of scoring: the word of each token and
    the pair it starts are looked up once (`_BodyTerms.locate`), and the same lookup counts the terms of the
    risk model's matrix (`_term_matrix`, exactly `TermFeatures.transform`), so the text is not counted twice;
    finding the sentences is a byte-class pass (`sentences.split_sentences`). BENCHMARKS.md, "Scorer speed,
    side by side (issues 10 and 11)", has the instruction counts and timings.

    **Base rate.** The score is calibrated at the share of misleading articles in the training data
    (`card.prevalence`). `score(article, base_rate=p)` re-expresses it for a stream with another share
    p by Bayes' rule: logit(score) = logit(score_calibrated) + logit(p) - logit(prevalence). The level
    stays that of the calibrated score: its thresholds were chosen on calibrated validation scores
    (F1 and the share of fakes caught), and moving them with the base rate would change what "high"
    means from one caller to the next.

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
        self._base_log_odds = float(self._offset + np.sum(self._signal_weights * signals.baseline_))
        names = [str(t) for t in self._term_names]
        self._displayable = np.array([not _function_words(t) for t in names], dtype=bool)
        self._title_term = np.array([t.startswith("title:") for t in names], dtype=bool)
        self._body_terms = _BodyTerms(names)
        self._title_terms = {name.removeprefix("title:"): j for j, name in enumerate(names) if name.startswith("title:")}
        self._skip_dateline = bool(getattr(terms, "skip_dateline", False))
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

    @property
    def base_log_odds(self) -> float:
        """The calibrated log-odds no span of text accounts for (see the class docstring)."""
        return self._base_log_odds

    def base_rate_shift(self, base_rate: float | None) -> float:
        """logit(base_rate) - logit(card.prevalence): what re-expressing at `base_rate` adds to the log-odds.

        0.0 for None. Raises BaseRateError when `base_rate` is not strictly between 0 and 1, or when the
        model card records no prevalence.
        """
        if base_rate is None:
            return 0.0
        if isinstance(base_rate, bool) or not isinstance(base_rate, int | float) or not 0.0 < base_rate < 1.0:
            raise BaseRateError(f"the base rate must be a number between 0 and 1 (exclusive), not {base_rate!r}", "out_of_range")
        prevalence = self.card.prevalence
        if prevalence is None:
            raise BaseRateError(
                f"model {self.version} does not record the base rate its score is calibrated at (its model card has no "
                "prevalence), so the score cannot be re-expressed at another base rate",
                "no_prevalence",
            )
        return _logit(base_rate) - _logit(prevalence)

    def score(self, article: Article, *, base_rate: float | None = None) -> RiskAssessment:
        """Score one article; `base_rate`: express the score for this share of misleading articles (see the class)."""
        return self.score_many([article], base_rate=base_rate)[0]

    def score_many(self, articles: Sequence[Article], *, base_rate: float | None = None) -> list[RiskAssessment]:
        """Score a batch in one vectorised pass; results are in input order. Raises BaseRateError (see `base_rate_shift`)."""
        shift = self.base_rate_shift(base_rate)
        if not articles:
            return []
        with collector_paused():
            return self._score_many(articles, shift, base_rate if base_rate is not None else self.card.prevalence)

    def _score_many(self, articles: Sequence[Article], shift: float, base_rate: float | None) -> list[RiskAssessment]:
        docs = [Doc(a) for a in articles]
        readings = [self._reader.read(doc) for doc in docs]
        out: list[RiskAssessment | None] = [
            None if reading.assessed else self._not_assessed(doc, reading) for doc, reading in zip(docs, readings, strict=True)
        ]
        todo = [i for i, reading in enumerate(readings) if reading.assessed]
        if not todo:
            return out  # type: ignore[return-value]  # every slot is filled
        ready = [docs[i] for i in todo]
        located = [self._body_terms.locate(doc.tokens, doc.dateline_tokens if self._skip_dateline else 0) for doc in ready]
        term_x = self._term_matrix(ready, located)
        signal_x = self._signals.values(ready)
        signal_parts = (signal_x - self._signals.baseline_) * self._signal_weights
        # a row sum, not `signal_x @ weights`: BLAS gemv sums in another order for 1 row than for 25
        # (seen on AVX-512), and a batch must give exactly the scores of one-by-one scoring
        signal_sum = (signal_x * self._signal_weights).sum(axis=1)
        log_odds = np.asarray(term_x @ self._term_weights).ravel() + signal_sum + self._offset
        calibrated = 1.0 / (1.0 + np.exp(-log_odds))
        scores = 1.0 / (1.0 + np.exp(-(log_odds + shift))) if shift else calibrated
        genres = (
            self._genre.read(ready, term_x if self._genre_shares_terms else None)
            if self._genre is not None
            else [None] * len(ready)
        )
        indptr = term_x.indptr
        for k, i in enumerate(todo):
            row = slice(indptr[k], indptr[k + 1])
            scored = (float(scores[k]), float(calibrated[k]), base_rate)
            terms = (term_x.indices[row], term_x.data[row], located[k])
            out[i] = self._assess(ready[k], readings[i], genres[k], scored, signal_parts[k], terms)
        return out  # type: ignore[return-value]

    def _term_matrix(self, docs: Sequence[Doc], located: Sequence[_Located]) -> Any:
        """The risk model's term matrix: exactly `self._terms.transform(docs)`, counted from the located terms."""
        title_terms = self._terms.title_terms
        indices: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        indptr = [0]
        for doc, (_, body, count) in zip(docs, located, strict=True):
            indices.append(body)
            counts.append(count)
            size = indptr[-1] + len(body)
            if title_terms and doc.article.title:
                titled = [(self._title_terms.get(word), n) for word, n in Counter(doc.title_tokens).items()]
                known = [(j, n) for j, n in titled if j is not None]
                indices.append(np.array([j for j, _ in known], dtype=np.intp))
                counts.append(np.array([n for _, n in known], dtype=np.intp))
                size += len(known)
            indptr.append(size)
        idx, n = np.concatenate(indices).astype(np.int32), np.concatenate(counts).astype(float)
        return self._terms.transform_counted(idx, n, indptr)

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
        scored: tuple[float, float, float | None],
        signal_parts: np.ndarray,
        terms: tuple[np.ndarray, np.ndarray, _Located],
    ) -> RiskAssessment:
        """`scored`: the score at the base rate asked for, the calibrated score, and that base rate;
        `terms`: the article's row of the term matrix (indices, values) and its located terms."""
        score, calibrated, base_rate = scored
        term_idx, term_val, located = terms
        hits = run_heuristics(doc, self._signals.heuristics_)
        term_parts = self._term_weights[term_idx] * term_val
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
        level = self.card.thresholds.level_for(calibrated)
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
            score_calibrated=min(max(calibrated, 0.0), 1.0),
            base_rate=base_rate,
            model_version=self.version,
            language=reading.language,
            genre=genre,
            warnings=tuple(warnings),
            signals=tuple(signals),
            top_terms=tuple(self._top_terms(term_idx, term_parts)),
            # plain dicts: pydantic's core makes the SentenceContribution objects faster than Python code can
            sentences=self._sentences(doc, hits, signal_parts, term_idx, term_parts, located),  # type: ignore[arg-type]
        )

    def _short_text(self, words: int) -> ResultWarning:
        return ResultWarning(
            code="short_text",
            message=f"Only {words} word(s) of text. Below {self.card.short_text_words} words this model's style cues "
            "are unreliable (held-out genuine articles cut this short were put at high far more often than in full), "
            "so the level is at most medium.",
        )

    def _top_terms(self, idx: np.ndarray, parts: np.ndarray) -> list[TermContribution]:
        """The terms that moved the score most each way, leaving out function words (they still count in the score)."""
        shown = self._displayable[idx]
        idx, parts = idx[shown], parts[shown]
        if len(idx) == 0:
            return []
        order = np.argsort(parts)
        up = [k for k in order[::-1][:TOP_TERMS] if parts[k] > 0]
        down = [k for k in order[:TOP_TERMS] if parts[k] < 0]
        return [TermContribution(term=str(self._term_names[idx[k]]), contribution=round(float(parts[k]), 6)) for k in up + down]

    def _sentences(
        self,
        doc: Doc,
        hits: dict[str, list[Hit]],
        signal_parts: np.ndarray,
        term_idx: np.ndarray,
        term_parts: np.ndarray,
        located: _Located,
    ) -> list[dict[str, Any]]:
        """Sentence contributions (see the class docstring): the title first, then the text's sentences in order."""
        in_title = self._title_term[term_idx]
        in_body = ~in_title
        title = float(term_parts[in_title].sum())
        n = len(doc.tokens)
        split = split_sentences(doc.text, n)
        total = np.zeros(n + 1)  # running sum of the tokens' shares
        np.cumsum(self._body_terms.shares(located, n, term_idx[in_body], term_parts[in_body]), out=total[1:])
        body: list[float] = np.diff(total[split.first_token]).tolist()
        starts = split.starts
        for j, (name, _, _) in enumerate(self._heuristics):
            found = hits[name]
            if found and signal_parts[j]:
                each = float(signal_parts[j]) / len(found)
                for hit in found:
                    if hit.section == "title":
                        title += each
                    else:
                        body[bisect.bisect_right(starts, hit.start) - 1] += each
        out = []
        if title and doc.title.norm:
            a, b = doc.title.original_span(0, len(doc.title.norm))
            out.append({"section": "title", "start": a, "end": b, "contribution": title})
        moved = [k for k, c in enumerate(body) if c]
        if len(moved) < len(body):
            starts, ends, body = [starts[k] for k in moved], [split.ends[k] for k in moved], [body[k] for k in moved]
        else:
            ends = split.ends
        a_s, b_s = doc.text.original_spans(starts, ends)
        out += [{"section": "text", "start": a, "end": b, "contribution": c} for a, b, c in zip(a_s, b_s, body, strict=True)]
        return out


class _BodyTerms:
    """Finds the model's body terms (words and word pairs) at each token of a text, without building strings.

    Every word that occurs in a body term gets an id; a token's word is looked up through its id
    (one dict lookup per token), and the pair it starts through the ids of both words (numpy).
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.n_terms = len(names)
        words: dict[str, int] = {}
        unigrams: list[tuple[int, int]] = []
        bigrams: list[tuple[int, int, int]] = []
        for j, name in enumerate(names):
            if name.startswith("title:"):
                continue
            ids = [words.setdefault(word, len(words)) for word in name.split(" ")]
            if len(ids) == 1:
                unigrams.append((ids[0], j))
            elif len(ids) == 2:  # Doc.term_counts makes nothing longer
                bigrams.append((ids[0], ids[1], j))
        self.unknown = len(words)  # the id of every other word
        self.word_bytes = {word: i.to_bytes(4, "little") for word, i in words.items()}
        self.unknown_bytes = self.unknown.to_bytes(4, "little")
        self.unigram = np.full(self.unknown + 1, self.n_terms, dtype=np.intp)  # word id -> term index (n_terms: none)
        for word, j in unigrams:
            self.unigram[word] = j
        # a pair's key: first id * (unknown + 1) + second id; a pair with an unknown word matches no key
        keys = np.array([a * (self.unknown + 1) + b for a, b, _ in bigrams], dtype=np.int64)
        order = np.argsort(keys)
        self.pair_keys = np.append(keys[order], np.iinfo(np.int64).max)  # the end: found by no key
        self.pair_terms = np.append(np.array([j for _, _, j in bigrams], dtype=np.intp)[order], self.n_terms)

    def locate(self, tokens: list[str], skip: int = 0) -> _Located:
        """The body terms at each token, and how often each term occurs (`_Located`). `skip`: leading tokens
        that count for no term (a dateline the term features leave out)."""
        # one dict lookup per token; the ids are 4-byte strings joined in C (cheaper than numbers into an array)
        found = b"".join(map(self.word_bytes.get, itertools.islice(tokens, skip, None), repeat(self.unknown_bytes)))
        ids = np.frombuffer(self.unknown_bytes * min(skip, len(tokens)) + found, dtype="<i4")
        keys = ids[:-1].astype(np.int64) * (self.unknown + 1)
        keys += ids[1:]
        at = self.pair_keys.searchsorted(keys)
        pairs = self.pair_terms[at]
        pairs[self.pair_keys[at] != keys] = self.n_terms
        at_token = np.concatenate((self.unigram[ids], pairs))  # the word at each token, then the pair it starts
        counts = np.bincount(at_token, minlength=self.n_terms + 1)
        terms = np.flatnonzero(counts[: self.n_terms])
        return _Located(at_token, terms, counts[terms])

    def shares(self, located: _Located, n: int, body_idx: np.ndarray, body_parts: np.ndarray) -> np.ndarray:
        """Each of the `n` tokens' share of the contributions of its word and of the pair it starts.

        `body_idx`, `body_parts`: the article's body terms and their contributions; each is shared
        equally among the term's occurrences.
        """
        share = np.empty(self.n_terms + 1)  # only the article's terms and the last slot ("no term") are read
        share[self.n_terms] = 0.0
        share[body_idx] = body_parts / located.counts  # body_idx is located.terms: the row's body terms, sorted
        out = share[located.at_token]
        head: np.ndarray = out[:n]
        head[:-1] += out[n:]
        return head


class _Located(NamedTuple):
    """One text's body terms, found by `_BodyTerms.locate`: for its n tokens, `at_token` holds the term index
    of each token's word (n_terms: none) and then of the word pair each token starts (n - 1 of them);
    `terms` are the term indices that occur (sorted) and `counts` how often each of them does. Only these
    small arrays are kept per article of a batch, not a count for every term of the vocabulary."""

    at_token: np.ndarray
    terms: np.ndarray
    counts: np.ndarray


def _function_words(term: str) -> bool:
    """True for a term made only of function words: scikit-learn's ENGLISH_STOP_WORDS, contractions of them,
    and one-character fragments ("e" of "e-mail", "s" of "U.S."), which mean nothing to a reader either.

    >>> [_function_words(t) for t in ("the", "of the", "title:has", "it's", "don't", "e", "e commerce", "trump's", "of trump")]
    [True, True, True, True, True, True, False, False, False]
    """
    for word in term.removeprefix("title:").split(" "):
        if word in ENGLISH_STOP_WORDS or len(word) == 1:
            continue
        stem, apostrophe, ending = word.partition("'")
        if not (apostrophe and ending in CONTRACTION_ENDINGS and (stem in ENGLISH_STOP_WORDS or stem in CONTRACTION_STEMS)):
            return False
    return True


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


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


def load_scorer(path: Path | str | None = None, *, genre: Path | str | None | bool = True, sha256: str | None = None) -> Scorer:
    """Load the risk artifact at `path` (default: the shipped one) and the genre model. Raises ArtifactError.

    `genre`: True for the shipped genre model, a directory for another one, False for no genre.
    `sha256`: the digest the risk artifact must have (`misinfo-risk model-info` prints it); another is refused.
    """
    pipeline, card = load_artifact(Path(path) if path is not None else shipped_artifact_dir(), sha256=sha256)
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
