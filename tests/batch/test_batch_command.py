"""`misinfo-risk batch` end to end on real files: every format in, every format out, errors in place."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from misinfo_risk.batch import main
from misinfo_risk.model.scorer import Scorer
from misinfo_risk.model.types import parse_article
from tests.batch.conftest import Entry, LoopbackServer, article, atom, entries, read_jsonl, rss1, rss2, write_jsonl
from tests.batch.test_feeds import BOMB

ROW_KEYS = [
    "id",
    "source",
    "location",
    "title",
    "url",
    "assessed",
    "reason",
    "score",
    "level",
    "score_calibrated",
    "base_rate",
    "language",
    "genre",
    "warnings",
    "model_version",
    "signals",
    "top_sentence",
    "error",
]


def batch(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    status = main([str(a) for a in args])
    return status, capsys.readouterr().err


@pytest.fixture
def mixed_inputs(tmp_path: Path, http_server: LoopbackServer) -> list[str]:
    """Every input kind, each with one bad item, in a fixed order."""
    rss = tmp_path / "gazette.xml"
    rss.write_bytes(rss2([*entries(2), Entry("No body", "", "https://news.example/empty")]))
    (tmp_path / "times.atom").write_bytes(atom(entries(2, start=2)))
    (tmp_path / "herald.rdf").write_bytes(rss1(entries(2, start=4)))
    jsonl = tmp_path / "corpus.jsonl"
    write_jsonl(jsonl, [article(6), article(7)])
    with jsonl.open("a", encoding="utf-8") as handle:
        handle.write("{broken json\n")
    table = tmp_path / "table.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "title", "text"], ["a8", "T8", article(8)["text"]], ["a9", "T9"]])
    parquet = tmp_path / "archive.parquet"
    pq.write_table(pa.table({"id": ["a10", "a11"], "text": [article(10)["text"], " "]}), parquet)
    (tmp_path / "bomb.xml").write_bytes(BOMB)
    http_server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, rss2(entries(2, start=12)))
    return [str(rss), str(tmp_path / "*.atom"), str(tmp_path / "herald.rdf"), str(jsonl), str(table), str(parquet),
            http_server.url("/feed"), str(tmp_path / "bomb.xml"), "--allow-private-addresses"]  # fmt: skip


EXPECTED_PLACES = [
    ("gazette.xml", "entry 1"), ("gazette.xml", "entry 2"), ("gazette.xml", "entry 3"),
    ("times.atom", "entry 1"), ("times.atom", "entry 2"), ("herald.rdf", "entry 1"), ("herald.rdf", "entry 2"),
    ("corpus.jsonl", "line 1"), ("corpus.jsonl", "line 2"), ("corpus.jsonl", "line 3"),
    ("table.csv", "row 1"), ("table.csv", "row 2"), ("archive.parquet", "row 1"), ("archive.parquet", "row 2"),
    ("/feed", "entry 1"), ("/feed", "entry 2"), ("bomb.xml", "source"),
]  # fmt: skip
ERRORS = {
    2: "invalid article: text: must contain non-whitespace characters",
    9: "invalid JSON",
    11: "row has 2 cells; the header has 3",
    13: "invalid article: text: must contain non-whitespace characters",
    16: "unsafe XML refused",
}


def test_every_input_format_scored_in_order_with_errors_in_place(
    mixed_inputs: list[str], tmp_path: Path, tiny_artifact: Path, scorer: Scorer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.jsonl"
    status, err = batch(
        capsys, *mixed_inputs, "--output", out, "--artifact", tiny_artifact, "--chunk-size", "4", "--workers", "2"
    )
    assert status == 1, err  # some items could not be scored
    rows = read_jsonl(out)
    assert [
        (Path(r["source"]).name if "://" not in r["source"] else r["source"][-5:], r["location"]) for r in rows
    ] == EXPECTED_PLACES
    assert all(list(r) == ROW_KEYS for r in rows)
    for i, row in enumerate(rows):
        if i in ERRORS:
            assert row["error"].startswith(ERRORS[i]) and row["score"] is None and row["level"] is None
        else:
            assert row["error"] is None and row["model_version"] == "test-0"
    # The scores are the scorer's own, article by article (to the last bits: numpy's matrix-vector
    # product rounds a 1-row batch differently from a 4-row one).
    written = [article(6), article(7), {"id": "a10", "text": article(10)["text"]}]
    expected = {a["id"]: scorer.score(parse_article(a)) for a in written}
    written_by_id = {a["id"]: a for a in written}
    for row in rows:
        if row["id"] in expected:
            result = expected[row["id"]]
            assert row["score"] == pytest.approx(result.score, rel=1e-12, abs=1e-15)
            assert (row["level"], row["signals"]) == (result.level, [s.name for s in result.signals])
            top = result.riskiest_sentences(1)
            assert row["top_sentence"] == (top[0].quote(parse_article(written_by_id[row["id"]]), 300) if top else None)
    assert rows[0]["id"] == "a0" and rows[0]["url"] == "https://news.example/0" and rows[0]["title"] == "Headline 0!!!"
    assert "17 items" in err and "errors: 5" in err and "articles/s" in err
    assert not (tmp_path / "results.jsonl.partial").exists()


def test_csv_and_parquet_outputs_hold_the_same_rows(
    mixed_inputs: list[str], tmp_path: Path, tiny_artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [*mixed_inputs, "--artifact", tiny_artifact, "--workers", "1", "--progress", "off"]
    outputs = {ext: tmp_path / f"results.{ext}" for ext in ("jsonl", "csv", "parquet")}
    for path in outputs.values():
        assert batch(capsys, *common, "--output", path)[0] == 1
    rows = read_jsonl(outputs["jsonl"])
    assert pq.read_table(outputs["parquet"]).to_pylist() == rows
    with outputs["csv"].open(newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == [_as_csv(r) for r in rows]


def _as_csv(row: dict[str, Any]) -> dict[str, str]:
    cells = {k: "" if v is None else str(v) for k, v in row.items()}
    return cells | {
        "signals": ";".join(row["signals"]),
        "warnings": ";".join(row["warnings"]),
        "assessed": "" if row["assessed"] is None else str(row["assessed"]).lower(),
        "score": "" if row["score"] is None else repr(row["score"]),
        "score_calibrated": "" if row["score_calibrated"] is None else repr(row["score_calibrated"]),
        "base_rate": "" if row["base_rate"] is None else repr(row["base_rate"]),
    }


def test_clean_run_exits_zero_with_log_lines_and_level_counts(
    tmp_path: Path, tiny_artifact: Path, scorer: Scorer, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = [article(i) for i in range(30)]
    source = write_jsonl(tmp_path / "clean.jsonl", articles)
    out = tmp_path / "clean.parquet"
    args = [source, "--output", out, "--artifact", tiny_artifact, "--chunk-size", "7", "--progress", "log", "--log-interval", "0"]
    status, err = batch(capsys, *args)
    assert status == 0, err
    assert "batch: 7/30 items" in err or "batch: 14/30 items" in err
    levels = [r.level for r in scorer.score_many([parse_article(a) for a in articles])]
    counts = ", ".join(f"{level} {levels.count(level)}" for level in ("high", "medium", "low"))
    assert f"scored: 30 ({counts})" in err and "errors: 0" in err
    assert pq.read_table(out).column("level").to_pylist() == levels


def test_base_rate_option(tmp_path: Path, tiny_artifact: Path, scorer: Scorer, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.model.test_base_rate import copy_with_prevalence

    articles = [article(i) for i in range(5)]
    source = write_jsonl(tmp_path / "in.jsonl", articles)
    out = tmp_path / "out.csv"
    common = [source, "--output", out, "--artifact", tiny_artifact, "--workers", "1", "--progress", "off"]
    assert batch(capsys, *common, "--base-rate", "0.05")[0] == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row, a in zip(rows, articles, strict=True):
        expected = scorer.score(parse_article(a), base_rate=0.05)
        assert float(row["score"]) == pytest.approx(expected.score, rel=1e-12)
        assert float(row["score_calibrated"]) == pytest.approx(expected.score_calibrated, rel=1e-12)
        assert (row["base_rate"], row["level"]) == ("0.05", expected.level)
    with pytest.raises(SystemExit) as usage:  # argparse: usage and the error, exit 2
        batch(capsys, *common, "--base-rate", "1")
    assert usage.value.code == 2 and "between 0 and 1" in capsys.readouterr().err
    no_prevalence = copy_with_prevalence(tiny_artifact, tmp_path / "artifact", None)
    status, err = batch(capsys, source, "--output", tmp_path / "x.jsonl", "--artifact", no_prevalence, "--base-rate", "0.05")
    assert status == 2 and err.startswith("misinfo-risk batch: --base-rate: ") and "prevalence" in err


def test_column_mapping_applies_to_records(tmp_path: Path, tiny_artifact: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "custom.csv"
    source.write_text("guid;body;headline\nx1;Officials confirmed the figures.;Plain\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = [source, "--output", out, "--artifact", tiny_artifact, "--delimiter", ";", "--column", "text=body",
            "--column", "id=guid", "--column", "title=headline", "--workers", "1"]  # fmt: skip
    assert batch(capsys, *args)[0] == 0
    [row] = read_jsonl(out)
    assert (row["id"], row["title"], row["location"]) == ("x1", "Plain", "row 1")


def test_usage_and_artifact_errors(tmp_path: Path, tiny_artifact: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [article(0)])
    assert batch(capsys, source, "--output", tmp_path / "out.txt")[0] == 2
    status, err = batch(capsys, tmp_path / "nope.jsonl", "--output", tmp_path / "out.jsonl")
    assert status == 2 and "no such file" in err
    status, err = batch(capsys, source, "--output", tmp_path / "out.jsonl", "--column", "body=text")
    assert status == 2 and "bad column mapping" in err
    status, err = batch(capsys, source, "--output", tmp_path / "out.jsonl", "--artifact", tmp_path / "no-artifact")
    assert status == 3, err
    assert not (tmp_path / "out.jsonl").exists()


def test_empty_input_gives_an_empty_output(tmp_path: Path, tiny_artifact: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_text("\n", encoding="utf-8")
    for ext in ("jsonl", "csv", "parquet"):
        out = tmp_path / f"out.{ext}"
        assert batch(capsys, source, "--output", out, "--artifact", tiny_artifact, "--workers", "1")[0] == 0
    assert (tmp_path / "out.jsonl").read_bytes() == b""
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == ",".join(ROW_KEYS) + "\n"
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 0


def test_articles_not_assessed_are_rows_with_a_reason_in_every_format(
    tmp_path: Path, tiny_artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    english = "The council said on Tuesday that the report was published, and officials told reporters it would work."
    items = [
        {"id": "en", "text": english},
        {"id": "pt", "text": "A prefeitura aprovou nesta terça-feira um novo plano para ampliar o transporte público."},
        {"id": "emoji", "text": "🙂🙂🙂"},
    ]
    source = write_jsonl(tmp_path / "mixed-languages.jsonl", items)
    outputs = {ext: tmp_path / f"out.{ext}" for ext in ("jsonl", "csv", "parquet")}
    for path in outputs.values():
        status, err = batch(capsys, source, "--output", path, "--artifact", tiny_artifact, "--progress", "off")
        assert status == 0, err  # not assessed is a result, not an error
        assert "not assessed: 2" in err and "errors: 0" in err
    rows = read_jsonl(outputs["jsonl"])
    assert [(r["id"], r["assessed"], r["reason"]) for r in rows] == [
        ("en", True, None),
        ("pt", False, "unsupported_language"),
        ("emoji", False, "no_readable_text"),
    ]
    assert rows[1]["score"] is None and rows[1]["level"] is None and rows[1]["language"] == "pt"
    assert rows[0]["genre"] in {"news", "opinion", "press_release", "satire"} and rows[0]["score"] is not None
    assert pq.read_table(outputs["parquet"]).to_pylist() == rows
    assert pq.read_schema(outputs["parquet"]).field("assessed").type == pa.bool_()
    with outputs["csv"].open(newline="", encoding="utf-8") as handle:
        cells = list(csv.DictReader(handle))
    assert [(c["assessed"], c["reason"], c["score"]) for c in cells[1:]] == [
        ("false", "unsupported_language", ""),
        ("false", "no_readable_text", ""),
    ]
