"""The review page, /docs and /redoc as HTTP resources: open without a key, local assets only, a strict CSP.

What they do in a browser is tested in tests/browser (headless Chromium).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import API_KEY, make_client

PAGES = ("/", "/docs", "/redoc")


class _Refs(HTMLParser):
    """Every URL an HTML page refers to, and anything inline that a strict CSP would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href", "spec-url", "data-openapi-url") and v and v[0] != "#"]
        self.inline += [f"{tag} {k}=" for k, _ in attrs if k == "style" or k.startswith("on")]
        if tag == "style":
            self.inline.append("<style>")
        self._in_script = tag == "script" and "src" not in named

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("inline <script>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def refs(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def keyed(tiny_artifact: Path) -> TestClient:
    with make_client(tiny_artifact, api_keys=(API_KEY,), max_batch_items=7) as client:
        yield client


@pytest.mark.parametrize("path", PAGES)
def test_pages_and_every_asset_they_use_load_without_a_key_from_this_origin(keyed: TestClient, path: str) -> None:
    page = keyed.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    found = refs(page.text)
    assert found.urls and found.inline == []
    for url in found.urls:
        assert url.startswith("/") and not url.startswith("//"), url  # nothing from another origin
        asset = keyed.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 50


def test_the_review_page_allows_no_inline_script_or_style_and_knows_the_limits(keyed: TestClient) -> None:
    page = keyed.get("/")
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "style-src 'self';" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert 'data-max-batch-items="7"' in page.text and 'data-key-required="true"' in page.text
    assert keyed.get("/ui/review.js").headers["content-type"].startswith("text/javascript")
    assert keyed.get("/ui/review.css").headers["content-type"].startswith("text/css")


def test_the_api_behind_the_page_still_needs_the_key(keyed: TestClient) -> None:
    article = {"text": "The council voted on Tuesday, officials said."}
    assert keyed.post("/v1/score", json=article).status_code == 401
    assert keyed.post("/v1/score", json=article, headers={"authorization": f"Bearer {API_KEY}"}).status_code == 200


def test_docs_use_the_pinned_local_swagger_ui_and_redoc(client: TestClient) -> None:
    assert "/ui/vendor/swagger-ui-bundle.js" in client.get("/docs").text
    assert "/ui/vendor/redoc.standalone.js" in client.get("/redoc").text
    assert client.get("/ui/vendor/swagger-ui.css").status_code == 200


@pytest.mark.parametrize("path", ["/ui/", "/ui/index.html", "/ui/../pages.py", "/ui/vendor/../core.py", "/ui/nothing.js"])
def test_only_the_static_files_are_served(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_links_follow_a_root_path(tiny_artifact: Path) -> None:
    """Behind a proxy that serves the app under /risk, the page refers to /risk/ui/... and /risk/openapi.json."""
    with make_client(tiny_artifact) as plain:
        app = plain.app
    with TestClient(app, root_path="/risk") as client:
        for path in PAGES:
            urls = refs(client.get(path).text).urls
            assert urls and all(u.startswith("/risk/") for u in urls), urls
