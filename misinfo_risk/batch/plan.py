"""A batch job: its expanded inputs and options, the manifest that identifies it, and its sources."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from misinfo_risk.batch.output import output_format
from misinfo_risk.batch.state import RunState, StateMismatch, atomic_write
from misinfo_risk.ingest.download import AddressPolicy, FetchError, fetch, is_url
from misinfo_risk.ingest.sources import ReadOptions, Source, detect_format, expand_inputs
from misinfo_risk.model.scorer import Scorer

MANIFEST_VERSION = 3  # 2: rows gained assessed, reason, language, genre, warnings; the genre model joined the identity
# 3: rows gained score_calibrated, base_rate and top_sentence; the base rate joined the identity


class UsageError(ValueError):
    """The command line asks for something impossible (unknown output format, missing input...)."""


@dataclass(frozen=True)
class Job:
    """Everything that determines a batch run's output."""

    inputs: tuple[str, ...]
    formats: tuple[str, ...]
    output: Path
    output_format: str
    options: ReadOptions
    chunk_size: int
    max_chars: int
    fetch_timeout: float
    base_rate: float | None = None
    addresses: AddressPolicy = AddressPolicy()
    """Where downloads may connect (not in the manifest: downloads are snapshotted before it is written)."""

    def manifest(self, scorer: Scorer) -> dict[str, Any]:
        """What a resumed run must match: inputs (with size and mtime), options and the model identity."""
        card = scorer.card.model_dump_json().encode("utf-8")
        return {
            "manifest_version": MANIFEST_VERSION,
            "inputs": [_fingerprint(name, fmt) for name, fmt in zip(self.inputs, self.formats, strict=True)],
            "columns": self.options.columns.as_dict(),
            "delimiter": self.options.delimiter,
            "max_feed_bytes": self.options.max_feed_bytes,
            "chunk_size": self.chunk_size,
            "max_chars": self.max_chars,
            "base_rate": self.base_rate,
            "output_format": self.output_format,
            "model": {"version": scorer.version, "card_sha256": hashlib.sha256(card).hexdigest()},
            "genre_model": scorer.genre_version,
        }


def build_job(
    patterns: list[str],
    output: Path,
    *,
    fmt: str,
    options: ReadOptions,
    chunk_size: int,
    max_chars: int,
    fetch_timeout: float,
    base_rate: float | None = None,
    addresses: AddressPolicy | None = None,
) -> Job:
    """Expand and check the inputs and the output. Raises UsageError."""
    out_format = output_format(output)
    if out_format is None:
        raise UsageError(f"cannot tell the output format from {output.name!r}: use .jsonl, .csv or .parquet")
    if output.is_dir():
        raise UsageError(f"--output {output} is a directory; give a file name ending in .jsonl, .csv or .parquet")
    if chunk_size < 1 or max_chars < 1:
        raise UsageError("--chunk-size and --max-chars must be positive")
    state_root = RunState(output).root.resolve()
    try:
        names = [n for n in expand_inputs(patterns, exclude=[output]) if is_url(n) or state_root not in Path(n).resolve().parents]
        formats = [fmt if fmt != "auto" else detect_format(n) for n in names]
    except (ValueError, OSError) as exc:
        raise UsageError(str(exc)) from exc
    return Job(
        tuple(names), tuple(formats), output, out_format, options, chunk_size, max_chars, fetch_timeout, base_rate,
        addresses or AddressPolicy(),
    )  # fmt: skip


def _fingerprint(name: str, fmt: str) -> dict[str, Any]:
    if is_url(name):
        return {"name": name, "format": fmt}
    stat = Path(name).stat()
    return {"name": name, "format": fmt, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def prepare_sources(job: Job, state: RunState, *, resuming: bool) -> list[Source]:
    """Sources to read; URLs are downloaded once into the run state and read from there ever after."""
    sources = []
    for i, (name, fmt) in enumerate(zip(job.inputs, job.formats, strict=True)):
        if not is_url(name):
            sources.append(Source(name, fmt, path=Path(name)))
            continue
        body, error = state.inputs / f"{i:04d}.body", state.inputs / f"{i:04d}.error"
        if not resuming:
            try:
                data = fetch(name, max_bytes=job.options.max_feed_bytes, timeout=job.fetch_timeout, addresses=job.addresses)
                atomic_write(body, [data])
            except FetchError as exc:
                atomic_write(error, [f"download failed: {exc}".encode()])
        if error.is_file():
            sources.append(Source(name, fmt, error=error.read_text(encoding="utf-8")))
        elif body.is_file():
            sources.append(Source(name, fmt, path=body))
        else:
            raise StateMismatch(f"the snapshot of {name} is missing from {state.root}; add --restart to start again")
    return sources
