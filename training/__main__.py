"""`python -m training` (also `misinfo-risk train`): rebuild an artifact from labelled data."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.artifact import SHIPPED_ARTIFACT, ModelCard, save_artifact, seal_artifact, shipped_artifact_dir
from training.data import load_dataset
from training.report import render_report, write_plots
from training.train import DEFAULT_HYPERPARAMETERS, run_protocol


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", nargs="+", required=True, type=Path, help="labelled JSONL files (e.g. ../shared/data/*/articles.jsonl)"
    )
    parser.add_argument("--out", type=Path, default=None, help="artifact directory (default: the shipped one)")
    parser.add_argument("--version", default=SHIPPED_ARTIFACT, help="artifact version, e.g. risk-v2")
    parser.add_argument("--c", type=float, default=DEFAULT_HYPERPARAMETERS["c"], help="inverse regularisation strength")
    parser.add_argument("--ngram-max", type=int, default=DEFAULT_HYPERPARAMETERS["ngram_max"], choices=(1, 2))
    parser.add_argument("--min-df", type=int, default=DEFAULT_HYPERPARAMETERS["min_df"])
    parser.add_argument("--max-features", type=int, default=DEFAULT_HYPERPARAMETERS["max_features"])
    parser.add_argument("--folds", type=int, default=DEFAULT_HYPERPARAMETERS["folds"])
    parser.add_argument("--seed", type=int, default=DEFAULT_HYPERPARAMETERS["seed"])
    parser.add_argument("--quick", action="store_true", help="skip leave-one-dataset-out and within-dataset CV")


def hyperparameters(args: argparse.Namespace) -> dict[str, Any]:
    """The defaults (heuristics, name masking, training procedure) with the command line's choices."""
    return DEFAULT_HYPERPARAMETERS | {
        "c": args.c,
        "ngram_max": args.ngram_max,
        "min_df": args.min_df,
        "max_features": args.max_features,
        "title_terms": True,
        "folds": args.folds,
        "seed": args.seed,
    }


def train_from_args(args: argparse.Namespace, argv: Sequence[str]) -> ModelCard:
    out: Path = args.out or shipped_artifact_dir()
    dataset = load_dataset(args.data)
    pipeline, card, plots = run_protocol(dataset, hyperparameters(args), full=not args.quick)
    command = "misinfo-risk train " + " ".join(shlex.quote(a) for a in argv)
    card = save_artifact(pipeline, card.model_copy(update={"version": args.version, "training_command": command}), out)
    try:
        write_plots(plots, out)
        has_plots = True
    except ImportError:  # matplotlib is in the [train] extra; the report says where the plots would be
        has_plots = False
    (out / "report.md").write_text(render_report(card, plots=has_plots), encoding="utf-8")
    seal_artifact(out)  # last: SHA256SUMS covers every file written above
    return card


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="misinfo-risk train", description=__doc__)
    add_training_arguments(parser)
    args = parser.parse_args(argv)
    card = train_from_args(args, argv)
    held = card.evaluation["held_out"]["all"]
    sys.stdout.write(
        f"trained {card.version}: held-out ROC AUC {held['roc_auc']:.3f}, F1 {held['f1']:.3f}, ECE {held['ece']:.3f}; "
        f"thresholds medium {card.thresholds.medium} high {card.thresholds.high}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
