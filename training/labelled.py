"""Read a team's own labelled articles (JSON Lines or CSV) for `misinfo-risk evaluate`.

A row is an article plus a label. The article fields are those of the service and the batch command
(`text` required; `title`, `url`, `source`, `published_at`, `language`, `id` optional), read by the same
readers (`ingest`), with `--column FIELD=COLUMN` to map other names. The label is the `label` field
(`--label NAME` for another): 1 = fake or misleading, 0 = reliable; JSON may also give true/false, and
CSV cells "0"/"1" or "true"/"false". A row with a bad label or an invalid article is skipped and counted;
a file that cannot be read at all, or that yields no usable row, makes the whole input unusable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from misinfo_risk.model.errors import InvalidArticle
from misinfo_risk.model.types import MAX_ARTICLE_CHARS, Article, parse_article
from misinfo_risk.training.data import DataError

READABLE_FORMATS = ("jsonl", "csv", "tsv")
_TRUE, _FALSE = ("1", "true"), ("0", "false")


@dataclass(frozen=True)
class LabelledArticles:
    """The usable rows of the input, in order, and every skipped row with the reason."""

    articles: list[Article]
    labels: np.ndarray  # 1 = fake or misleading, 0 = reliable
    locations: list[str]  # "mine.jsonl:line 3"
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (location, reason)

    def __len__(self) -> int:
        return len(self.articles)


def label_value(raw: Any) -> int:
    """0 or 1 from a JSON number or boolean, or a CSV cell; ValueError for anything else."""
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int | float) and raw in (0, 1):
        return int(raw)
    if isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE:
        return int(raw.strip().lower() in _TRUE)
    raise ValueError(f"label must be 1 (fake or misleading) or 0 (reliable), not {raw!r}")


def read_labelled(
    paths: Sequence[Path], *, label: str = "label", columns: Sequence[str] = (), max_chars: int = MAX_ARTICLE_CHARS
) -> LabelledArticles:
    """Every usable labelled article in `paths`. Raises DataError (one line) if the input is unusable."""
    from misinfo_risk.ingest.items import Columns
    from misinfo_risk.ingest.sources import ReadOptions, Source, detect_format, read_source

    try:
        mapping = Columns.parse(list(columns)).as_dict()
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    options = ReadOptions(columns=Columns(mapping | {"label": label}))
    articles: list[Article] = []
    labels: list[int] = []
    locations: list[str] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        fmt = detect_format(str(path), path)
        if fmt not in READABLE_FORMATS:
            raise DataError(f"{path}: reads as {fmt}; evaluate reads labelled JSON Lines (.jsonl) or CSV (.csv, .tsv)")
        found = 0
        for item in read_source(Source(str(path), fmt, path), options):
            where = f"{path}:{item.location}"
            if item.location == "source":
                raise DataError(f"{path}: {item.error}")
            if item.error is not None or item.fields is None:
                skipped.append((where, item.error or "unreadable"))
                continue
            fields = dict(item.fields)
            try:
                if label not in fields:
                    raise ValueError(f"no {label!r} field")
                value = label_value(fields.pop(label))
                article = parse_article(fields, max_chars=max_chars)
            except (ValueError, InvalidArticle) as exc:
                skipped.append((where, str(exc)))
                continue
            articles.append(article)
            labels.append(value)
            locations.append(where)
            found += 1
        if not found:
            why = f"; e.g. {skipped[-1][0]}: {skipped[-1][1]}" if skipped else ""
            raise DataError(f"{path}: no usable labelled article (a {label!r} of 0 or 1 and a non-empty text){why}")
    return LabelledArticles(articles, np.asarray(labels, dtype=int), locations, skipped)
