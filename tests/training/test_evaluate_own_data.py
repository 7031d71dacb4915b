"""`misinfo-risk evaluate` on a labelled file written here, with two artifacts side by side, run as a real command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from misinfo_risk.model.scorer import load_scorer
from misinfo_risk.model.types import parse_article
from misinfo_risk.training.__main__ import main as training_main
from tests.conftest import TINY, TINY_ARGS

CLI = [sys.executable, "-m", "misinfo_risk", "evaluate"]

FAKE = [
    (
        "SHOCKING: the cure they hide",
        "Insiders say the miracle cure WORKS!!! Sources indicate officials buried it. Share this before it is deleted.",
    ),
    (
        "Secret plan exposed",
        "Sources close to the ministry say a secret plan will change everything. The government has yet to comment.",
    ),
    (
        "You won't believe this",
        "Experts claim millions of people were fooled. What they don't want you to know is chilling. Share this now!!!",
    ),
    ("Bombshell leak", "A bombshell leak reveals terabytes of data. Insiders say the deep state is behind it, sources indicate."),
    (
        "The truth about the vaccine",
        "Critics argue the shot is dangerous, sources say. Officials remained silent. Share before it is deleted!!!",
    ),
    (
        "Rogue agents take over",
        "People familiar with the matter say rogue agents seized control in the shadows. Nobody has confirmed it.",
    ),
]
REAL = [
    (
        "Council approves budget",
        "The city council voted 7-2 on Tuesday to approve the budget, the mayor's office said in a statement.",
    ),
    (
        "Rail punctuality improves",
        "The rail operator said on Monday that punctuality rose to 91 percent, according to the regulator's figures.",
    ),
    ("Library extends hours", "The central library will open on Sundays from March, a spokesperson told reporters on Wednesday."),
    ("Hospital opens ward", "St Anne's Hospital opened a 24-bed ward on Friday. The chief nurse said waiting times would fall."),
    (
        "School adds classes",
        "The school board approved two new science classes, the superintendent said in a statement on Thursday.",
    ),
    ("Bridge repairs finish", "Repairs to the river bridge finished two weeks early, the transport department said on Monday."),
]
GERMAN = "Die Stadtverwaltung hat am Dienstag beschlossen, den Busverkehr in der Innenstadt ab dem kommenden Monat auszubauen."


def labelled_rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [{"id": f"f{i}", "title": t, "text": x, "label": 1} for i, (t, x) in enumerate(FAKE)]
    rows += [{"id": f"r{i}", "title": t, "text": x, "label": 0} for i, (t, x) in enumerate(REAL)]
    rows.append({"id": "de", "text": GERMAN, "label": 0})  # scored but not assessed: counted, not dropped
    return rows


@pytest.fixture(scope="module")
def second_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second small model, trained here with the project's own training code on the tests' data."""
    out = tmp_path_factory.mktemp("second")
    args = [a if a != "test-0" else "test-b" for a in TINY_ARGS]
    assert training_main(["--data", str(TINY), "--out", str(out), *args, "--c", "1.0", "--ngram-max", "1", "--force"]) == 0
    return out


@pytest.fixture
def data_files(tmp_path: Path) -> list[Path]:
    """The rows as JSON Lines (plus a row with a bad label) and as CSV with string labels; the text is under `body`."""
    rows = labelled_rows()
    jsonl = tmp_path / "mine.jsonl"
    as_body = [{("body" if k == "text" else k): v for k, v in r.items()} for r in rows]  # read with --column text=body
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in as_body) + '{"body": "Plain words here.", "label": "maybe"}\n')
    table = tmp_path / "more.csv"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "body", "label"])
        writer.writeheader()
        for r in rows:
            writer.writerow({"id": f"csv-{r['id']}", "title": r.get("title", ""), "body": r["text"], "label": str(r["label"])})
    return [jsonl, table]


def expected(artifact: Path) -> dict[str, float]:
    """The figures computed here, independently of the command: the same rows twice (JSONL and CSV), minus the German."""
    scorer = load_scorer(artifact)
    rows = [r for r in labelled_rows() if r["id"] != "de"] * 2
    results = scorer.score_many([parse_article({k: v for k, v in r.items() if k != "label"}) for r in rows])
    y = np.array([r["label"] for r in rows])
    p = np.array([r.score for r in results], dtype=float)
    high = np.array([r.level == "high" for r in results])
    return {
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p),
        "high_recall": high[y == 1].mean(),
        "high_fpr": high[y == 0].mean(),
    }


