"""Data types shared by the scorer, the service and training (pydantic, frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, ValidationInfo, field_validator

from misinfo_risk.model.errors import InvalidArticle

Section = Literal["title", "text"]
RiskLevel = Literal["low", "medium", "high"]

MAX_ARTICLE_CHARS = 200_000
"""Default limit on the length of `text` (and of `title`), in characters."""

MAX_TITLE_CHARS = 2_000


def _check_unicode(value: str) -> str:
    # Lone surrogates (e.g. JSON "\ud800") cannot be encoded as UTF-8: refuse them here
    # instead of failing later when the response is written.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"contains invalid Unicode at position {exc.start} (lone surrogate)") from None
    return value


class Article(BaseModel):
    """A news article as the scorer sees it: `text` is required, everything else optional.

    >>> Article(text="The council voted 7-2 on Tuesday.", title="Budget approved").title
    'Budget approved'

    Build from untrusted data with :func:`parse_article`, which raises :class:`InvalidArticle`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    text: StrictStr = Field(description="Body text of the article (plain text).")
    title: StrictStr | None = Field(default=None, description="Headline.")
    url: StrictStr | None = Field(default=None, max_length=8_192)
    source: StrictStr | None = Field(default=None, max_length=1_000, description="Publisher or feed name.")
    published_at: datetime | None = None
    language: StrictStr | None = Field(default=None, max_length=35, description="BCP 47 tag, e.g. 'en'.")
    id: StrictStr | None = Field(default=None, max_length=1_000, description="Caller's identifier, echoed back.")

    @field_validator("text")
    @classmethod
    def _text_ok(cls, value: str, info: ValidationInfo) -> str:
        _check_unicode(value)
        if not value.strip():
            raise ValueError("must contain non-whitespace characters")
        limit = _max_chars(info)
        if len(value) > limit:
            raise ValueError(f"is {len(value):,} characters long; the limit is {limit:,}")
        return value

    @field_validator("title")
    @classmethod
    def _title_ok(cls, value: str | None) -> str | None:
        if value is None:
            return None
        _check_unicode(value)
        if len(value) > MAX_TITLE_CHARS:
            raise ValueError(f"is {len(value):,} characters long; the limit is {MAX_TITLE_CHARS:,}")
        return value

    @field_validator("url", "source", "language", "id")
    @classmethod
    def _unicode_ok(cls, value: str | None) -> str | None:
        return None if value is None else _check_unicode(value)


def _max_chars(info: ValidationInfo) -> int:
    context = info.context if isinstance(info.context, Mapping) else {}
    limit = context.get("max_chars", MAX_ARTICLE_CHARS)
    return int(limit)


_REASONS = {
    "missing": "missing",
    "string_type": "type",
    "datetime_from_date_parsing": "type",
    "datetime_parsing": "type",
    "datetime_type": "type",
    "string_too_long": "too_long",
}


def invalid_article_from(error: ValidationError) -> InvalidArticle:
    """Turn the first pydantic error into an :class:`InvalidArticle` naming the field."""
    first = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "article"
    message = str(first["msg"]).removeprefix("Value error, ")
    reason = _REASONS.get(first["type"], "invalid")
    if reason == "invalid" and "limit is" in message:
        reason = "too_long"
    elif reason == "invalid" and "non-whitespace" in message:
        reason = "empty"
    if first["type"].startswith("datetime"):  # pydantic's "invalid character in year" does not say what it wants
        message += "; send an ISO 8601 date or date-time, e.g. 2026-11-10 or 2026-11-10T09:30:00Z"
    return InvalidArticle(field, message, reason)


def parse_article(data: Any, *, max_chars: int = MAX_ARTICLE_CHARS) -> Article:
    """Validate untrusted data (a mapping or an Article) into an Article.

    Raises :class:`InvalidArticle` naming the field on any problem.

    >>> parse_article({"text": "   "})
    Traceback (most recent call last):
    ...
    model.errors.InvalidArticle: text: must contain non-whitespace characters
    """
    if isinstance(data, Article):
        data = data.model_dump()
    if not isinstance(data, Mapping):
        from misinfo_risk.jsonerrors import json_type

        raise InvalidArticle("article", f"must be an object with a 'text' field, not {json_type(data)}", "type")
    try:
        return Article.model_validate(data, context={"max_chars": max_chars})
    except ValidationError as exc:
        raise invalid_article_from(exc) from exc


class Evidence(BaseModel):
    """Where a signal fired: offsets into the ORIGINAL `text` or `title` as sent, plus the words."""

    model_config = ConfigDict(frozen=True)

    section: Section
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(description="article.<section>[start:end], so clients need not slice.")


