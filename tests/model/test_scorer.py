"""Scorer behaviour: calibrated score, levels, exact attributions, batches, and the shipped smoke test."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.model.types import Article, parse_article
from tests.conftest import make_article

EXAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "fabricated-heist-story.json"
FAKEISH = make_article(
    title="SHOCKING: insiders say the cure WORKS!!!", text="Insiders say millions of people were cured. Share this!"
)


def test_score_is_the_pipeline_probability(scorer: Scorer) -> None:
    articles = [FAKEISH, make_article()]
    expected = scorer.pipeline.predict_proba(articles)[:, 1]
    assert [r.score for r in scorer.score_many(articles)] == pytest.approx(expected.tolist(), abs=1e-12)


def test_levels_follow_the_card_thresholds(scorer: Scorer) -> None:
    for result in scorer.score_many([FAKEISH, make_article()]):
        assert result.score is not None
        expected = scorer.card.thresholds.level_for(result.score)
        if result.warning("short_text"):  # below the card's short_text_words the level stops at medium
            expected = "medium" if expected == "high" else expected
        assert result.level == expected
        assert result.model_version == "test-0"


def test_signal_contributions_are_exact_linear_attributions(scorer: Scorer) -> None:
    """Removing a signal's hits changes the log-odds by exactly its reported contribution."""
    result = scorer.score(FAKEISH)
    classifier = scorer.pipeline.named_steps["classifier"]
    signals = scorer.pipeline.named_steps["features"].transformer_list[1][1]
    x = scorer.pipeline.named_steps["features"].transform([FAKEISH]).toarray()[0]
    n_terms = x.size - len(signals.heuristics_)
    for signal in result.signals:
        j = n_terms + signals.heuristics_.index(signal.heuristic)
        without = x.copy()
        without[j] = signals.baseline_[j - n_terms]
        delta = classifier.decision_function(x[None, :])[0] - classifier.decision_function(without[None, :])[0]
        assert signal.contribution == pytest.approx(delta, abs=1e-6)
        assert signal.count == len(signal.evidence)
    logit = math.log(result.score / (1 - result.score))
    assert logit == pytest.approx(classifier.decision_function(x[None, :])[0], abs=1e-9)


def test_evidence_quotes_the_text_as_sent(scorer: Scorer) -> None:
    result = scorer.score(FAKEISH)
    for signal in result.signals:
        for ev in signal.evidence:
            source = FAKEISH.title if ev.section == "title" else FAKEISH.text
            assert source is not None and source[ev.start : ev.end] == ev.text


def test_score_many_matches_score_and_keeps_order(scorer: Scorer) -> None:
    articles = [make_article(text=f"Report number {i}. Insiders say it is shocking!", id=str(i)) for i in range(25)]
    batch = scorer.score_many(articles)
    assert [r.id for r in batch] == [str(i) for i in range(25)]
    assert batch == [scorer.score(a) for a in articles]
    assert scorer.score_many([]) == []


def test_top_terms_push_both_ways_and_are_bounded(scorer: Scorer) -> None:
    result = scorer.score(FAKEISH)
    assert 0 < len(result.top_terms) <= 10
    ups = [t.contribution for t in result.top_terms if t.contribution > 0]
    assert ups == sorted(ups, reverse=True)


def test_shipped_artifact_flags_the_fabricated_story() -> None:
    """The one test on the shipped binary: it loads with the pinned scikit-learn and flags the canonical story."""
    scorer = load_scorer()
    article = parse_article(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    result = scorer.score(article)
    assert result.level == "high"
    evidence = {s.name: [e.text for e in s.evidence] for s in result.signals}
    assert "sources indicate" in evidence["unnamed_sources"]
    assert evidence["absent_official_comment"] == ["has yet to comment officially"]
    assert {"terabytes of data", "£200 million"} <= set(evidence["inflated_figures"])
    contribution = {s.name: s.contribution for s in result.signals}
    assert all(contribution[name] > 0 for name in ("unnamed_sources", "absent_official_comment", "inflated_figures"))
    assert np.isfinite(result.score)


WIRE_BODY = (
    "The city council on Tuesday approved a budget of $40 million for road repairs over the next three years, "
    "Mayor Ana Ruiz said in a statement. The plan, passed by seven votes to two, sets aside money for bridges on "
    "the east side and for new bus lanes. Council member Tom Abara, who voted against it, told reporters that the "
    "repairs should have started last year. Work on the first roads is due to begin in March, the city's transport "
    "office said, and residents can follow the schedule on its website. The council will review the spending in "
    "the autumn, when the first contracts have been signed and the winter repairs have been costed."
)


@pytest.mark.parametrize("dateline", ["SPRINGFIELD (Reuters) - ", "SPRINGFIELD, Ill. (AP) — ", "NEW YORK, June 5 - "])
def test_shipped_artifact_reads_no_risk_signal_in_a_dateline(dateline: str) -> None:
    """A dateline fires no signal and its words are no terms (from risk-v3 on, they are left out): a wire story does not score
    higher with its dateline than without it."""
    scorer = load_scorer()
    title = "Council approves road repair budget"
    plain = scorer.score(Article(title=title, text=WIRE_BODY))
    wire = scorer.score(Article(title=title, text=dateline + WIRE_BODY))
    assert plain.assessed and wire.assessed and wire.level == plain.level == "low"
    assert {s.name for s in wire.signals} == {s.name for s in plain.signals}
    assert wire.score is not None and plain.score is not None and wire.score <= plain.score


@pytest.mark.parametrize(
    "practice",
    [" A spokeswoman for the contractor declined to comment.", " The contractor did not respond to a request for comment."],
)
def test_shipped_artifact_practice_signals_never_raise_risk(practice: str) -> None:
    scorer = load_scorer()
    result = scorer.score(Article(title="Council approves road repair budget", text=WIRE_BODY + practice))
    practice_signals = [s for s in result.signals if s.name in ("sought_comment", "on_record_statement")]
    assert {s.name for s in practice_signals} == {"sought_comment", "on_record_statement"}
    assert all(s.contribution <= 0 for s in practice_signals)


def test_scoring_pauses_the_garbage_collector_and_restores_it(scorer: Scorer) -> None:
    """The collector is off while a batch is scored (it cost ~40% of the time) and back on afterwards,
    also when scoring fails; a caller that had switched it off keeps it off."""
    import gc

    from misinfo_risk.model.scorer import collector_paused

    article = parse_article({"text": "Officials confirmed the figures on Tuesday, a spokesperson said."})
    assert gc.isenabled()
    scorer.score_many([article, article])
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collector_paused():
        assert not gc.isenabled()
        raise ZeroDivisionError
    assert gc.isenabled()
    gc.disable()
    try:
        scorer.score(article)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_importing_the_model_package_does_not_load_scikit_learn() -> None:
    """`import misinfo_risk.model.errors` (what the CLI and the batch command import first) stays light; the public
    names of `misinfo_risk` load on use."""
    import subprocess
    import sys

    code = (
        "import sys, misinfo_risk, misinfo_risk.model.errors; assert 'sklearn' not in sys.modules; "
        "from misinfo_risk import load_scorer, Article, ModelCard; assert 'sklearn' in sys.modules; "
        "assert all(getattr(misinfo_risk, n) is not None for n in misinfo_risk.__all__)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
