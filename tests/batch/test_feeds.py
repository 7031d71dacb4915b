"""Feeds parsed with feedparser after the XML safety check: RSS 0.91/1.0/2.0 and Atom, HTML stripped, bad entries located."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from misinfo_risk.ingest import FeedError, check_xml_safe, html_to_text, parse_feed, read_feed
from misinfo_risk.ingest.safexml import UnsafeXML
from tests.batch.conftest import Entry, atom, entries, rss1, rss2

HTML = '<p>The council <b>approved</b> the&nbsp;budget.</p><script>alert("x")</script><p>Vote: 7&ndash;2</p>'
ENTRY = Entry("Budget & vote", HTML, "https://news.example/budget", guid="urn:budget")


@pytest.mark.parametrize("render", [rss2, atom, rss1], ids=["rss2", "atom", "rss1"])
def test_feed_entries_become_articles_in_order(render: Callable[[list[Entry]], bytes]) -> None:
    items = list(parse_feed(render([ENTRY, *entries(3)]), "feed.xml"))
    assert [i.location for i in items] == ["entry 1", "entry 2", "entry 3", "entry 4"]
    assert all(i.source == "feed.xml" and i.error is None for i in items)
    first = items[0].fields
    assert first is not None
    assert first["text"] == "The council approved the budget.\n\nVote: 7–2"
    assert first["title"] == "Budget & vote"
    assert first["url"] == "https://news.example/budget"
    assert first["published_at"] == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert first["source"] in {"Test Gazette", "Atom Times", "RDF Herald"}
    assert [i.fields["url"] for i in items[1:] if i.fields] == [f"https://news.example/{n}" for n in range(3)]


def test_ids_come_from_guid_or_link() -> None:
    rss = rss2([Entry("A", "<p>x</p>", "https://n.example/1", guid="urn:one"), Entry("B", "<p>y</p>", "https://n.example/2")])
    ids = [i.fields["id"] for i in parse_feed(rss, "f") if i.fields]
    assert ids == ["urn:one", "https://n.example/2"]


def test_rss_091_with_its_netscape_doctype_and_html_entities() -> None:
    doc = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel><title>Old News</title>'
        b"<link>http://old.example/</link><description>d</description><language>en-us</language>"
        b"<item><title>Caf&eacute; opens</title><link>http://old.example/1</link>"
        b"<description>The caf&eacute; &lt;i&gt;opened&lt;/i&gt; today.</description></item></channel></rss>"
    )
    [item] = list(parse_feed(doc, "old.rss"))
    assert item.fields is not None
    assert (item.fields["title"], item.fields["text"], item.fields["language"]) == (
        "Café opens",
        "The café opened today.",
        "en-us",
    )


def test_an_entry_without_text_is_still_an_item_in_place() -> None:
    doc = rss2([entries(1)[0], Entry("Title only", "", "https://n.example/empty"), entries(1, start=1)[0]])
    items = list(parse_feed(doc, "f.xml"))
    assert [i.location for i in items] == ["entry 1", "entry 2", "entry 3"]
    assert items[1].fields is not None and items[1].fields["text"] == ""  # parse_article turns this into the error


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<rss version="2.0"><channel><title>Bomb</title><item><title>boom</title><description>&g;</description></item></channel></rss>"""


def xxe(secret: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>X</title><item><title>t</title><description>&secret;</description></item>'
        "</channel></rss>"
    ).encode()


def test_entity_expansion_bomb_is_refused_before_parsing() -> None:
    # Expanded, &g; would be 70 * 25**6 bytes (about 17 GB): refusing must not expand anything.
    [item] = list(parse_feed(BOMB, "bomb.xml"))
    assert (item.location, item.fields) == ("source", None)
    assert item.error is not None and "unsafe XML refused" in item.error and "entity" in item.error


def test_external_entity_is_refused_and_the_file_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN", encoding="utf-8")
    [item] = list(parse_feed(xxe(secret), "xxe.xml"))
    assert item.error is not None and "unsafe XML refused" in item.error
    assert "TOP-SECRET-TOKEN" not in repr(item)


def test_entity_declarations_hidden_in_malformed_or_utf16_xml_are_refused() -> None:
    malformed = b'<rss><channel><item><title>x</titl></item><!DOCTYPE z [<!ENTITY q "qq">]>'
    with pytest.raises(UnsafeXML):
        check_xml_safe(malformed)
    with pytest.raises(UnsafeXML):
        check_xml_safe(BOMB.decode().replace('<?xml version="1.0"?>', "").encode("utf-16"))


def test_malformed_but_recoverable_feed_still_yields_entries() -> None:
    doc = rss2(entries(2)).replace(b"</item>", b"", 1)  # an unclosed <item>
    items = list(parse_feed(doc, "broken.xml"))
    assert items and all(i.error is None for i in items)


@pytest.mark.parametrize(
    "cut", ["<description>", "</item>", "</channel>", "</rss"], ids=["in-entry", "after-entry", "channel", "root"]
)
def test_a_feed_cut_off_is_refused_whole_not_scored_in_part(cut: str) -> None:
    """The lenient parser reads what is there: entries after the cut would be lost without a word (and the one
    it stops in read incomplete), so a document that ends before it closes is one source error."""
    whole = rss2(entries(4))
    end = [i for i in range(len(whole)) if whole.startswith(cut.encode(), i)][2 if cut in ("<description>", "</item>") else 0]
    [item] = list(parse_feed(whole[: end + len(cut) - 1], "cut.xml"))
    assert item.location == "source" and item.error is not None
    assert item.error.startswith("the document ends before the feed is closed: ") and "looks cut off" in item.error
    assert [i.location for i in parse_feed(whole, "whole.xml")] == ["entry 1", "entry 2", "entry 3", "entry 4"]


def test_not_a_feed_and_too_large_feeds_are_source_errors() -> None:
    [item] = list(parse_feed(b"just some text, not XML", "notes.txt"))
    assert item.location == "source" and item.error is not None and "not an RSS or Atom feed" in item.error
    with pytest.raises(FeedError, match="limit"):
        read_feed(rss2(entries(3)), max_bytes=100)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        (b"", "not an RSS or Atom feed: the document is empty"),
        (b" \n ", "not an RSS or Atom feed: the document is empty"),
        (b"https://example.org/rss", "not an RSS or Atom feed: not well-formed (invalid token) at line 1, column 7"),
        (b'<?xml version="1.0"?><p a=1>', "not an RSS or Atom feed: not well-formed (invalid token) at line 1, column 27"),
        (b"<html>\n<p a=1>", "not an RSS or Atom feed: not well-formed (invalid token) at line 2, column 6"),
    ],
    ids=["empty", "blank", "url", "own-declaration", "line-2"],
)
def test_not_a_feed_error_positions_are_in_the_document_as_sent(document: bytes, says: str) -> None:
    """The parser reads the checked text, which starts with a declaration the sender never wrote (38 characters
    for a document without one): its position on line 1 must not count them, nor call an empty body "1:38"."""
    [item] = list(parse_feed(document, "in.xml"))
    assert item.location == "source" and item.error == says


def test_html_to_text_keeps_blocks_and_drops_scripts() -> None:
    assert html_to_text("<div>One<br>Two</div><ul><li>Three</li></ul><style>p{}</style>") == "One\nTwo\n\nThree"
    assert html_to_text("Plain &amp; simple") == "Plain & simple"
