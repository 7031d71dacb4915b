"""Loading labelled files and splitting them without leaking groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from misinfo_risk.training.data import DataError, load_dataset, split_dataset
from tests.conftest import TINY


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "d" / "articles.jsonl", [{"id": "a", "text": "ok", "label": 0}, {"id": "b", "text": "", "label": 1}])
    with pytest.raises(DataError, match=r"articles.jsonl:2: text"):
        load_dataset([path])
    bad_label = _write(tmp_path / "e" / "articles.jsonl", [{"id": "a", "text": "ok", "label": 3}])
    with pytest.raises(DataError, match=r":1: label must be 0 or 1"):
        load_dataset([bad_label])
    with pytest.raises(DataError, match="no such file"):
        load_dataset([tmp_path / "missing.jsonl"])


def test_publishers_and_twins_never_straddle_the_split(tmp_path: Path) -> None:
    rows, meta = [], []
    for p in range(9):
        for k in range(6):
            rows.append({"id": f"pub{p}-{k}", "text": f"Story {k} from publisher {p}.", "label": int(p >= 6 and k % 2 == 0)})
            meta.append({"id": f"pub{p}-{k}", "publisher": f"p{p}", "orientation": ["mainstream", "left", "right"][p % 3]})
    news = _write(tmp_path / "news" / "articles.jsonl", rows)
    _write(tmp_path / "news" / "meta.jsonl", meta)
    twins_rows, twins_meta = [], []
    for t in range(20):
        for label in (0, 1):
            twins_rows.append({"id": f"t{t}-{label}", "text": f"Twin story {t} version {label}.", "label": label})
            twins_meta.append({"id": f"t{t}-{label}", "pair": f"pair{t}"})
    twins = _write(tmp_path / "twins" / "articles.jsonl", twins_rows)
    _write(tmp_path / "twins" / "meta.jsonl", twins_meta)
    dataset = load_dataset([news, twins])
    train, test = split_dataset(dataset, test_fraction=0.25, seed=0)
    assert not set(train.groups) & set(test.groups)
    assert len(train) + len(test) == len(dataset)
    news_test = {g for g, s in zip(test.groups, test.sources, strict=True) if s == "news"}
    assert len(news_test) == 3  # one publisher per orientation
    assert {s.split(":")[1] for s, src in zip(test.strata, test.sources, strict=True) if src == "news"} == {
        "mainstream",
        "left",
        "right",
    }
    again_train, again_test = split_dataset(dataset, test_fraction=0.25, seed=0)
    assert again_test.groups == test.groups


def test_files_are_hashed() -> None:
    dataset = load_dataset([TINY])
    assert list(dataset.files) == ["data/tiny_articles.jsonl"]
    assert len(dataset.files["data/tiny_articles.jsonl"]) == 64
