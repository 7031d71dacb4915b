"""The service's response models that clients read: importable without the web stack.

Pure pydantic (plus `model.types`), so `misinfo_risk.client` parses responses into these very
classes without installing FastAPI; service/schemas.py puts them in the OpenAPI description.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from misinfo_risk.model.types import RiskAssessment


class FieldErrorOut(BaseModel):
    field: str = Field(description="The offending field as sent, e.g. 'text' ('body' for the whole body).")
    reason: Literal["missing", "empty", "type", "too_long", "invalid"]
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(description="Stable identifier, e.g. 'urn:misinfo-risk:problem:invalid-article'.")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = Field(default=None, description="Same as the X-Request-ID response header.")
    errors: list[FieldErrorOut] | None = Field(default=None, description="Validation errors, one per offending field.")


class ItemError(BaseModel):
    """Takes the place of an item that could not be scored."""

    index: int = Field(description="0-based position of the item in the request.")
    id: str | None = Field(description="The item's `id`, if it had a string one.")
    error: ProblemDetails


class BatchResult(BaseModel):
    """Results of a JSON-array batch, one per item, in order."""

    model_version: str
    count: int
    scored: int = Field(description="Items assessed (with a score and a level).")
    not_assessed: int = Field(description="Valid articles the model cannot read (`assessed: false`, see `reason`).")
    rejected: int = Field(description="Invalid items (an error object in their place).")
    results: list[RiskAssessment | ItemError]


class Limits(BaseModel):
    """The request limits of this service (its RISK_* settings), for clients that split their work to fit."""

    model_version: str
    max_body_bytes: int = Field(description="Largest body of POST /v1/score, and largest line of an NDJSON stream.")
    max_batch_body_bytes: int = Field(description="Largest JSON-array body of POST /v1/score/batch.")
    max_batch_items: int = Field(description="Most articles in one JSON-array batch.")
    max_stream_items: int = Field(description="Most articles in one NDJSON stream.")
    max_article_chars: int = Field(description="Longest article `text` accepted, in characters.")
