"""Text normalisation that keeps the way back to the original characters, plus phrase search.

Heuristics and term features work on *normalised* text: Unicode NFC, whitespace runs collapsed
to one space, lower-cased, curly quotes made straight. Evidence must point into the text the
caller sent, so :class:`NormText` keeps a piecewise-linear map from normalised offsets back to
original ones. The common case (already-NFC text with a few newlines) costs a handful of
segments, not a per-character table.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import ahocorasick
import numpy as np

from misinfo_risk.model.types import Section

# Whitespace that is not a single plain space: runs of 2+ or any tab/newline/NBSP/etc.
_ODD_SPACE = re.compile(r"\s{2,}|[^\S ]")
_SPACE_RUN = re.compile(r"\s+")
_QUOTES = (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u02bc", "'"))
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # what str.splitlines() splits on
TOKEN = re.compile(r"\w+(?:'\w+)?")
_PLACE = (
    r"[A-Z][A-Za-z.'’]+(?:[ -][A-Z][A-Za-z.'’]+){0,3}"  # up to four capitalised words: "LOS ANGELES", "Washington"
    r"(?:, ?[A-Z][A-Za-z.'’]+(?: [A-Z][A-Za-z.'’]+){0,2})?"  # a state or country: ", D.C.", ", Ill.", ", New Hampshire"
    r"(?:,? [A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?)?"  # a date: ", June 5", " Sept. 12, 2016"
)
_AGENCY = r"\([A-Z][\w.&'’ -]{0,30}\)"  # "(Reuters)", "(AP)", "(The Borowitz Report)"
_WIRE = r"\((?:Reuters|AP|AFP|UPI|CNN|Bloomberg)\)"  # a wire service's dateline needs no dash: "Washington (CNN)The"
_DASH = r" ?(?:-{1,2}(?= )|[–—]{1,2})"  # a hyphen only with a space after it ("Multi-" is a word)
DATELINE = re.compile(rf"(?:{_PLACE} ?(?:{_AGENCY})?{_DASH}|(?:{_PLACE} ?)?{_WIRE}(?:{_DASH})?) ?")
"""A news dateline at the start of a normalised text: a place, then a dash, an agency in brackets, or both.

>>> [bool(DATELINE.match(t)) for t in ("WASHINGTON (Reuters) - The", "NEW YORK, June 5 - A", "(AP) — A", "Washington (CNN)The")]
[True, True, True, True]
>>> [bool(DATELINE.match(t)) for t in ("President Obama is right - he", "The cast - of", "Sources say")]
[False, False, False]
"""
_SHORT = 3  # phrases this short are matched together with their delimiters
_LEAD = (" ", '"', "(", "'", "[", "/")
_TRAIL = (" ", ",", ".", "!", "?", ";", ":", '"', ")", "]", "/")


class NormText:
    """One section of an article, normalised, with offsets back to the original.

    `line_starts` lists the normalised offsets that start a line: those right after a space that
    stands for whitespace holding a line break (newline, carriage return, or another separator
    str.splitlines() splits on).

    >>> t = NormText("Caf\u0065\u0301  SHOCK\\n")
    >>> t.norm, t.low
    ('Café SHOCK', 'café shock')
    >>> t.original_span(5, 10)
    (7, 12)
    """

    __slots__ = ("orig", "norm", "low", "line_starts", "_seg_norm", "_seg_orig", "_char_map")

    def __init__(self, orig: str) -> None:
        self.orig = orig
        self._char_map: list[int] | None = None
        if orig.isascii() or unicodedata.is_normalized("NFC", orig):
            nfc = orig
        else:
            nfc, self._char_map = _nfc_with_map(orig)
        self.norm, self._seg_norm, self._seg_orig, self.line_starts = _collapse_space(nfc)
        low = self.norm.lower()
        if len(low) != len(self.norm):  # e.g. 'İ' lowers to two characters: keep one per char
            low = "".join(c.lower()[:1] or c for c in self.norm)
        if not low.isascii():  # str.translate is slow; a few replace() calls are not
            for curly, straight in _QUOTES:
                if curly in low:
                    low = low.replace(curly, straight)
        self.low = low

    def _to_nfc(self, i: int) -> int:
        k = bisect.bisect_right(self._seg_norm, i) - 1
        return self._seg_orig[k] + (i - self._seg_norm[k])

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised half-open span to the original text."""
        a = self._to_nfc(start)
        b = self._to_nfc(end - 1) + 1 if end > start else a
        if self._char_map is not None:
            cmap = self._char_map
            a, b = cmap[a], cmap[b] if b < len(cmap) else len(self.orig)
        return a, b

    def original_spans(self, starts: list[int], ends: list[int]) -> tuple[list[int], list[int]]:
        """`original_span` for many spans (lists of normalised starts and ends, each end > its start)."""
        if self._char_map is not None:  # not NFC as sent: rare, one by one
            spans = list(map(self.original_span, starts, ends))
            return [a for a, _ in spans], [b for _, b in spans]
        if len(self._seg_norm) == 1:  # the text as sent, less leading whitespace
            lead = self._seg_orig[0]
            return [a + lead for a in starts], [b + lead for b in ends]
        seg_norm, seg_orig = np.array(self._seg_norm), np.array(self._seg_orig)
        at = np.array([*starts, *ends]) - np.repeat([0, 1], len(starts))  # the first and the last character
        k = seg_norm.searchsorted(at, side="right") - 1
        nfc = seg_orig[k] + (at - seg_norm[k])
        nfc[len(starts) :] += 1
        return nfc[: len(starts)].tolist(), nfc[len(starts) :].tolist()


