"""The `misinfo-risk` command, run as a real subprocess."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "misinfo_risk"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_score_text_prints_json(tiny_artifact: Path) -> None:
    out = run(
        "score",
        "--artifact",
        str(tiny_artifact),
        "--text",
        "Insiders say the company data REALLY WORKS!!!",
        "--title",
        "SHOCKING",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["model_version"] == "test-0"
    assert {"unnamed_sources", "shouting_caps"} <= {s["name"] for s in result["signals"]}


def test_score_file_stdin_and_pretty(tiny_artifact: Path, tmp_path: Path) -> None:
    text_file = tmp_path / "a.txt"
    text_file.write_text("Sources say the mayor has yet to comment.", encoding="utf-8")
    pretty = run("score", "--artifact", str(tiny_artifact), "--pretty", str(text_file))
    assert pretty.returncode == 0, pretty.stderr
    assert pretty.stdout.startswith("Risk: ") and '"has yet to comment"' in pretty.stdout
    json_file = tmp_path / "a.json"
    json_file.write_text(json.dumps({"id": "x1", "title": None, "text": "Plain report."}), encoding="utf-8")
    assert json.loads(run("score", "--artifact", str(tiny_artifact), str(json_file)).stdout)["id"] == "x1"
    piped = run("score", "--artifact", str(tiny_artifact), stdin="The council said on Tuesday that the report was published.")
    assert piped.returncode == 0 and json.loads(piped.stdout)["score"] >= 0


def test_stdin_json_object_is_read_the_same_with_dash(tiny_artifact: Path) -> None:
    """`-` and no file both read stdin (the help says so): a JSON object there is an article either way."""
    article = json.dumps(
        {"id": "piped-1", "title": "A headline", "text": "The council said on Tuesday that the report was published."}
    )
    bare = run("score", "--artifact", str(tiny_artifact), stdin=article)
    dash = run("score", "--artifact", str(tiny_artifact), "-", stdin=article)
    assert bare.returncode == 0 and dash.returncode == 0, (bare.stderr, dash.stderr)
    assert json.loads(bare.stdout)["id"] == json.loads(dash.stdout)["id"] == "piped-1"
    assert json.loads(dash.stdout) == json.loads(bare.stdout)


def test_score_reads_one_article_and_says_what_to_do_with_files_of_many(tiny_artifact: Path, tmp_path: Path) -> None:
    """A JSON Lines or CSV file was scored as one plain-text article (JSON syntax and all); `.JSON` was not read as JSON;
    a JSON array was refused as "text: Input should be a valid string"."""
    many = tmp_path / "articles.jsonl"
    many.write_text('{"id": "a", "text": "First report."}\n{"id": "b", "text": "Second report."}\n', encoding="utf-8")
    refused = run("score", "--artifact", str(tiny_artifact), str(many))
    assert refused.returncode == 2 and refused.stdout == "" and "Traceback" not in refused.stderr
    assert "misinfo-risk batch" in refused.stderr and "reads one" in refused.stderr
    upper = tmp_path / "ARTICLE.JSON"
    upper.write_text(
        json.dumps({"id": "u1", "text": "The council said on Tuesday that the report was published."}), encoding="utf-8"
    )
    assert json.loads(run("score", "--artifact", str(tiny_artifact), str(upper)).stdout)["id"] == "u1"
    array = run("score", "--artifact", str(tiny_artifact), "--json", stdin='[{"text": "a"}]')
    assert array.returncode == 2 and "must be an object with a 'text' field, not array" in array.stderr
    string = run("score", "--artifact", str(tiny_artifact), "--json", stdin='"The council said on Tuesday that it met."')
    assert string.returncode == 0 and json.loads(string.stdout)["assessed"] is not None


def test_pretty_quotes_the_riskiest_sentences(tiny_artifact: Path) -> None:
    text = "The council met on Tuesday.\nInsiders say the cure WORKS!!! Share this before it is deleted. " + "x" * 150 + "."
    pretty = run("score", "--artifact", str(tiny_artifact), "--pretty", "--title", "SHOCKING news", "--text", text)
    assert pretty.returncode == 0, pretty.stderr
    head, _, tail = pretty.stdout.partition("Sentences that raised the risk most")
    lines = [line for line in tail.splitlines()[1:] if line.strip()]
    assert 1 <= len(lines) <= 3
    assert all(line.lstrip()[0] == "+" and line.rstrip().endswith('"') for line in lines)
    assert any("Insiders say the cure WORKS!!!" in line for line in lines)
    assert all(len(line) < 130 for line in lines)  # long sentences are cut


def test_base_rate_option(tiny_artifact: Path, tmp_path: Path) -> None:
    from tests.model.test_base_rate import copy_with_prevalence

    text = "Insiders say the cure WORKS!!! Share this before it is deleted. The council said nothing on Tuesday."
    plain = json.loads(run("score", "--artifact", str(tiny_artifact), "--text", text).stdout)
    out = run("score", "--artifact", str(tiny_artifact), "--base-rate", "0.05", "--text", text)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["base_rate"] == 0.05 and result["score_calibrated"] == plain["score"] and result["level"] == plain["level"]
    shift = math.log(0.05 / 0.95) - math.log(plain["base_rate"] / (1 - plain["base_rate"]))
    assert math.log(result["score"] / (1 - result["score"])) == pytest.approx(
        math.log(plain["score"] / (1 - plain["score"])) + shift
    )
    pretty = run("score", "--artifact", str(tiny_artifact), "--base-rate", "0.05", "--pretty", "--text", text)
    assert f"at a base rate of 5.0%; {plain['score']:.2f} as calibrated" in pretty.stdout.splitlines()[0]
    bad = run("score", "--artifact", str(tiny_artifact), "--base-rate", "1.5", "--text", text)
    assert bad.returncode == 2 and "between 0 and 1" in bad.stderr
    no_prevalence = copy_with_prevalence(tiny_artifact, tmp_path / "artifact", None)
    refused = run("score", "--artifact", str(no_prevalence), "--base-rate", "0.05", "--text", text)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("misinfo-risk: --base-rate: ") and refused.stderr.count("\n") == 1
    assert "prevalence" in refused.stderr and "Traceback" not in refused.stderr


def test_bad_input_and_bad_artifact_exit_cleanly(tiny_artifact: Path, tmp_path: Path) -> None:
    empty = run("score", "--artifact", str(tiny_artifact), "--text", "   ")
    assert empty.returncode == 2 and "text: must contain non-whitespace" in empty.stderr
    too_long = run("score", "--artifact", str(tiny_artifact), "--max-chars", "5", "--text", "123456")
    assert too_long.returncode == 2 and "limit is 5" in too_long.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", encoding="utf-8")
    assert run("score", "--artifact", str(tiny_artifact), str(broken)).returncode == 2
    missing = run("score", "--artifact", str(tmp_path / "none"), "--text", "Hi")
    assert missing.returncode == 3 and "model card" in missing.stderr
    for out in (empty, too_long, missing):
        assert "Traceback" not in out.stderr


def test_pretty_says_not_assessed_and_why(tiny_artifact: Path) -> None:
    text = "A prefeitura aprovou nesta terça-feira um novo plano para ampliar o transporte público no centro da cidade."
    pretty = run("score", "--artifact", str(tiny_artifact), "--pretty", "--text", text)
    assert pretty.returncode == 0, pretty.stderr
    first = pretty.stdout.splitlines()[0]
    assert first.startswith("Not assessed: this reads as Portuguese (pt, ") and "the model reads English only." in first
    as_json = json.loads(run("score", "--artifact", str(tiny_artifact), "--text", text).stdout)
    assert (as_json["assessed"], as_json["score"], as_json["level"]) == (False, None, None)
