"""Property: any Unicode input either scores or raises InvalidArticle, and every span lies inside its text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from misinfo_risk.model.errors import InvalidArticle
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import parse_article

WORDS = st.sampled_from(
    ["Insiders say", "SHOCKING", "!!!", "millions of", "has yet to comment", "\u0301", "\n\n", "  ", "\u0130", "e\u0301"]
)
TEXT = st.one_of(st.text(), st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=12).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, title=st.one_of(st.none(), TEXT))
def test_any_unicode_scores_or_raises_typed_error(scorer: Scorer, text: str, title: str | None) -> None:
    try:
        article = parse_article({"text": text, "title": title})
    except InvalidArticle as exc:
        assert exc.field in {"text", "title"}
        return
    result = scorer.score(article)
    if not result.assessed:  # unreadable text gets no risk at all, and says why
        assert result.score is None and result.level is None and result.reason and result.reason_detail
        assert not result.signals
        return
    assert result.score is not None and 0.0 <= result.score <= 1.0
    for signal in result.signals:
        for ev in signal.evidence:
            source = article.title if ev.section == "title" else article.text
            assert source is not None
            assert 0 <= ev.start < ev.end <= len(source)
            assert source[ev.start : ev.end] == ev.text


SPACED = st.lists(
    st.sampled_from(["a", "B", " ", "  ", "\n", "\t", "\r\n", "\xa0", "\u2028", "é", "e\u0301", "İ", "’"]), max_size=30
).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=SPACED)
def test_normalised_text_maps_every_character_back(text: str) -> None:
    import unicodedata

    from misinfo_risk.model.text import NormText

    t = NormText(text)
    assert t.norm == " ".join(unicodedata.normalize("NFC", text).split())
    assert len(t.low) == len(t.norm)
    for i, ch in enumerate(t.norm):
        start, end = t.original_span(i, i + 1)
        piece = text[start:end]
        if ch == " ":
            assert piece and piece.isspace()
        else:
            assert unicodedata.normalize("NFC", piece) == ch
