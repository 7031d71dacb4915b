"""Leave-one-dataset-out over every set in ../shared/data, with the shipped pipeline shape (issue 11's baseline).

    python -m bench.lodo_nine [--data-root ../shared/data]

For each set: train the risk pipeline with risk-v1's hyperparameters on all the other sets (calibration
and thresholds from their grouped out-of-fold scores, as the training command does), then score the
left-out set. Two-class sets: ROC AUC and ECE. One-class sets (all genuine): the share put at `high`
and at `medium or high`. Also the same for genuine articles of every set. Prints a Markdown table.
Nothing is shipped from here: it is the "before" column for risk-v2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from training.data import load_dataset
from training.evaluate import figures, predict
from training.train import DEFAULT_HYPERPARAMETERS, Prepared, _fit_and_threshold


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args(argv)
    prepared = Prepared(load_dataset(sorted(args.data_root.glob("*/articles.jsonl"))))
    dataset = prepared.dataset
    print("| left out | n | fake | ROC AUC | ECE | genuine at high | genuine at medium or high |")
    print("|---|---|---|---|---|---|---|")
    for name in dataset.names:
        train, train_docs = prepared.part([s != name for s in dataset.sources])
        test, test_docs = prepared.part([s == name for s in dataset.sources])
        pipeline, thresholds = _fit_and_threshold(train, train_docs, DEFAULT_HYPERPARAMETERS)
        p = predict(pipeline, test_docs)
        genuine = test.labels == 0
        row = figures(test.labels, p, thresholds.high)
        auc = "-" if np.isnan(row["roc_auc"]) else f"{row['roc_auc']:.3f}"
        ece = f"{row['ece']:.3f}" if genuine.any() and (~genuine).any() else "-"
        high = f"{(p[genuine] >= thresholds.high).mean():.1%}" if genuine.any() else "-"
        medium = f"{(p[genuine] >= thresholds.medium).mean():.1%}" if genuine.any() else "-"
        print(f"| {name} | {len(test)} | {int(test.labels.sum())} | {auc} | {ece} | {high} | {medium} |", flush=True)


if __name__ == "__main__":
    main()
