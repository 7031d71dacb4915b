"""Sentences of a normalised text, and how many word tokens each one holds (for sentence contributions).

The rule, in `split_sentences` (on the normalised text: whitespace collapsed to single spaces):

1. A sentence ends after a run of `.` `!` `?` `…`, optionally followed by up to two closing quotes or
   brackets (`"` `'` `)` `]`, curly quotes, `»`), when a space comes next and then a capital letter
   (one that lower-casing changes), a digit, or an opening quote or bracket:
   "It failed. The mayor", "Really?! 'No'", "(see above.) 2024".
2. Not when the first mark comes right after a one-letter word (initials: "J. K. Rowling",
   "U.S. Army") or after one of these titles: Mr, Mrs, Ms, Dr, Prof, Rev, St, Sen, Rep, Gov, Gen, Lt,
   Col, Capt, Sgt, Jr, Sr; nor after an abbreviated month before a number, as in datelines
   ("BOSTON, Oct. 14, 2026"): Jan, Feb, Mar, Apr, Jun, Jul, Aug, Sep, Sept, Oct, Nov, Dec.
3. Always at a line break in the text as sent (headings, list items, paragraphs without a full stop).

Simple on purpose: it is for pointing at the part of an article that moved its score, not for
linguistics. It errs by splitting too little ("... in the U.S. Then" stays one sentence) rather than
inside words or numbers ("3.5 million" has no space after the dot).

Fast on purpose too (it runs for every assessed article): each character of the lower-cased text gets
a one-byte class (`bytes.translate`), one regex split finds the candidate boundaries (whose first
letter is then checked for a capital in the text with its case), and the word tokens per sentence are
counted on the classes, not tokenised again: a token is a run of word characters, joined to the next
run by one apostrophe as `misinfo_risk.model.text.TOKEN` does ("don't" is one token, "rock'n'roll" two). The
caller checks the total against the tokens it has.

    >>> s = split_sentences(NormText("Sources say it WORKS. Mr. Smith denied it!\\nShare this"))
    >>> s.starts, s.ends, s.first_token
    ([0, 22, 43], [21, 42, 53], [0, 4, 8, 10])
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from misinfo_risk.model.text import TOKEN, NormText

_ERRORS = "misinfo-risk-sentence-classes"
_MARKS = ".!?"
_DOUBLE_QUOTES = '"\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a'
_OPENING = "(["
_CLOSING = ")]"


def _class_of(ch: str) -> str:
    """The one-character class of a lower-cased character (a Latin-1 stand-in; ASCII word characters stay)."""
    if ch in _MARKS or ch == "\u2026":
        return "."
    if ch in _DOUBLE_QUOTES:
        return '"'
    if ch in _OPENING:
        return "("
    if ch in _CLOSING:
        return ")"
    if ch in " '":
        return ch
    if ch.isalnum() or ch == "_":  # exactly what \w matches in a str pattern
        return ch if ch.isascii() else "a"
    return "-"


def _beyond_latin1(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character past Latin-1 becomes its class (a Latin-1 character)."""
    assert isinstance(error, UnicodeEncodeError)
    return "".join(map(_class_of, error.object[error.start : error.end])), error.end


codecs.register_error(_ERRORS, _beyond_latin1)
_CLASSES = bytes(ord(_class_of(chr(i).lower()[:1] or chr(i))) for i in range(256))
_RUNS = bytes(ord("w") if re.match(rb"\w", bytes([i])) else ord("'") if i == ord("'") else ord(" ") for i in range(256))
_TITLES = "Mr Mrs Ms Dr Prof Rev St Sen Rep Gov Gen Lt Col Capt Sgt Jr Sr".lower().split()
_NOT_AFTER = "".join(rf"(?<!\b(?:{'|'.join(t for t in _TITLES if len(t) == n)})\.)" for n in sorted({len(t) for t in _TITLES}))
_MONTHS = "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".lower().split()
# not a boundary: an abbreviated month, its dot and a space, then a digit ("Oct. 14"); fixed-width lookbehinds by length
_NOT_A_DATE = (
    "(?!(?:"
    + "|".join(rf"(?<=\b(?:{'|'.join(m for m in _MONTHS if len(m) == n)})\. )" for n in sorted({len(m) for m in _MONTHS}))
    + r")\d)"
)
# a candidate separator: marks, closing quotes and brackets, and the space, before a letter, a digit or an
# opening quote or bracket (the letter must be a capital: checked in the text with its case). A literal "."
# comes first, so the regex engine jumps from dot to dot.
_BOUNDARY = re.compile(rb"(\.(?<!\b\w\.)" + _NOT_AFTER.encode() + rb"\.*[\"')]{0,2} )" + _NOT_A_DATE.encode() + rb"(?=[\w\"'(])")


@dataclass(frozen=True, slots=True)
class Sentences:
    """Sentences of one normalised section, as lists of ints.

    `starts`, `ends`: normalised half-open spans (the space between two sentences is in neither);
    `first_token`: one more entry than sentences: sentence k holds the word tokens
    `first_token[k]` to `first_token[k + 1]` (exclusive) of `TOKEN.findall(text.low)`.
    """

    starts: list[int]
    ends: list[int]
    first_token: list[int]


def split_sentences(text: NormText, n_tokens: int | None = None) -> Sentences:
    """Split `text` by the module's rule. `n_tokens`: len(TOKEN.findall(text.low)) when known (a check).

    An empty text has no sentences.
    """
    low, norm = text.low, text.norm
    n = len(low)
    if n == 0:
        return Sentences([], [], [0])
    classes = low.encode("latin-1", _ERRORS).translate(_CLASSES)
    found = list(accumulate(map(len, _BOUNDARY.split(classes))))[1::2]  # where each candidate sentence starts
    # a letter must be a capital: lower-casing changed it
    starts = sorted({0, *[p for p in found if norm[p] != low[p] or not low[p].isalpha()], *text.line_starts})
    ends = [start - 1 for start in starts[1:]] + [n]
    first_token = _first_tokens(classes, starts)
    if n_tokens is not None and first_token[-1] != n_tokens:
        # a chain of apostrophes ("ab'cd'ef" is two tokens): ask the regex itself
        first_token = _first_tokens_by_regex(low, starts)
    return Sentences(starts, ends, first_token)


def _first_tokens(classes: bytes, starts: list[int]) -> list[int]:
    """Index of each sentence's first token, then the number of tokens, from runs of word characters.

    "w'w" joins two runs; replacing non-overlapping occurrences joins a run to the next and goes on
    after it, as the regex does ("rock'n'roll": "rock'n", "roll"). A chain "ab'cd'ef" is joined too far.
    """
    runs = classes.translate(_RUNS)
    if b"'" in runs:
        runs = runs.replace(b"w'w", b"www")
    word = np.frombuffer(runs, dtype=np.uint8) == ord("w")
    tokens = np.flatnonzero(word[1:] > word[:-1]) + 1  # where a run starts (after the first character)
    if word[0]:
        tokens = np.concatenate(([0], tokens))
    found: list[int] = np.searchsorted(tokens, [*starts, len(runs)]).tolist()
    return found


def _first_tokens_by_regex(low: str, starts: list[int]) -> list[int]:
    tokens = [m.start() for m in TOKEN.finditer(low)]
    out, k = [], 0
    for start in starts:
        while k < len(tokens) and tokens[k] < start:
            k += 1
        out.append(k)
    return [*out, len(tokens)]
