"""`Doc`: an Article prepared once for every heuristic and feature (normalised, tokenised, scanned)."""

from __future__ import annotations

from collections.abc import Iterable

from model.text import LEXICON, TOKEN, Hit, NormText
from model.types import Article, Section


class Doc:
    """An article with its normalised sections and lazily computed, cached analyses.

    Heuristics and feature transformers take a `Doc`; the scorer builds one per article, so
    the text is normalised, tokenised and phrase-scanned once however many features use it.
    """

    __slots__ = ("article", "title", "text", "_phrases", "_tokens", "_hits")

    def __init__(self, article: Article) -> None:
        self.article = article
        self.title = NormText(article.title or "")
        self.text = NormText(article.text)
        self._phrases: dict[str, list[Hit]] | None = None
        self._tokens: list[str] | None = None
        self._hits: dict[str, list[Hit]] = {}

    def section(self, name: Section) -> NormText:
        return self.title if name == "title" else self.text

    @property
    def tokens(self) -> list[str]:
        """Lower-cased word tokens of the body text."""
        if self._tokens is None:
            self._tokens = TOKEN.findall(self.text.low)
        return self._tokens

    @property
    def n_words(self) -> int:
        return len(self.tokens)

    def phrases(self, key: str, sections: Iterable[Section] = ("title", "text")) -> list[Hit]:
        """Whole-word matches of the lexicon group `key` in the given sections."""
        if self._phrases is None:
            found: dict[str, list[Hit]] = {}
            for name in ("title", "text"):
                for group, spans in LEXICON.scan(self.section(name).low).items():
                    found.setdefault(group, []).extend(Hit(name, s, e) for s, e in spans)
            self._phrases = found
        return [h for h in self._phrases.get(key, ()) if h.section in sections]

    def cached_hits(self, name: str) -> list[Hit] | None:
        return self._hits.get(name)

    def store_hits(self, name: str, hits: list[Hit]) -> None:
        self._hits[name] = hits


def as_doc(item: Article | Doc) -> Doc:
    """Accept an Article or an already prepared Doc."""
    return item if isinstance(item, Doc) else Doc(item)
