"""JSON Lines: one JSON object per line; blank lines are skipped, bad lines become error items."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from misinfo_risk.ingest.items import Columns, RawItem
from misinfo_risk.jsonerrors import json_problem, json_type


def read_jsonl(path: Path, source: str, columns: Columns) -> Iterator[RawItem]:
    """Yield one item per non-blank line, located by its 1-based line number.

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_bytes(b'{"text": "Hello"}\\n\\nnot json\\n')
    >>> [(i.location, i.fields, i.error is not None) for i in read_jsonl(p, "a.jsonl", Columns())]
    [('line 1', {'text': 'Hello'}, False), ('line 3', None, True)]
    """
    with path.open("rb") as handle:
        for number, line in _lines(handle):
            if line.strip():
                yield _item(line, source, f"line {number}", columns)


def count_jsonl(path: Path) -> int:
    """How many items :func:`read_jsonl` will yield (non-blank lines), without parsing JSON."""
    with path.open("rb") as handle:
        return sum(1 for _, line in _lines(handle) if line.strip())


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Numbered lines, without the UTF-8 byte-order mark some Windows tools put first (as the CSV reader and the
    format detection ignore it; JSON itself refuses it, which made line 1 of such a file an error)."""
    for number, line in enumerate(handle, start=1):
        yield number, line.removeprefix(codecs.BOM_UTF8) if number == 1 else line


def _item(line: bytes, source: str, location: str, columns: Columns) -> RawItem:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return RawItem(source, location, error=f"invalid JSON: {json_problem(line, exc, one_line=True)}")
    if not isinstance(record, dict):
        return RawItem(source, location, error=f"expected a JSON object, got {json_type(record)}")
    return RawItem(source, location, fields=columns.extract(record))
