"""The scorer's faster routes (issues 10 and 11, speed) give exactly what the straightforward ones give.

The scorer counts its terms from the word ids it also uses for sentence contributions, and calls its feature
transformers without scikit-learn's per-call checks. Each is compared here with the plain route (the pipeline's
own `transform` and `predict_proba`) on the tests' own articles, with the shipped models and with the tiny one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from misinfo_risk.model.document import Doc
from misinfo_risk.model.scorer import Scorer, load_scorer
from tests.conftest import make_article

BODY = (
    "The city council on Tuesday approved a budget of $40 million for road repairs, Mayor Ana Ruiz said in a "
    "statement. Critics say the plan raises taxes; officials declined to comment further. Sources say it WORKS!!! "
    "The council voted 7-2, and the council will vote again. Share this before it is deleted."
)
ARTICLES = [
    make_article(title="Council approves road repair budget", text=BODY),
    make_article(title="Council approves road repair budget", text="WASHINGTON (Reuters) - " + BODY),
    make_article(title="council council budget budget", text="(CNN)The council met. " + BODY),
    make_article(title=None, text="SPRINGFIELD, Ill. (AP) — " + BODY),
    make_article(title="   ", text="Cafe\u0301  owners   say  the council voted 7-2.\r\n\r\n" + BODY),
    make_article(
        title="SHOCKING: insiders say the cure WORKS!!!", text="Insiders say millions of people were cured. Share this!"
    ),
    make_article(
        title="Senator welcomes grant",
        text="WASHINGTON, D.C. - Today Sen. Jane Roe (D-Ore.) welcomed the grant. Rep. Al Poe (R-TX-3) agreed. "
        "About Acme Corp: Acme is a leading provider of roads. About the grant: it pays for bridges.",
    ),
]


@pytest.fixture(scope="module")
def shipped() -> Scorer:
    return load_scorer()


def test_the_counted_term_matrix_is_the_transformers(shipped: Scorer, scorer: Scorer) -> None:
    """Counting from word ids gives the very matrix TermFeatures.transform counts from strings (datelines left out too)."""
    for model in (shipped, scorer):
        terms = dict(model.pipeline.named_steps["features"].transformer_list)["terms"]
        docs = [Doc(a) for a in ARTICLES]
        skip = bool(getattr(terms, "skip_dateline", False))
        located = [model._body_terms.locate(d.tokens, d.dateline_tokens if skip else 0) for d in docs]
        fast = model._term_matrix(docs, located)
        plain = terms.transform([Doc(a) for a in ARTICLES])
        assert np.array_equal(fast.indptr, plain.indptr)
        assert np.array_equal(fast.indices, plain.indices)
        assert np.array_equal(fast.data, plain.data)  # bit for bit


def test_scores_are_the_pipelines_probabilities(shipped: Scorer, scorer: Scorer) -> None:
    for model in (shipped, scorer):
        results = model.score_many(ARTICLES)
        assert results == [model.score(a) for a in ARTICLES]
        expected = model.pipeline.predict_proba(ARTICLES)[:, 1]
        assert [r.score_calibrated for r in results] == pytest.approx(expected.tolist(), abs=1e-12)
        for result in results:
            assert result.score_calibrated is not None
            total = model.base_log_odds + sum(s.contribution for s in result.sentences)
            logit = math.log(result.score_calibrated) - math.log1p(-result.score_calibrated)
            assert total == pytest.approx(logit, abs=1e-9)


def test_genre_is_the_genre_pipelines_probability(shipped: Scorer) -> None:
    genre = shipped._genre
    assert genre is not None
    results = shipped.score_many(ARTICLES)
    proba = genre.pipeline.predict_proba(ARTICLES)
    classes = list(genre.pipeline.classes_)
    for result, row in zip(results, proba, strict=True):
        assert result.genre is not None
        if result.genre.confidence < 1.0:  # not a self-labelled text ("Opinion |", "/PRNewswire/")
            assert result.genre.label == classes[int(np.argmax(row))]
            assert result.genre.confidence == round(float(row.max()), 4)
