"""Misinformation-risk scoring: heuristic signals + a calibrated scikit-learn pipeline.

    >>> from model import Article, load_scorer
    >>> scorer = load_scorer()                       # the shipped artifact
    >>> result = scorer.score(Article(title="SHOCKING cure", text="Insiders say doctors hate it."))
    >>> result.level, [s.name for s in result.signals]   # doctest: +SKIP
    ('high', ['unnamed_sources', 'sensational_terms', 'shouting_caps'])

A triage score, not a verdict: it says how much an article reads like the fake or misleading
articles the model was trained on, and why.
"""

from model.artifact import SHIPPED_ARTIFACT, ModelCard, Thresholds, load_artifact, save_artifact
from model.errors import ArtifactError, InvalidArticle, ModelError, UnknownHeuristic
from model.scorer import Scorer, load_scorer, score
from model.types import (
    MAX_ARTICLE_CHARS,
    Article,
    Evidence,
    RiskAssessment,
    Signal,
    TermContribution,
    parse_article,
)

__version__ = "1.0.0"

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
