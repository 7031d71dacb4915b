"""Training end to end on the tiny data, the evaluation maths, and the real-data gate's logic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from misinfo_risk.model.artifact import CARD_FILE, load_artifact, seal_artifact
from misinfo_risk.training.__main__ import main as training_main
from misinfo_risk.training.check import check_artifact
from misinfo_risk.training.evaluate import HIGH_FLAGS_GENUINE, MEDIUM_FLAGS_GENUINE, choose_thresholds, expected_calibration_error
from tests.conftest import TINY, TINY_ARGS


def test_ece_on_known_values() -> None:
    y = np.array([0, 0, 1, 1])
    assert expected_calibration_error(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    # all scores 0.75 in one bin, observed rate 0.5 -> ECE 0.25
    assert expected_calibration_error(y, np.full(4, 0.75)) == pytest.approx(0.25)


def test_thresholds_bound_the_genuine_share_at_each_level() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.35 * y + rng.random(500) * 0.65, 0, 1)
    t = choose_thresholds(y, p)
    assert 0 < t.medium < t.high < 1
    genuine = p[y == 0]
    assert (genuine >= t.high).mean() <= HIGH_FLAGS_GENUINE < (genuine >= t.high - 0.002).mean()  # the lowest such cut
    assert (genuine >= t.medium).mean() <= MEDIUM_FLAGS_GENUINE < (genuine >= t.medium - 0.002).mean()
    assert HIGH_FLAGS_GENUINE < 0.10 and MEDIUM_FLAGS_GENUINE < 0.30  # the budgets, less a margin


def test_training_writes_card_report_and_plots(tiny_artifact: Path) -> None:
    pipeline, card = load_artifact(tiny_artifact)
    assert card.version == "test-0"
    assert card.training_data_sha256 and card.heuristics and card.library_versions["scikit-learn"] == card.sklearn_version
    assert "roc_auc" in card.evaluation["held_out"]["all"] and "ece" in card.evaluation["held_out"]["all"]
    assert (
        card.evaluation["signal_firing_rate"]["unnamed_sources.v1"]["1"]
        > card.evaluation["signal_firing_rate"]["unnamed_sources.v1"]["0"]
    )
    report = (tiny_artifact / "report.md").read_text()
    assert "Held-out groups" in report and "![ROC curve](roc.png)" in report
    assert (tiny_artifact / "roc.png").read_bytes()[:4] == b"\x89PNG"
    assert (tiny_artifact / "reliability.png").stat().st_size > 0


def test_gate_reproduces_every_figure_and_catches_a_doctored_card(tiny_artifact: Path, tmp_path: Path) -> None:
    assert check_artifact(tiny_artifact, [TINY]) == []
    doctored = Path(shutil.copytree(tiny_artifact, tmp_path / "doctored"))
    card = json.loads((doctored / CARD_FILE).read_text())
    card["evaluation"]["held_out"]["all"]["roc_auc"] = 0.99
    (doctored / CARD_FILE).write_text(json.dumps(card))
    seal_artifact(doctored)  # a consistently sealed artifact whose card claims a figure the data do not give
    problems = check_artifact(doctored, [TINY], retrain=False)
    assert problems == ["evaluation.held_out.all.roc_auc: card 0.99, now 1.0"]


def test_training_is_deterministic(tmp_path: Path, tiny_artifact: Path) -> None:
    out = tmp_path / "again"
    assert training_main(["--data", str(TINY), "--out", str(out), *TINY_ARGS]) == 0
    first = json.loads((tiny_artifact / CARD_FILE).read_text())
    second = json.loads((out / CARD_FILE).read_text())
    assert first["pipeline_sha256"] == second["pipeline_sha256"]
    assert first["evaluation"] == second["evaluation"]


def test_gate_uses_exactly_the_files_the_card_names(tiny_artifact: Path, tmp_path: Path) -> None:
    """A data folder that grew (more sets than the artifact was trained on) still reproduces the artifact."""
    from misinfo_risk.cli import main as cli_main

    root = tmp_path / "shared-data"
    (root / TINY.parent.name).mkdir(parents=True)
    shutil.copy(TINY, root / TINY.parent.name / TINY.name)
    extra = root / "a_newer_set"
    extra.mkdir()
    (extra / "articles.jsonl").write_text(json.dumps({"text": "A set the artifact never saw.", "label": 0}) + "\n")
    assert cli_main(["reproduce", "--data-root", str(root), "--artifact", str(tiny_artifact)]) == 0
    # fed every file (the old glob), the gate reports the data mismatch instead of passing
    every = [root / TINY.parent.name / TINY.name, extra / "articles.jsonl"]
    assert cli_main(["reproduce", "--data", *map(str, every), "--artifact", str(tiny_artifact), "--no-retrain"]) == 1


def test_gate_names_a_missing_file(tiny_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from misinfo_risk.cli import main as cli_main

    assert cli_main(["reproduce", "--data-root", str(tmp_path), "--artifact", str(tiny_artifact), "--no-retrain"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_gate_reads_a_null_in_the_card_as_the_nan_it_stored() -> None:
    """JSON has no NaN: the card stores a one-class set's ROC AUC as null, and a fresh evaluation gives nan."""
    from misinfo_risk.training.check import _diff

    assert list(_diff("x", {"roc_auc": None}, {"roc_auc": float("nan")})) == []
    assert list(_diff("x", {"roc_auc": None}, {"roc_auc": 0.5})) == ["x.roc_auc: card None, now 0.5"]
    assert list(_diff("x", {"roc_auc": 0.5}, {"roc_auc": float("nan")})) == ["x.roc_auc: card 0.5, now nan"]