def _odd_space_starts(s: str) -> list[int]:
    """Positions where whitespace other than a lone " " may start (candidates, sorted).

    str.find is memchr-fast; a regex over every position costs ~10x more on 5 KB texts.
    """
    if s.isprintable() and "  " not in s:
        return []
    found: set[int] = set()
    for needle in ("\n", "\r", "\t", "  "):
        i = s.find(needle)
        while i >= 0:
            found.add(i)
            i = s.find(needle, i + 1)
    if not s.replace("\n", " ").replace("\r", " ").replace("\t", " ").isprintable():
        found.update(m.start() for m in _ODD_SPACE.finditer(s))  # rarer whitespace (NBSP, U+2028...)
    return sorted(found)


def _collapse_space(s: str) -> tuple[str, list[int], list[int], list[int]]:
    """Strip, and collapse odd whitespace to single spaces; return text, segment starts and line starts.

    A line starts right after a space that replaced whitespace holding a newline (or another line
    or paragraph separator).
    """
    lead = len(s) - len(s.lstrip())
    stripped = s.strip()
    seg_norm, seg_orig, parts, line_starts = [0], [lead], [], []
    last, pos = 0, 0
    for candidate in _odd_space_starts(stripped):
        if candidate < last:
            continue
        start = candidate
        while start > last and stripped[start - 1].isspace():
            start -= 1
        end = _SPACE_RUN.match(stripped, candidate).end()  # type: ignore[union-attr]  # candidate is whitespace
        parts.append(stripped[last:start])
        pos += start - last
        parts.append(" ")
        run = stripped[start:end]
        if "\n" in run or "\r" in run or (run.strip(" \t") and _LINE_BREAK.search(run)):
            line_starts.append(pos + 1)
        if end - start > 1:  # a run of one character keeps offsets linear: no new segment
            seg_norm.append(pos)  # the single space maps to the run's first character
            seg_orig.append(lead + start)
            seg_norm.append(pos + 1)
            seg_orig.append(lead + end)
        pos += 1
        last = end
    parts.append(stripped[last:])
    return "".join(parts), seg_norm, seg_orig, line_starts


