"""The real-data gate: does the artifact on disk reproduce every figure in its model card?"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from model.artifact import load_artifact, pipeline_bytes, sha256_bytes
from training.data import load_dataset, split_dataset
from training.train import TEST_FRACTION, Prepared, held_out_evaluation, run_protocol

TOLERANCE = 1e-6


def _diff(path: str, stored: Any, fresh: Any) -> Iterator[str]:
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in sorted(set(stored) | set(fresh)):
            if key not in fresh:
                yield f"{path}.{key}: in the card but not reproduced"
            elif key not in stored:
                yield f"{path}.{key}: reproduced but missing from the card"
            else:
                yield from _diff(f"{path}.{key}", stored[key], fresh[key])
    elif isinstance(stored, float) or isinstance(fresh, float):
        if not (isinstance(stored, int | float) and isinstance(fresh, int | float)):
            yield f"{path}: card {stored!r}, now {fresh!r}"
        elif not (math.isclose(stored, fresh, abs_tol=TOLERANCE) or (math.isnan(stored) and math.isnan(fresh))):
            yield f"{path}: card {stored}, now {fresh}"
    elif isinstance(stored, list | tuple) and isinstance(fresh, list | tuple):
        if len(stored) != len(fresh):
            yield f"{path}: card has {len(stored)} items, now {len(fresh)}"
        for i, (a, b) in enumerate(zip(stored, fresh, strict=False)):
            yield from _diff(f"{path}[{i}]", a, b)
    elif stored != fresh:
        yield f"{path}: card {stored!r}, now {fresh!r}"


def check_artifact(directory: Path, data: Sequence[Path], *, retrain: bool = True) -> list[str]:
    """Every discrepancy between the card and a fresh evaluation (empty list: all reproduced).

    1. the training files hash as recorded; 2. the shipped pipeline, re-run on the held-out split,
    gives the card's held-out figures; 3. (retrain) the training command rebuilds a byte-identical
    pipeline and the same leave-one-dataset-out and within-dataset figures.
    """
    pipeline, card = load_artifact(directory)
    dataset = load_dataset(data)
    problems = (
        [f"training data: card {card.training_data_sha256}, now {dataset.files}"]
        if dataset.files != card.training_data_sha256
        else []
    )
    _, test = split_dataset(dataset, test_fraction=TEST_FRACTION, seed=int(card.hyperparameters.get("seed", 0)))
    prepared = Prepared(test)
    problems += _diff(
        "evaluation.held_out", card.evaluation["held_out"], held_out_evaluation(pipeline, card.thresholds, test, prepared.docs)
    )
    if retrain:
        fresh_pipeline, fresh_card, _ = run_protocol(
            dataset, card.hyperparameters, full="leave_one_dataset_out" in card.evaluation
        )
        stored = card.evaluation
        problems += list(_diff("evaluation", stored, fresh_card.evaluation))
        problems += list(_diff("thresholds", card.thresholds.model_dump(), fresh_card.thresholds.model_dump()))
        problems += list(_diff("baseline", card.baseline, fresh_card.baseline))
        if sha256_bytes(pipeline_bytes(fresh_pipeline)) != card.pipeline_sha256:
            problems.append("retraining did not rebuild a byte-identical pipeline (sha256 differs)")
    return problems
