"""The dashboard's pages, server-rendered (FastAPI + Jinja2): sign-in and what every page
shares (the session, the model shown, how points are written). Every page needs a signed-in
session (``app/users.py``); the session cookie is HttpOnly and SameSite=Lax (Secure over
HTTPS), and every form that changes something carries the session's CSRF token (sign-in
carries a token from its own cookie, so a form on another site cannot sign a visitor in
either)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from leadscore._types import MILLI
from leadscore.app.users import SESSION_HOURS, Session, may, session_of, sign_in, sign_out
from leadscore.errors import ConflictError, LeadscoreError, NotFoundError
from leadscore.service.runtime import Runtime, State
from leadscore.spec.model import ScoringModel

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
SESSION_COOKIE = "leadscore_session"
LOGIN_COOKIE = "leadscore_login"
#: Rows a list page shows at once.
PAGE = 50


def current_session(request: Request, state: Any) -> Session | None:
    """The signed-in session of the request's cookie, if any."""
    return session_of(state.store, request.cookies.get(SESSION_COOKIE))


#: Form fields every dashboard form bounds the same way: a session's CSRF token, and a short
#: text (an email, a name, a scope).
CsrfField = Annotated[str, Form(max_length=128)]
TextField = Annotated[str, Form(max_length=255)]


def status_of(exc: LeadscoreError) -> int:
    """The HTTP status a refused form answers with: 404 for what is not there, 409 for a
    conflict (an email with a user already, a stage change after the recycle), else 400."""
    if isinstance(exc, NotFoundError):
        return 404
    return 409 if isinstance(exc, ConflictError) else 400


def allowed(
    request: Request, state: Any, role: str, what: str, csrf: str | None = None
) -> Session | Response:
    """The session when its role may do what ``role`` may (and, for a form, ``csrf`` is its
    token), else the answer that says why not: sign in, 403 naming ``what``, or 403 for a
    form without its token."""
    session = current_session(request, state)
    if session is None:
        return to_login(request)
    if not may(session.role, role):
        context = {
            "session": session,
            "heading": "Not allowed",
            "message": f"Your role ({session.role}) cannot {what}.",
        }
        return templates.TemplateResponse(request, "missing.html", context, status_code=403)
    if csrf is not None and (refused := refused_form(session, csrf)) is not None:
        return refused
    return session


def to_login(request: Request) -> RedirectResponse:
    """To the sign-in page, coming back here after it."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)


def refused_form(session: Session, csrf: str) -> Response | None:
    """403 when a form does not carry its session's CSRF token (None: it does)."""
    if secrets.compare_digest(csrf, session.csrf):
        return None
    return HTMLResponse("The form expired: reload the page and try again.", 403)


def chosen_model(state: Runtime, model: str | None) -> ScoringModel:
    """The model a page shows: ``model`` when it is in use, else the first in use."""
    names = state.model_names()
    name = model if model in names else names[0]
    return next(m for m in state.models if m.name == name)


def points_text(milli: int) -> str:
    """Milli-points as a page shows them: ``12.5``."""
    return f"{milli / MILLI:g}"


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no ``//host``, no scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/leads"
    return target


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/leads", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, state: State, next: str | None = None) -> Response:
    if current_session(request, state) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login(request, next, "", None, 200)


def _login(
    request: Request, target: str | None, email: str, error: str | None, code: int
) -> Response:
    csrf = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    context = {"csrf": csrf, "next": _safe_next(target), "email": email, "error": error}
    page = templates.TemplateResponse(request, "login.html", context, status_code=code)
    page.set_cookie(LOGIN_COOKIE, csrf, httponly=True, samesite="strict", secure=_https(request))
    return page


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    state: State,
    email: TextField = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: CsrfField = "",
    next: Annotated[str, Form(max_length=2048)] = "/leads",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        return _login(request, next, email, "The form expired: please sign in again.", 403)
    signed = await asyncio.to_thread(sign_in, state.store, email, password)
    if signed is None:
        return _login(request, next, email, "Wrong email or password.", 401)
    token, _ = signed
    answer = RedirectResponse(_safe_next(next), status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=_https(request),
    )
    answer.delete_cookie(LOGIN_COOKIE)
    return answer


@router.post("/logout")
def logout(request: Request, state: State, csrf: CsrfField = "") -> Response:
    current = current_session(request, state)
    if current is None:
        return RedirectResponse("/login", status_code=303)
    if (refused := refused_form(current, csrf)) is not None:
        return refused
    sign_out(state.store, request.cookies.get(SESSION_COOKIE, ""))
    answer = RedirectResponse("/login", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer
