"""Errors raised by the model package. No HTTP here: the service maps them to responses."""

from __future__ import annotations


class ModelError(Exception):
    """Base class for errors raised by the model package."""


class InvalidArticle(ModelError, ValueError):
    """The article cannot be scored: a field is missing, empty, of the wrong type or too long.

    ``field`` names the offending field (``"text"``, ``"title"``, ...), ``reason`` is a short
    machine-readable code (``"missing"``, ``"empty"``, ``"type"``, ``"too_long"``, ``"invalid"``).
    """

    def __init__(self, field: str, message: str, reason: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason
        self.message = message


class ArtifactError(ModelError):
    """The artifact is missing, corrupt, or was built with another scikit-learn."""


class UnknownHeuristic(ModelError, KeyError):
    """A heuristic name is not registered."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class BaseRateError(ModelError, ValueError):
    """A base rate the score cannot be re-expressed at.

    ``reason``: ``"out_of_range"`` (not a number strictly between 0 and 1) or ``"no_prevalence"`` (the
    model card does not say at which base rate the score is calibrated, so there is nothing to convert from).
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
