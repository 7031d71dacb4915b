"""Sentence splitting, exact sentence contributions, and top terms without bare function words."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from misinfo_risk.model.artifact import load_artifact
from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics import run_heuristics
from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.model.sentences import split_sentences
from misinfo_risk.model.text import TOKEN, NormText
from misinfo_risk.model.types import Article, RiskAssessment, parse_article
from tests.conftest import make_article


def sentences_of(text: str) -> list[str]:
    t = NormText(text)
    split = split_sentences(t, len(TOKEN.findall(t.low)))
    return [t.norm[a:b] for a, b in zip(split.starts, split.ends, strict=True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It failed. The mayor left! Why? 2024 was bad.", ["It failed.", "The mayor left!", "Why?", "2024 was bad."]),
        ('He said "no." Then he left.', ['He said "no."', "Then he left."]),
        ("“Nope,” she said. ‘Why?’ (Maybe.) [Yes.] Ok.", ["“Nope,” she said.", "‘Why?’", "(Maybe.)", "[Yes.]", "Ok."]),
        ("Wait... What?! Really?!? No.", ["Wait...", "What?!", "Really?!?", "No."]),
        ("Mr. Smith met Dr. Jones and Prof. Xu. Capt. Bo came.", ["Mr. Smith met Dr. Jones and Prof. Xu.", "Capt. Bo came."]),
        ("J. K. Rowling and the U.S. Army agreed. Done.", ["J. K. Rowling and the U.S. Army agreed.", "Done."]),
        ("It rose 3.5 percent. the end. Next.", ["It rose 3.5 percent. the end.", "Next."]),
        ("Élan vital. Über alles. Ok", ["Élan vital.", "Über alles.", "Ok"]),
        ("HEADLINE\n\n- first point\n- second point\r\nLast line", ["HEADLINE", "- first point", "- second point", "Last line"]),
        ("no capitals at all. none here.", ["no capitals at all. none here."]),
        ("BOSTON, Oct. 14, 2026 -- Acme said. Sept. 3 came.", ["BOSTON, Oct. 14, 2026 -- Acme said.", "Sept. 3 came."]),
        ("It ended in Oct. The mayor left. Oct. 5 was Monday.", ["It ended in Oct.", "The mayor left.", "Oct. 5 was Monday."]),
    ],
)
def test_the_splitting_rule(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


PIECES = st.sampled_from(
    ["word", "Word", "don't", "rock'n'roll", "ab'cd'ef", "'quoted'", "’", "“", "”", "é", "Ł", "ő", "İ", "—", "…", "£",
     "3.5", "U.S.", "Mr.", ". ", "! ", "? ", '." ', ".) ", " ", "\n", "\n\n", "_", "x'", "'y", "e\u0301", "\u2028"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.lists(PIECES, max_size=25).map("".join)))
def test_tokens_per_sentence_are_the_regex_tokens(text: str) -> None:
    """Counting word runs on character classes finds exactly the tokens TOKEN finds, sentence by sentence."""
    t = NormText(text)
    tokens = [m.start() for m in TOKEN.finditer(t.low)]
    split = split_sentences(t, len(tokens))
    expected = [bisect.bisect_left(tokens, start) for start in split.starts] + [len(tokens)]
    assert split.first_token == expected
    if t.norm:
        assert split.starts[0] == 0 and split.ends[-1] == len(t.norm)
        assert all(t.norm[a] != " " and a < b for a, b in zip(split.starts, split.ends, strict=True))
        assert all(t.norm[b] == " " for b in split.ends[:-1])


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


ARTICLES = [
    make_article(
        title="SHOCKING: insiders say the cure WORKS!!!", text="Insiders say millions of people were cured. Share this!"
    ),
    make_article(),
    make_article(
        title="Council approves budget after long debate",
        text="The city council voted 7-2 on Tuesday to approve the budget, a spokesperson said.\n\n"
        "Critics say the plan raises taxes; officials declined to comment further. The mayor’s office said in a "
        "statement that the budget was balanced. Sources say it WORKS!!! Share this before it is deleted.",
    ),
    make_article(
        title=None,
        text="Cafe\u0301  owners   say  the council voted 7-2.\r\n\r\nThe council said the budget was approved on "
        "Tuesday, officials said. Experts claim nobody is allowed to talk about it. The council voted again.",
    ),
    make_article(
        title="  Report  ",
        text="   The council met on Tuesday.  Officials said the budget was approved. The mayor said it would vote again.   ",
    ),
]


def reference_sentences(scorer: Scorer, article: Article) -> dict[tuple[str, int, int], float]:
    """The sentence contributions computed the slow, obvious way: token by token, with strings."""
    doc = Doc(article)
    features = dict(scorer.pipeline.named_steps["features"].transformer_list)
    terms, signals = features["terms"], features["signals"]
    classifier = scorer.pipeline.named_steps["classifier"]
    weights = classifier.slope_ * classifier.coef_
    n_terms = len(terms.vocabulary_)
    x = terms.transform([doc]).toarray()[0]
    counts = doc.term_counts(terms.ngram_max, terms.title_terms)
    part = {t: weights[j] * x[j] for t, j in terms.vocabulary_.items() if x[j]}
    split = split_sentences(doc.text)
    out: dict[tuple[str, int], float] = defaultdict(float)
    found = [(m.group(), m.start()) for m in TOKEN.finditer(doc.text.low)]
    for i, (token, start) in enumerate(found):
        k = bisect.bisect_right(split.starts, start) - 1
        for term in [token] + ([f"{token} {found[i + 1][0]}"] if i + 1 < len(found) else []):
            if term in part:
                out["text", k] += part[term] / counts[term]
    out["title", 0] += sum(p for t, p in part.items() if t.startswith("title:"))
    signal_x = signals.transform([doc])[0]
    hits = run_heuristics(doc, signals.heuristics_)
    for j, name in enumerate(signals.heuristics_):
        contribution = weights[n_terms + j] * (signal_x[j] - signals.baseline_[j])
        for hit in hits[name]:
            k = 0 if hit.section == "title" else bisect.bisect_right(split.starts, hit.start) - 1
            out[hit.section, k] += contribution / len(hits[name])
    spans = {}
    for (section, k), value in out.items():
        if value:
            if section == "title":
                a, b = doc.title.original_span(0, len(doc.title.norm))
            else:
                a, b = doc.text.original_span(split.starts[k], split.ends[k])
            spans[section, a, b] = value
    return spans


@pytest.mark.parametrize("article", ARTICLES, ids=range(len(ARTICLES)))
def test_sentence_contributions_are_the_exact_linear_split(scorer: Scorer, article: Article) -> None:
    """The sentences add up to the log-odds of the calibrated score, and each one is its tokens' and hits' shares."""
    result = scorer.score(article)
    assert result.assessed and result.score_calibrated is not None and result.sentences
    total = scorer.base_log_odds + sum(s.contribution for s in result.sentences)
    assert total == pytest.approx(logit(result.score_calibrated), abs=1e-9)
    got = {(s.section, s.start, s.end): s.contribution for s in result.sentences}
    expected = reference_sentences(scorer, article)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    positions = [(s.section != "text", s.start) for s in result.sentences]
    assert positions == sorted(positions, key=lambda p: (not p[0], p[1]))  # the title first, then in text order
    for s in result.sentences:
        source = article.title if s.section == "title" else article.text
        assert source is not None and 0 <= s.start < s.end <= len(source)
        assert source[s.start : s.end] == source[s.start : s.end].strip()


def test_base_log_odds_is_the_intercept_and_the_signals_at_zero_hits(scorer: Scorer) -> None:
    classifier = scorer.pipeline.named_steps["classifier"]
    signals = dict(scorer.pipeline.named_steps["features"].transformer_list)["signals"]
    weights = classifier.slope_ * classifier.coef_
    n_signals = len(signals.heuristics_)
    expected = classifier.slope_ * classifier.intercept_ + classifier.offset_ + float(weights[-n_signals:] @ signals.baseline_)
    assert scorer.base_log_odds == pytest.approx(expected, abs=1e-12)


def test_a_term_in_two_sentences_is_shared_between_them(scorer: Scorer) -> None:
    said = "Officials said the council voted on Tuesday."
    article = make_article(title=None, text=f"{said} The budget was approved. {said}")
    result = scorer.score(article)
    first, *_, last = [s for s in result.sentences if s.section == "text"]
    assert (first.start, last.end) == (0, len(article.text))
    assert first.contribution == pytest.approx(last.contribution, abs=1e-12)


def test_top_terms_never_show_bare_function_words(scorer: Scorer) -> None:
    shown = [t.term for a in ARTICLES for t in scorer.score(a).top_terms]
    assert shown
    for term in shown:
        words = term.removeprefix("title:").split(" ")
        assert not all(w in ENGLISH_STOP_WORDS or w.partition("'")[0] in ENGLISH_STOP_WORDS for w in words), term
    # they still count: they are in the article's terms (and the score is the pipeline's probability, see test_scorer)
    terms = dict(scorer.pipeline.named_steps["features"].transformer_list)["terms"]
    names = terms.get_feature_names_out()
    assert {"the", "to"} <= {str(names[j]) for j in terms.transform([Doc(ARTICLES[2])]).indices}


def test_top_terms_never_show_one_letter_fragments() -> None:
    """The shipped model's 'e' (of "e-mail") and 'r' (of "(R-Texas)") have large weights, but are no reason a reader can use."""
    scorer = load_scorer()
    article = parse_article(
        {
            "title": "Council e-mail row",
            "text": "The e-mail was sent by Rep. Jane Doe (R-Texas) to the council. Staff said the e-mail and a second "
            "e-mail reached the U.S. office on Monday, and the e-commerce group replied by e-mail.",
        }
    )
    result = scorer.score(article)
    assert result.top_terms and not [t.term for t in result.top_terms if len(t.term.removeprefix("title:")) == 1]
    terms = dict(scorer.pipeline.named_steps["features"].transformer_list)["terms"]
    names = terms.get_feature_names_out()
    assert {"e", "r"} <= {str(names[j]) for j in terms.transform([Doc(article)]).indices}  # they still count


