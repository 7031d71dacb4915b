"""`misinfo-risk train`: never replaces an artifact without --force; the version is always given."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from misinfo_risk.model.artifact import CARD_FILE, load_card, shipped_artifact_dir
from tests.conftest import TINY, TINY_ARGS

CLI = [sys.executable, "-m", "misinfo_risk", "train"]


def snapshot(directory: Path) -> dict[str, tuple[str, int]]:
    """Every file's sha256 and modification time (ns): a refused run must change neither."""
    return {
        str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_train_refuses_to_overwrite_an_artifact_without_force(tiny_artifact: Path, tmp_path: Path) -> None:
    out = Path(shutil.copytree(tiny_artifact, tmp_path / "existing"))
    before = snapshot(out)
    args = ["--data", str(TINY), "--out", str(out), *[a if a != "test-0" else "test-1" for a in TINY_ARGS]]
    refused = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1
    assert "already holds an artifact" in refused.stderr and "--force" in refused.stderr
    assert refused.stdout == ""
    assert snapshot(out) == before

    forced = subprocess.run([*CLI, *args, "--force"], capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0, forced.stderr
    assert load_card(out).version == "test-1"
    assert snapshot(out)[CARD_FILE] != before[CARD_FILE]


def test_train_without_out_writes_under_its_version_and_never_replaces_the_shipped_model() -> None:
    shipped = shipped_artifact_dir()
    before = snapshot(shipped)
    version = shipped.name  # no --out: the folder is model/artifacts/<version>, i.e. the shipped one
    refused = subprocess.run([*CLI, "--data", str(TINY), "--version", version, "--quick"], capture_output=True, text=True)
    assert refused.returncode == 1 and str(shipped) in refused.stderr
    assert snapshot(shipped) == before


def test_train_requires_a_version(tmp_path: Path) -> None:
    missing = subprocess.run([*CLI, "--data", str(TINY), "--out", str(tmp_path / "a")], capture_output=True, text=True)
    assert missing.returncode == 2 and "--version" in missing.stderr
    assert not (tmp_path / "a").exists()
