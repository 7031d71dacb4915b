"""RSS 0.9x/1.0/2.0 and Atom documents -> items, with feedparser, after the safety check.

Each entry becomes an item with title, text (content or summary with HTML stripped to plain
text), url (link), id (the entry id, else its link), published_at and source (the feed title).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import errors
from xml.sax import SAXParseException

import feedparser

from misinfo_risk.ingest.htmltext import html_to_text
from misinfo_risk.ingest.items import RawItem
from misinfo_risk.ingest.safexml import UnsafeXML, check_xml_safe, declaration_shift

DEFAULT_MAX_FEED_BYTES = 20 * 1024 * 1024
MAX_SOURCE_CHARS = 1_000  # Article.source's limit: a long channel title must not fail every entry
_ENDS_EARLY = frozenset(
    [
        errors.XML_ERROR_NO_ELEMENTS,
        errors.XML_ERROR_UNCLOSED_TOKEN,
        errors.XML_ERROR_PARTIAL_CHAR,
        errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    ]
)
"""The parser's errors for a document that stops before its last element closes (it was cut off)."""


class FeedError(ValueError):
    """The document is not a readable feed (unsafe, too large, or not RSS/Atom)."""


def parse_feed(data: bytes, source: str, *, max_bytes: int = DEFAULT_MAX_FEED_BYTES) -> Iterator[RawItem]:
    """Yield one item per entry of the feed document `data`, in document order.

    A document that cannot be read at all yields a single error item with location ``"source"``.

    >>> rss = b'<rss version="2.0"><channel><title>Gazette</title><item><title>Hi</title>'
    >>> rss += b'<description>&lt;p&gt;Council &lt;b&gt;votes&lt;/b&gt;&lt;/p&gt;</description></item></channel></rss>'
    >>> [(i.location, i.fields["text"], i.fields["source"]) for i in parse_feed(rss, "gazette.xml")]
    [('entry 1', 'Council votes', 'Gazette')]
    """
    try:
        articles = feed_articles(data, max_bytes=max_bytes)
    except FeedError as exc:
        yield RawItem(source, "source", error=str(exc))
        return
    for number, fields in enumerate(articles, start=1):
        yield RawItem(source, f"entry {number}", fields=fields)


def feed_articles(data: bytes, *, max_bytes: int = DEFAULT_MAX_FEED_BYTES) -> list[dict[str, Any]]:
    """The article fields of every entry of the feed document `data`, in order. Raises FeedError."""
    entries, feed = read_feed(data, max_bytes=max_bytes)
    feed_title = _plain(feed.get("title_detail"), feed.get("title"))[:MAX_SOURCE_CHARS] or None
    return [entry_fields(entry, feed_title, feed.get("language")) for entry in entries]


def read_feed(data: bytes, *, max_bytes: int = DEFAULT_MAX_FEED_BYTES) -> tuple[list[Any], Mapping[str, Any]]:
    """Parse a feed document safely: its entries and its channel metadata. Raises FeedError."""
    if len(data) > max_bytes:
        raise FeedError(f"feed document is {len(data):,} bytes; the limit is {max_bytes:,}")
    try:
        checked = check_xml_safe(data)  # the UTF-8 text that was checked: parse this, never `data`
    except UnsafeXML as exc:
        raise FeedError(f"unsafe XML refused: {exc}") from exc
    # A stream, never bytes or str: feedparser treats a string as a URL or a file name to open.
    parsed = feedparser.parse(io.BytesIO(checked), resolve_relative_uris=False, sanitize_html=True)
    reason = parsed.get("bozo_exception")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(f"not an RSS or Atom feed{_why_not(data, reason)}")
    if isinstance(reason, SAXParseException) and reason.getMessage() in _ENDS_EARLY:
        # feedparser's lenient parser reads what is there: the entries after the cut would be lost without
        # a word and the last one read may be incomplete, so the whole document is refused
        detail = f"the document ends before the feed is closed{_why_not(data, reason)}; it looks cut off "
        raise FeedError(detail + f"after {len(parsed.entries):,} entries (the last possibly incomplete): send the whole document")
    return list(parsed.entries), parsed.feed


def _why_not(data: bytes, reason: object) -> str:
    """What the parser found (after ": "), placed in the document as sent; "" if the parser said nothing.

    The parser read the checked text (see check_xml_safe), whose first line starts with a declaration the
    sender never wrote: its "<unknown>:1:38" would send them 38 columns too far (an empty body is
    "1:38: no element found").
    """
    if not data.strip():
        return ": the document is empty"
    if isinstance(reason, SAXParseException):
        line, column = reason.getLineNumber(), reason.getColumnNumber()  # column from 0
        if line is not None and column is not None:
            if line == 1:
                column = max(column - declaration_shift(data), 0)
            return f": {reason.getMessage()} at line {line}, column {column + 1}"
    return f": {reason}" if reason else ""


def entry_fields(entry: Mapping[str, Any], feed_title: str | None, language: str | None) -> dict[str, Any]:
    """Article fields of one feedparser entry."""
    fields: dict[str, Any] = {"text": _entry_text(entry), "title": _plain(entry.get("title_detail"), entry.get("title")) or None}
    link = entry.get("link")
    if link:
        fields["url"] = link
    ident = entry.get("id") or link
    if ident:
        fields["id"] = ident
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    if published:
        year, month, day, hour, minute, second = published[:6]
        fields["published_at"] = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    if feed_title:
        fields["source"] = feed_title
    if language:
        fields["language"] = language
    return fields


def _entry_text(entry: Mapping[str, Any]) -> str:
    for content in entry.get("content") or ():
        text = _plain(content, content.get("value"))
        if text:
            return text
    return _plain(entry.get("summary_detail"), entry.get("summary"))


def _plain(detail: Mapping[str, Any] | None, value: str | None) -> str:
    if not value:
        return ""
    kind = (detail or {}).get("type") or "text/html"
    return html_to_text(value) if "html" in kind else value.strip()
