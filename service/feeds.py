"""POST /v1/feeds/score: score every entry of an RSS or Atom document sent as the request body.

The body is the feed document itself (the service never fetches URLs). It is checked for XML
attacks (entity declarations, external entities) and parsed with feedparser by `ingest`, the
same reader `misinfo-risk batch` uses; each entry becomes an article (title, text with HTML
stripped, link, id, published date, the feed's title as source). The response has the batch
endpoint's shape: one result per entry in feed order, an error object in place of an entry
that cannot be scored.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from misinfo_risk.ingest.feeds import FeedError, feed_articles
from misinfo_risk.service import schemas
from misinfo_risk.service.auth import authorized_state
from misinfo_risk.service.bodies import JSON, read_body, require_media_type
from misinfo_risk.service.errors import FieldError, Problem
from misinfo_risk.service.scoring import base_rate_of, batch_body, score_batch

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")

router = APIRouter(prefix="/v1", tags=["scoring"])

_EXAMPLE_RSS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Example Gazette</title>'
    "<link>https://gazette.example/</link><description>News</description>\n"
    "<item><title>Council approves budget</title><link>https://gazette.example/budget</link>"
    "<description>&lt;p&gt;The city council voted 7-2 on Tuesday to approve the budget.&lt;/p&gt;</description></item>\n"
    "<item><title>SHOCKING: what they hide</title><link>https://gazette.example/shock</link>"
    "<description>Insiders say the cure WORKS. Share this before it gets deleted!!!</description></item>\n"
    "</channel></rss>\n"
)

FEED_DOCS = schemas.scoring_docs(
    "Score every entry of an RSS or Atom feed",
    {t: {"schema": {"type": "string", "format": "xml"}, "example": _EXAMPLE_RSS} for t in FEED_TYPES},
    "One result per entry, in feed order: an assessment (its `id` is the entry's id or link), "
    "or an error object in the place of an entry that cannot be scored (e.g. no text).",
    {"application/json": {"schema": schemas.ref("BatchResult")}},
)


def _invalid_feed(message: str) -> Problem:
    return Problem(422, "invalid-request", f"The feed in the body cannot be read: {message}", [
        FieldError("body", "invalid", message)
    ])  # fmt: skip


@router.post("/feeds/score", response_model=None, **FEED_DOCS)
async def score_feed(request: Request) -> Response:
    """Score every entry of the RSS 0.9x/1.0/2.0 or Atom document in the body, in feed order."""
    state = authorized_state(request)
    require_media_type(request, FEED_TYPES, shown=FEED_TYPES[:3], any_charset=True)  # XML declares its own encoding
    settings = state.settings
    base_rate = base_rate_of(request, state)
    body = await read_body(request, settings.max_batch_body_bytes)
    try:
        # feedparser is CPU-bound: keep the event loop free for other requests
        items = await asyncio.to_thread(feed_articles, body, max_bytes=settings.max_batch_body_bytes)
    except FeedError as exc:
        raise _invalid_feed(str(exc)) from exc
    if len(items) > settings.max_batch_items:
        raise Problem(413, "too-many-items", f"The feed has {len(items):,} entries; the limit is {settings.max_batch_items:,}.")
    outcomes = await score_batch(state, items, endpoint="feed", base_rate=base_rate)
    return Response(batch_body(state.scorer.version, outcomes), media_type=JSON)