def test_sentences_survive_json_and_batches(scorer: Scorer) -> None:
    results = scorer.score_many(ARTICLES)
    assert results == [scorer.score(a) for a in ARTICLES]
    for result in results:
        again = RiskAssessment.model_validate_json(result.model_dump_json())
        assert again.sentences == result.sentences


def test_quote_and_riskiest_sentences(scorer: Scorer) -> None:
    article = parse_article(
        {"title": "SHOCKING news", "text": "The council met on Tuesday.\nInsiders say it WORKS!!! Share this now."}
    )
    result = scorer.score(article)
    riskiest = result.riskiest_sentences(3)
    assert riskiest == sorted(riskiest, key=lambda s: -s.contribution) and all(s.contribution > 0 for s in riskiest)
    quotes = [s.quote(article) for s in result.sentences]
    assert all(q and "\n" not in q for q in quotes)
    assert riskiest[0].quote(article, 10).endswith("…") or len(riskiest[0].quote(article)) <= 10
    assert np.isfinite([s.contribution for s in result.sentences]).all()


def test_sentence_contributions_stay_exact_when_the_terms_leave_the_dateline_out(tiny_artifact: Path) -> None:
    """With `skip_dateline`, the dateline's words are no terms: the sentences still add up, and a wire story's
    term row is the one of the same story without its dateline."""
    pipeline, card = load_artifact(tiny_artifact)
    terms = dict(pipeline.named_steps["features"].transformer_list)["terms"]
    place = next(t for t in terms.vocabulary_ if t.isalpha() and len(t) > 3 and t not in ENGLISH_STOP_WORDS)
    terms.skip_dateline = True
    skipping = Scorer(pipeline, card, None)
    body = "Officials said on Tuesday that the council approved the budget. The vote was seven to two."
    wire, plain = Article(title="Budget", text=f"{place.upper()} (AP) — {body}"), Article(title="Budget", text=body)
    result = skipping.score(wire)
    assert result.assessed and result.score_calibrated is not None
    assert skipping.base_log_odds + sum(s.contribution for s in result.sentences) == pytest.approx(
        logit(result.score_calibrated), abs=1e-9
    )
    assert (terms.transform([Doc(wire)]) != terms.transform([Doc(plain)])).nnz == 0
    terms.skip_dateline = False
    assert (terms.transform([Doc(wire)]) != terms.transform([Doc(plain)])).nnz > 0  # the place is a term otherwise
