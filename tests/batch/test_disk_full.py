"""`misinfo-risk batch` on a real full file system (a small tmpfs): its own exit status, one line, nothing corrupted."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from misinfo_risk.batch.cli import EXIT_DISK_FULL
from tests.batch.conftest import article, write_jsonl

CHUNK = 25


def run_batch(corpus: Path, output: Path, artifact: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "misinfo_risk", "batch", str(corpus), "--output", str(output), "--artifact", str(artifact)]
    argv += ["--chunk-size", str(CHUNK), "--workers", "1", "--progress", "off"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def mount_tmpfs(directory: Path, size: int) -> None:
    directory.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    yield disk
    subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_exits_5_with_one_line_and_the_run_resumes(tiny_artifact: Path, tmp_path: Path, small_disk: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, [article(i) for i in range(300)])
    reference = tmp_path / "reference.jsonl"
    assert run_batch(corpus, reference, tiny_artifact).returncode == 0
    # Room for about half the chunks (each small file takes whole pages): the disk fills mid-run.
    mount_tmpfs(small_disk, max(64 * 1024, reference.stat().st_size // 2))
    output = small_disk / "scores.jsonl"

    full = run_batch(corpus, output, tiny_artifact)

    assert full.returncode == EXIT_DISK_FULL, full.stderr
    assert "Traceback" not in full.stderr
    message = full.stderr.strip().splitlines()[-1]
    assert message.startswith("misinfo-risk batch: no space left on device writing "), full.stderr
    assert message.endswith("free some space and run the same command again to resume")
    chunks = sorted((small_disk / "scores.jsonl.partial" / "chunks").iterdir())
    assert chunks, "the disk should fill after some chunks were stored"
    assert all(not c.name.startswith(".") for c in chunks), "a half-written temporary file was left behind"
    expected = reference.read_text(encoding="utf-8").splitlines(keepends=True)
    for chunk in chunks:  # every stored chunk is complete and exactly what an uninterrupted run writes
        index = int(chunk.stem)
        assert chunk.read_text(encoding="utf-8") == "".join(expected[index * CHUNK : (index + 1) * CHUNK])
    assert not output.exists()

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    resumed = run_batch(corpus, output, tiny_artifact)

    assert resumed.returncode == 0, resumed.stderr
    assert "resuming the interrupted run" in resumed.stderr
    assert output.read_bytes() == reference.read_bytes()
    assert [json.loads(line)["id"] for line in expected] == [article(i)["id"] for i in range(300)]
