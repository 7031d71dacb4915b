"""Evaluation figures that do not flatter: grouped held-out data, leave-one-dataset-out, calibration."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from misinfo_risk.model.artifact import Thresholds
from misinfo_risk.model.document import Doc
from misinfo_risk.model.heuristics import run_heuristics
from misinfo_risk.model.text import TOKEN
from misinfo_risk.model.types import Article
from misinfo_risk.training.data import Dataset

ECE_BINS = 10


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |observed rate - mean score| over equal-width score bins, weighted by bin size."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(float(p[mask].mean()) - float(y[mask].mean()))
    return total


def reliability(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> list[tuple[float, float, int]]:
    """(mean score, observed rate, count) per non-empty bin, for the reliability diagram."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    return [
        (float(p[which == b].mean()), float(y[which == b].mean()), int((which == b).sum()))
        for b in range(bins)
        if (which == b).any()
    ]


def figures(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Every headline figure for labels `y` and scores `p`, with `threshold` as the decision point."""
    y = np.asarray(y, dtype=int)
    pred = (p >= threshold).astype(int)
    both = len(set(y.tolist())) == 2
    out = {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "accuracy": float(accuracy_score(y, pred)),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p),
    }
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in out.items()}


HIGH_FLAGS_GENUINE = 0.09
MEDIUM_FLAGS_GENUINE = 0.27
"""Budgets of genuine articles at `high` (10%) and at `medium` or above (30%), each less one tenth: the
validation share is an estimate (about +-1 point on ~2,500 genuine articles), and the budget is a ceiling."""


def choose_thresholds(
    y: np.ndarray, p: np.ndarray, high_share: float = HIGH_FLAGS_GENUINE, medium_share: float = MEDIUM_FLAGS_GENUINE
) -> Thresholds:
    """Levels by what they cost genuine articles: `high` is the lowest cut-off (to 4 decimals) that puts at
    most `high_share` of the genuine validation articles at high, `medium` the lowest that puts at most
    `medium_share` at medium or high. Validation scores are grouped out-of-fold, so these are held-out rates."""
    genuine = np.asarray(p)[np.asarray(y) == 0]
    if not len(genuine):
        return Thresholds(medium=0.5, high=0.75)

    def lowest_cut(share: float) -> float:
        # smallest t with mean(genuine >= t) <= share; rounding up keeps the bound after rounding
        k = int(np.floor(share * len(genuine)))  # genuine articles allowed at or above the cut
        ranked = np.sort(genuine)[::-1]
        cut = ranked[k] if k < len(ranked) else 0.0  # the first article that must fall below
        return float(np.ceil(cut * 1e4 + 1e-9) / 1e4)

    high = min(lowest_cut(high_share), 1.0)
    medium = min(lowest_cut(medium_share), high)
    return Thresholds(medium=medium, high=high)


def precision_at(prevalence: float, recall: float, false_positive_rate: float) -> float:
    """Precision of a flag with this recall and false-positive rate where `prevalence` of articles are fake (Bayes)."""
    flagged = prevalence * recall + (1 - prevalence) * false_positive_rate
    return prevalence * recall / flagged if flagged > 0 else float("nan")


def level_report(dataset: Dataset, p: np.ndarray, thresholds: Thresholds, prevalence: float) -> dict[str, Any]:
    """What the levels mean on held-out articles: per set and per genre, the share of genuine articles at
    each level (and of fakes at high); per two-class set and overall, the precision of `high` at the
    training prevalence and at a 10% prevalence (from that part's recall and false-positive rate)."""
    levels = np.array([thresholds.level_for(float(x)) for x in p])
    y = dataset.labels

    def row(mask: np.ndarray) -> dict[str, Any]:
        genuine, fake = mask & (y == 0), mask & (y == 1)
        out: dict[str, Any] = {"genuine": int(genuine.sum()), "fake": int(fake.sum())}
        if genuine.any():
            out |= {f"genuine_{lv}": round(float((levels[genuine] == lv).mean()), 4) for lv in ("low", "medium", "high")}
        if fake.any():
            out["fake_high"] = round(float((levels[fake] == "high").mean()), 4)
        if genuine.any() and fake.any():
            recall, fpr = float((levels[fake] == "high").mean()), float((levels[genuine] == "high").mean())
            out["precision_high_at_training_prevalence"] = round(precision_at(prevalence, recall, fpr), 4)
            out["precision_high_at_10pct_prevalence"] = round(precision_at(0.10, recall, fpr), 4)
        return out

    sources, genres = np.array(dataset.sources), np.array(dataset.genres)
    return {
        "training_prevalence": round(prevalence, 4),
        "all": row(np.ones(len(y), dtype=bool)),
        "by_set": {name: row(sources == name) for name in sorted(set(dataset.sources))},
        "by_genre": {name: row(genres == name) for name in sorted(set(dataset.genres))},
    }


TRUNCATION_WORDS = (15, 40, 100, 150, 200)
SHORT_TEXT_RATIO = 1.5
"""A cut-off length is 'short' while the model puts genuine articles cut to it at `high` more than
1.5x as often as at full length (the goal issue 11 sets for a length-robust model)."""


def first_words(article: Article, n: int) -> Article:
    """The article with its text cut after its n-th word (the title kept), or as it is if shorter."""
    ends = [m.end() for m in itertools.islice(TOKEN.finditer(article.text), n)]
    if len(ends) < n:
        return article
    return article.model_copy(update={"text": article.text[: ends[-1]]})


def truncated_scores(pipeline: Pipeline, test: Dataset, docs: Sequence[Doc]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Scores and body word counts of the held-out articles cut to their first 15, 40, ... words, and in full
    (`docs`: the held-out articles as they are). Computed once; `truncation_curve` reads them for any rule."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for n in (*TRUNCATION_WORDS, None):
        cut = list(docs) if n is None else [Doc(first_words(a, n)) for a in test.articles]
        out["full" if n is None else str(n)] = (predict(pipeline, cut), np.array([d.n_words for d in cut]))
    return out


def truncation_curve(
    cuts: dict[str, tuple[np.ndarray, np.ndarray]], labels: np.ndarray, thresholds: Thresholds, short_words: int
) -> dict[str, Any]:
    """Held-out figures for every cut of `truncated_scores`.

    `genuine_high` is the share of genuine articles the model alone puts at `high` (the false-positive
    rate of the level); `genuine_high_with_rule` applies the scorer's short-text rule (below
    `short_words` words the level stops at medium), which is what a caller sees.
    """
    genuine = labels == 0
    out: dict[str, Any] = {}
    for name, (p, words) in cuts.items():
        short = words < short_words
        high = p >= thresholds.high
        row = figures(labels, p, thresholds.high)
        out[name] = {
            "roc_auc": row["roc_auc"],
            "accuracy": row["accuracy"],
            "genuine_high": round(float(high[genuine].mean()), 6),
            "genuine_medium_or_high": round(float((p >= thresholds.medium)[genuine].mean()), 6),
            "genuine_high_with_rule": round(float((high & ~short)[genuine].mean()), 6),
            "fake_high_with_rule": round(float((high & ~short)[~genuine].mean()), 6),
        }
    return out


def choose_short_text_words(curve: dict[str, Any]) -> int:
    """The smallest cut (in words) from which on every longer cut keeps the genuine share at `high`
    within SHORT_TEXT_RATIO of the full-length share; texts with fewer words get the short-text rule."""
    full = curve["full"]["genuine_high"]
    chosen = None
    for n in sorted(TRUNCATION_WORDS, reverse=True):
        if curve[str(n)]["genuine_high"] > SHORT_TEXT_RATIO * full:
            break
        chosen = n
    return chosen if chosen is not None else max(TRUNCATION_WORDS) + 1


def predict(pipeline: Pipeline, docs: Sequence[Doc]) -> np.ndarray:
    return np.asarray(pipeline.predict_proba(list(docs))[:, 1])


def by_dataset(dataset: Dataset, p: np.ndarray, threshold: float) -> dict[str, dict[str, float]]:
    """Figures for all of `dataset` and for each source dataset in it."""
    out = {"all": figures(dataset.labels, p, threshold)}
    for name in dataset.names:
        mask = np.array([s == name for s in dataset.sources])
        out[name] = figures(dataset.labels[mask], p[mask], threshold)
    return out


def signal_firing(docs: Sequence[Doc], labels: np.ndarray, names: Sequence[str]) -> dict[str, dict[str, float]]:
    """Share of articles on which each signal fired, by label (0 = reliable, 1 = fake/misleading)."""
    fired = np.array([[bool(h) for h in run_heuristics(d, names).values()] for d in docs])
    out: dict[str, dict[str, float]] = {}
    for j, name in enumerate(names):
        out[name] = {
            str(lab): round(float(fired[labels == lab, j].mean()), 4) if (labels == lab).any() else 0.0 for lab in (0, 1)
        }
    return out


def roc_points(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    fpr, tpr, _ = roc_curve(y, p)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
