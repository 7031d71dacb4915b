"""Download a feed over http(s) with a size limit, a deadline, no other URL schemes and, by default,
only from public addresses.

The address check is made on the socket actually connected (its peer address), for the URL and
for every redirect, after DNS and before any request is sent: a host name that resolves to
127.0.0.1, a decimal or hex IP literal, or a public URL redirecting to 169.254.169.254 are all
refused. Through a proxy (http_proxy/https_proxy) the proxy makes the connection, so the target's
name is resolved here and each of its addresses checked instead.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from http.client import HTTPMessage, HTTPResponse
from typing import IO, Any, cast

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


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a download may connect to: public ones, plus `networks` (all, if `any_address`)."""

    any_address: bool = False
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, any_address: bool, networks: Iterable[str] = ()) -> AddressPolicy:
        """From the command line: any address, or public ones plus `networks` such as "10.0.0.0/8". Raises ValueError."""
        return cls(any_address, tuple(ipaddress.ip_network(net.strip(), strict=False) for net in networks))

    def check(self, address: str, host: str) -> None:
        """Raise FetchError unless `address` (an IP) is public or allowed."""
        ip = ipaddress.ip_address(address.partition("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if (ip.is_global and not ip.is_multicast) or self.any_address or any(ip in net for net in self.networks):
            return
        kind = (
            "loopback" if ip.is_loopback else "link-local" if ip.is_link_local else "private" if ip.is_private else "non-public"
        )
        raise FetchError(f"refused to download from {host} ({ip}): a {kind} address (--allow-private-addresses allows it)")


def _checked_connection(base: type[http.client.HTTPConnection], policy: AddressPolicy) -> type[http.client.HTTPConnection]:
    class Checked(base):  # type: ignore[valid-type, misc]  # a subclass of the class passed in
        def connect(self) -> None:
            super().connect()
            try:
                policy.check(self.sock.getpeername()[0], self.host)
            except FetchError:
                self.close()
                raise

    return Checked


def _proxied(url: str) -> bool:
    """Whether urllib's ProxyHandler sends `url` through a proxy (same rule: getproxies, proxy_bypass)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(parts.hostname or "")


def _check_resolved(url: str, policy: AddressPolicy) -> None:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        found: Iterable[Any] = socket.getaddrinfo(host, parts.port or 80, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"{url}: cannot resolve {host}: {exc}") from exc
    for *_, sockaddr in found:
        policy.check(str(sockaddr[0]), host)


class _CheckedHandler(urllib.request.HTTPSHandler):
    """http and https, each connection checked against the policy (through a proxy: the target's resolved addresses)."""

    http_request = urllib.request.AbstractHTTPHandler.do_request_  # as HTTPHandler prepares a request

    def __init__(self, policy: AddressPolicy) -> None:
        super().__init__()
        self.policy = policy

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self._checked_open(http.client.HTTPConnection, req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self._checked_open(http.client.HTTPSConnection, req)

    def _checked_open(self, base: type[http.client.HTTPConnection], req: urllib.request.Request) -> http.client.HTTPResponse:
        if _proxied(req.full_url):
            _check_resolved(req.full_url, self.policy)
            return self.do_open(base, req)
        return self.do_open(_checked_connection(base, self.policy), req)


def _opener(policy: AddressPolicy) -> urllib.request.OpenerDirector:
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        _CheckedHandler(policy),
        _HttpOnlyRedirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    return opener


def is_url(text: str) -> bool:
    """Whether `text` is an http(s) URL (the only kind of URL batch inputs may be)."""
    return urllib.parse.urlsplit(text).scheme.lower() in _SCHEMES and "://" in text


def fetch(url: str, *, max_bytes: int, timeout: float = DEFAULT_TIMEOUT, addresses: AddressPolicy | None = None) -> bytes:
    """The body at `url`; FetchError if it fails, exceeds `max_bytes` or takes longer than `timeout` s.

    `addresses`: where the download may connect (default: public addresses only, see AddressPolicy).
    """
    if not is_url(url):
        raise FetchError(f"only http(s) URLs can be fetched: {url}")
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        with _opener(addresses or AddressPolicy()).open(request, timeout=timeout) as response:
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
