"""The resumable state of a run: a directory next to the output holding finished chunks.

``OUTPUT.partial/`` contains ``manifest.json`` (everything that determines the output: inputs
with their sizes and modification times, options, model identity), ``inputs/`` (snapshots of
downloaded feeds, so a resumed run reads exactly what the first one read) and ``chunks/``
(one JSON Lines file per finished chunk, each written to a temporary name, fsynced and renamed,
so a chunk file is either complete or absent, whenever the process dies).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

MANIFEST = "manifest.json"
_CHUNK_NAME = re.compile(r"^(\d{8})\.jsonl$")


class StateMismatch(RuntimeError):
    """The partial run next to the output was started with other inputs or options."""


def atomic_write(path: Path, pieces: Iterable[bytes]) -> None:
    """Write `pieces` to `path` so that readers see the old file or the whole new one, never a part."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with tmp.open("wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RunState:
    """The ``.partial`` directory of one output file."""

    def __init__(self, output: Path) -> None:
        self.root = output.with_name(output.name + ".partial")
        self.chunks = self.root / "chunks"
        self.inputs = self.root / "inputs"

    def open(self, manifest: dict[str, Any], *, restart: bool = False) -> bool:
        """Start or resume; True if resuming. Raises StateMismatch if the manifest differs."""
        stored = self._stored_manifest()
        if stored is not None and not restart:
            if stored != orjson.loads(orjson.dumps(manifest)):
                raise StateMismatch(_describe_mismatch(stored, manifest, self.root))
            return True
        if self.root.exists():
            shutil.rmtree(self.root)
        self.chunks.mkdir(parents=True)
        self.inputs.mkdir()
        return False

    def commit_manifest(self, manifest: dict[str, Any]) -> None:
        """Record the manifest once the inputs are snapshotted: from now on the run can be resumed."""
        atomic_write(self.root / MANIFEST, [orjson.dumps(manifest, option=orjson.OPT_INDENT_2)])

    def _stored_manifest(self) -> dict[str, Any] | None:
        try:
            data = orjson.loads((self.root / MANIFEST).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None  # no run, or one killed before it was resumable: start afresh
        return data if isinstance(data, dict) else None

    def done_chunks(self) -> set[int]:
        """Indexes of the chunks already written; leftovers of interrupted writes are removed."""
        done = set()
        for entry in self.chunks.iterdir():
            match = _CHUNK_NAME.match(entry.name)
            if match:
                done.add(int(match.group(1)))
            elif entry.name.startswith("."):
                entry.unlink(missing_ok=True)
        return done

    def chunk_path(self, index: int) -> Path:
        return self.chunks / f"{index:08d}.jsonl"

    def write_chunk(self, index: int, data: bytes) -> None:
        atomic_write(self.chunk_path(index), [data])

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _describe_mismatch(stored: dict[str, Any], manifest: dict[str, Any], root: Path) -> str:
    keys = sorted(k for k in stored.keys() | manifest.keys() if stored.get(k) != orjson.loads(orjson.dumps(manifest.get(k))))
    return (
        f"an interrupted run in {root} was started with different {', '.join(keys)} "
        "(or the inputs changed since); rerun with the original arguments to resume it, or add --restart to discard it"
    )
