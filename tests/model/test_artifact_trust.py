"""Artifact trust: SHA256SUMS covers every file (the model card too), and the whole artifact's digest can be pinned
from outside it (`--model-sha256`, RISK_MODEL_SHA256): checked in the library and on real command processes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from misinfo_risk.model.artifact import (
    CARD_FILE,
    SUMS_FILE,
    load_artifact,
    shipped_artifact_dir,
    shipped_genre_dir,
    verify_artifact,
)
from misinfo_risk.model.errors import ArtifactError
from misinfo_risk.model.scorer import load_scorer
from tests.batch.conftest import article, write_jsonl
from tests.service.server import ServeProcess

WRONG = "0" * 64


def digest_of(directory: Path) -> str:
    return hashlib.sha256((directory / SUMS_FILE).read_bytes()).hexdigest()


@pytest.fixture
def artifact_copy(tiny_artifact: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_artifact, tmp_path / "copy"))


def test_a_changed_model_card_is_refused(artifact_copy: Path) -> None:
    """A threshold edited in the card used to be accepted silently (the card was covered by no hash)."""
    card = json.loads((artifact_copy / CARD_FILE).read_text())
    card["thresholds"]["high"] = 0.99
    (artifact_copy / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match=r"model_card.json does not match the sha256 in .*SHA256SUMS"):
        load_scorer(artifact_copy)


def test_added_removed_or_unlisted_files_are_refused(artifact_copy: Path) -> None:
    (artifact_copy / "extra.py").write_text("print('hello')\n")
    with pytest.raises(ArtifactError, match=r"added: \['extra.py'\], missing: none"):
        load_artifact(artifact_copy)
    (artifact_copy / "extra.py").unlink()
    (artifact_copy / "report.md").unlink()
    with pytest.raises(ArtifactError, match=r"added: none, missing: \['report.md'\]"):
        load_artifact(artifact_copy)
    (artifact_copy / SUMS_FILE).unlink()
    with pytest.raises(ArtifactError, match="model-info --seal"):
        load_artifact(artifact_copy)


def test_a_pinned_digest_loads_that_artifact_and_refuses_any_other(tiny_artifact: Path) -> None:
    digest = digest_of(tiny_artifact)
    assert load_scorer(tiny_artifact, sha256=digest).version == "test-0"
    assert load_scorer(tiny_artifact, sha256=digest.upper()).version == "test-0"
    with pytest.raises(ArtifactError, match=f"has sha256 {digest}, not the pinned {WRONG}: refusing to load it"):
        load_scorer(tiny_artifact, sha256=WRONG)


def test_the_shipped_artifacts_are_sealed_with_their_files_as_committed() -> None:
    for directory in (shipped_artifact_dir(), shipped_genre_dir()):
        assert verify_artifact(directory) == digest_of(directory)
        listed = [line.split("  ", 1)[1] for line in (directory / SUMS_FILE).read_text().splitlines()]
        assert "model.joblib" in listed and CARD_FILE in listed and listed == sorted(listed)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RISK_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    argv = [sys.executable, "-m", "misinfo_risk", *args]
    try:
        return subprocess.run(argv, env=clean | (env or {}), capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{args[0]} kept running instead of refusing the artifact:\n{exc.stderr!r}")


def test_model_info_prints_the_digest_to_pin(tiny_artifact: Path) -> None:
    done = run("model-info", "--artifact", str(tiny_artifact))
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["version"], info["sha256"]) == ("test-0", digest_of(tiny_artifact))
    assert info["genre_sha256"] == digest_of(shipped_genre_dir())
    assert run("model-info", "--artifact", str(tiny_artifact), "--model-sha256", WRONG).returncode == 3


def test_score_and_batch_refuse_an_artifact_other_than_the_pinned_one(tiny_artifact: Path, tmp_path: Path) -> None:
    scored = run("score", "--text", "The council voted on Tuesday.", "--artifact", str(tiny_artifact), "--model-sha256", WRONG)
    assert scored.returncode == 3 and f"not the pinned {WRONG}" in scored.stderr, scored.stderr
    corpus = write_jsonl(tmp_path / "in.jsonl", [article(i) for i in range(3)])
    batch = ["batch", str(corpus), "--output", str(tmp_path / "out.jsonl"), "--artifact", str(tiny_artifact), "--workers", "1"]
    refused = run(*batch, "--model-sha256", WRONG)
    assert refused.returncode == 3 and f"not the pinned {WRONG}" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "out.jsonl").exists()
    pinned = run(*batch, "--model-sha256", digest_of(tiny_artifact), "--progress", "off")
    assert pinned.returncode == 0, pinned.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 3


def test_serve_refuses_to_start_with_another_artifact_than_the_pinned_one(artifact_copy: Path) -> None:
    base = ["serve", "--host", "127.0.0.1", "--port", "0", "--pool-workers", "0", "--artifact", str(artifact_copy)]
    by_option = run(*base, "--model-sha256", WRONG)
    by_env = run(*base, env={"RISK_MODEL_SHA256": WRONG})
    for done in (by_option, by_env):
        assert done.returncode == 3, done.stderr
        assert (
            done.stderr.startswith("misinfo-risk serve: cannot start: the artifact at")
            and f"not the pinned {WRONG}" in done.stderr
        )
        assert "Uvicorn running" not in done.stderr
    assert run(*base, env={"RISK_MODEL_SHA256": "not-a-digest"}).returncode == 2


def test_serve_with_the_right_pin_starts_its_workers_and_scoring_processes(tiny_artifact: Path) -> None:
    server = ServeProcess(
        ["--artifact", str(tiny_artifact), "--pool-workers", "1"], workers=1, env={"RISK_MODEL_SHA256": digest_of(tiny_artifact)}
    )
    try:
        server.wait_ready()
        body = json.dumps([article(i) for i in range(3)]).encode()
        request = urllib.request.Request(
            f"{server.url}/v1/score/batch", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # a batch is scored by the scoring process
            assert json.loads(response.read())["scored"] == 3
    finally:
        server.stop()
