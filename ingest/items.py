"""`RawItem`: one input item (an article's fields, or why it could not be read) and where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ARTICLE_FIELDS = ("text", "title", "url", "source", "published_at", "language", "id")
"""Article fields a record may carry (see `misinfo_risk.model.types.Article`)."""


@dataclass(frozen=True, slots=True)
class RawItem:
    """One input item in input order: article fields not yet validated, or a read error.

    `location` says where the item is inside `source`: ``"line 3"`` (JSON Lines), ``"row 3"``
    (CSV, Parquet; data rows counted from 1, header excluded), ``"entry 3"`` (feeds), or
    ``"source"`` when the whole source could not be read.
    """

    source: str
    location: str
    fields: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Columns:
    """Which record key (JSON key, CSV column, Parquet column) holds each article field.

    >>> Columns.parse(["text=body", "id=guid"]).extract({"body": "Hi", "guid": 7, "other": 1})
    {'text': 'Hi', 'id': '7'}
    """

    mapping: Mapping[str, str] = field(default_factory=lambda: {name: name for name in ARTICLE_FIELDS})

    @classmethod
    def parse(cls, specs: list[str] | None) -> Columns:
        """Build from ``FIELD=COLUMN`` strings; unnamed fields keep their own name. Raises ValueError."""
        mapping = {name: name for name in ARTICLE_FIELDS}
        for spec in specs or []:
            name, sep, column = spec.partition("=")
            if not sep or name not in mapping or not column:
                fields = ", ".join(ARTICLE_FIELDS)
                raise ValueError(f"bad column mapping {spec!r}: expected FIELD=COLUMN with FIELD one of {fields}")
            mapping[name] = column
        return cls(mapping)

    def extract(self, record: Mapping[str, Any], *, blank_is_missing: bool = False) -> dict[str, Any]:
        """The article fields found in `record`.

        Integer ids become strings (corpora often number their articles). With `blank_is_missing`
        (CSV, where every cell is a string), empty optional cells count as absent.
        """
        out: dict[str, Any] = {}
        for name, column in self.mapping.items():
            if column not in record:
                continue
            value = record[column]
            if blank_is_missing and name != "text" and value == "":
                continue
            if name == "id" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            out[name] = value
        return out

    def as_dict(self) -> dict[str, str]:
        return dict(self.mapping)
