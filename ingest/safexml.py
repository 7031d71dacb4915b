"""Refuse XML that could attack the parser before any feed parser sees it.

feedparser expands entities declared in a document's internal DTD subset (an entity-expansion
"billion laughs" bomb goes straight through it), so every feed document is first checked here.
The check runs on the document's text, not its bytes: the document is decoded first (byte-order
mark, else the first bytes and the encoding its XML declaration names: UTF-16/32, EBCDIC such as
cp037 or cp500, UTF-7, ...), and the caller parses exactly the UTF-8 text that was checked, so no
encoding can show the checker one thing and the parser another. defusedxml then parses it with
entity declarations and external references forbidden. A document that is not well-formed
(feedparser can often still recover its entries) is scanned for entity declarations instead, so
malformed XML cannot smuggle them past the check.
"""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

_ENTITY_DECLARATION = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DECLARATION = re.compile(r"^<\?xml[^>]*?>")
_DECLARED_ENCODING = re.compile(r"""^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
UTF8_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>"
# Byte-order marks (UTF-32 before UTF-16: FF FE 00 00 starts with FF FE), then the first bytes of
# "<?" in encodings that are not ASCII-compatible (XML 1.0, appendix F).
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
)  # fmt: skip
_SNIFFED = (
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"), (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"), (b"\x4c\x6f\xa7\x94", "cp037"),
)  # fmt: skip
_FALLBACKS = ("utf-8", "windows-1252", "iso-8859-1")  # feedparser's own fallbacks; the last never fails


class UnsafeXML(ValueError):
    """The document declares entities or references external resources; it was not parsed."""


def check_xml_safe(data: bytes) -> bytes:
    """Raise :class:`UnsafeXML` if `data` declares entities or external references, whatever its encoding.

    Returns the document as UTF-8 with a UTF-8 XML declaration: the text that was checked, which is
    what a parser must be given (never `data` itself). A DOCTYPE that only names an external DTD
    (RSS 0.91 does) is allowed: nothing loads it.

    >>> check_xml_safe(b'<!DOCTYPE r [<!ENTITY a "aa">]><r>&a;</r>')
    Traceback (most recent call last):
    ...
    ingest.safexml.UnsafeXML: entity declarations are not allowed (entity 'a')
    >>> check_xml_safe('<?xml version="1.0" encoding="cp500"?><r>caf\\xe9</r>'.encode("cp500"))
    b"<?xml version='1.0' encoding='utf-8'?><r>caf\\xc3\\xa9</r>"
    """
    text = decode_xml(data)
    utf8 = (_DECLARATION.sub(UTF8_DECLARATION, text, count=1) if _DECLARATION.match(text) else UTF8_DECLARATION + text).encode()
    try:
        safe_et.fromstring(utf8, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        raise UnsafeXML(f"entity declarations are not allowed (entity {exc.name!r})") from exc
    except ExternalReferenceForbidden as exc:
        raise UnsafeXML(f"external references are not allowed ({exc.sysid!r})") from exc
    except (DTDForbidden, DefusedXmlException) as exc:
        raise UnsafeXML(f"unsafe XML construct: {exc!r}") from exc
    except (ParseError, ValueError, LookupError):
        # Not well-formed: feedparser's lenient parser may still read it, so make sure no entity
        # declaration hides anywhere in the text.
        if _ENTITY_DECLARATION.search(text):
            raise UnsafeXML("entity declarations are not allowed") from None
    return utf8


def declaration_shift(data: bytes) -> int:
    """How many characters :func:`check_xml_safe` adds to the start of line 1 of `data` (negative: removes).

    It puts its own UTF-8 declaration in place of the document's (or before it, if there is none); a parser's
    error column on line 1 of the checked text, minus this, is the column in the document as sent.

    >>> declaration_shift(b"<rss/>"), declaration_shift(b'<?xml version="1.0" encoding="UTF-8"?><rss/>')
    (38, 0)
    """
    declared = _DECLARATION.match(decode_xml(data))
    return len(UTF8_DECLARATION) - (len(declared.group(0)) if declared else 0)


def decode_xml(data: bytes) -> str:
    """The text of an XML document: its byte-order mark, else its first bytes and declared encoding.

    A declared encoding that Python does not know, or that the bytes do not follow, falls back to
    UTF-8, then Windows-1252, then ISO-8859-1 (as feedparser does); the result is always the text
    that is checked and then parsed, so a wrong guess can garble characters but never hide markup.
    """
    sniffed, data = _sniff(data)
    declared = _DECLARED_ENCODING.match(data[:1024].decode(sniffed or "iso-8859-1", errors="replace"))
    # A byte-order mark or a UTF-16/32 pattern is certain; the EBCDIC pattern only says "some EBCDIC",
    # and the declaration names which one (cp037, cp500, ...).
    certain = [sniffed] if sniffed and sniffed != "cp037" else []
    named = [declared.group(1)] if declared else []
    for encoding in (*certain, *named, sniffed, *_FALLBACKS):
        if encoding is None:
            continue
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    raise AssertionError("unreachable: ISO-8859-1 decodes any bytes")


def _sniff(data: bytes) -> tuple[str | None, bytes]:
    """The encoding a byte-order mark (removed) or the first bytes show, if any; and the data."""
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            return encoding, data[len(mark) :]
    for prefix, encoding in _SNIFFED:
        if data.startswith(prefix):
            return encoding, data
    return None, data
