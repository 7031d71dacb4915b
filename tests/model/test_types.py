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
