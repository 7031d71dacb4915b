"""`Doc`: an Article prepared once for every heuristic and feature (normalised, tokenised, scanned)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from misinfo_risk.model.text import DATELINE, LEXICON, TOKEN, Hit, NormText
from misinfo_risk.model.types import Article, Evidence, Section


class Doc:
    """An article with its normalised sections and lazily computed, cached analyses.

    Heuristics and feature transformers take a `Doc`; the scorer builds one per article, so
    the text is normalised, tokenised and phrase-scanned once however many features use it.
    """

    __slots__ = ("article", "title", "text", "_phrases", "_tokens", "_title_tokens", "_hits", "_counts", "_dateline")

    def __init__(self, article: Article) -> None:
        self.article = article
        self.title = NormText(article.title or "")
        self.text = NormText(article.text)
        self._phrases: dict[str, list[Hit]] | None = None
        self._tokens: list[str] | None = None
        self._title_tokens: list[str] | None = None
        self._hits: dict[str, list[Hit]] = {}
        self._counts: dict[tuple[int, bool, bool], Counter[str]] = {}
        self._dateline: int | None = None

    def section(self, name: Section) -> NormText:
        return self.title if name == "title" else self.text

    @property
    def tokens(self) -> list[str]:
        """Lower-cased word tokens of the body text."""
        if self._tokens is None:
            self._tokens = TOKEN.findall(self.text.low)
        return self._tokens

    @property
    def title_tokens(self) -> list[str]:
        """Lower-cased word tokens of the title."""
        if self._title_tokens is None:
            self._title_tokens = TOKEN.findall(self.title.low)
        return self._title_tokens

    @property
    def dateline_tokens(self) -> int:
        """How many of the body's first tokens are a news dateline ("WASHINGTON (Reuters) -", "(CNN)"); see text.DATELINE."""
        if self._dateline is None:
            found = DATELINE.match(self.text.norm)
            self._dateline = len(TOKEN.findall(self.text.low[: found.end()])) if found else 0
        return self._dateline

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

    def term_counts(self, ngram_max: int, title_terms: bool, skip_dateline: bool = False) -> Counter[str]:
        """Counts of the body's word n-grams (1..ngram_max) and, with `title_terms`, 'title:<word>' terms.

        `skip_dateline`: leave the words of a dateline at the start of the text out (a wire service's or
        a place's name says who published the text, not whether it is true).
        Cached per shape: the risk and genre models count the same terms once.
        """
        key = (ngram_max, title_terms, skip_dateline)
        counts = self._counts.get(key)
        if counts is None:
            tokens = self.tokens[self.dateline_tokens :] if skip_dateline else self.tokens
            terms = list(tokens)
            if ngram_max >= 2:
                terms += map(" ".join, zip(tokens, tokens[1:], strict=False))
            if title_terms and self.article.title:
                terms += ["title:" + t for t in self.title_tokens]
            counts = self._counts[key] = Counter(terms)
        return counts

    def evidence(self, hits: Iterable[Hit]) -> list[Evidence]:
        """Hits (normalised offsets) as Evidence: offsets into the title or text exactly as sent, with the words."""
        out = []
        for hit in hits:
            section = self.section(hit.section)
            a, b = section.original_span(hit.start, hit.end)
            out.append(Evidence(section=hit.section, start=a, end=b, text=section.orig[a:b]))
        return out

    def cached_hits(self, name: str) -> list[Hit] | None:
        return self._hits.get(name)

    def store_hits(self, name: str, hits: list[Hit]) -> None:
        self._hits[name] = hits


def as_doc(item: Article | Doc) -> Doc:
    """Accept an Article or an already prepared Doc."""
    return item if isinstance(item, Doc) else Doc(item)
