"""Small helpers shared by heuristic modules."""

from __future__ import annotations

import re
from collections.abc import Iterable

from misinfo_risk.model.document import Doc
from misinfo_risk.model.text import LEXICON, Hit
from misinfo_risk.model.types import Section

BOTH: tuple[Section, ...] = ("title", "text")


def phrases(key: str, templates: Iterable[str]) -> str:
    """Add a phrase group to the shared lexicon and return its key."""
    return LEXICON.add(key, templates)


def regex_hits(doc: Doc, pattern: re.Pattern[str], sections: Iterable[Section] = BOTH, *, low: bool = True) -> list[Hit]:
    """Every match of `pattern` in the (lower-cased or original-case) normalised sections."""
    out: list[Hit] = []
    for name in sections:
        section = doc.section(name)
        text = section.low if low else section.norm
        out.extend(Hit(name, m.start(), m.end()) for m in pattern.finditer(text))
    return out


def overlaps(hit: Hit, others: Iterable[Hit]) -> bool:
    return any(o.section == hit.section and o.start < hit.end and hit.start < o.end for o in others)
