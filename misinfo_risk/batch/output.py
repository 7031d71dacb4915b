"""Write the final output (JSON Lines, CSV or Parquet) from the stored chunks, atomically, and count it."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from misinfo_risk.batch.rows import ROW_FIELDS
from misinfo_risk.batch.state import RunState, atomic_write

OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
PARQUET_ROW_GROUP_ROWS = 65_536
SIGNAL_SEPARATOR = ";"  # CSV cells hold the fired signal names (and warning codes) joined by this
PARQUET_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("location", pa.string()),
        ("title", pa.string()),
        ("url", pa.string()),
        ("assessed", pa.bool_()),
        ("reason", pa.string()),
        ("score", pa.float64()),
        ("level", pa.string()),
        ("score_calibrated", pa.float64()),
        ("base_rate", pa.float64()),
        ("language", pa.string()),
        ("genre", pa.string()),
        ("warnings", pa.list_(pa.string())),
        ("model_version", pa.string()),
        ("signals", pa.list_(pa.string())),
        ("top_sentence", pa.string()),
        ("error", pa.string()),
    ]
)


@dataclass
class Tally:
    """What the output holds: items, errors, articles not assessed, and assessed items per level."""

    items: int = 0
    errors: int = 0
    not_assessed: int = 0
    levels: Counter[str] = field(default_factory=Counter)

    def add(self, row: dict[str, Any]) -> None:
        self.items += 1
        if row["error"] is not None:
            self.errors += 1
        elif row.get("level") is None:
            self.not_assessed += 1
        else:
            self.levels[row["level"]] += 1


def output_format(path: Path) -> str | None:
    """The output format named by the file extension, or None if unsupported."""
    return OUTPUT_FORMATS.get(path.suffix.lower())


def write_output(state: RunState, n_chunks: int, output: Path, fmt: str) -> Tally:
    """Concatenate chunks 0..n_chunks-1 into `output` (replaced atomically) and tally the rows."""
    tally = Tally()
    chunks = (state.chunk_path(i).read_bytes() for i in range(n_chunks))
    if fmt == "jsonl":
        atomic_write(output, _counted_jsonl(chunks, tally))
    elif fmt == "csv":
        atomic_write(output, _csv_pieces(chunks, tally))
    elif fmt == "parquet":
        _write_parquet(chunks, tally, output)
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    return tally


def _rows(chunk: bytes, tally: Tally) -> list[dict[str, Any]]:
    rows = [orjson.loads(line) for line in chunk.splitlines()]
    for row in rows:
        tally.add(row)
    return rows


def _counted_jsonl(chunks: Iterable[bytes], tally: Tally) -> Iterator[bytes]:
    for chunk in chunks:
        _rows(chunk, tally)
        yield chunk


def _csv_pieces(chunks: Iterable[bytes], tally: Tally) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ROW_FIELDS)
    for chunk in chunks:
        for row in _rows(chunk, tally):
            writer.writerow(_csv_cell(name, row[name]) for name in ROW_FIELDS)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _csv_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in ("signals", "warnings"):
        return SIGNAL_SEPARATOR.join(value)
    if name == "assessed":
        return "true" if value else "false"
    if name in ("score", "score_calibrated", "base_rate"):
        return repr(float(value))
    return str(value)


def _write_parquet(chunks: Iterable[bytes], tally: Tally, output: Path) -> None:
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")
    try:
        with pq.ParquetWriter(tmp, PARQUET_SCHEMA) as writer:
            pending: list[dict[str, Any]] = []
            for chunk in chunks:
                pending += _rows(chunk, tally)
                if len(pending) >= PARQUET_ROW_GROUP_ROWS:
                    writer.write_table(pa.Table.from_pylist(pending, schema=PARQUET_SCHEMA))
                    pending = []
            if pending:
                writer.write_table(pa.Table.from_pylist(pending, schema=PARQUET_SCHEMA))
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
