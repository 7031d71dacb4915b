"""Untrusted input becomes an Article or a typed error that names the field."""

from __future__ import annotations

from typing import Any

import pytest

from misinfo_risk.model.errors import InvalidArticle
from misinfo_risk.model.types import MAX_ARTICLE_CHARS, parse_article


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({}, "text", "missing"),
        ({"text": ""}, "text", "empty"),
        ({"text": " \n\t "}, "text", "empty"),
        ({"text": 42}, "text", "type"),
        ({"text": ["a"]}, "text", "type"),
        ({"text": "x" * (MAX_ARTICLE_CHARS + 1)}, "text", "too_long"),
        ({"text": "ok", "title": 7}, "title", "type"),
        ({"text": "ok", "published_at": "yesterday-ish"}, "published_at", "type"),
        ({"text": "bad \ud800 surrogate"}, "text", "invalid"),
        ("just a string", "article", "type"),
    ],
)
def test_invalid_articles_name_the_field(data: Any, field: str, reason: str) -> None:
    with pytest.raises(InvalidArticle) as info:
        parse_article(data)
    assert info.value.field == field
    assert info.value.reason == reason
    assert field in str(info.value)


@pytest.mark.parametrize("value", ["Tue, 10 Nov 2026 10:00:00 GMT", "yesterday", "2026-13-01", [2026]])
def test_a_bad_date_says_which_format_to_send(value: Any) -> None:
    """pydantic says "invalid character in year"; the message must say what a date should look like."""
    with pytest.raises(InvalidArticle) as info:
        parse_article({"text": "ok", "published_at": value})
    assert info.value.field == "published_at" and info.value.reason == "type"
    assert "ISO 8601" in info.value.message and "2026-11-10T09:30:00Z" in info.value.message, info.value.message


def test_limit_is_configurable() -> None:
    with pytest.raises(InvalidArticle, match="limit is 10"):
        parse_article({"text": "x" * 11}, max_chars=10)
    assert parse_article({"text": "x" * 11}, max_chars=11).text == "x" * 11


def test_optional_fields_are_kept_and_unknown_fields_ignored() -> None:
    article = parse_article(
        {
            "text": "Body.",
            "title": "T",
            "url": "https://e.example/a",
            "source": "Example",
            "language": "en",
            "id": "a1",
            "published_at": "2024-05-01T10:00:00Z",
            "extra": "ignored",
        }
    )
    assert (article.id, article.source, article.language, article.published_at.year) == ("a1", "Example", "en", 2024)  # type: ignore[union-attr]
    assert not hasattr(article, "extra")
