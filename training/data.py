"""Load labelled article files and split them so that no group sits on both sides.

A training file is JSON Lines with `text`, `label` (0 = reliable, 1 = fake or misleading) and the
optional Article fields (and `genre`: news, opinion, satire, press_release or generated; news when
absent). A `meta.jsonl` beside it (one line per `id`) may give the grouping key, the first of
`publisher`, `publisher_domain`, `member` or `pair`: articles sharing a publisher or a speaker, or
fake/real twins sharing a pair key, form one group and are never split across train and test.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from misinfo_risk.model.errors import InvalidArticle
from misinfo_risk.model.types import Article, parse_article


class DataError(ValueError):
    """A training file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Dataset:
    """Articles with labels, the dataset each came from, its split group and its stratum."""

    articles: list[Article]
    labels: np.ndarray
    sources: list[str]  # dataset name, e.g. "buzzfeed_webis"
    groups: list[str]  # never split across train/test
    strata: list[str]  # balanced across the split (publisher orientation, or label)
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    subsets: list[str] = field(default_factory=list)  # "perez_rosas/amt"; the dataset name when it has none
    genres: list[str] = field(default_factory=list)  # "news" when the file has no genre field

    def __len__(self) -> int:
        return len(self.articles)

    def subset(self, index: Iterable[int]) -> Dataset:
        idx = list(index)
        return Dataset(
            [self.articles[i] for i in idx],
            self.labels[idx],
            [self.sources[i] for i in idx],
            [self.groups[i] for i in idx],
            [self.strata[i] for i in idx],
            self.files,
            [self.subsets[i] for i in idx],
            [self.genres[i] for i in idx],
        )

    def where(self, predicate: Iterable[bool]) -> Dataset:
        return self.subset(i for i, keep in enumerate(predicate) if keep)

    @property
    def names(self) -> list[str]:
        return sorted(set(self.sources))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_meta(path: Path) -> dict[str, dict[str, object]]:
    meta_path = path.with_name("meta.jsonl")
    if not meta_path.exists():
        return {}
    out = {}
    with meta_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out[str(row["id"])] = row
    return out


_GROUP_KEYS = ("publisher", "publisher_domain", "member", "pair")


def _read_file(path: Path) -> tuple[list[Article], list[int], list[str], list[str], list[str], list[str], list[str]]:
    name = path.parent.name if path.name == "articles.jsonl" else path.stem
    meta = _read_meta(path)
    articles: list[Article] = []
    labels: list[int] = []
    groups: list[str] = []
    strata: list[str] = []
    subsets: list[str] = []
    genres: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                label = int(row["label"])
                if label not in (0, 1):
                    raise ValueError(f"label must be 0 or 1, not {label}")
                article = parse_article(row)
            except (ValueError, KeyError, TypeError, InvalidArticle) as exc:
                raise DataError(f"{path}:{lineno}: {exc}") from exc
            info = meta.get(str(row.get("id")), {})
            kind = next((k for k in _GROUP_KEYS if info.get(k)), "id")
            key = info.get(kind)
            groups.append(f"{name}:{kind}:{key}" if key else f"{name}:id:{row.get('id', lineno)}")
            strata.append(f"{name}:{info.get('orientation') or label}")
            subsets.append(f"{name}/{info['subset']}" if info.get("subset") else name)
            genres.append(str(row.get("genre") or "news"))
            articles.append(article)
            labels.append(label)
    return articles, labels, [name] * len(articles), groups, strata, subsets, genres


def load_dataset(paths: Sequence[Path | str]) -> Dataset:
    """Read one or more labelled JSONL files (and their meta.jsonl sidecars)."""
    if not paths:
        raise DataError("no training files given")
    articles, labels, sources, groups, strata, subsets, genres, files = [], [], [], [], [], [], [], {}
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        a, lab, src, grp, strat, sub, gen = _read_file(path)
        articles += a
        labels += lab
        sources += src
        groups += grp
        strata += strat
        subsets += sub
        genres += gen
        files[f"{path.parent.name}/{path.name}"] = sha256_file(path)
    return Dataset(articles, np.asarray(labels, dtype=int), sources, groups, strata, files, subsets, genres)


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def split_dataset(dataset: Dataset, *, test_fraction: float = 0.25, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Grouped, stratified, deterministic split: whole groups go to test, ~test_fraction per stratum.

    A group's stratum is that of its first article (publisher orientation for BuzzFeed-Webis,
    label otherwise), so e.g. one mainstream, one left and one right publisher are held out.
    """
    by_stratum: dict[str, list[str]] = defaultdict(list)
    for group, stratum in dict(zip(dataset.groups, dataset.strata, strict=True)).items():
        by_stratum[stratum].append(group)
    test_groups: set[str] = set()
    for stratum in sorted(by_stratum):
        ranked = sorted(by_stratum[stratum], key=lambda g: _rank(seed, g))
        n_test = round(len(ranked) * test_fraction)
        if len(ranked) >= 2:
            n_test = min(max(n_test, 1), len(ranked) - 1)
        test_groups.update(ranked[:n_test])
    in_test = [g in test_groups for g in dataset.groups]
    return dataset.where(not t for t in in_test), dataset.where(in_test)
