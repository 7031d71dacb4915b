"""Normalisation keeps the way back to the original characters."""

from __future__ import annotations

import unicodedata

import pytest

from misinfo_risk.model.document import Doc
from misinfo_risk.model.text import DATELINE, Lexicon, NormText, expand
from misinfo_risk.model.types import Article


def test_whitespace_is_collapsed_and_mapped_back() -> None:
    t = NormText("  Hello\n\n world\tagain  ")
    assert t.norm == "Hello world again"
    start = t.norm.index("world")
    assert t.orig[slice(*t.original_span(start, start + 5))] == "world"
    assert t.orig[slice(*t.original_span(0, len(t.norm)))] == "Hello\n\n world\tagain"


def test_nfc_composition_maps_to_the_decomposed_original() -> None:
    original = "Cafe\u0301 SHOCK"  # e + combining acute
    t = NormText(original)
    assert t.norm == unicodedata.normalize("NFC", original) == "Caf\u00e9 SHOCK"
    assert original[slice(*t.original_span(0, 4))] == "Cafe\u0301"
    assert original[slice(*t.original_span(5, 10))] == "SHOCK"


def test_lowering_and_quotes_keep_length() -> None:
    t = NormText("\u0130stanbul \u201cdon\u2019t\u201d")  # dotted capital I lowers to two characters
    assert len(t.low) == len(t.norm)
    assert t.low.endswith('"don\'t"')


def test_expand_and_lexicon_whole_words() -> None:
    assert expand("(a|the) cat (sat|)") == ["a cat sat", "a cat", "the cat sat", "the cat"]
    lexicon = Lexicon()
    key = lexicon.add("demo", ["cat sat", "cat"])
    assert lexicon.find("the cat sat on a concatenated cat", key) == [(4, 11), (30, 33)]


@pytest.mark.parametrize(
    ("text", "dateline"),
    [
        ("WASHINGTON (Reuters) - The bill passed.", "WASHINGTON (Reuters) - "),
        ("SPRINGFIELD, Ill. (AP) — The council met.", "SPRINGFIELD, Ill. (AP) — "),
        ("NEW YORK, June 5 - Shares fell.", "NEW YORK, June 5 - "),
        ("Washington (CNN)The cast is back.", "Washington (CNN)"),
        ("OTTAWA — The premier said.", "OTTAWA — "),
        ("President Obama is right - he said so.", None),
        ("Multi-year deals are back.", None),
        ("The Federal Communications Commission (FCC) voted.", None),
        ("Sources say the plan failed.", None),
    ],
)
def test_dateline_is_found_only_at_the_start_of_a_wire_story(text: str, dateline: str | None) -> None:
    found = DATELINE.match(NormText(text).norm)
    assert (found.group(0) if found else None) == dateline


def test_term_counts_can_leave_the_dateline_out() -> None:
    body = "The council approved the budget on Tuesday."
    wire = Doc(Article(title="Budget", text="SPRINGFIELD (Reuters) - " + body))
    plain = Doc(Article(title="Budget", text=body))
    assert wire.dateline_tokens == 2 and plain.dateline_tokens == 0
    assert wire.term_counts(2, True, skip_dateline=True) == plain.term_counts(2, True, skip_dateline=True)
    assert "reuters" in wire.term_counts(2, True)  # the default counts every word
