"""Artifacts: round trips, and refusing anything that is not exactly what the card describes."""

from __future__ import annotations

import io
import json
import pickle
import shutil
from pathlib import Path

import joblib
import pytest

from misinfo_risk.model.artifact import CARD_FILE, PIPELINE_FILE, load_artifact, seal_artifact
from misinfo_risk.model.errors import ArtifactError
from misinfo_risk.model.scorer import Scorer, load_scorer
from tests.conftest import make_article


@pytest.fixture
def artifact_copy(tiny_artifact: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_artifact, tmp_path / "copy"))


def test_pickle_and_joblib_round_trips_predict_identically(scorer: Scorer) -> None:
    articles = [make_article(), make_article(text="Insiders say it is SHOCKING!!!")]
    before = scorer.pipeline.predict_proba(articles)
    buffer = io.BytesIO()
    joblib.dump(scorer.pipeline, buffer)
    buffer.seek(0)
    assert (joblib.load(buffer).predict_proba(articles) == before).all()
    again = pickle.loads(pickle.dumps(scorer))
    assert again.score_many(articles) == scorer.score_many(articles)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="model card"):
        load_scorer(tmp_path / "nowhere")


def test_tampered_pipeline_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / PIPELINE_FILE).write_bytes((artifact_copy / PIPELINE_FILE).read_bytes() + b"x")
    with pytest.raises(ArtifactError, match="sha256"):
        load_artifact(artifact_copy)


def test_other_sklearn_version_is_refused(artifact_copy: Path) -> None:
    card = json.loads((artifact_copy / CARD_FILE).read_text())
    card["sklearn_version"] = "0.0.1"
    (artifact_copy / CARD_FILE).write_text(json.dumps(card))
    seal_artifact(artifact_copy)  # as if built that way: the files match their SHA256SUMS
    with pytest.raises(ArtifactError, match="scikit-learn 0.0.1"):
        load_artifact(artifact_copy)


def test_corrupt_card_is_refused(artifact_copy: Path) -> None:
    (artifact_copy / CARD_FILE).write_text("{not json")
    with pytest.raises(ArtifactError, match="model card"):
        load_artifact(artifact_copy)


def test_unknown_heuristic_in_card_is_refused(artifact_copy: Path) -> None:
    card = json.loads((artifact_copy / CARD_FILE).read_text())
    card["heuristics"] = [*card["heuristics"], "from_the_future.v9"]
    (artifact_copy / CARD_FILE).write_text(json.dumps(card))
    seal_artifact(artifact_copy)
    with pytest.raises(ArtifactError, match="from_the_future.v9"):
        load_artifact(artifact_copy)


def test_shipped_artifact_is_small() -> None:
    from misinfo_risk.model.artifact import shipped_artifact_dir

    assert sum(p.stat().st_size for p in shipped_artifact_dir().iterdir()) < 25 * 1024 * 1024
