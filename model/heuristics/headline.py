"""Presentation signals: clickbait headlines, shouting capitals, exclamation marks."""

from __future__ import annotations

import re
from collections.abc import Callable

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics._util import phrases, regex_hits
from misinfo_risk.model.heuristics.registry import register
from misinfo_risk.model.text import Hit

_CLICKBAIT = phrases(
    "clickbait",
    [
        "(you won't believe|you will not believe|won't believe|can't believe|what happened next|what happens next)",
        "(this is why|here's why|here is why|the reason why|this is what|here's what|here is what|this is how|here's how)",
        "(will blow your mind|blow your mind|you need to see|you have to see|must see|must-see|goes viral|went viral|breaks the internet)",
        "(breaking|watch|omg|wow|just in|jaw-dropping|the internet is|people are losing|is going viral)",
        "(find out|guess what|guess who|the truth about|the real reason|what they found|what we found)",
    ],
)
_LISTICLE = re.compile(r"^\d{1,3} (?!percent\b|%|million\b|billion\b|years?\b|people\b|dead\b|killed\b)[a-z][\w'-]*")
_QUESTION = re.compile(r"[^.!?]*\?\s*$")


@register("clickbait_headline.v1")
def clickbait_headline(doc: Doc) -> list[Hit]:
    """Has a clickbait headline: teasers, listicles or questions, e.g. "You won't believe..."."""
    hits = doc.phrases(_CLICKBAIT, sections=("title",))
    hits += regex_hits(doc, _LISTICLE, ("title",))
    hits += regex_hits(doc, _QUESTION, ("title",))
    return sorted(hits)


# No look-behind in the pattern: it would be tried at every position. Checked per match instead.
# v2: one hit per shouted run of capitals, never a label. Skipped: a run that starts a line
# (datelines "WASHINGTON (Reuters) -", bylines, headings, "VIDEO:", transcript speakers "TAPPER:"),
# follows "By " or sits in brackets; a run ending in ":"; and a lone short word (5 letters or fewer)
# unless it is a common English word ("THIS", "MUST"): short unknown capitals are acronyms (CARES, FEMA).
_CAPS_RUN = re.compile(r"[A-Z][A-Z'’]+(?:[ \t]+[A-Z][A-Z'’]+)*(?![\w'’])")
_LINE_START = re.compile(r"(?:^|\n)[\s\"'“‘(\[*•-]*$")
_BYLINE = re.compile(r"\b(?:by|By|BY)\s+$")


def _is_shout(norm: str, start: int, end: int) -> bool:
    if start > 0 and (norm[start - 1].isalnum() or norm[start - 1] in "'_"):
        return False  # inside a word ("McDONALD")
    if norm[end : end + 1] == ":":
        return False
    words = norm[start:end].split()
    if len(words) == 1:
        word = words[0].replace("’", "'")
        if not (len(word) > 5 or word.lower() in ENGLISH_STOP_WORDS):
            return False
    elif not any(len(w) > 2 for w in words):  # "U S" is no shout
        return False
    # the two regex searches last: most runs are acronyms, settled above
    before = norm[max(0, start - 40) : start]
    return not (_LINE_START.search(before) or _BYLINE.search(before) or before.endswith(("(", "[")))


@register("shouting_caps.v2")
def shouting_caps_v2(doc: Doc) -> list[Hit]:
    """Shouts in capitals mid-sentence, e.g. "this is THE TRUTH" (acronyms, datelines and labels are ignored)."""
    return _shouts(doc, _is_shout)


# v3: as v2, but a lone "US", "IT", "AM"... is an acronym, not a shout, although it is also a common English
# word (v2 counted "the US Department of Justice" as shouting).
_ACRONYM_WORDS = frozenset({"us", "it", "am", "co", "de", "eg", "ie", "inc", "ltd", "etc", "con", "re"})


def _is_shout_v3(norm: str, start: int, end: int) -> bool:
    return norm[start:end].lower() not in _ACRONYM_WORDS and _is_shout(norm, start, end)


@register("shouting_caps.v3")
def shouting_caps_v3(doc: Doc) -> list[Hit]:
    """Shouts in capitals mid-sentence, e.g. "this is THE TRUTH" (acronyms such as "US", datelines and labels are ignored)."""
    return _shouts(doc, _is_shout_v3)


def _shouts(doc: Doc, is_shout: Callable[[str, int, int], bool]) -> list[Hit]:
    out: list[Hit] = []
    for name in ("title", "text"):
        norm = doc.section(name).norm
        out.extend(Hit(name, m.start(), m.end()) for m in _CAPS_RUN.finditer(norm) if is_shout(norm, m.start(), m.end()))
    return out


_EXCLAMATION = re.compile(r"!+")


@register("exclamation_marks.v1")
def exclamation_marks(doc: Doc) -> list[Hit]:
    """Uses exclamation marks, e.g. "Unbelievable!!!" (each run counts once)."""
    out: list[Hit] = []
    for name in ("title", "text"):
        norm = doc.section(name).norm
        if "!" in norm:
            out.extend(Hit(name, m.start(), m.end()) for m in _EXCLAMATION.finditer(norm))
    return out