def _nfc_with_map(s: str) -> tuple[str, list[int]]:
    """NFC-normalise cluster by cluster; map each output char to its cluster's original start.

    The returned map has one extra trailing entry (len(s)) so half-open ends map too.
    """
    out: list[str] = []
    cmap: list[int] = []
    start = 0
    for i in range(1, len(s) + 1):
        if i < len(s) and (unicodedata.combining(s[i]) or 0x1160 <= ord(s[i]) <= 0x11FF):
            continue  # combining mark or Hangul vowel/trailing jamo: same cluster
        piece = unicodedata.normalize("NFC", s[start:i])
        out.append(piece)
        cmap.extend([start] * len(piece))
        start = i
    cmap.append(len(s))
    return "".join(out), cmap


# ----------------------------------------------------------------------------- phrases


def expand(template: str) -> list[str]:
    """Expand "(a|b) c (d|)" templates into phrases.

    >>> expand("(a|the) source (said|says|)")
    ['a source said', 'a source says', 'a source', 'the source said', 'the source says', 'the source']
    """
    pieces = re.split(r"(\([^()]*\))", template)
    options = [p[1:-1].split("|") if p.startswith("(") else [p] for p in pieces]
    return [" ".join("".join(combo).split()) for combo in itertools.product(*options)]


class Hit(NamedTuple):
    """A match in normalised coordinates of one section."""

    section: Section
    start: int
    end: int


class Lexicon:
    """Every phrase list of every heuristic in one Aho-Corasick automaton: one pass per text.

    >>> lex = Lexicon()
    >>> key = lex.add("demo", ["share this", "(please|) spread the word"])
    >>> lex.find("please spread the word and share this", key)
    [(0, 22), (27, 37)]
    """

    def __init__(self) -> None:
        self._groups: dict[str, list[str]] = {}
        self._automaton: ahocorasick.Automaton | None = None

    def add(self, key: str, templates: Iterable[str]) -> str:
        if key in self._groups:
            raise ValueError(f"phrase group {key!r} defined twice")
        self._groups[key] = [p for t in templates for p in expand(t.lower())]
        self._automaton = None
        return key

    def _built(self) -> ahocorasick.Automaton:
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            by_phrase: dict[str, list[str]] = {}
            for key, phrases in self._groups.items():
                for phrase in phrases:
                    by_phrase.setdefault(phrase, []).append(key)
            for phrase, keys in by_phrase.items():
                if len(phrase) <= _SHORT:
                    # Short words ("i", "we") occur inside most longer words; matching them with
                    # their delimiters keeps the raw hits (and the Python loop over them) few.
                    for lead in _LEAD:
                        for trail in _TRAIL:
                            automaton.add_word(lead + phrase + trail, (len(phrase), tuple(keys), True))
                else:
                    automaton.add_word(phrase, (len(phrase), tuple(keys), False))
            automaton.make_automaton()
            self._automaton = automaton
        return self._automaton

    def scan(self, low: str) -> dict[str, list[tuple[int, int]]]:
        """All whole-word matches in `low`, by group, longest-first without overlaps."""
        found: dict[str, list[tuple[int, int]]] = {}
        if not low:
            return found
        n = len(low)
        for last, (length, keys, delimited) in self._built().iter(" " + low + " "):
            # `last` indexes the padded string, whose position i is low[i - 1]
            end = last - 1 if delimited else last
            start = end - length
            if not delimited and ((start > 0 and low[start - 1].isalnum()) or (end < n and low[end].isalnum())):
                continue
            for key in keys:
                found.setdefault(key, []).append((start, end))
        return {key: _longest_first(spans) for key, spans in found.items()}

    def find(self, low: str, key: str) -> list[tuple[int, int]]:
        return self.scan(low).get(key, [])


def _longest_first(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    chosen: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if chosen and start < chosen[-1][1]:
            continue
        chosen.append((start, end))
    return chosen


LEXICON = Lexicon()
"""The shared lexicon that heuristic modules add their phrase groups to at import."""
