"""`create_app(settings)`: the FastAPI application (`uvicorn misinfo_risk.service.app:create_app --factory`, per worker).

Nothing is built at import time; the lifespan starts the worker's ServiceState before the first request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from misinfo_risk import __version__
from misinfo_risk.service import metrics, pages, routes, schemas
from misinfo_risk.service.auth import ApiKeys
from misinfo_risk.service.errors import EXCEPTION_HANDLERS
from misinfo_risk.service.middleware import RequestContextMiddleware
from misinfo_risk.service.scoring import ServiceState
from misinfo_risk.service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: from RISK_* environment variables)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await ServiceState.start(settings)
        metrics.set_model(state.scorer.card, state.scorer.signal_names)
        app.state.service = state
        try:
            yield
        finally:
            app.state.service = None
            await state.close()
            metrics.mark_this_process_dead()

    app = FastAPI(
        title="misinfo-risk",
        version=__version__,
        description=schemas.API_DESCRIPTION,
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        redirect_slashes=False,  # a redirect would be built from the client's Host header: answer 404 instead
        docs_url=None,  # FastAPI's docs pages load their scripts from a CDN: service/pages.py serves local ones
        redoc_url=None,
    )
    app.state.settings = settings  # app.state.service: set by the lifespan (auth.service_state answers 503 until then)
    app.state.api_keys = ApiKeys(tuple(k.get_secret_value() for k in settings.api_keys))
    app.include_router(routes.operations)
    app.include_router(routes.router)
    pages.install(app)  # the review page at /, /docs and /redoc
    schemas.install_openapi(app)
    app.add_middleware(RequestContextMiddleware, settings=settings)  # added last: outermost
    return app
