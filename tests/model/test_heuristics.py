"""Table-driven signal tests: the exact evidence words, and near misses that must not fire."""

from __future__ import annotations

import pytest

from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics import get_heuristic
from tests.conftest import make_article

CASES = [
    # (heuristic, title, text, expected evidence in order)
    ("unnamed_sources.v1", "", "But sources indicate that an inquiry is underway.", ["sources indicate"]),
    ("unnamed_sources.v1", "", "Insiders say the deal is off, according to sources.", ["Insiders say", "according to sources"]),
    ("unnamed_sources.v1", "", "People familiar with the matter said talks had stalled.", ["People familiar with"]),
    ("unnamed_sources.v1", "", "Experts say the vaccine is unsafe.", ["Experts say"]),
    ("unnamed_sources.v1", "", "A source close to the star told us everything.", ["A source close to"]),
    ("unnamed_sources.v1", "", "Experts at the Met Office say rain is likely.", []),  # named experts
    ("unnamed_sources.v1", "", "The river has two sources in the hills.", []),
    ("unnamed_sources.v1", "", "The company released open-source tools.", []),
    (
        "absent_official_comment.v1",
        "",
        "The UK government has yet to comment officially on the report.",
        ["has yet to comment officially"],
    ),
    (
        "absent_official_comment.v1",
        "",
        "The ministry has not commented and officials remained silent.",
        ["has not commented", "remained silent"],
    ),
    ("absent_official_comment.v1", "", "The ministry declined to comment.", []),  # sought: a different signal
    ("absent_official_comment.v1", "", "The firm has not responded to a request for comment.", []),
    ("absent_official_comment.v1", "", "The minister commented on the figures on Monday.", []),
    ("sought_comment.v1", "", "A spokesman declined to comment on Friday.", ["declined to comment"]),
    ("sought_comment.v1", "", "The firm did not respond to a request for comment.", ["did not respond to a request"]),
    ("sought_comment.v1", "", "She has yet to comment.", []),
    ("inflated_figures.v1", "", "Hackers stole terabytes of data from the lab.", ["terabytes of data"]),
    ("inflated_figures.v1", "", "It was a £200 million research programme.", ["£200 million"]),
    (
        "inflated_figures.v1",
        "",
        "Millions of people were affected in the biggest ever leak.",
        ["Millions of people", "biggest ever"],
    ),
    ("inflated_figures.v1", "", "Revenue was $3.2 billion, according to the annual report.", []),  # precise and sourced
    ("inflated_figures.v1", "", "The budget rose to $200 million, according to figures from the treasury.", []),  # sourced
    ("inflated_figures.v1", "", "The school has 1,200 pupils and 85 teachers.", []),  # numbers as such
    ("sensational_terms.v1", "", "The implications are chilling: AI could go rogue.", ["chilling", "rogue"]),
    ("sensational_terms.v1", "", "The committee published its annual accounts.", []),
    ("hedging.v2", "", "The file is believed to include secrets, supposedly.", ["is believed to", "supposedly"]),
    ("hedging.v2", "", "The file could be leaked and appears to include minutes.", []),  # careful reporting hedges too
    (
        "absolutist_language.v2",
        "",
        "It is 100 percent undeniable, without a doubt.",
        ["100 percent", "undeniable", "without a doubt"],
    ),
    ("absolutist_language.v2", "", "Everyone knows it never works and no one asked.", []),
    (
        "conspiracy_framing.v1",
        "",
        "Here is what they don't want you to know about the deep state.",
        ["what they don't want you to know", "deep state"],
    ),
    ("conspiracy_framing.v1", "", "The state government met on Tuesday.", []),
    ("call_to_share.v1", "", "Share this before it's deleted!", ["Share this", "before it's deleted"]),
    ("call_to_share.v1", "", "Shares in the company rose 3 percent.", []),
    ("clickbait_headline.v1", "You won't believe what happened next", "Text.", ["You won't believe", "what happened next"]),
    ("clickbait_headline.v1", "Is the economy slowing?", "Text.", ["Is the economy slowing?"]),
    ("clickbait_headline.v1", "10 reasons to visit Lisbon", "Text.", ["10 reasons"]),
    ("clickbait_headline.v1", "Council approves budget", "You won't believe it.", []),  # only headlines count
    ("clickbait_headline.v1", "100 people hurt in crash", "Text.", []),
    (
        "shouting_caps.v2",
        "Now the SHOCKING news",
        "The cure REALLY WORKS, says NASA. And THIS is huge.",
        ["SHOCKING", "REALLY WORKS", "THIS"],
    ),
    ("shouting_caps.v2", "Calm news", "The FBI, CARES and NATO met the CEO (AP).", []),  # acronyms, known or not
    ("shouting_caps.v2", "", "WASHINGTON (Reuters) - The bill passed.", []),  # dateline
    ("shouting_caps.v2", "", "NEW YORK, June 5 - Stocks rose.\nBy JANE DOE\nRELATED: Markets", []),  # dateline, byline, label
    ("shouting_caps.v2", "", "TAPPER: Senator, welcome.\nSANDERS: Thank you.", []),  # transcript speakers
    ("shouting_caps.v2", "", "Read it here. PHOTO: A crowd.", []),
    ("shouting_caps.v2", "", "The US Department of Justice said it was NOT true.", ["US", "NOT"]),  # v2's mistake
    ("shouting_caps.v3", "", "The US Department of Justice said it was NOT true.", ["NOT"]),  # "US" is an acronym
    ("shouting_caps.v3", "", "IT staff said US and EU officials ARE LYING.", ["ARE LYING"]),
    (
        "shouting_caps.v3",
        "Now the SHOCKING news",
        "The cure REALLY WORKS, says NASA. And THIS is huge.",
        ["SHOCKING", "REALLY WORKS", "THIS"],
    ),
    ("exclamation_marks.v1", "Wow!", "It works!!! Really!", ["!", "!!!", "!"]),
    ("exclamation_marks.v1", "Calm", "It works. Really.", []),
    ("unanswered_accusation.v1", "", "The mayor was accused of fraud by a rival.", ["accused of", "fraud"]),
    ("unanswered_accusation.v1", "", "The mayor was accused of fraud. He denied the allegations.", []),
]


@pytest.mark.parametrize(("name", "title", "text", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_signal_evidence(name: str, title: str, text: str, expected: list[str]) -> None:
    article = make_article(title=title or None, text=text)
    doc = Doc(article)
    hits = get_heuristic(name).func(doc)
    found = []
    for hit in hits:
        section = doc.section(hit.section)
        start, end = section.original_span(hit.start, hit.end)
        found.append((article.title if hit.section == "title" else article.text)[start:end])  # type: ignore[index]
    assert found == expected


def test_evidence_points_into_original_text_with_odd_spacing() -> None:
    text = "Intro.\n\n  Insiders\t say   it is  SHOCKING!!"
    article = make_article(title=None, text=text)
    doc = Doc(article)
    hit = get_heuristic("unnamed_sources.v1").func(doc)[0]
    start, end = doc.text.original_span(hit.start, hit.end)
    assert text[start:end] == "Insiders\t say"
