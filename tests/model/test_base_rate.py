"""A caller's own base rate: the score re-expressed by Bayes' rule, the level left as calibrated."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from misinfo_risk.model.artifact import seal_artifact
from misinfo_risk.model.errors import BaseRateError
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import RiskAssessment
from tests.conftest import make_article
from tests.model.test_sentences import ARTICLES

PREVALENCE = 0.41


def copy_with_prevalence(artifact: Path, out: Path, prevalence: float | None) -> Path:
    """A copy of an artifact directory whose model card records `prevalence`, sealed again (SHA256SUMS covers the card)."""
    shutil.copytree(artifact, out)
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    card["prevalence"] = prevalence
    (out / "model_card.json").write_text(json.dumps(card), encoding="utf-8")
    seal_artifact(out)
    return out


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


@pytest.fixture(scope="module")
def with_prevalence(scorer: Scorer) -> Scorer:
    """The tiny model with a card that records the share of fakes it was trained on (41%, as the shipped model's)."""
    return Scorer(scorer.pipeline, scorer.card.model_copy(update={"prevalence": PREVALENCE}))


@pytest.fixture(scope="module")
def without_prevalence(scorer: Scorer) -> Scorer:
    """The tiny model with a card that does not say (as risk-v1's)."""
    return Scorer(scorer.pipeline, scorer.card.model_copy(update={"prevalence": None}))


@pytest.mark.parametrize("base_rate", [0.001, 0.05, 0.3, PREVALENCE, 0.9, 0.999])
def test_bayes_rule_on_the_log_odds_and_the_level_stays(with_prevalence: Scorer, base_rate: float) -> None:
    for article in ARTICLES:
        calibrated = with_prevalence.score(article)
        result = with_prevalence.score(article, base_rate=base_rate)
        assert result.score is not None and result.score_calibrated is not None and calibrated.score is not None
        assert result.score_calibrated == calibrated.score == calibrated.score_calibrated
        assert logit(result.score) == pytest.approx(logit(calibrated.score) + logit(base_rate) - logit(PREVALENCE), abs=1e-9)
        # the same in odds: posterior odds = likelihood ratio x prior odds
        ratio = calibrated.score / (1 - calibrated.score) / (PREVALENCE / (1 - PREVALENCE))
        odds = ratio * base_rate / (1 - base_rate)
        assert result.score == pytest.approx(odds / (1 + odds), rel=1e-9)
        assert result.level == calibrated.level == _level(with_prevalence, result)
        assert result.base_rate == base_rate and calibrated.base_rate == PREVALENCE
        assert (result.signals, result.top_terms, result.sentences) == (
            calibrated.signals,
            calibrated.top_terms,
            calibrated.sentences,
        )


def _level(scorer: Scorer, result: RiskAssessment) -> str:
    """The level the card's thresholds give the calibrated score (at most medium for a short text)."""
    assert result.score_calibrated is not None
    level = scorer.card.thresholds.level_for(result.score_calibrated)
    if result.warning("short_text"):
        level = "medium" if level == "high" else level
    return level


def test_numbers(with_prevalence: Scorer) -> None:
    """A worked example (docs/service.md): 0.9 at a training share of 41% is 0.405 for a stream with 5% fakes."""
    shift = with_prevalence.base_rate_shift(0.05)
    assert shift == pytest.approx(math.log(0.05 / 0.95) - math.log(0.41 / 0.59), abs=1e-12)
    assert 1 / (1 + math.exp(-(logit(0.9) + shift))) == pytest.approx(0.40535, abs=1e-5)
    assert with_prevalence.base_rate_shift(None) == 0.0 and with_prevalence.base_rate_shift(PREVALENCE) == 0.0


def test_the_training_base_rate_changes_nothing(with_prevalence: Scorer) -> None:
    article = ARTICLES[0]
    assert with_prevalence.score(article, base_rate=PREVALENCE) == with_prevalence.score(article)


def test_batches_take_the_base_rate_too(with_prevalence: Scorer) -> None:
    batch = with_prevalence.score_many(ARTICLES, base_rate=0.05)
    assert batch == [with_prevalence.score(a, base_rate=0.05) for a in ARTICLES]
    assert with_prevalence.score_many([], base_rate=0.05) == []


def test_sentences_still_add_up_to_the_calibrated_log_odds(with_prevalence: Scorer) -> None:
    result = with_prevalence.score(ARTICLES[2], base_rate=0.02)
    assert result.score_calibrated is not None
    total = with_prevalence.base_log_odds + sum(s.contribution for s in result.sentences)
    assert total == pytest.approx(logit(result.score_calibrated), abs=1e-9)


def test_a_card_without_prevalence_refuses_a_base_rate(without_prevalence: Scorer) -> None:
    plain = without_prevalence.score(make_article())
    assert plain.base_rate is None and plain.score == plain.score_calibrated
    with pytest.raises(BaseRateError, match="no prevalence") as caught:
        without_prevalence.score(make_article(), base_rate=0.05)
    assert caught.value.reason == "no_prevalence"
    with pytest.raises(BaseRateError):  # even with nothing to score: the request itself is wrong
        without_prevalence.score_many([], base_rate=0.05)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5, float("nan"), float("inf"), True])
def test_base_rates_outside_zero_one_are_refused(with_prevalence: Scorer, bad: float) -> None:
    with pytest.raises(BaseRateError, match="between 0 and 1") as caught:
        with_prevalence.score(make_article(), base_rate=bad)
    assert caught.value.reason == "out_of_range"


def test_not_assessed_results_have_no_base_rate_score(with_prevalence: Scorer) -> None:
    text = "A prefeitura aprovou nesta terça-feira um novo plano para ampliar o transporte público no centro da cidade."
    result = with_prevalence.score(make_article(title=None, text=text), base_rate=0.05)
    assert not result.assessed and result.score is None and result.score_calibrated is None