class Signal(BaseModel):
    """A heuristic signal that fired on the article, with its evidence and its share of the score."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(description="Signal name, e.g. 'unnamed_sources'.")
    heuristic: str = Field(description="Versioned heuristic that produced it, e.g. 'unnamed_sources.v1'.")
    description: str
    count: int = Field(ge=0)
    contribution: float = Field(
        description="Change in the calibrated log-odds of risk due to this signal (positive raises the score)."
    )
    evidence: tuple[Evidence, ...] = ()


class TermContribution(BaseModel):
    """A text term (word or word pair) and how much it moved the calibrated log-odds."""

    model_config = ConfigDict(frozen=True)

    term: str
    contribution: float


class SentenceContribution(BaseModel):
    """A sentence of the text (or the whole title) and how much it moved the calibrated log-odds.

    Its words' share of the term contributions plus its share of the signals that fired in it; see
    `Scorer` for the exact split. `start`/`end` index the title or text exactly as sent, like Evidence.
    """

    model_config = ConfigDict(frozen=True)

    section: Section
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    contribution: float = Field(
        description="Change in the calibrated log-odds of risk due to this sentence's words and signal hits (positive "
        "raises the score). Not rounded: the contributions add up exactly (see docs/service.md)."
    )

    def quote(self, article: Article, limit: int = 0) -> str:
        """The sentence's text in `article` (the one scored), cut to `limit` characters with "…" (0: no limit).

        >>> SentenceContribution(section="text", start=0, end=14, contribution=0.5).quote(Article(text="Share this now! Ok"), 8)
        'Share t…'
        """
        text = (article.title or "") if self.section == "title" else article.text
        quoted = " ".join(text[self.start : self.end].split())
        return quoted if not limit or len(quoted) <= limit else quoted[: limit - 1].rstrip() + "…"


NotAssessedReason = Literal["unsupported_language", "no_readable_text"]
GenreLabel = Literal["news", "opinion", "satire", "press_release"]
WarningCode = Literal["short_text", "language_mismatch", "not_news"]


class LanguageReading(BaseModel):
    """The language the text reads as, and the one the caller declared (when given)."""

    model_config = ConfigDict(frozen=True)

    detected: str = Field(
        description="ISO 639 code identified from the text (two letters where one exists, e.g. 'en'; a few languages "
        "have only three, e.g. 'ceb'); 'und' when there is nothing to identify."
    )
    confidence: float = Field(ge=0.0, le=1.0, description="The identifier's probability for `detected`.")
    declared: str | None = Field(default=None, description="The request's `language` hint, as sent (null if none).")


class GenreReading(BaseModel):
    """What kind of text this reads as. Information for the reader: it never raises the risk."""

    model_config = ConfigDict(frozen=True)

    label: GenreLabel
    confidence: float = Field(ge=0.0, le=1.0, description="The genre model's probability for `label`.")
    model_version: str = Field(description="The genre model that read it, e.g. 'genre-v1'.")
    explanation: str = Field(
        description="Why, in one sentence, e.g. 'Reads as a press release: \"released the following statement\".'"
    )
    cues: tuple[Evidence, ...] = Field(default=(), description="Genre cues found in the text, e.g. press-release boilerplate.")


class ResultWarning(BaseModel):
    """Something the reader of an assessed result should know, e.g. that the text is very short."""

    model_config = ConfigDict(frozen=True)

    code: WarningCode
    message: str


class RiskAssessment(BaseModel):
    """The result of scoring one article. A triage score, not a verdict.

    When the model cannot read the article (`assessed` is false), `score` and `level` are null and
    `reason` says why; that is a normal result, not an error.
    """

    model_config = ConfigDict(frozen=True)

    id: str | None = None
    assessed: bool = Field(default=True, description="False when the model cannot read the text: no score is given.")
    reason: NotAssessedReason | None = Field(default=None, description="Why the article was not assessed (null if it was).")
    reason_detail: str | None = Field(default=None, description="The reason as a sentence for people.")
    score: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Calibrated probability that the article is misleading, for a stream of articles with `base_rate` "
        "misleading ones; null if not assessed.",
    )
    level: RiskLevel | None = Field(
        default=None, description="low / medium / high, read from `score_calibrated`; null if not assessed."
    )
    score_calibrated: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="The model's own calibrated score, at the share of misleading articles in its training data (the "
        "model card's `prevalence`). The level thresholds were chosen on it. Equals `score` unless another base rate "
        "was asked for; null if not assessed.",
    )
    base_rate: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="The share of misleading articles `score` assumes: the base rate asked for (request, setting or "
        "option), else the training prevalence from the model card; null when neither is known, or not assessed.",
    )
    model_version: str
    language: LanguageReading | None = None
    genre: GenreReading | None = Field(default=None, description="What kind of text it reads as (null if not assessed).")
    warnings: tuple[ResultWarning, ...] = Field(default=(), description="Caveats about this result, e.g. 'short_text'.")
    signals: tuple[Signal, ...] = Field(default=(), description="Signals that fired, largest contribution first.")
    top_terms: tuple[TermContribution, ...] = Field(
        default=(),
        description="Text terms that pushed the score up (positive) or down (negative) the most; function words "
        "alone (such as 'the' or 'of the') are not listed, though they count in the score.",
    )
    sentences: tuple[SentenceContribution, ...] = Field(
        default=(),
        description="Every sentence (and the title) whose words or signal hits moved the score, in text order: the "
        "title first, then the sentences of the text.",
    )

    def signal(self, name: str) -> Signal | None:
        """The fired signal called `name` (with or without version), or None."""
        return next((s for s in self.signals if name in (s.name, s.heuristic)), None)

    def warning(self, code: str) -> ResultWarning | None:
        """The warning with this code, or None."""
        return next((w for w in self.warnings if w.code == code), None)

    def riskiest_sentences(self, n: int) -> list[SentenceContribution]:
        """Up to `n` sentences that raised the risk, the most first."""
        raising = [s for s in self.sentences if s.contribution > 0]
        return sorted(raising, key=lambda s: -s.contribution)[:n]
