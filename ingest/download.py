"""Download a feed over http(s) with a size limit, a deadline and no other URL schemes."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPMessage, HTTPResponse
from typing import IO, cast

DEFAULT_TIMEOUT = 30.0
USER_AGENT = "misinfo-risk-batch/1.0"
_PIECE = 64 * 1024
_SCHEMES = ("http", "https")


class FetchError(OSError):
    """The document could not be downloaded within the limits."""


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow at most 5 redirects, and only to http(s) URLs (never file:, ftp:, data:)."""

    max_redirections = 5

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: HTTPMessage, newurl: str
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in _SCHEMES:
            raise FetchError(f"refused redirect to a non-http(s) URL: {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _HttpOnlyRedirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    return opener


def is_url(text: str) -> bool:
    """Whether `text` is an http(s) URL (the only kind of URL batch inputs may be)."""
    return urllib.parse.urlsplit(text).scheme.lower() in _SCHEMES and "://" in text


def fetch(url: str, *, max_bytes: int, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """The body at `url`; FetchError if it fails, exceeds `max_bytes` or takes longer than `timeout` s."""
    if not is_url(url):
        raise FetchError(f"only http(s) URLs can be fetched: {url}")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        with _opener().open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"{url}: document is {int(length):,} bytes; the limit is {max_bytes:,}")
            return _read_limited(cast(HTTPResponse, response), url, max_bytes, deadline)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise FetchError(f"{url}: {exc.reason}") from exc
    except (TimeoutError, OSError, ValueError) as exc:
        if isinstance(exc, FetchError):
            raise
        raise FetchError(f"{url}: {exc}") from exc


def _read_limited(response: HTTPResponse, url: str, max_bytes: int, deadline: float) -> bytes:
    pieces: list[bytes] = []
    size = 0
    # read1: return after one network read, so a server trickling bytes still meets the deadline.
    while piece := response.read1(_PIECE):
        size += len(piece)
        if size > max_bytes:
            raise FetchError(f"{url}: document is larger than the limit of {max_bytes:,} bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: download took longer than the timeout")
        pieces.append(piece)
    return b"".join(pieces)
