"""Feature transformers: text terms and heuristic signals, from Articles or prepared Docs.

These classes are pickled inside model.joblib by import path: do not move or rename them.
Changing what a fitted transformer computes changes shipped models, so add a parameter with a
default that keeps the old behaviour instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from misinfo_risk.model.document import Doc, as_doc
from misinfo_risk.model.heuristics import get_heuristic, registered_names, run_heuristics
from misinfo_risk.model.text import TOKEN
from misinfo_risk.model.types import Article

ArticleLike = Article | Doc


class _Rows(NamedTuple):
    matrix: sp.csr_matrix
    lengths: np.ndarray
    norms: np.ndarray


class TermFeatures(TransformerMixin, BaseEstimator):
    """Sublinear TF-IDF over word n-grams, l2-normalised; a lean TfidfVectorizer for Docs.

    Parameters
    ----------
    ngram_max : int
        Longest word n-gram (1 or 2).
    min_df : int
        Keep terms found in at least this many training articles.
    max_features : int
        Keep at most this many terms, by document frequency.
    title_terms : bool
        Add headline words as separate 'title:<word>' terms.
    mask_names : bool
        Leave out words written with a capital initial in most of their body occurrences in the
        training articles (names of people, places, outlets: topic and publisher, not style), and
        every n-gram or title term containing one.
    norm_floor : float
        0: every row is l2-normalised (a 15-word text weighs as much as a 1,000-word one). q in (0, 1):
        rows are divided by max(their l2 norm, the q-quantile of the training rows' norms), so a text
        with fewer terms than most carries proportionally less evidence and its score stays nearer
        the base rate: length is not evidence.
    only : tuple of str or None
        Candidate terms (e.g. those whose weight keeps its sign across training sets); None: all.
    skip_dateline : bool
        Leave the words of a dateline at the start of the text out ("WASHINGTON (Reuters) -",
        "(CNN)"; `misinfo_risk.model.text.DATELINE`): they name a wire service or a place, not a way of writing.

    Attributes
    ----------
    vocabulary_ : dict of str to int
    idf_ : ndarray of shape (n_terms,)
    """

    def __init__(
        self,
        ngram_max: int = 2,
        min_df: int = 3,
        max_features: int = 50_000,
        title_terms: bool = True,
        mask_names: bool = False,
        norm_floor: float = 0.0,
        only: tuple[str, ...] | None = None,
        skip_dateline: bool = False,
    ) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.title_terms = title_terms
        self.mask_names = mask_names
        self.norm_floor = norm_floor
        self.only = only
        self.skip_dateline = skip_dateline

    def fit(self, X: Sequence[ArticleLike], y: object = None) -> TermFeatures:
        docs = [as_doc(x) for x in X]
        df: Counter[str] = Counter()
        for doc in docs:
            df.update(doc.term_counts(self.ngram_max, self.title_terms, self.skip_dateline).keys())
        names = _capitalised_words(docs) if self.mask_names else frozenset()
        allowed = frozenset(self.only) if self.only is not None else None
        kept = [
            (t, n)
            for t, n in df.items()
            if n >= self.min_df and not (names and _has_name(t, names)) and (allowed is None or t in allowed)
        ]
        kept.sort(key=lambda tn: (-tn[1], tn[0]))
        kept = sorted(kept[: self.max_features])
        self.vocabulary_ = {t: i for i, (t, _) in enumerate(kept)}
        n = len(docs)
        self.idf_ = np.array([math.log((1 + n) / (1 + c)) + 1.0 for _, c in kept])
        self.norm_floor_ = 0.0
        if self.norm_floor:
            self.norm_floor_ = float(np.quantile(self._raw(docs).norms, self.norm_floor))
        return self

    def _raw(self, X: Sequence[ArticleLike]) -> _Rows:
        """Sublinear tf * idf rows (sorted indices) and their l2 norms."""
        vocab = self.vocabulary_
        skip = getattr(self, "skip_dateline", False)  # artifacts pickled before the option have none
        indptr: list[int] = [0]
        indices: list[int] = []
        counts: list[int] = []
        for x in X:
            terms = as_doc(x).term_counts(self.ngram_max, self.title_terms, skip)
            known = terms.keys() & vocab.keys()  # set intersection runs in C
            indices += [vocab[t] for t in known]
            counts += [terms[t] for t in known]
            indptr.append(len(indices))
        return self._rows(np.asarray(indices, dtype=np.int32), np.asarray(counts, dtype=float), indptr)

    def _rows(self, idx: np.ndarray, counts: np.ndarray, indptr: Sequence[int]) -> _Rows:
        """The rows of `_raw` from each document's known terms: term indices (int32, in any order within a
        document), their counts (float) and where each document's terms start (CSR `indptr`)."""
        # one vectorised pass for the whole batch
        vals = (np.log(counts) + 1.0) * self.idf_[idx]
        matrix = sp.csr_matrix((vals, idx, np.asarray(indptr, dtype=np.int32)), shape=(len(indptr) - 1, len(self.vocabulary_)))
        matrix.sort_indices()  # set order varies by process; sorted rows make every sum below reproducible
        lengths = np.diff(matrix.indptr)
        norms = np.zeros(len(lengths))
        if matrix.nnz:
            norms[lengths > 0] = np.sqrt(np.add.reduceat(matrix.data**2, matrix.indptr[:-1][lengths > 0]))
        return _Rows(matrix, lengths, norms)

    def transform(self, X: Sequence[ArticleLike]) -> sp.csr_matrix:
        check_is_fitted(self, "vocabulary_")
        return self._normalised(self._raw(X))

    def transform_counted(self, idx: np.ndarray, counts: np.ndarray, indptr: Sequence[int]) -> sp.csr_matrix:
        """`transform` for documents whose known terms the caller has counted itself (see `_rows`): the same matrix.

        The scorer counts the terms from the word ids it also needs for sentence contributions, without
        building a string per word pair. For a fitted transformer only (the scorer checks once, at load).
        """
        return self._normalised(self._rows(idx, counts, indptr))

    def _normalised(self, rows: _Rows) -> sp.csr_matrix:
        matrix = rows.matrix
        if matrix.nnz:
            divisor = np.maximum(rows.norms, getattr(self, "norm_floor_", 0.0))
            matrix.data /= np.repeat(divisor, rows.lengths)
        return matrix

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
        return np.asarray(sorted(self.vocabulary_, key=self.vocabulary_.__getitem__), dtype=object)


