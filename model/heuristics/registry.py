"""The heuristic registry: versioned names -> pure functions `Doc -> list[Hit]`."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from misinfo_risk.model.document import Doc
from misinfo_risk.model.errors import UnknownHeuristic
from misinfo_risk.model.text import Hit

HeuristicFn = Callable[[Doc], list[Hit]]
_NAME = re.compile(r"[a-z][a-z0-9_]*\.v[0-9]+")
_REGISTRY: dict[str, Heuristic] = {}


@dataclass(frozen=True)
class Heuristic:
    name: str
    func: HeuristicFn
    sign: int = 1
    """+1: a risk indicator from the literature; the classifier may weight it from 0 up, never below
    (it cannot learn "unnamed sources mean reliable" from a publisher quirk). -1: a sign of
    journalistic practice ("declined to comment", "said in a statement"); it may lower the risk,
    never raise it. 0: the data decides the sign."""

    @property
    def risk(self) -> bool:
        return self.sign > 0

    @property
    def signal(self) -> str:
        """The unversioned signal name, e.g. 'unnamed_sources'."""
        return self.name.rsplit(".", 1)[0]

    @property
    def description(self) -> str:
        """First line of the function's docstring; shown to users next to evidence."""
        return (inspect.getdoc(self.func) or "").splitlines()[0]


def register(name: str, *, sign: int = 1) -> Callable[[HeuristicFn], HeuristicFn]:
    """Register a heuristic under a versioned name.

        @register("shouting_caps.v1")
        def shouting_caps(doc: Doc) -> list[Hit]:
            \"\"\"Words written entirely in capitals, e.g. "SHOCKING".\"\"\"
            return [...]

    Changing behaviour means registering a new name ("....v2") and keeping the old one while any
    artifact in model/artifacts/ still lists it: shipped models keep their exact behaviour.
    """
    if sign not in (-1, 0, 1):
        raise ValueError(f"heuristic {name!r}: sign must be -1, 0 or 1")
    if not _NAME.fullmatch(name):
        raise ValueError(f"heuristic name {name!r} must look like 'snake_case.v1'")

    def decorator(func: HeuristicFn) -> HeuristicFn:
        if name in _REGISTRY:
            raise ValueError(f"heuristic {name!r} is registered twice")
        _REGISTRY[name] = Heuristic(name, func, sign)
        return func

    return decorator


def get_heuristic(name: str) -> Heuristic:
    try:
        return _REGISTRY[name]
    except KeyError:
        available = ", ".join(sorted(_REGISTRY)) or "none"
        raise UnknownHeuristic(f"no heuristic {name!r}; available: {available}") from None


def registered_names() -> list[str]:
    return sorted(_REGISTRY)


def run_heuristics(doc: Doc, names: Iterable[str]) -> dict[str, list[Hit]]:
    """Hits of each named heuristic on `doc`, cached on the doc so features and evidence share them."""
    out: dict[str, list[Hit]] = {}
    for name in names:
        hits = doc.cached_hits(name)
        if hits is None:
            hits = get_heuristic(name).func(doc)
            doc.store_hits(name, hits)
        out[name] = hits
    return out
