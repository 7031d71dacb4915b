"""The registry's contract, checked over every registered heuristic."""

from __future__ import annotations

import pytest

from misinfo_risk.model.document import Doc
from misinfo_risk.model.errors import UnknownHeuristic
from misinfo_risk.model.heuristics import get_heuristic, register, registered_names
from tests.conftest import make_article


def test_at_least_twelve_signals_including_the_required_three() -> None:
    names = registered_names()
    assert len(names) >= 12
    assert {"unnamed_sources.v1", "absent_official_comment.v1", "inflated_figures.v1"} <= set(names)


@pytest.mark.parametrize("name", registered_names())
def test_heuristic_contract(name: str) -> None:
    heuristic = get_heuristic(name)
    assert heuristic.description, "the docstring's first line is the user-facing explanation"
    article = make_article(
        title="SHOCKING!!! Experts say you won't believe it?",
        text="Sources claim it WORKS!!! Insiders say millions of people have yet to comment. Share this. We never lie.",
    )
    doc = Doc(article)
    for hit in heuristic.func(doc):
        section = doc.section(hit.section)
        assert 0 <= hit.start < hit.end <= len(section.norm)
        start, end = section.original_span(hit.start, hit.end)
        assert 0 <= start < end <= len(section.orig)


def test_unknown_heuristic_lists_the_available_ones() -> None:
    with pytest.raises(UnknownHeuristic, match="unnamed_sources.v1"):
        get_heuristic("nope.v1")


def test_names_must_be_versioned_and_unique() -> None:
    with pytest.raises(ValueError, match="snake_case.v1"):
        register("NoVersion")
    with pytest.raises(ValueError, match="registered twice"):
        register("unnamed_sources.v1")(lambda doc: [])