def _capitalised_words(docs: Sequence[Doc]) -> frozenset[str]:
    """Words whose body occurrences mostly start with a capital (sentence starts count too, so common
    words stay well below half)."""
    upper: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for doc in docs:
        words = TOKEN.findall(doc.text.norm)
        total.update(w.lower() for w in words)
        upper.update(w.lower() for w in words if w[0].isupper())
    return frozenset(w for w, n in upper.items() if n > total[w] / 2)


def _has_name(term: str, names: frozenset[str]) -> bool:
    words = term.removeprefix("title:").split(" ")
    return any(w in names for w in words)


def signal_rates(doc: Doc, names: Sequence[str], skip_dateline: bool = False) -> np.ndarray:
    """log1p(hits per 1,000 words) for each named heuristic; short texts count as 100 words.

    `skip_dateline`: a dateline's words are not counted (as in TermFeatures), so a dateline dilutes no signal.
    """
    hits = run_heuristics(doc, names)
    words = doc.n_words - doc.dateline_tokens if skip_dateline else doc.n_words
    scale = 1000.0 / max(words, 100)
    return np.log1p(np.array([len(hits[n]) for n in names], dtype=float) * scale)


class SignalFeatures(TransformerMixin, BaseEstimator):
    """One standardised column per heuristic: log1p of its hits per 1,000 words.

    Parameters
    ----------
    heuristics : tuple of str or None
        Names to use; None means every registered heuristic at fit time.
    weight : float
        Multiplies the standardised columns: under one L2 penalty, a larger scale lets these few
        dataset-independent signals carry more weight against thousands of term columns.
    skip_dateline : bool
        Rates per word of the text less its dateline (see TermFeatures): with the dateline's words
        left out of the terms, a story scores the same with its dateline and without it.

    Attributes
    ----------
    heuristics_ : tuple of str
        The names actually used, fixed at fit time (the model card lists them).
    mean_, scale_ : ndarray
        Standardisation learned on the training articles.
    """

    def __init__(self, heuristics: tuple[str, ...] | None = None, weight: float = 1.0, skip_dateline: bool = False) -> None:
        self.heuristics = heuristics
        self.weight = weight
        self.skip_dateline = skip_dateline

    def fit(self, X: Sequence[ArticleLike], y: object = None) -> SignalFeatures:
        names = tuple(self.heuristics or registered_names())
        for name in names:
            get_heuristic(name)  # fail at fit time on a typo
        self.heuristics_ = names
        raw = np.vstack([signal_rates(as_doc(x), names, self.skip_dateline) for x in X])
        self.mean_ = raw.mean(axis=0)
        self.scale_ = np.where(raw.std(axis=0) > 0, raw.std(axis=0), 1.0) / self.weight
        return self

    def transform(self, X: Sequence[ArticleLike]) -> np.ndarray:
        check_is_fitted(self, "heuristics_")
        return self.values(X)

    def values(self, X: Sequence[ArticleLike]) -> np.ndarray:
        """`transform` without scikit-learn's fitted check and output wrapping, which for one article cost
        more than the arithmetic. For a fitted transformer only (the scorer checks once, at load)."""
        if len(X) == 0:
            return np.zeros((0, len(self.heuristics_)))
        skip = getattr(self, "skip_dateline", False)  # artifacts pickled before the option have none
        raw = np.vstack([signal_rates(as_doc(x), self.heuristics_, skip) for x in X])
        out: np.ndarray = (raw - self.mean_) / self.scale_
        return out

    @property
    def baseline_(self) -> np.ndarray:
        """The transformed value of a heuristic that did not fire (for contributions)."""
        out: np.ndarray = -self.mean_ / self.scale_
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "heuristics_")
        return np.asarray(self.heuristics_, dtype=object)
