"""`python -m misinfo_risk.training` (also `misinfo-risk train`): build an artifact from labelled data.

    misinfo-risk train --data ../shared/data/*/articles.jsonl --version risk-v4     # -> model/artifacts/risk-v4

An existing artifact is never replaced without `--force`: the command then exits 1 before reading
any data and leaves the folder as it was.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from misinfo_risk.model.artifact import (
    ARTIFACTS_DIR,
    CARD_FILE,
    PIPELINE_FILE,
    REPORT_FILE,
    ModelCard,
    save_artifact,
    seal_artifact,
)
from misinfo_risk.training.data import load_dataset
from misinfo_risk.training.report import render_report, write_plots
from misinfo_risk.training.train import DEFAULT_HYPERPARAMETERS, run_protocol

EXIT_OK, EXIT_EXISTS = 0, 1
ARTIFACT_FILES = (PIPELINE_FILE, CARD_FILE, REPORT_FILE)


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", nargs="+", required=True, type=Path, help="labelled JSONL files (e.g. ../shared/data/*/articles.jsonl)"
    )
    parser.add_argument("--version", required=True, help="the new artifact's version, written into its model card, e.g. risk-v4")
    parser.add_argument(
        "--out", type=Path, default=None, help="artifact directory (default: model/artifacts/<version> in this package)"
    )
    parser.add_argument("--force", action="store_true", help="replace an artifact already in the --out directory")
    parser.add_argument("--c", type=float, default=DEFAULT_HYPERPARAMETERS["c"], help="inverse regularisation strength")
    parser.add_argument(
        "--ngram-max",
        type=int,
        default=DEFAULT_HYPERPARAMETERS["ngram_max"],
        choices=(1, 2),
        help="longest word n-gram in the TF-IDF terms (1: words, 2: words and word pairs)",
    )
    parser.add_argument(
        "--min-df", type=int, default=DEFAULT_HYPERPARAMETERS["min_df"], help="keep terms seen in at least this many articles"
    )
    parser.add_argument(
        "--max-features", type=int, default=DEFAULT_HYPERPARAMETERS["max_features"], help="most TF-IDF terms kept"
    )
    parser.add_argument(
        "--folds", type=int, default=DEFAULT_HYPERPARAMETERS["folds"], help="grouped cross-validation folds for calibration"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_HYPERPARAMETERS["seed"], help="seed of the grouped splits")
    parser.add_argument(
        "--invariance",
        type=float,
        default=DEFAULT_HYPERPARAMETERS["invariance"],
        help="penalty on term weights along the directions that tell the training sets apart (0: off; docs/model.md)",
    )
    parser.add_argument("--quick", action="store_true", help="skip leave-one-dataset-out and within-dataset CV")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="misinfo-risk train", description=__doc__.split("\n")[0])
    add_training_arguments(parser)
    return parser


def out_dir(args: argparse.Namespace) -> Path:
    """--out, or model/artifacts/<version>."""
    out: Path = args.out if args.out is not None else ARTIFACTS_DIR / args.version
    return out


def existing_artifact(directory: Path) -> list[str]:
    """The artifact files already in `directory` (empty: nothing would be overwritten)."""
    return [name for name in ARTIFACT_FILES if (directory / name).exists()]


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
        "invariance": args.invariance,
    }


def train_from_args(args: argparse.Namespace, argv: Sequence[str]) -> ModelCard:
    out = out_dir(args)
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
    args = build_parser().parse_args(argv)
    found = existing_artifact(out_dir(args))
    if found and not args.force:
        sys.stderr.write(
            f"misinfo-risk train: {out_dir(args)} already holds an artifact ({', '.join(found)}); "
            "nothing was changed. Pass --force to replace it, or choose another --version or --out.\n"
        )
        return EXIT_EXISTS
    card = train_from_args(args, argv)
    held = card.evaluation["held_out"]["all"]
    sys.stdout.write(
        f"trained {card.version}: held-out ROC AUC {held['roc_auc']:.3f}, F1 {held['f1']:.3f}, ECE {held['ece']:.3f}; "
        f"thresholds medium {card.thresholds.medium} high {card.thresholds.high}\n"
    )
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
