"""CSV (header row, configurable columns) and Parquet files -> items located by data row."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from misinfo_risk.ingest.items import Columns, RawItem

CSV_FIELD_LIMIT = 16 * 1024 * 1024  # characters per cell: far above any article the scorer accepts
PARQUET_BATCH_ROWS = 1_024


class TableError(ValueError):
    """The file cannot be read as a table at all (no header, corrupt Parquet, missing column)."""


def read_csv(path: Path, source: str, columns: Columns, *, delimiter: str = ",") -> Iterator[RawItem]:
    """Yield one item per CSV data row; rows with the wrong number of cells become error items.

    Undecodable bytes are kept as lone surrogates, so that the row (not the file) is refused.
    """
    csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawItem(source, "source", error=f"unreadable CSV header: {exc}")
            return
        if columns.mapping["text"] not in header:
            error = f"no {columns.mapping['text']!r} column in the CSV header {header}"
            yield RawItem(source, "source", error=error + _delimiter_hint(header, delimiter))
            return
        yield from _csv_rows(reader, header, source, columns)


def _delimiter_hint(header: list[str], delimiter: str) -> str:
    """A hint when the header is one cell holding another common delimiter ("text;id": a European spreadsheet's CSV)."""
    if len(header) != 1:
        return ""
    for other, option in ((";", "--delimiter ';'"), ("\t", "--format tsv"), ("|", "--delimiter '|'"), (",", "--delimiter ','")):
        if other != delimiter and other in header[0]:
            return f" (its columns look separated by {other!r}, not {delimiter!r}: misinfo-risk batch reads them with {option})"
    return ""


def _csv_rows(reader: Iterator[list[str]], header: list[str], source: str, columns: Columns) -> Iterator[RawItem]:
    number = 0
    while True:
        number += 1
        location = f"row {number}"
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawItem(source, location, error=f"malformed CSV row: {exc}")
            continue
        if not cells:  # a blank line is not a row
            number -= 1
            continue
        if len(cells) != len(header):
            yield RawItem(source, location, error=f"row has {len(cells)} cells; the header has {len(header)}")
            continue
        yield RawItem(source, location, fields=columns.extract(dict(zip(header, cells, strict=True)), blank_is_missing=True))


def count_csv(path: Path, columns: Columns, *, delimiter: str = ",") -> int:
    """How many items :func:`read_csv` will yield."""
    return sum(1 for _ in read_csv(path, str(path), columns, delimiter=delimiter))


def read_parquet(path: Path, source: str, columns: Columns) -> Iterator[RawItem]:
    """Yield one item per Parquet row, reading only the mapped columns, a batch at a time."""
    # pyarrow is in the [batch] extra; importing it here keeps `ingest` (and the service's feed
    # endpoint, which needs only the feed readers) importable without it.
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        if columns.mapping["text"] not in names:
            raise TableError(f"no {columns.mapping['text']!r} column in the Parquet schema {names}")
    except (pa.ArrowException, OSError, TableError) as exc:
        yield RawItem(source, "source", error=f"unreadable Parquet: {exc}")
        return
    wanted = sorted({c for c in columns.mapping.values() if c in names})
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted):
            for record in batch.to_pylist():
                number += 1
                yield RawItem(source, f"row {number}", fields=columns.extract(record))
    except (pa.ArrowException, OSError) as exc:
        yield RawItem(source, f"row {number + 1}", error=f"unreadable Parquet data after row {number}: {exc}")


def count_parquet(path: Path) -> int:
    """How many items :func:`read_parquet` will yield (from the file's metadata)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (pa.ArrowException, OSError):
        return 1
