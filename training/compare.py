"""`misinfo-risk evaluate`: score labelled articles with one or more artifacts and compare them.

    >>> data = read_labelled([Path("mine.jsonl")])                                # doctest: +SKIP
    >>> runs = [score_labelled(None, data), score_labelled(Path("model/artifacts/risk-v4"), data)]
    >>> print(render_table(runs, data))

Figures are computed on the articles each model assessed; the ones it declined (`assessed: false`,
e.g. another language) are counted, by reason and by label, never dropped silently. Precision, recall
and false-positive rate are those of the levels as the scorer returns them (`high`, and `medium` or
above), so the short-text rule (short texts stop at medium) is included.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from misinfo_risk.model.artifact import Thresholds
from misinfo_risk.model.scorer import load_scorer
from misinfo_risk.training.evaluate import expected_calibration_error, reliability
from misinfo_risk.training.labelled import LabelledArticles

SCORE_CHUNK = 500
LEVELS = (("medium", ("medium", "high")), ("high", ("high",)))
"""Each level's flag: the articles at that level or above."""


@dataclass(frozen=True)
class ModelRun:
    """One artifact's results on the labelled articles: scores (nan where not assessed) and levels."""

    name: str
    path: str
    thresholds: Thresholds
    scores: np.ndarray
    levels: list[str | None]
    reasons: Counter[str]  # why articles were not assessed
    declined_by_label: Counter[int]

    @property
    def assessed(self) -> np.ndarray:
        mask: np.ndarray = ~np.isnan(self.scores)
        return mask


def score_labelled(artifact: Path | None, data: LabelledArticles) -> ModelRun:
    """Score every article with the artifact at `artifact` (None: the shipped one)."""
    scorer = load_scorer(artifact)
    scores = np.full(len(data), np.nan)
    levels: list[str | None] = []
    reasons: Counter[str] = Counter()
    declined: Counter[int] = Counter()
    for begin in range(0, len(data), SCORE_CHUNK):
        for i, result in enumerate(scorer.score_many(data.articles[begin : begin + SCORE_CHUNK]), start=begin):
            levels.append(result.level)
            if result.assessed and result.score is not None:
                scores[i] = result.score
            else:
                reasons[str(result.reason)] += 1
                declined[int(data.labels[i])] += 1
    path = str(artifact) if artifact is not None else "shipped"
    return ModelRun(scorer.version, path, scorer.card.thresholds, scores, levels, reasons, declined)


def figures(run: ModelRun, labels: np.ndarray) -> dict[str, Any]:
    """ROC AUC, PR AUC, ECE and each level's precision, recall and false-positive rate, on the assessed articles."""
    mask = run.assessed
    y, p = labels[mask], run.scores[mask]
    both = len(set(y.tolist())) == 2
    out: dict[str, Any] = {
        "assessed": int(mask.sum()),
        "not_assessed": int((~mask).sum()),
        "positives": int(y.sum()),
        "negatives": int((y == 0).sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, p)) if both else math.nan,
        "ece": expected_calibration_error(y, p) if len(y) else math.nan,
    }
    levels = [lv for lv, keep in zip(run.levels, mask, strict=True) if keep]
    for name, flagged_levels in LEVELS:
        flagged = np.array([lv in flagged_levels for lv in levels], dtype=bool)
        tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
        out[f"{name}_flagged"] = int(flagged.sum())
        out[f"{name}_precision"] = tp / (tp + fp) if tp + fp else math.nan
        out[f"{name}_recall"] = tp / out["positives"] if out["positives"] else math.nan
        out[f"{name}_fpr"] = fp / out["negatives"] if out["negatives"] else math.nan
    return out


def _reasons(run: ModelRun) -> str:
    return f" ({', '.join(f'{k} {v}' for k, v in sorted(run.reasons.items()))})" if run.reasons else ""


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


def table_rows(runs: list[ModelRun], labels: np.ndarray) -> list[tuple[str, list[str]]]:
    """The comparison as (row name, one cell per model)."""
    figs = [figures(run, labels) for run in runs]
    rows: list[tuple[str, list[str]]] = [
        ("artifact", [run.path for run in runs]),
        ("assessed", [f"{f['assessed']:,} of {len(labels):,}" for f in figs]),
        ("not assessed", [f"{f['not_assessed']:,}" + _reasons(run) for f, run in zip(figs, runs, strict=True)]),
        ("ROC AUC", [_number(f["roc_auc"]) for f in figs]),
        ("PR AUC", [_number(f["pr_auc"]) for f in figs]),
        ("ECE", [_number(f["ece"]) for f in figs]),
    ]
    for name, _ in LEVELS:
        label = "medium or high" if name == "medium" else "high"
        rows += [
            (f"{label}: precision", [_share(f[f"{name}_precision"]) for f in figs]),
            (f"{label}: recall", [_share(f[f"{name}_recall"]) for f in figs]),
            (f"{label}: false-positive rate", [_share(f[f"{name}_fpr"]) for f in figs]),
        ]
    rows.append(("thresholds medium / high", [f"{r.thresholds.medium:.4f} / {r.thresholds.high:.4f}" for r in runs]))
    return rows


def render_table(runs: list[ModelRun], data: LabelledArticles) -> str:
    """The side-by-side comparison for a terminal: one column per model."""
    rows = table_rows(runs, data.labels)
    names = [run.name for run in runs]
    width = max(len(name) for name, _ in rows) + 2
    cols = [max(len(names[j]), *(len(cells[j]) for _, cells in rows)) + 2 for j in range(len(runs))]
    fake = int(data.labels.sum())
    lines = [
        f"{len(data):,} labelled article(s): {fake:,} fake or misleading, {len(data) - fake:,} reliable"
        + (f"; {len(data.skipped):,} row(s) skipped (see below)" if data.skipped else ""),
        "",
        " " * width + "".join(n.rjust(c) for n, c in zip(names, cols, strict=True)),
    ]
    lines += [name.ljust(width) + "".join(v.rjust(c) for v, c in zip(cells, cols, strict=True)) for name, cells in rows]
    for where, why in data.skipped[:5]:
        lines.append(f"skipped {where}: {why}")
    if len(data.skipped) > 5:
        lines.append(f"... and {len(data.skipped) - 5:,} more skipped row(s)")
    return "\n".join(lines)


def reliability_bins(run: ModelRun, labels: np.ndarray) -> list[tuple[float, float, int]]:
    mask = run.assessed
    return reliability(labels[mask], run.scores[mask]) if mask.any() else []
