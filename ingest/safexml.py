"""Refuse XML that could attack the parser before any feed parser sees it.

feedparser expands entities declared in a document's internal DTD subset (an entity-expansion
"billion laughs" bomb goes straight through it), so every feed document is first checked here:
defusedxml parses it with entity declarations and external references forbidden. A document that
is not well-formed (feedparser can often still recover its entries) is scanned for entity
declarations instead, so malformed XML cannot smuggle them past the check.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)


class UnsafeXML(ValueError):
    """The document declares entities or references external resources; it was not parsed."""


def check_xml_safe(data: bytes) -> None:
    """Raise :class:`UnsafeXML` if `data` declares entities or external references.

    A DOCTYPE that only names an external DTD (RSS 0.91 does) is allowed: nothing loads it.

    >>> check_xml_safe(b'<!DOCTYPE r [<!ENTITY a "aa">]><r>&a;</r>')
    Traceback (most recent call last):
    ...
    ingest.safexml.UnsafeXML: entity declarations are not allowed (entity 'a')
    """
    try:
        safe_et.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden as exc:
        raise UnsafeXML(f"entity declarations are not allowed (entity {exc.name!r})") from exc
    except ExternalReferenceForbidden as exc:
        raise UnsafeXML(f"external references are not allowed ({exc.sysid!r})") from exc
    except (DTDForbidden, DefusedXmlException) as exc:
        raise UnsafeXML(f"unsafe XML construct: {exc!r}") from exc
    except (ParseError, ValueError, LookupError):
        # Not well-formed (or an unknown encoding): feedparser's lenient parser may still read
        # it, so make sure no entity declaration hides anywhere (NULs dropped for UTF-16/32).
        if _ENTITY_DECLARATION.search(data.replace(b"\x00", b"")):
            raise UnsafeXML("entity declarations are not allowed") from None
