"""Leave-one-dataset-out over every set in ../shared/data: how risk-model variants generalise (issue 11).

    python -m bench.lodo_nine [--data-root ../shared/data] [--set c=1.0 --set truncated_copies=1 ...]

For each set: train the risk pipeline (DEFAULT_HYPERPARAMETERS, with --set overrides as JSON values)
on all the other sets (calibration and thresholds from their grouped out-of-fold scores, as the
training command does), then score the left-out set. Two-class sets: ROC AUC and ECE. One-class sets
(all genuine): the share put at `high` and at `medium or high`. Then the pooled grouped held-out split
of all nine (ROC AUC, ECE, genuine shares). Prints a Markdown table and a one-line summary; this is
how features and regularisation are chosen (docs/model.md, "What we tried"). Nothing is shipped from here.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from misinfo_risk.training.data import load_dataset, split_dataset
from misinfo_risk.training.evaluate import figures, predict, truncated_scores, truncation_curve
from misinfo_risk.training.train import DEFAULT_HYPERPARAMETERS, Prepared, _fit_and_threshold, leave_one_dataset_out


def _override(text: str) -> tuple[str, Any]:
    key, _, value = text.partition("=")
    if key not in DEFAULT_HYPERPARAMETERS:
        raise argparse.ArgumentTypeError(f"unknown hyperparameter {key!r}")
    return key, json.loads(value)


def pooled(prepared: Prepared, hp: dict[str, Any]) -> dict[str, Any]:
    """Figures on the grouped held-out quarter of all sets, thresholds from the training part."""
    dataset = prepared.dataset
    _, test = split_dataset(dataset, test_fraction=0.25, seed=int(hp.get("seed", 0)))
    in_test = set(map(id, test.articles))
    train, train_docs = prepared.part([id(a) not in in_test for a in dataset.articles])
    test, test_docs = prepared.part([id(a) in in_test for a in dataset.articles])
    pipeline, thresholds = _fit_and_threshold(train, train_docs, hp)
    p = predict(pipeline, test_docs)
    row: dict[str, Any] = figures(test.labels, p, thresholds.high)
    genuine = test.labels == 0
    row["genuine_high_share"] = float((p[genuine] >= thresholds.high).mean())
    row["genuine_medium_or_high_share"] = float((p[genuine] >= thresholds.medium).mean())
    row["thresholds"] = thresholds.model_dump()
    curve = truncation_curve(truncated_scores(pipeline, test, test_docs), test.labels, thresholds, 0)
    row["truncation"] = {cut: curve[cut]["genuine_high"] for cut in ("15", "40", "100", "full")}
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--set", type=_override, action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--no-pooled", action="store_true", help="skip the pooled held-out split")
    parser.add_argument("--pooled-only", action="store_true", help="only the pooled held-out split (no leave-one-out)")
    args = parser.parse_args(argv)
    hp = dict(DEFAULT_HYPERPARAMETERS) | dict(args.set)
    started = time.perf_counter()
    prepared = Prepared(load_dataset(sorted(args.data_root.glob("*/articles.jsonl"))))
    print(f"overrides: {dict(args.set)}")
    # fakes at high beside the genuine shares: a model that scores every unfamiliar text low keeps genuine sets
    # off `high` and misses their fakes too
    print("| left out | n | fake | ROC AUC | ECE | fakes at high | genuine at high | genuine at medium or high |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {} if args.pooled_only else leave_one_dataset_out(prepared, hp)
    aucs, one_class = [], []
    for name, row in rows.items():
        two = 0 < row["positives"] < row["n"]
        auc = f"{row['roc_auc']:.3f}" if two else "-"
        ece = f"{row['ece']:.3f}" if two else "-"
        high = row.get("genuine_high_share")
        medium = row.get("genuine_medium_or_high_share")
        if two:
            aucs.append(row["roc_auc"])
        elif high is not None:
            one_class.append(high)
        cells = [f"{high:.1%}" if high is not None else "-", f"{medium:.1%}" if medium is not None else "-"]
        recall = f"{row['recall']:.1%}" if row["positives"] else "-"
        print(f"| {name} | {row['n']} | {row['positives']} | {auc} | {ece} | {recall} | {cells[0]} | {cells[1]} |", flush=True)
    summary = (
        f"LODO two-class ROC AUC mean {np.mean(aucs):.3f} min {np.min(aucs):.3f}; one-class high max {max(one_class):.1%}"
        if rows
        else "no LODO"
    )
    if not args.no_pooled:
        row = pooled(prepared, hp)
        summary += (
            f"; pooled held-out ROC AUC {row['roc_auc']:.3f} ECE {row['ece']:.3f} fakes high {row['recall']:.1%}"
            f" genuine high {row['genuine_high_share']:.1%}"
            f" medium+ {row['genuine_medium_or_high_share']:.1%} thresholds {row['thresholds']}"
            f"; genuine high by words {row['truncation']}"
        )
    print(summary + f" ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
