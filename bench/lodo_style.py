"""Experiment (not shipped): a topic-masked "style" block beside the terms, judged by leave-one-dataset-out.

    python -m bench.lodo_style [--words 300] [--n 3] [--scale 1.0] -- [bench.lodo_nine options]

Text distortion (Stamatatos 2017, "Authorship attribution using text distortion"): every word outside the
`--words` most frequent words of the training articles becomes "*", every number "0", punctuation stays, and
the 1..n-grams of that sequence are counted (sublinear TF-IDF, rows divided by max(norm, the training rows'
`norm_floor` quantile), at most 5,000 grams found in >= 10 articles). What is left is how a text is written
("* , * said the *") and not what it is about, which is what should carry from one kind of text to another.
The block joins the risk pipeline between the terms and the signals (the signals stay the last columns, so
their sign bounds hold), then bench.lodo_nine runs as usual. docs/model.md ("What we tried") has the figures.
"""

from __future__ import annotations

import argparse
import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import FeatureUnion, Pipeline

from bench import lodo_nine
from misinfo_risk.model import pipeline as model_pipeline
from misinfo_risk.model.document import Doc, as_doc
from misinfo_risk.model.types import Article
from misinfo_risk.training import train

_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[^\w\s]")
CHARS = 20_000
"""Characters of the text read (as in the run docs/model.md reports)."""


class StyleFeatures(TransformerMixin, BaseEstimator):
    def __init__(
        self,
        words: int = 300,
        n: int = 3,
        max_features: int = 5000,
        min_df: int = 10,
        norm_floor: float = 0.75,
        scale: float = 1.0,
    ) -> None:
        self.words = words
        self.n = n
        self.max_features = max_features
        self.min_df = min_df
        self.norm_floor = norm_floor
        self.scale = scale

    def _grams(self, doc: Doc) -> Counter[str]:
        keep = self.keep_
        seq = [
            t if t in keep else "0" if t[0].isdigit() else "*" if t[0].isalpha() else t
            for t in _TOKEN.findall(doc.text.low[:CHARS])
        ]
        grams: list[str] = []
        for n in range(1, self.n + 1):
            grams += map(" ".join, zip(*(seq[i:] for i in range(n)), strict=False))
        return Counter(grams)

    def fit(self, X: Sequence[Article | Doc], y: object = None) -> StyleFeatures:
        docs = [as_doc(x) for x in X]
        word_df: Counter[str] = Counter()
        for doc in docs:
            word_df.update({t for t in _TOKEN.findall(doc.text.low[:CHARS]) if t[0].isalpha()})
        self.keep_ = frozenset(w for w, _ in word_df.most_common(self.words))
        grams = [self._grams(doc) for doc in docs]
        df: Counter[str] = Counter()
        for g in grams:
            df.update(g.keys())
        kept = sorted(((t, c) for t, c in df.items() if c >= self.min_df), key=lambda tc: (-tc[1], tc[0]))[: self.max_features]
        self.vocabulary_ = {t: i for i, (t, _) in enumerate(sorted(kept))}
        self.idf_ = np.array([math.log((1 + len(docs)) / (1 + c)) + 1.0 for _, c in sorted(kept)])
        norms = _norms(self._raw(grams))
        self.floor_ = float(np.quantile(norms, self.norm_floor)) if self.norm_floor else 0.0
        return self

    def _raw(self, grams: list[Counter[str]]) -> Any:
        indptr, indices, data = [0], [], []
        for g in grams:
            for term, count in g.items():
                j = self.vocabulary_.get(term)
                if j is not None:
                    indices.append(j)
                    data.append(1.0 + math.log(count))
            indptr.append(len(indices))
        m = sp.csr_matrix(
            (np.array(data), np.array(indices, dtype=np.int64), np.array(indptr)), shape=(len(grams), len(self.idf_))
        )
        return m @ sp.diags(self.idf_)

    def transform(self, X: Sequence[Article | Doc]) -> Any:
        m = self._raw([self._grams(as_doc(x)) for x in X]).tocsr()
        divisor = np.maximum(_norms(m), self.floor_)
        divisor[divisor == 0] = 1.0
        return sp.diags(self.scale / divisor) @ m


def _norms(m: Any) -> np.ndarray:
    out: np.ndarray = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=300, help="most frequent words kept as themselves")
    parser.add_argument("--n", type=int, default=3, help="longest n-gram of the distorted text")
    parser.add_argument("--scale", type=float, default=1.0, help="the block's row norm relative to the terms'")
    args, rest = parser.parse_known_args()
    build = model_pipeline.build_pipeline

    def with_style(**hp: Any) -> Pipeline:
        shape = build(**hp)
        terms, signals = shape.named_steps["features"].transformer_list
        style = StyleFeatures(words=args.words, n=args.n, norm_floor=hp.get("norm_floor", 0.75), scale=args.scale)
        return Pipeline(
            [("features", FeatureUnion([terms, ("style", style), signals])), ("classifier", shape.named_steps["classifier"])]
        )

    train.build_pipeline = with_style  # type: ignore[attr-defined]  # the experiment's one change to training
    print(f"style block: {args.words} words kept, 1-{args.n}-grams, scale {args.scale}", flush=True)
    lodo_nine.main([a for a in rest if a != "--"])


if __name__ == "__main__":
    main()
