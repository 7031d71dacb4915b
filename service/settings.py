"""Service configuration, read from `RISK_*` environment variables (pydantic-settings).

    >>> Settings(port=9000, api_keys="first-key-0123456789,second-key-0123456789").port   # doctest: +SKIP
    9000

Nothing here is built at import time: `create_app(settings)` takes a `Settings`, and
`misinfo-risk serve` builds one from its options and the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from misinfo_risk.model.types import MAX_ARTICLE_CHARS
from misinfo_risk.runtime import usable_cpus

ROOT_ENV = "MISINFO_RISK_SERVICE_PID"  # not RISK_*: those are settings
"""The serve command's pid, inherited by web workers and pools: process metrics sum the tree under it.
Not in service.metrics: serve must not import prometheus_client before setting PROMETHEUS_MULTIPROC_DIR."""

MIN_API_KEY_CHARS = 16
MiB = 1024 * 1024


class Settings(BaseSettings):
    """Service configuration. Every field can be set with `RISK_<FIELD_NAME>` (e.g. `RISK_PORT=9000`)."""

    # hide_input_in_errors: an error about RISK_API_KEYS must not print the keys
    model_config = SettingsConfigDict(
        env_prefix="RISK_", extra="ignore", frozen=True, use_attribute_docstrings=True, hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    """Interface to listen on; use 0.0.0.0 in a container."""

    port: int = Field(default=8000, ge=0, le=65535)
    """TCP port (0 picks a free one)."""

    workers: int = Field(default_factory=usable_cpus, ge=1, le=64)
    """Web workers (uvicorn worker processes). Unset: one per usable CPU. Each scores single articles itself
    and holds its own pool for batches, streams and feeds."""

    artifact_path: Path | None = None
    """Artifact directory (model.joblib + model_card.json + SHA256SUMS). Unset: the shipped model."""

    model_sha256: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[0-9a-f]{64}$")] | None = None
    """The sha256 the artifact must have (its SHA256SUMS file's digest, printed by `misinfo-risk model-info`).
    Any other artifact is refused at start-up. Unset: any artifact whose files match its SHA256SUMS."""

    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    """Comma-separated API keys. Unset or empty: no authentication. Each key needs at least 16 characters;
    a value with no key in it (e.g. "," or " , ") stops start-up rather than switching authentication off."""

    pool_workers: int = Field(default_factory=usable_cpus, ge=0, le=256)
    """Scoring processes in each web worker's pool (batches, streams, feeds). Unset: one per usable CPU.
    0: no pool, chunks are scored in a thread of the web worker."""

    chunk_size: int = Field(default=32, ge=1, le=10_000)
    """Most articles per chunk (the items sent to a scoring process at once) for batches, streams and feeds."""

    max_body_bytes: int = Field(default=2 * MiB, ge=1_024)
    """Largest request body for POST /v1/score, and the largest line of an NDJSON stream."""

    max_batch_body_bytes: int = Field(default=20 * MiB, ge=1_024)
    """Largest JSON-array request body for POST /v1/score/batch."""

    max_batch_items: int = Field(default=1_000, ge=1)
    """Most articles in one JSON-array batch."""

    max_stream_items: int = Field(default=100_000, ge=1)
    """Most articles in one NDJSON request stream."""

    max_article_chars: int = Field(default=MAX_ARTICLE_CHARS, ge=1)
    """Longest article `text` accepted, in characters."""

    base_rate: float | None = Field(default=None, gt=0.0, lt=1.0)
    """Share of misleading articles among those this service scores: scores are re-expressed for it by
    Bayes' rule (levels stay those of the calibrated score). Unset: the training share (the model card's
    prevalence). A request's `base_rate` query parameter overrides it. Needs a card with a prevalence."""

    stream_memory_bytes: int = Field(default=8 * MiB, ge=0)
    """Streamed results a slow reader may leave in memory before they are buffered in a temporary file."""

    stream_buffer_bytes: int = Field(default=64 * MiB, ge=0)
    """Streamed results a slow reader may leave waiting in all (memory and file); beyond, the server stops
    reading the request until the client reads (backpressure)."""

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """Log level of the JSON-lines logs."""

    access_log: bool = True
    """Write one JSON access-log line per request (never the article text)."""

    shutdown_timeout: float = Field(default=30.0, gt=0)
    """Seconds to let in-flight requests finish after SIGTERM."""

    keep_alive_timeout: int = Field(default=5, ge=1)
    """Seconds an idle keep-alive connection stays open."""

    header_timeout: float = Field(default=10.0, gt=0)
    """Seconds a connection may take to send a complete request head (from connecting, or from the head's
    first byte on a keep-alive connection); then it is closed."""

    body_timeout: float = Field(default=10.0, gt=0)
    """Seconds the server waits for the next part of a request body; then it answers 408 and closes."""

    body_min_rate: float = Field(default=500.0, gt=0)
    """Bytes per second a request body must average once the server has waited body_timeout seconds for it
    (Apache mod_reqtimeout's default rate); a body that trickles slower is answered 408 and closed."""

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        # Empty means no authentication. Anything else must hold at least one key: "," or " , " is a
        # mistake that would otherwise switch authentication off without a word. (Blank entries beside
        # real keys, as in a trailing comma, are dropped: they cannot weaken anything.)
        if isinstance(value, str):
            keys = tuple(part.strip() for part in value.split(",") if part.strip())
            if value and not keys:
                raise ValueError(
                    "API keys must not be blank: the value holds no key; "
                    "unset RISK_API_KEYS (or set it to an empty string) to run without authentication"
                )
            return keys
        return value

    @field_validator("api_keys")
    @classmethod
    def _keys_long_enough(cls, keys: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        short = [i for i, key in enumerate(keys) if len(key.get_secret_value()) < MIN_API_KEY_CHARS]
        if short:
            raise ValueError(f"API keys must have at least {MIN_API_KEY_CHARS} characters (key number(s) {short} are shorter)")
        return keys
