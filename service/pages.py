"""The review page at `/` and the API docs at `/docs` and `/redoc`, all from local files (docs/service.md, "The review page").

    app = FastAPI(..., docs_url=None, redoc_url=None)    # FastAPI's own docs pages load a CDN
    pages.install(app)

Templates are in service/ui/, CSS and JavaScript in service/ui/static/ (served under /ui/); Swagger UI and
ReDoc come from the pinned `fastapi-offline` package (under /ui/vendor/). Nothing needs an API key but the
page's calls to /v1.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from string import Template

import fastapi_offline
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

UI_DIR = Path(__file__).parent / "ui"
STATIC_DIR = UI_DIR / "static"
VENDOR_DIR = Path(fastapi_offline.__file__).parent / "static"

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DOCS_CSP = (  # inline style: ReDoc writes its own <style> elements
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-cache"}


def install(app: FastAPI) -> None:
    """Add `/`, `/docs`, `/redoc` and the static files under `/ui` to `app`."""
    templates = {name: Template((UI_DIR / f"{name}.html").read_text(encoding="utf-8")) for name in ("index", "docs", "redoc")}

    async def render(name: str, csp: str, request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        settings = request.app.state.settings
        values = {
            "root": root,
            "title": app.title,
            "openapi_url": root + (app.openapi_url or "/openapi.json"),
            "max_batch_items": str(settings.max_batch_items),
            "key_required": "true" if request.app.state.api_keys.enabled else "false",
        }
        body = templates[name].substitute({k: html.escape(v) for k, v in values.items()})
        return HTMLResponse(body, headers=_HEADERS | {"content-security-policy": csp})

    for path, name, csp in (("/", "index", PAGE_CSP), ("/docs", "docs", DOCS_CSP), ("/redoc", "redoc", DOCS_CSP)):
        app.add_route(path, functools.partial(render, name, csp), include_in_schema=False)
    # the more specific mount first: /ui would otherwise answer /ui/vendor/... with a 404
    app.mount("/ui/vendor", StaticFiles(directory=VENDOR_DIR), name="ui-vendor")
    app.mount("/ui", StaticFiles(directory=STATIC_DIR), name="ui")
