"""Heuristic signals. Importing this package registers every heuristic."""

from model.heuristics import figures, headline, language, sourcing  # noqa: F401  imported to register
from model.heuristics.registry import (
    Heuristic,
    get_heuristic,
    register,
    registered_names,
    run_heuristics,
)

__all__ = ["Heuristic", "get_heuristic", "register", "registered_names", "run_heuristics"]
