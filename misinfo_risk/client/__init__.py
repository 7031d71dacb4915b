"""A typed Python client for the misinfo-risk service (`pip install 'misinfo-risk[client]'`).

    >>> from misinfo_risk.client import RiskClient
    >>> with RiskClient("http://127.0.0.1:8000", api_key="...") as client:            # doctest: +SKIP
    ...     result = client.score({"title": "SHOCKING cure", "text": "Insiders say doctors hate it."})
    ...     result.level, result.score                      # a model.RiskAssessment
    ...     results = client.score_many(articles)           # in order; cut to the server's batch limits
    ...     for item in client.stream(read_lines()):        # NDJSON both ways, for inputs of any size
    ...         ...

`AsyncRiskClient` has the same methods as coroutines (`stream` is an async iterator). Results are
the project's own models: `model.RiskAssessment` for an article (also when it was not assessed:
`assessed` is False), `misinfo_risk.service.results.ItemError` in place of an invalid one. 503 answers and
connection errors are retried with exponential backoff; other errors raise `ServiceError`.
"""

from misinfo_risk.client.aio import AsyncRiskClient
from misinfo_risk.client.core import ClientError, Result, ServiceError, ServiceUnreachable
from misinfo_risk.client.sync import RiskClient
from misinfo_risk.model.types import RiskAssessment
from misinfo_risk.service.results import ItemError, Limits, ProblemDetails

__all__ = [
    "AsyncRiskClient",
    "ClientError",
    "ItemError",
    "Limits",
    "ProblemDetails",
    "Result",
    "RiskAssessment",
    "RiskClient",
    "ServiceError",
    "ServiceUnreachable",
]
