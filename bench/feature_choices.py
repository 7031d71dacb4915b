"""Accuracy AND speed of the feature sets we considered, on the shared data (not run in CI).

    python -m bench.feature_choices ../shared/data/*/articles.jsonl > docs/feature-choices.md

For each configuration: the full training protocol (grouped held-out split, leave-one-dataset-out),
then in-process Scorer.score_many speed on ~5 KB articles, as a ratio to the shipped configuration
measured in the same run (ratios survive a busy machine better than raw times).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.corpus import articles_5kb
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.training.data import load_dataset
from misinfo_risk.training.train import DEFAULT_HYPERPARAMETERS, run_protocol

CONFIGS: dict[str, dict[str, Any]] = {
    "shipped: word 1-2-grams, 5,000 terms (min_df 10), C=3, + signals": {},
    "word unigrams only": {"ngram_max": 1},
    "word 1-2-grams, 20,000 terms (min_df 5)": {"min_df": 5, "max_features": 20_000},
    "word 1-2-grams, C=10": {"c": 10.0},
    "signals only (no text terms)": {"max_features": 0},
}


def _speed(scorer: Scorer, n: int = 1_000) -> float:
    articles = articles_5kb(n)
    scorer.score_many(articles[:100])
    t0 = time.perf_counter()
    for i in range(0, n, 100):
        scorer.score_many(articles[i : i + 100])
    return (time.perf_counter() - t0) / n


def main(paths: list[str]) -> None:
    dataset = load_dataset(paths)
    fitted = []
    for name, overrides in CONFIGS.items():
        pipeline, card, _ = run_protocol(dataset, {**DEFAULT_HYPERPARAMETERS, **overrides}, full=True)
        fitted.append((name, Scorer(pipeline, card.model_copy(update={"version": "choice"})), card.evaluation))
    # Timed round-robin, best of three, so a burst of other load does not land on one configuration.
    times: list[list[float]] = [[] for _ in fitted]
    for _ in range(3):
        for i, (_, scorer, _) in enumerate(fitted):
            times[i].append(_speed(scorer))
    rows = [
        (name, ev["held_out"]["all"], ev["leave_one_dataset_out"], min(t)) for (name, _, ev), t in zip(fitted, times, strict=True)
    ]
    base = rows[0][3]
    print(
        "| configuration | held-out ROC AUC | held-out ECE | LODO ROC AUC (buzzfeed / horne / perez) "
        "| ms per 5 KB article | speed vs shipped |"
    )
    print("|---|---|---|---|---|---|")
    for name, held, lodo, seconds in rows:
        lodo_auc = " / ".join(f"{lodo[k]['roc_auc']:.3f}" for k in sorted(lodo))
        speed = f"{seconds * 1e3:.2f} | {base / seconds:.2f}x"
        print(f"| {name} | {held['roc_auc']:.3f} | {held['ece']:.3f} | {lodo_auc} | {speed} |")


if __name__ == "__main__":
    main(sys.argv[1:])
