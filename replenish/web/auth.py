"""Signing in: owner and staff accounts, sessions, CSRF, and a rate-limited login.

* Sessions are Starlette's signed cookie (``replenish_session``, 14 days, SameSite=Lax,
  Secure when ``web.base_url`` is https), signed with the installation's key.
* Every form an owner posts carries ``csrf``, the session's token; a post without it, or
  with another, is refused with 403 and changes nothing. (The courier's form is reached
  by a signed link, Twilio's posts by their signature: neither has a session.)
* ``/login`` allows 5 failed tries per address and per email in 10 minutes, then answers
  429 until the oldest failure is 10 minutes old. A try is counted when it is let in
  (tries sent in parallel cannot all slip through) and forgotten if it signs in. The
  count lives in the process (a second replica counts its own).
* Pages need a signed-in user (else a redirect to ``/login?next=...``); ``/api/v1``
  takes the session or ``Authorization: Bearer <token>`` (``replenish user token``) and
  answers 401 without either. A user sees only the shop the account belongs to.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine
from sqlmodel import Session

from replenish.db.models import Shop, User
from replenish.db.queries.users import authenticate, user_for_token

__all__ = ["CurrentUser", "LoginLimiter", "LoginRequired", "csrf_token", "owner_page",
           "read_form", "router"]

from replenish.web.pages import TEMPLATES

router = APIRouter(tags=["sign-in"])

SESSION_COOKIE = "replenish_session"
SESSION_DAYS = 14


class LoginRequired(Exception):
    """Raised by ``current_user`` on a page: answered with a redirect to /login."""


class LoginLimiter:
    """Failed sign-ins per key (address, email) in a sliding window."""

    def __init__(self, *, tries: int = 5, window_s: float = 600.0) -> None:
        self.tries, self.window_s = tries, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def attempt(self, keys: list[str], now: float) -> float:
        """Let a try in, counting it at once (so that tries sent in parallel are counted
        before any is checked): 0, or the seconds to wait when a key has used its tries."""
        with self._lock:
            waits = [failures[0] + self.window_s - now for key in keys
                     if len(failures := self._recent(key, now)) >= self.tries]
            if waits:
                return max(waits)
            for key in keys:
                self._failures[key].append(now)
            return 0.0

    def succeeded(self, keys: list[str], now: float) -> None:
        """A try that signed in: it does not count against its keys."""
        with self._lock:
            for key in keys:
                failures = self._failures.get(key)
                if failures is not None and now in failures:
                    failures.remove(now)


async def read_form(request: Request) -> dict[str, str]:
    """A url-encoded form (what the owner's pages post)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


def check_csrf(request: Request, form: dict[str, str]) -> None:
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(str(expected), form.get("csrf", "")):
        raise HTTPException(403, "this form has expired: reload the page and try again")


def _load_user(engine: Engine, user_id: int | None, token: str | None) -> tuple[
        User, Shop] | None:
    with Session(engine, expire_on_commit=False) as session:
        user = (session.get(User, user_id) if user_id is not None
                else user_for_token(session=session, token=token or ""))
        if user is None or not user.active:
            return None
        shop = session.get(Shop, user.shop_id)
        return (user, shop) if shop is not None else None


async def current_user(request: Request) -> tuple[User, Shop]:
    """The signed-in user and their shop; pages redirect to /login, the API says 401."""
    api = request.url.path.startswith("/api/")
    auth = request.headers.get("Authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
    user_id = request.session.get("user_id")
    found = None
    if user_id is not None or (api and token):
        found = await run_in_threadpool(_load_user, request.app.state.engine,
                                        user_id if not (api and token) else None, token)
    if found is None:
        if api:
            raise HTTPException(401, "sign in, or send Authorization: Bearer <your API token>",
                                headers={"WWW-Authenticate": "Bearer"})
        raise LoginRequired(request.url.path + (f"?{request.url.query}"
                                                if request.url.query else ""))
    return found


CurrentUser = Annotated[tuple[User, Shop], Depends(current_user)]


def owner_page(request: Request, user: User, shop: Shop, page: str) -> dict[str, Any]:
    """What every owner's page needs: the menu (shop, user, which page), the user's
    language and the session's CSRF token."""
    return {"shop": shop, "user": user, "csrf": csrf_token(request), "page": page,
            "locale": user.locale.value}


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another site: an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    return TEMPLATES.TemplateResponse(request, "login.html", {
        "csrf": csrf_token(request), "next": _safe_next(next), "error": None, "email": "",
        "locale": browser_locale(request)})


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    form = await read_form(request)
    check_csrf(request, form)
    email = form.get("email", "").strip().lower()
    client = request.client.host if request.client else "unknown"
    keys = [f"ip:{client}", f"email:{email}"]
    limiter: LoginLimiter = request.app.state.login_limiter
    now = time.monotonic()
    wait = limiter.attempt(keys, now)
    context = {"csrf": csrf_token(request), "next": _safe_next(form.get("next")),
               "email": email, "locale": browser_locale(request), "minutes": 0}
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return TEMPLATES.TemplateResponse(request, "login.html", context | {
            "error": "Too many tries. Wait {minutes} min and try again.",
            "minutes": minutes},
            status_code=429, headers={"Retry-After": str(int(wait) + 1)})

    def check() -> int | None:
        with Session(request.app.state.engine) as session:
            user = authenticate(session=session, email=email,
                                password=form.get("password", ""), now=datetime.now(UTC))
            session.commit()
            return None if user is None else user.id

    user_id = await run_in_threadpool(check)
    if user_id is None:
        return TEMPLATES.TemplateResponse(request, "login.html", context | {
            "error": "Wrong email or password."}, status_code=401)
    limiter.succeeded(keys, now)
    request.session.clear()  # a new session: nothing from before survives sign-in
    request.session["user_id"] = user_id
    csrf_token(request)
    return RedirectResponse(context["next"], status_code=303)


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    form = await read_form(request)
    check_csrf(request, form)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def browser_locale(request: Request) -> str:
    """The page language for someone not signed in: the browser's first choice among
    ours (Accept-Language), else English."""
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag in ("zh-cn", "zh-sg", "zh-hans", "zh-hans-cn"):
            return "zh-CN"
        if tag.startswith("zh"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return "en"


def login_redirect(target: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
