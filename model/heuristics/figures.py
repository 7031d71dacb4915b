"""Magnitude signals: big, round, vague or unsourced numbers and superlatives."""

from __future__ import annotations

import re

from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics._util import phrases
from misinfo_risk.model.heuristics.registry import register
from misinfo_risk.model.text import Hit

_VAGUE = phrases(
    "vague_magnitude",
    [
        "(tens of|hundreds of|) (thousands|millions|billions|trillions|terabytes|gigabytes|petabytes|exabytes|gallons|tons|tonnes) of",
        "(countless|untold|innumerable|unimaginable)",
        "(biggest|largest|greatest|worst|deadliest|costliest|most expensive|most dangerous|most powerful) (ever|of all time|in history|in human history|in the history of)",
        "(record-breaking|unprecedented|off the charts|astronomical|staggering|mind-boggling|eye-watering)",
    ],
)
_NEXT_WORD = re.compile(r" ?[\w'-]+")
_SUPERLATIVE_TAIL = re.compile(r"(?: [\w'-]+){1,3}? (?:ever|of all time|in (?:\w+ )?history)\b")
_SUPERLATIVES = phrases("superlative", ["(biggest|largest|greatest|worst|deadliest|costliest)"])
# Money or counts in the millions+: "£200 million", "$3bn", "2 billion people".
# Found cheaply by a candidate pattern, then checked: "1,200 million", not "v2.1,3 million".
_BIG_CANDIDATE = re.compile(r"\d[\d,.]*\s?(?:million|billion|trillion|bn)\b")
_BIG_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})*(?:\.\d+)?\s?(?:million|billion|trillion|bn)")
_COUNTED = re.compile(r" (?:pounds|dollars|euros|people|users|records|accounts|files|documents|victims|deaths)\b")
_CURRENCY = re.compile(r"[£$€¥]\s?$")
_SOURCED = re.compile(
    r"according to|data from|figures from|estimates? (?:from|by)|census|statistics|survey|study|report(?:ed)? by|filing|budget|forecast"
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def _sentence(low: str, start: int, end: int) -> str:
    left = max(low.rfind(". ", 0, start), low.rfind("! ", 0, start), low.rfind("? ", 0, start))
    m = _SENTENCE_END.search(low, end)
    return low[left + 1 : m.start() if m else len(low)]


def _big_numbers(doc: Doc) -> list[Hit]:
    out: list[Hit] = []
    for name in ("title", "text"):
        low = doc.section(name).low
        if "illion" not in low and "bn" not in low:
            continue
        for m in _BIG_CANDIDATE.finditer(low):
            start, end = m.start(), m.end()
            if (start > 0 and (low[start - 1].isalnum() or low[start - 1] in ".,_")) or not _BIG_NUMBER.fullmatch(m.group(0)):
                continue
            if "." in m.group(0):
                continue  # "3.2 billion": precise, not round
            if _SOURCED.search(_sentence(low, start, end)):
                continue
            currency = _CURRENCY.search(low, max(0, start - 2), start)
            counted = _COUNTED.match(low, end)
            out.append(Hit(name, currency.start() if currency else start, counted.end() if counted else end))
    return out


@register("inflated_figures.v1")
def inflated_figures(doc: Doc) -> list[Hit]:
    """Uses big, round or vague magnitudes with no source, e.g. "terabytes of data" or "£200 million"."""
    hits: list[Hit] = []
    for hit in doc.phrases(_VAGUE):
        low = doc.section(hit.section).low
        end = hit.end
        if low[hit.end - 3 : hit.end] == " of" or low[hit.end - 2 : hit.end] == "of":
            m = _NEXT_WORD.match(low, end)
            end = m.end() if m else end
        hits.append(Hit(hit.section, hit.start, end))
    for hit in doc.phrases(_SUPERLATIVES):
        low = doc.section(hit.section).low
        m = _SUPERLATIVE_TAIL.match(low, hit.end)
        if m and not any(h.start == hit.start and h.section == hit.section for h in hits):
            hits.append(Hit(hit.section, hit.start, m.end()))
    hits.extend(_big_numbers(doc))
    return sorted(hits)
