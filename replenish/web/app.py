"""The web app: the owner's pages behind a sign-in (``replenish.web.auth``), the
courier's page behind a signed link (``replenish.web.courier``), Twilio's webhooks
behind their signature (``replenish.web.twilio``), and ``/api/v1``.

Pages so far: the morning view of who runs out first (``/``) and the conversation inbox
with the phone panel (``/messages``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware

from replenish.conversation.pending import InboundWorker, process_pending
from replenish.db import make_engine
from replenish.db.queries.secrets import signing_key
from replenish.settings import Settings
from replenish.web.api import router as api_router
from replenish.web.auth import (
    SESSION_COOKIE,
    SESSION_DAYS,
    LoginLimiter,
    LoginRequired,
    login_redirect,
)
from replenish.web.auth import router as auth_router
from replenish.web.courier import router as courier_router
from replenish.web.customer_import import router as customer_import_router
from replenish.web.customers import router as customers_router
from replenish.web.detail import router as detail_router
from replenish.web.jobs_page import router as jobs_router
from replenish.web.messages import router as messages_router
from replenish.web.routes_page import router as routes_router
from replenish.web.today import router as today_router
from replenish.web.twilio import router as twilio_router


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # texts stored by the webhook but not applied before the last stop
    await run_in_threadpool(process_pending, engine=app.state.engine, settings=app.state.settings)
    worker = InboundWorker(engine=app.state.engine, settings=app.state.settings)
    worker.start()
    app.state.inbound_worker = worker
    try:
        yield
    finally:
        worker.stop()


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    app = FastAPI(title="replenish", version="0.1.0", lifespan=_lifespan)
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.settings = settings
    app.state.login_limiter = LoginLimiter()
    app.add_middleware(
        SessionMiddleware, secret_key=signing_key(engine=app.state.engine, settings=settings),
        session_cookie=SESSION_COOKIE, max_age=SESSION_DAYS * 86400, same_site="lax",
        https_only=settings.web.base_url.startswith("https://"))
    app.add_exception_handler(LoginRequired, _to_login)
    app.include_router(twilio_router)  # POST /twilio/sms, /twilio/status
    app.include_router(courier_router)  # /courier/{signed link}: a courier's route
    app.include_router(auth_router)  # /login, /logout
    app.include_router(messages_router)  # /messages: the inbox and the phone panel
    app.include_router(today_router)  # /: the morning page
    app.include_router(customers_router)  # /customers: list, add, edit, holds
    app.include_router(customer_import_router)  # /customers/import: a CSV file
    app.include_router(detail_router)  # /customers/{id}: chart, thread, drops
    app.include_router(routes_router)  # /routes: the day's routes, sketch, print, build
    app.include_router(jobs_router)  # /jobs: next runs, last results, run now
    app.include_router(api_router)  # /api/v1: customers, readings, drops, forecasts, routes

    return app


async def _to_login(request: Request, error: Exception) -> Response:
    return login_redirect(str(error.args[0]) if error.args else "/")
