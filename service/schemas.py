"""OpenAPI documentation: HTTP-only schemas, examples, and the per-route `responses` / request bodies.

Handlers read their bodies themselves, so request and response schemas are declared here and
merged into `components` by `install_openapi`. The request schema *is* `model.Article` and the
result schema *is* `model.RiskAssessment`, so the docs cannot drift from what is validated.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from misinfo_risk.model.artifact import ModelCard
from misinfo_risk.model.types import Article, RiskAssessment
from misinfo_risk.runtime import Rejected
from misinfo_risk.service import errors
from misinfo_risk.service.auth import KEY_REQUIRED, SECURITY, SECURITY_SCHEMES
from misinfo_risk.service.bodies import FEED_TYPES, JSON_TYPES
from misinfo_risk.service.results import BatchResult, ItemError, Limits, ProblemDetails
from misinfo_risk.service.scoring import ServiceState, batch_body


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    model_version: str
    pool_processes: int = Field(description="Scoring processes alive in this worker (0: scoring in the worker itself).")
    startup_seconds: float


_COMPONENTS: tuple[tuple[type[BaseModel], Literal["validation", "serialization"]], ...] = (
    (Article, "validation"),
    *((model, "serialization") for model in (RiskAssessment, ProblemDetails, ItemError, BatchResult, ModelCard, Limits)),
)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


EXAMPLE_ARTICLE = {
    "id": "story-42",
    "title": "SHOCKING: Insiders say the cure they are hiding WORKS",
    "text": "Sources close to the lab say the miracle cure was buried by officials. Share this before it gets deleted!!! "
    "Experts claim nobody is allowed to talk about it.",
    "source": "example.net",
    "language": "en",
}
EXAMPLE_CALM_ARTICLE = {
    "id": "story-43",
    "title": "Council approves budget",
    "text": "The city council voted 7-2 on Tuesday to approve the budget, the mayor's office said in a statement.",
}
EXAMPLE_FOREIGN_ARTICLE = {
    "id": "story-45",
    "text": "A prefeitura aprovou nesta terça-feira um novo plano para ampliar o transporte público no centro da cidade.",
}
"""Scored by the loaded model when the OpenAPI document is first built, as are the others: results cannot drift."""

_EMPTY_TEXT = Rejected(1, "story-44", "text", "empty", "must contain non-whitespace characters")

_PROBLEM_EXAMPLES: dict[int, errors.Problem] = {  # each raised as its handler raises it
    401: errors.Problem(401, "unauthorized", KEY_REQUIRED),
    409: errors.Problem(
        409,
        "base-rate-unavailable",
        "base_rate=0.05: model risk-v1 does not record the base rate its score is calibrated at (its model card has no "
        "prevalence), so the score cannot be re-expressed at another base rate; omit base_rate.",
    ),
    413: errors.content_too_large(2_097_152),
    415: errors.unsupported_media_type("text/plain", JSON_TYPES),
    422: errors.invalid_article(_EMPTY_TEXT),
    503: errors.scoring_unavailable(),
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting problem+json errors for the given status codes."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        problem = _PROBLEM_EXAMPLES[status]
        example = problem.body(instance="/v1/score", request_id="0f3c9d2e5b7a4c1e8f6a2b9d4e7c1a3b")
        content = {errors.PROBLEM_MEDIA_TYPE: {"schema": ref("ProblemDetails"), "example": example}}
        out[status] = {"description": errors.TITLES[problem.kind], "content": content}
    return out


BASE_RATE_PARAMETER: dict[str, Any] = {
    "name": "base_rate",
    "in": "query",
    "required": False,
    "description": "The share of misleading articles among those you score, e.g. 0.05. Scores are re-expressed for it "
    "by Bayes' rule from the share the model was trained on (the model card's `prevalence`): logit(score) = "
    "logit(score_calibrated) + logit(base_rate) - logit(prevalence). The level stays that of the calibrated score. "
    "Default: the service's RISK_BASE_RATE, else the training share. 422 outside (0, 1); 409 if the model card has "
    "no prevalence.",
    "schema": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "example": 0.05,
}


def scoring_docs(summary: str, body: dict[str, Any], ok: str, ok_content: dict[str, Any]) -> dict[str, Any]:
    """Route keywords documenting a scoring endpoint: the body it reads itself, `base_rate`, its results and errors."""
    return {
        "summary": summary,
        "openapi_extra": {
            "requestBody": {"required": True, "content": body},
            "security": SECURITY,
            "parameters": [BASE_RATE_PARAMETER],
        },
        "responses": {200: {"description": ok, "content": ok_content}, **problem_responses(401, 409, 413, 415, 422, 503)},
    }


def _json_examples(schema: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema, "examples": {k: {"value": v} for k, v in examples.items()}}}


SCORE_DOCS = scoring_docs(
    "Score one article",
    _json_examples(ref("Article"), {"sensational": EXAMPLE_ARTICLE, "calm": EXAMPLE_CALM_ARTICLE}),
    "The assessment. An article the model cannot read (another language, no readable text) is a normal result with "
    "`assessed: false`, a `reason`, and null `score` and `level`.",
    {"application/json": {"schema": ref("RiskAssessment")}},
)

_NDJSON_REQUEST = "\n".join(json.dumps(a) for a in (EXAMPLE_ARTICLE, EXAMPLE_CALM_ARTICLE)) + "\n"

BATCH_DOCS = scoring_docs(
    "Score many articles (JSON array or NDJSON stream)",
    _json_examples(
        {"type": "array", "items": ref("Article"), "maxItems": 1000},
        {"two articles, one invalid": [EXAMPLE_ARTICLE, {"id": "story-44", "text": "  "}]},
    )
    | {
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "One Article JSON object per line."},
            "example": _NDJSON_REQUEST,
        }
    },
    "One result per item, in order: an assessment, or an error object in the place of an invalid item. "
    "NDJSON when the request is NDJSON or `Accept: application/x-ndjson`.",
    {
        "application/json": {"schema": ref("BatchResult")},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One RiskAssessment or ItemError per line."}},
    },
)

_EXAMPLE_RSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Example Gazette</title>'
    "<link>https://gazette.example/</link><description>News</description>\n"
    "<item><title>Council approves budget</title><link>https://gazette.example/budget</link>"
    "<description>&lt;p&gt;The city council voted 7-2 on Tuesday to approve the budget.&lt;/p&gt;</description></item>\n"
    "<item><title>SHOCKING: what they hide</title><link>https://gazette.example/shock</link>"
    "<description>Insiders say the cure WORKS. Share this before it gets deleted!!!</description></item>\n"
    "</channel></rss>\n"
)

FEED_DOCS = scoring_docs(
    "Score every entry of an RSS or Atom feed",
    {t: {"schema": {"type": "string", "format": "xml"}, "example": _EXAMPLE_RSS} for t in FEED_TYPES},
    "One result per entry, in feed order: an assessment (its `id` is the entry's id or link), "
    "or an error object in the place of an entry that cannot be scored (e.g. no text).",
    {"application/json": {"schema": ref("BatchResult")}},
)


MODEL_DOCS: dict[str, Any] = {
    "summary": "The loaded model's card",
    "openapi_extra": {"security": SECURITY},
    "responses": {
        200: {"description": "The model card", "content": {"application/json": {"schema": ref("ModelCard")}}},
        **problem_responses(401),
    },
}

API_DESCRIPTION = """Misinformation-risk **triage** scores for news articles: a calibrated score, a risk level and the
signals that fired, with evidence spans (character offsets into the text as sent), plus the article's
detected language and genre and any warnings. A triage score, not a verdict.

