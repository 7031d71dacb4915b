"""Readers shared by `misinfo-risk batch` and the service: feeds, JSON Lines, CSV and Parquet -> items.

Every reader yields :class:`RawItem` objects in input order, each with its location (line, row
or entry) and either the article fields (not yet validated: `model.parse_article` does that) or
the reason the item could not be read. A bad item never stops the others.

    >>> from misinfo_risk.ingest import parse_feed
    >>> feed = b'<rss version="2.0"><channel><item><title>A</title><description>Text</description></item></channel></rss>'
    >>> [(item.location, item.fields["text"]) for item in parse_feed(feed, "feed.xml")]
    [('entry 1', 'Text')]

Feeds are checked for XML attacks (entity declarations, external entities) before parsing;
URLs are downloaded with a size limit and a timeout (`misinfo_risk.ingest.download.fetch`).
"""

from misinfo_risk.ingest.download import AddressPolicy, FetchError, fetch, is_url
from misinfo_risk.ingest.feeds import DEFAULT_MAX_FEED_BYTES, FeedError, feed_articles, parse_feed, read_feed
from misinfo_risk.ingest.htmltext import html_to_text
from misinfo_risk.ingest.items import ARTICLE_FIELDS, Columns, RawItem
from misinfo_risk.ingest.safexml import UnsafeXML, check_xml_safe
from misinfo_risk.ingest.sources import (
    FORMATS,
    InputError,
    ReadOptions,
    Source,
    count_source,
    detect_format,
    expand_inputs,
    read_source,
)

__all__ = [
    "ARTICLE_FIELDS",
    "DEFAULT_MAX_FEED_BYTES",
    "FORMATS",
    "Columns",
    "AddressPolicy",
    "FeedError",
    "FetchError",
    "InputError",
    "RawItem",
    "ReadOptions",
    "Source",
    "UnsafeXML",
    "check_xml_safe",
    "count_source",
    "detect_format",
    "expand_inputs",
    "feed_articles",
    "fetch",
    "html_to_text",
    "is_url",
    "parse_feed",
    "read_feed",
    "read_source",
]