def row(stdout: str, name: str) -> list[str]:
    """The cells of a table row, split on runs of 2+ spaces."""
    line = next(line for line in stdout.splitlines() if line.startswith(name + "  "))
    return [cell for cell in line[len(name) :].split("  ") if cell.strip()]


def test_evaluate_prints_both_models_side_by_side_and_writes_the_report(
    tiny_artifact: Path, second_artifact: Path, data_files: list[Path], tmp_path: Path
) -> None:
    report = tmp_path / "report"
    argv = [*CLI, "--data", *map(str, data_files), "--model", str(tiny_artifact), "--model", str(second_artifact)]
    out = subprocess.run([*argv, "--column", "text=body", "--report", str(report)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "test-0" in line)
    assert header.split() == ["test-0", "test-b"]
    assert out.stdout.startswith("26 labelled article(s): 12 fake or misleading, 14 reliable; 1 row(s) skipped")
    assert "label must be 1 (fake or misleading) or 0 (reliable), not 'maybe'" in out.stdout
    assert [c.strip() for c in row(out.stdout, "assessed")] == ["24 of 26", "24 of 26"]
    assert [c.strip() for c in row(out.stdout, "not assessed")] == ["2 (unsupported_language 2)"] * 2
    for j, artifact in enumerate((tiny_artifact, second_artifact)):
        want = expected(artifact)
        assert row(out.stdout, "ROC AUC")[j].strip() == f"{want['roc_auc']:.3f}"
        assert row(out.stdout, "PR AUC")[j].strip() == f"{want['pr_auc']:.3f}"
        assert row(out.stdout, "high: recall")[j].strip() == f"{want['high_recall']:.1%}"
        assert row(out.stdout, "high: false-positive rate")[j].strip() == f"{want['high_fpr']:.1%}"
    for name in ("ECE", "medium or high: precision", "medium or high: recall", "high: precision", "thresholds medium / high"):
        assert len(row(out.stdout, name)) == 2

    figures = json.loads((report / "figures.json").read_text())
    assert set(figures["models"]) == {"test-0", "test-b"}
    assert figures["models"]["test-0"]["roc_auc"] == pytest.approx(expected(tiny_artifact)["roc_auc"])
    assert figures["models"]["test-b"]["not_assessed"] == 2
    for plot in ("roc.png", "pr.png", "reliability.png"):
        assert (report / plot).read_bytes()[:4] == b"\x89PNG"
    markdown = (report / "report.md").read_text()
    assert "| ROC AUC |" in markdown and "![reliability](reliability.png)" in markdown
    assert "did not assess 2 article(s) (2 reliable)" in markdown
    with (report / "scores.csv").open() as handle:
        scores = list(csv.DictReader(handle))
    assert len(scores) == 26 and {r["test-b level"] for r in scores if r["id"].endswith("de")} == {"not assessed"}


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        (None, ".jsonl", "no such file"),
        ('{"text": "Council voted on Tuesday."}\n', ".jsonl", "no usable labelled article"),
        ("title,label\nA,1\n", ".csv", "no 'text' column"),
        ('<rss version="2.0"><channel></channel></rss>', ".xml", "evaluate reads labelled JSON Lines"),
    ],
    ids=["missing", "no-labels", "no-text-column", "a-feed"],
)
def test_unusable_input_is_one_clear_line(tmp_path: Path, content: str | None, suffix: str, message: str) -> None:
    path = tmp_path / f"data{suffix}"
    if content is not None:
        path.write_text(content)
    out = subprocess.run([*CLI, "--data", str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("misinfo-risk evaluate: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_evaluate_data_root_still_runs_the_reproduction_check(tiny_artifact: Path, tmp_path: Path) -> None:
    """The old gate command keeps working: `evaluate --data-root` runs `reproduce` and says so."""
    out = subprocess.run(
        [*CLI, "--data-root", str(tmp_path), "--artifact", str(tiny_artifact), "--no-retrain"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1  # the empty folder lacks the card's file, as `reproduce` reports
    assert "now `misinfo-risk reproduce`" in out.stderr and "no such file" in out.stderr
