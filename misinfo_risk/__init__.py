"""Misinformation-risk scoring: heuristic signals + a calibrated scikit-learn pipeline.

    >>> from misinfo_risk import Article, load_scorer
    >>> scorer = load_scorer()                       # the shipped artifact
    >>> result = scorer.score(Article(title="SHOCKING cure", text="Insiders say doctors hate it."))
    >>> result.level, [s.name for s in result.signals]   # doctest: +SKIP
    ('high', ['unnamed_sources', 'sensational_terms', 'shouting_caps'])

A triage score, not a verdict: it says how much an article reads like the fake or misleading
articles the model was trained on, and why.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from misinfo_risk.model.artifact import SHIPPED_ARTIFACT, ModelCard, Thresholds, load_artifact, save_artifact
    from misinfo_risk.model.errors import ArtifactError, InvalidArticle, ModelError, UnknownHeuristic
    from misinfo_risk.model.scorer import Scorer, load_scorer, score
    from misinfo_risk.model.types import (
        MAX_ARTICLE_CHARS,
        Article,
        Evidence,
        RiskAssessment,
        Signal,
        TermContribution,
        parse_article,
    )

# Imported on first use (PEP 562): `import misinfo_risk.model.errors` or `.types` must not pull in
# scikit-learn, so commands that do not score (and the batch command, which starts its worker
# processes first) start quickly.
_HOMES = {
    "misinfo_risk.model.artifact": ("SHIPPED_ARTIFACT", "ModelCard", "Thresholds", "load_artifact", "save_artifact"),
    "misinfo_risk.model.errors": ("ArtifactError", "InvalidArticle", "ModelError", "UnknownHeuristic"),
    "misinfo_risk.model.scorer": ("Scorer", "load_scorer", "score"),
    "misinfo_risk.model.types": (
        "MAX_ARTICLE_CHARS",
        "Article",
        "Evidence",
        "RiskAssessment",
        "Signal",
        "TermContribution",
        "parse_article",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'misinfo_risk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__version__ = "2.0.0"

__all__ = [
    "MAX_ARTICLE_CHARS",
    "SHIPPED_ARTIFACT",
    "Article",
    "ArtifactError",
    "Evidence",
    "InvalidArticle",
    "ModelCard",
    "ModelError",
    "RiskAssessment",
    "Scorer",
    "Signal",
    "TermContribution",
    "Thresholds",
    "UnknownHeuristic",
    "__version__",
    "load_artifact",
    "load_scorer",
    "parse_article",
    "save_artifact",
    "score",
]
