"""The JSON examples in docs/service.md have the fields the service sends (a client is written from them)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from misinfo_risk.model.types import RiskAssessment
from misinfo_risk.service.results import BatchResult, ProblemDetails

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLES = [
    json.loads(block) for block in re.findall(r"```json\n(.*?)```", (DOCS / "service.md").read_text(encoding="utf-8"), re.S)
]


def example_with(key: str) -> dict[str, Any]:
    found = [e for e in EXAMPLES if isinstance(e, dict) and key in e]
    assert found, f"docs/service.md has no JSON example with {key!r}"
    return found[0]


@pytest.mark.parametrize(
    ("key", "model"),
    [("assessed", RiskAssessment), ("results", BatchResult), ("instance", ProblemDetails)],
    ids=["score", "batch", "problem"],
)
def test_examples_show_every_field_of_the_response(key: str, model: type[Any]) -> None:
    example = example_with(key)
    missing = [name for name in model.model_fields if name not in example]
    assert not missing, f"the {key!r} example in docs/service.md lacks {missing}"


def test_feed_endpoint_lists_the_batch_fields() -> None:
    """docs/batch.md gives the feed response's shape as a list of its keys."""
    text = (DOCS / "batch.md").read_text(encoding="utf-8")
    [shape] = re.findall(r'`\{"model_version", [^`]*\}`', text)
    missing = [name for name in BatchResult.model_fields if f'"{name}"' not in shape]
    assert not missing, f"docs/batch.md's feed response shape lacks {missing}"
