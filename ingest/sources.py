"""Input sources: expand paths, globs and URLs; detect formats; read any source as items."""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from misinfo_risk.ingest.download import is_url
from misinfo_risk.ingest.feeds import DEFAULT_MAX_FEED_BYTES, parse_feed
from misinfo_risk.ingest.items import Columns, RawItem
from misinfo_risk.ingest.jsonl import count_jsonl, read_jsonl
from misinfo_risk.ingest.tabular import count_csv, count_parquet, read_csv, read_parquet

FORMATS = ("feed", "jsonl", "csv", "tsv", "parquet")
_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
    ".xml": "feed", ".rss": "feed", ".atom": "feed", ".rdf": "feed", ".feed": "feed",
}  # fmt: skip
_DELIMITERS = {"csv": ",", "tsv": "\t"}


class InputError(ValueError):
    """An input argument names nothing readable (no such file, a glob matching nothing)."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read records: column mapping, CSV delimiter override, feed size limit."""

    columns: Columns = field(default_factory=Columns)
    delimiter: str | None = None
    max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES


@dataclass(frozen=True)
class Source:
    """One input: `name` as shown in results (path or URL), where its bytes are, and its format.

    A URL's bytes are a local snapshot (`path`); a download that failed has `error` instead.
    """

    name: str
    format: str
    path: Path | None = None
    error: str | None = None


def expand_inputs(patterns: Iterable[str], *, exclude: Iterable[Path] = ()) -> list[str]:
    """Paths, glob matches (sorted) and URLs, in argument order, without duplicates or `exclude`.

    Raises InputError for a missing file or a glob that matches no file.
    """
    skip = {p.resolve() for p in exclude}
    names: list[str] = []
    for pattern in patterns:
        if is_url(pattern):
            found = [pattern]
        elif glob.has_magic(pattern):
            found = sorted(p for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
            if not found:
                raise InputError(f"no file matches {pattern!r}")
        elif Path(pattern).is_file():
            found = [pattern]
        else:
            raise InputError(f"no such file: {pattern!r}")
        names += [n for n in found if n not in names and (is_url(n) or Path(n).resolve() not in skip)]
    return names


def detect_format(name: str, path: Path | None = None) -> str:
    """The format of an input: URLs are feeds; files go by extension, else by their first bytes."""
    if is_url(name):
        return "feed"
    suffix = Path(name).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    with (path or Path(name)).open("rb") as handle:
        head = handle.read(512)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PAR1"):
        return "parquet"
    if stripped.startswith(b"<") or stripped.startswith(b"\xff\xfe") or stripped.startswith(b"\xfe\xff"):
        return "feed"
    if stripped.startswith(b"{"):
        return "jsonl"
    return "csv"


def read_source(source: Source, options: ReadOptions) -> Iterator[RawItem]:
    """Yield the items of one source in order; a source that cannot be read yields one error item."""
    if source.error is not None or source.path is None:
        yield RawItem(source.name, "source", error=source.error or "no data")
        return
    try:
        yield from _read(source, source.path, options)
    except OSError as exc:
        yield RawItem(source.name, "source", error=f"cannot read {source.name}: {exc.strerror or exc}")


def count_source(source: Source, options: ReadOptions) -> int:
    """How many items :func:`read_source` will yield (cheaply where the format allows)."""
    try:
        if source.error is None and source.path is not None:
            if source.format == "jsonl":
                return count_jsonl(source.path)
            if source.format == "parquet":
                return count_parquet(source.path)
            if source.format in _DELIMITERS:
                return count_csv(source.path, options.columns, delimiter=options.delimiter or _DELIMITERS[source.format])
    except OSError:
        return 1
    return sum(1 for _ in read_source(source, options))


def _read(source: Source, path: Path, options: ReadOptions) -> Iterator[RawItem]:
    if source.format == "feed":
        size, limit = path.stat().st_size, options.max_feed_bytes
        if size > limit:
            yield RawItem(source.name, "source", error=f"feed document is {size:,} bytes; the limit is {limit:,}")
            return
        yield from parse_feed(path.read_bytes(), source.name, max_bytes=options.max_feed_bytes)
    elif source.format == "jsonl":
        yield from read_jsonl(path, source.name, options.columns)
    elif source.format in _DELIMITERS:
        yield from read_csv(path, source.name, options.columns, delimiter=options.delimiter or _DELIMITERS[source.format])
    elif source.format == "parquet":
        yield from read_parquet(path, source.name, options.columns)
    else:
        raise ValueError(f"unknown input format {source.format!r}")
