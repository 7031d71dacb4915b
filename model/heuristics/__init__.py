"""Heuristic signals. Importing this package registers every heuristic."""

from misinfo_risk.model.heuristics import figures, headline, language, sourcing  # noqa: F401  imported to register
from misinfo_risk.model.heuristics.registry import (
    Heuristic,
    get_heuristic,
    register,
    registered_names,
    run_heuristics,
)

__all__ = ["Heuristic", "get_heuristic", "register", "registered_names", "run_heuristics"]
