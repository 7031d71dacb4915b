"""The real-data gate: does the artifact on disk reproduce every figure in its model card?"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from misinfo_risk.model.artifact import load_artifact, pipeline_bytes, sha256_bytes
from misinfo_risk.training.data import load_dataset, split_dataset
from misinfo_risk.training.train import TEST_FRACTION, Prepared, held_out_evaluation, run_protocol

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
    elif stored is None and isinstance(fresh, float) and math.isnan(fresh):
        pass  # the card's JSON stores NaN (ROC AUC of a one-class set) as null
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


def card_data_files(directory: Path, root: Path) -> list[Path]:
    """The training files the artifact's card names (e.g. 'horne2017/articles.jsonl'), under `root`.

    A data folder may hold more sets than an artifact was trained on; the gate must use exactly
    the card's files, in the card's order, or the retrained pipeline would differ.
    """
    from misinfo_risk.model.artifact import load_card

    names = list(load_card(directory).training_data_sha256)
    return [root / name for name in names]


def check_artifact(directory: Path, data: Sequence[Path], *, retrain: bool = True) -> list[str]:
    """Every discrepancy between the card and a fresh evaluation (empty list: all reproduced).

    1. the training files hash as recorded; 2. the shipped pipeline, re-run on the held-out split,
    gives the card's held-out figures; 3. (retrain) the training command rebuilds the same pipeline
    (byte-identical on the CPU that made it, equal up to rounding on another) and the same
    leave-one-dataset-out and within-dataset figures.
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
        problems += list(_diff("short_text_words", card.short_text_words, fresh_card.short_text_words))
        if sha256_bytes(pipeline_bytes(fresh_pipeline)) != card.pipeline_sha256:
            # Byte identity holds on the CPU that trained it; another CPU's SIMD kernels sum in another
            # order (seen: AMD EPYC vs Intel Xeon, coefficients 4e-11 apart). The fitted state must agree.
            problems += list(fitted_state_diffs("pipeline", pipeline, fresh_pipeline))
    return problems


PARAMETER_RTOL = 1e-6
PARAMETER_ATOL = 1e-6


def fitted_state_diffs(path: str, shipped: Any, fresh: Any) -> Iterator[str]:
    """Differences between two fitted pipelines' state: exact for names, vocabularies and settings;
    floats and arrays within PARAMETER_RTOL / PARAMETER_ATOL (rounding of another CPU, nothing more)."""
    if type(shipped) is not type(fresh):
        yield f"{path}: {type(shipped).__name__} in the artifact, {type(fresh).__name__} retrained"
    elif hasattr(shipped, "get_params") or hasattr(shipped, "__dict__") and not isinstance(shipped, type):
        a, b = vars(shipped), vars(fresh)
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                yield f"{path}.{key}: only in one of the artifact and the retrained pipeline"
            else:
                yield from fitted_state_diffs(f"{path}.{key}", a[key], b[key])
    elif isinstance(shipped, dict):
        if shipped.keys() != fresh.keys():
            yield f"{path}: keys differ"
        else:
            for key in shipped:
                yield from fitted_state_diffs(f"{path}[{key!r}]", shipped[key], fresh[key])
    elif isinstance(shipped, list | tuple):
        if len(shipped) != len(fresh):
            yield f"{path}: {len(shipped)} items in the artifact, {len(fresh)} retrained"
        for i, (x, y) in enumerate(zip(shipped, fresh, strict=False)):
            yield from fitted_state_diffs(f"{path}[{i}]", x, y)
    elif isinstance(shipped, np.ndarray) and shipped.dtype.kind in "fc":
        if shipped.shape != fresh.shape or not np.allclose(shipped, fresh, rtol=PARAMETER_RTOL, atol=PARAMETER_ATOL):
            yield f"{path}: arrays differ beyond rounding"
    elif isinstance(shipped, np.ndarray):
        if shipped.shape != fresh.shape or not np.array_equal(shipped, fresh):
            yield f"{path}: arrays differ"
    elif isinstance(shipped, float):
        if not math.isclose(shipped, fresh, rel_tol=PARAMETER_RTOL, abs_tol=PARAMETER_ATOL):
            yield f"{path}: {shipped} in the artifact, {fresh} retrained"
    elif shipped != fresh:
        yield f"{path}: {shipped!r} in the artifact, {fresh!r} retrained"


def check_genre_artifact(directory: Path, root: Path) -> list[str]:
    """Every discrepancy between the genre card and a retraining from the files it names under `root`."""
    from misinfo_risk.model.artifact import load_genre_artifact, shipped_artifact_dir
    from misinfo_risk.training.genre import run_genre_protocol

    pipeline, card = load_genre_artifact(directory)
    dataset = load_dataset([root / name for name in card.training_data_sha256])
    problems = (
        [f"genre training data: card {card.training_data_sha256}, now {dataset.files}"]
        if dataset.files != card.training_data_sha256
        else []
    )
    risk_pipeline, risk_card = load_artifact(shipped_artifact_dir())
    if risk_card.version != card.terms_from:
        problems.append(f"genre model reads the terms of {card.terms_from}, but the shipped risk model is {risk_card.version}")
    terms = risk_pipeline.named_steps["features"].transformer_list[0][1]
    fresh_pipeline, fresh_card = run_genre_protocol(dataset, card.hyperparameters, terms, risk_card.version, card.version)
    problems += list(_diff("genre.evaluation", card.evaluation, fresh_card.evaluation))
    if sha256_bytes(pipeline_bytes(fresh_pipeline)) != card.pipeline_sha256:
        problems += list(fitted_state_diffs("genre pipeline", pipeline, fresh_pipeline))
    return problems


MIN_ASSESSED_SHARE = 0.995
"""Issue 10: the English articles of ../shared/data must (nearly) all be read, not declined."""


def assessed_share(scorer_dir: Path | None, root: Path) -> tuple[float, int, dict[str, int]]:
    """Share of every article under `root` that the shipped scorer assesses, the count, and reasons of the others."""
    from collections import Counter

    from misinfo_risk.model.scorer import load_scorer

    scorer = load_scorer(scorer_dir)
    dataset = load_dataset(sorted(root.glob("*/articles.jsonl")))
    reasons: Counter[str] = Counter()
    assessed = 0
    for i in range(0, len(dataset), 500):
        for result in scorer.score_many(dataset.articles[i : i + 500]):
            if result.assessed:
                assessed += 1
            else:
                reasons[str(result.reason)] += 1
    return assessed / len(dataset), len(dataset), dict(reasons)
