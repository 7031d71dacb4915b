"""Benchmark inputs: ~5 KB articles cut from the shared datasets at run time (never committed).

Falls back to text generated from the tiny hand-written test set when ../shared is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

from misinfo_risk.model.types import Article

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def _texts() -> list[tuple[str | None, str]]:
    files = sorted(SHARED.glob("*/articles.jsonl")) or [ROOT / "tests" / "data" / "tiny_articles.jsonl"]
    out = []
    for path in files:
        with path.open(encoding="utf-8") as fh:
            out += [(row.get("title"), row["text"]) for row in map(json.loads, fh)]
    return out


def articles_5kb(n: int, size: int = 5_000) -> list[Article]:
    """`n` articles of about `size` characters each, made by joining consecutive real texts."""
    texts = _texts()
    out: list[Article] = []
    i = 0
    while len(out) < n:
        title, body = texts[i % len(texts)]
        while len(body) < size:
            i += 1
            body += "\n" + texts[i % len(texts)][1]
        cut = body.rfind(" ", 0, size)
        out.append(Article(title=title, text=body[: cut if cut > 0 else size], id=str(len(out))))
        i += 1
    return out
