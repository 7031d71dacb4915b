"""Shared fixtures: a tiny artifact trained from hand-written data through the real training entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from misinfo_risk.model.scorer import Scorer, load_scorer
from misinfo_risk.model.types import Article
from misinfo_risk.training.__main__ import main as training_main

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_articles.jsonl"
TINY_ARGS = ["--min-df", "2", "--c", "0.1", "--quick", "--version", "test-0"]


def make_article(**overrides: Any) -> Article:
    fields: dict[str, Any] = {"title": "Council approves budget", "text": "The council voted 7-2 on Tuesday, officials said."}
    return Article(**(fields | overrides))


@pytest.fixture(scope="session")
def tiny_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("artifact")
    assert training_main(["--data", str(TINY), "--out", str(out), *TINY_ARGS]) == 0
    return out


@pytest.fixture(scope="session")
def scorer(tiny_artifact: Path) -> Scorer:
    return load_scorer(tiny_artifact)
