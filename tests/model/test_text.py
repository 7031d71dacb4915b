"""Normalisation keeps the way back to the original characters."""

from __future__ import annotations

import unicodedata

from model.text import Lexicon, NormText, expand


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
