"""The folder `misinfo-risk evaluate --report DIR` writes: report.md, ROC and PR curves, reliability diagrams,
figures.json and scores.csv (one row per article: where it came from, its label, each model's score and level)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from misinfo_risk.training.compare import ModelRun, figures, reliability_bins, table_rows
from misinfo_risk.training.labelled import LabelledArticles

MARKERS = {"medium": "s", "high": "^"}


def write_report(runs: list[ModelRun], data: LabelledArticles, directory: Path, inputs: list[Path]) -> list[Path]:
    """Write every file of the report into `directory` (created); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    plots = _write_plots(runs, data.labels, directory)
    written = [*plots, _write_scores(runs, data, directory / "scores.csv")]
    blob = {"inputs": [str(p) for p in inputs], "models": {r.name: figures(r, data.labels) | {"artifact": r.path} for r in runs}}
    (directory / "figures.json").write_text(json.dumps(_jsonable(blob), indent=2) + "\n", encoding="utf-8")
    (directory / "report.md").write_text(_markdown(runs, data, inputs, plots), encoding="utf-8")
    return [directory / "report.md", directory / "figures.json", *written]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def _markdown(runs: list[ModelRun], data: LabelledArticles, inputs: list[Path], plots: list[Path]) -> str:
    rows = table_rows(runs, data.labels)
    fake = int(data.labels.sum())
    out = [
        "# Evaluation on labelled data",
        "",
        f"Inputs: {', '.join(f'`{p}`' for p in inputs)}. {len(data):,} labelled articles: {fake:,} fake or misleading (label 1), "
        f"{len(data) - fake:,} reliable (label 0); {len(data.skipped):,} row(s) skipped.",
        "",
        "Figures are on the articles each model assessed; the others are counted under *not assessed*. Precision, recall "
        "and false-positive rate are those of the levels as returned (`high`; `medium` or `high`), short-text rule included. "
        "The score is calibrated at the model's training share of fakes: on data with another share, read precision "
        "and ECE with that in mind.",
        "",
        "| | " + " | ".join(r.name for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
    for run in runs:
        if run.reasons:
            names = {0: "reliable", 1: "fake or misleading"}
            by_label = ", ".join(f"{n} {names[lab]}" for lab, n in sorted(run.declined_by_label.items()))
            out += ["", f"{run.name} did not assess {sum(run.reasons.values()):,} article(s) ({by_label}): {dict(run.reasons)}."]
    out += ["", *[f"![{p.stem}]({p.name})" for p in plots]]
    if data.skipped:
        out += ["", "## Skipped rows", "", *[f"- {where}: {why}" for where, why in data.skipped[:200]]]
        if len(data.skipped) > 200:
            out.append(f"- ... and {len(data.skipped) - 200:,} more")
    return "\n".join(out) + "\n"


def _write_scores(runs: list[ModelRun], data: LabelledArticles, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["location", "id", "label", *[f"{r.name} {c}" for r in runs for c in ("score", "level")]])
        for i, article in enumerate(data.articles):
            cells: list[Any] = [data.locations[i], article.id or "", int(data.labels[i])]
            for run in runs:
                cells += ["" if math.isnan(run.scores[i]) else round(float(run.scores[i]), 6), run.levels[i] or "not assessed"]
            writer.writerow(cells)
    return path


def _write_plots(runs: list[ModelRun], labels: np.ndarray, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = [directory / "roc.png", directory / "pr.png", directory / "reliability.png"]
    roc_figure, roc = plt.subplots(figsize=(5.5, 5))
    pr_figure, pr = plt.subplots(figsize=(5.5, 5))
    for run in runs:
        mask = run.assessed
        y, p = labels[mask], run.scores[mask]
        if len(set(y.tolist())) < 2:
            continue  # one class: no curve
        fpr, tpr, _ = roc_curve(y, p)
        line = roc.plot(fpr, tpr, label=f"{run.name} (ROC AUC {roc_auc_score(y, p):.3f})")[0]
        precision, recall, _ = precision_recall_curve(y, p)
        pr.plot(recall, precision, color=line.get_color(), label=f"{run.name} (PR AUC {average_precision_score(y, p):.3f})")
        for level in ("medium", "high"):
            cut = getattr(run.thresholds, level)
            flagged = p >= cut
            tp_rate, fp_rate = flagged[y == 1].mean(), flagged[y == 0].mean()
            kw: dict[str, Any] = {"color": line.get_color(), "marker": MARKERS[level], "markersize": 8, "linestyle": "none"}
            roc.plot([fp_rate], [tp_rate], label=f"{run.name} {level} >= {cut:.2f}", **kw)
            if flagged.any():
                pr.plot([tp_rate], [float(y[flagged].mean())], label=f"{run.name} {level} >= {cut:.2f}", **kw)
    roc.plot([0, 1], [0, 1], linestyle=":", color="grey")
    roc.set(xlabel="false-positive rate", ylabel="true-positive rate (recall)", title="ROC curve (level thresholds marked)")
    pr.axhline(float(labels.mean()), linestyle=":", color="grey", label=f"share of fakes {labels.mean():.2f}")
    pr.set(xlabel="recall", ylabel="precision", title="Precision-recall curve (level thresholds marked)", ylim=(0, 1.02))
    roc.legend(loc="lower right", fontsize=7)
    pr.legend(loc="lower left", fontsize=7)
    for figure, path in ((roc_figure, paths[0]), (pr_figure, paths[1])):
        figure.tight_layout()
        figure.savefig(path, dpi=90, metadata={"Software": None})
        plt.close(figure)
    _reliability(runs, labels, paths[2], plt)
    return paths


def _reliability(runs: list[ModelRun], labels: np.ndarray, path: Path, plt: Any) -> None:
    fig, axes = plt.subplots(1, len(runs), figsize=(4.5 * len(runs), 4.5), squeeze=False)
    for ax, run in zip(axes[0], runs, strict=True):
        bins = reliability_bins(run, labels)
        ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect calibration")
        ax.plot([b[0] for b in bins], [b[1] for b in bins], marker="o", label=run.name)
        for mean, rate, count in bins:
            ax.annotate(f"n={count}", (mean, rate), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        ece = figures(run, labels)["ece"]
        ax.set(xlabel="mean score in bin", ylabel="observed share fake or misleading", xlim=(0, 1), ylim=(0, 1.08))
        ax.set_title(f"Reliability: {run.name} (ECE {ece:.3f})", fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