**Not assessed.** Text the model cannot read (a language it was not trained on, no readable words)
gets `assessed: false`, a machine-readable `reason` and a sentence in `reason_detail`, and null
`score` and `level`: no number is made up. It is a normal 200 result, not an error. Response
schema 2.0: `score` and `level` may be null (they never were in 1.x); new fields `assessed`,
`reason`, `reason_detail`, `language`, `genre`, `warnings`.

**Base rate.** Scores are calibrated at the share of misleading articles in the training data (the
model card's `prevalence`). Send `?base_rate=0.05` (or set `RISK_BASE_RATE`) to have them re-expressed
for your own share by Bayes' rule; `score_calibrated` keeps the model's own score, from which `level`
is read, and `base_rate` says which share `score` assumes.

Errors are RFC 9457 `application/problem+json`. Unknown article fields are ignored. When API keys
are configured, everything under `/v1` needs `Authorization: Bearer <key>` or `X-API-Key: <key>`.
See docs/service.md for limits and configuration."""


def _add_result_examples(schema: dict[str, Any], state: ServiceState) -> None:
    """Results of the example articles scored by the loaded model (added after FastAPI, which drops null values)."""
    scored = [state.score_one(article).outcomes[0] for article in (EXAMPLE_ARTICLE, EXAMPLE_FOREIGN_ARTICLE)]
    batch = orjson.loads(batch_body(state.scorer.version, [scored[0], _EMPTY_TEXT, scored[1]]))  # as the endpoint sends it
    examples = {"assessed": {"value": batch["results"][0]}, "not assessed": {"value": batch["results"][2]}}
    paths = schema["paths"]
    paths["/v1/score"]["post"]["responses"]["200"]["content"]["application/json"]["examples"] = examples
    paths["/v1/score/batch"]["post"]["responses"]["200"]["content"]["application/json"]["example"] = batch


def install_openapi(app: FastAPI) -> None:
    """Generate the OpenAPI document once, with the registered component schemas merged in.

    The result examples are the example articles scored by the loaded model; until it is loaded the
    document is served without them and not kept."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
            _, definitions = models_json_schema(_COMPONENTS, ref_template="#/components/schemas/{model}")
            components.setdefault("schemas", {}).update(definitions["$defs"])
            state = getattr(app.state, "service", None)
            if state is None:
                return schema
            _add_result_examples(schema, state)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema
