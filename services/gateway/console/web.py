"""The console's machinery: the page table's rows, one request's ``View``, what a page answers, and the
``Console`` that turns a browser's request into a page.

A page is a small function ``run(view) -> Html | Redirect | Download``. It reads and acts only through
``view.api(route_name, …)``, which builds an API request with the browser's session as its credential and runs it
through the gateway's own pipeline (``Gateway.handle``): the console holds no rule of its own about who may do
what. A refusal comes back as :class:`Refused`, carrying the sentence to show and the field it belongs to.

Security: the session cookie is HttpOnly, SameSite=Strict, Path=/console (Secure unless configured off for plain
http); every form carries a CSRF token (the session's, or before login a double-submit cookie's) and a fresh
Idempotency-Key, so a double click pays once; pages are ``no-store`` and framed by nobody; the Content Security
Policy allows scripts and styles from the console itself only (htmx runs with eval off).
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from services.gateway.auth import User
from services.gateway.console.i18n import DEFAULT, LANGUAGES, Language
from services.gateway.console.refusals import Refusal, refusal
from services.gateway.core import ApiRequest, Gateway
from services.gateway.routes import ROUTES
from shared.log import get_logger

BASE = "/console"
SESSION_COOKIE = "berdaya_session"
FORM_COOKIE = "berdaya_form"  # the CSRF token of forms shown before login (double-submit)
LANG_COOKIE = "berdaya_lang"
ROUTE = {route.name: route for route in ROUTES}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
log = get_logger("gateway.console")


# --- what a page answers -------------------------------------------------------------------------------------

@dataclass
class Html:
    template: str
    context: dict[str, Any]
    status: int = 200


@dataclass(frozen=True)
class Redirect:
    location: str


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    media_type: str


Result = Html | Redirect | Download


class Refused(Exception):
    """The API refused a page's request; ``refusal`` says it in the user's language."""

    def __init__(self, refusal_: Refusal) -> None:
        super().__init__(refusal_.sentence)
        self.refusal = refusal_


@dataclass(frozen=True)
class Page:
    method: str
    path: str  # under /console, with {param}s
    run: Callable[[View], Result]
    public: bool = False  # shown without a session (login)

    @property
    def name(self) -> str:
        return f"console_{self.run.__name__}"


def page(method: str, path: str, run: Callable[[View], Result], *, public: bool = False) -> Page:
    return Page(method, BASE + path, run, public)


# --- one request ---------------------------------------------------------------------------------------------

@dataclass
class View:
    """A browser's request to a page: who, in which language, what was sent; and how to ask the API."""

    request: Request
    path: dict[str, str]
    gateway: Gateway
    rpc: Callable[..., Any]
    console: Console
    purpose: str  # the page's, for the reads of personal data it makes (the registry's access log)
    lang: Language = field(init=False)
    user: User | None = None
    csrf: str = ""
    cookies: dict[str, tuple[str, dict]] = field(default_factory=dict)  # to set on the response

    def __post_init__(self) -> None:
        self.lang = Language(self.request.cookies.get(LANG_COOKIE, DEFAULT))

    @property
    def form(self) -> MultiDict:
        return self.request.form

    @property
    def args(self) -> MultiDict:
        return self.request.args

    @property
    def session(self) -> str | None:
        return self.request.cookies.get(SESSION_COOKIE) or None

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def _(self, message: str, **values: object) -> str:
        return self.lang.gettext(message, **values)

    # --- the API, through the gateway's pipeline ---

    def api(self, name: str, *, path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None,
            body: Any = None, raw: bytes | None = None, once: bool = False) -> Any:
        """Run the route ``name`` as this user; its answer, or :class:`Refused`. ``once``: a write sent with the
        form's Idempotency-Key (a second submission of the same form gets the first one's answer)."""
        route = ROUTE[name]
        headers = {"idempotency-key": f"console-{self.form_key()}"} if once else {}
        content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        if content and route.request_media_type:  # what the console sends is what the route takes
            headers["content-type"] = route.request_media_type
        request = ApiRequest(
            method=route.method,
            path_params={key: str(value) for key, value in (path or {}).items()},
            args={key: [str(value)] for key, value in (query or {}).items() if value not in (None, "")},
            headers=headers, body=content, session=self.session or "", csrf=self.form.get("_csrf"),
            client=self.request.remote_addr, purpose=self.purpose,
        )
        response = self.gateway.handle(route, request, self.rpc)
        if response.status >= 400:
            raise Refused(refusal(response.status, response.body.get("error", {}), self.lang))
        return response.body

    def form_key(self) -> str:
        key = self.form.get("_key", "")
        if not (8 <= len(key) <= 64 and key.isalnum()):
            raise Refused(Refusal(400, self._("The form was stale. Please try again."), None, "form.key"))
        return key

    # --- answers ---

    def render(self, template: str, status: int = 200, **context: Any) -> Html:
        return Html(template, context, status)

    def redirect(self, path: str, **query: Any) -> Redirect:
        shown = {key: value for key, value in query.items() if value not in (None, "")}
        return Redirect(BASE + path + (f"?{urlencode(shown)}" if shown else ""))


def new_key() -> str:
    """A fresh Idempotency-Key for one form as shown: submitted twice, it acts once."""
    return uuid.uuid4().hex


# --- the console ---------------------------------------------------------------------------------------------

class Console:
    """Renders pages: authenticates the session, checks the form's CSRF token, runs the page, answers HTML."""

    def __init__(self, templates: Any, *, secure_cookies: bool, session_ttl_s: float) -> None:
        self.templates = templates  # the Jinja environment (templating.py)
        self.secure_cookies = secure_cookies
        self.session_ttl_s = session_ttl_s

    def handle(self, page: Page, request: Request, path: dict[str, str], gateway: Gateway,
               rpc: Callable[..., Any]) -> Response:
        started = time.perf_counter()
        view = View(request, path, gateway, rpc, self, f"console.{page.run.__name__}")
        try:
            result = self._run(page, view)
        except Refused as refused:
            result = view.render("error.html", status=refused.refusal.status, refusal=refused.refusal)
        response = self._respond(result, view)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    def _run(self, page: Page, view: View) -> Result:
        if view.session:
            found = view.gateway.sessions.find(view.session)
            if found is not None:
                view.csrf = found.csrf
                try:
                    view.user = User(**view.api("me"))
                except Refused:
                    view.user = None
        if view.user is None and not page.public:
            target = view.request.full_path.rstrip("?") if view.request.method == "GET" else BASE + "/"
            return Redirect(f"{BASE}/login?{urlencode({'next': target})}")
        if view.user is None:
            view.csrf = view.request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
            view.cookies[FORM_COOKIE] = (view.csrf, {"max_age": 3600})
        if view.request.method == "POST" and not hmac.compare_digest(view.form.get("_csrf", ""), view.csrf):
            raise Refused(refusal(403, {"rule": "csrf.token"}, view.lang))
        return page.run(view)

    def _respond(self, result: Result, view: View) -> Response:
        if isinstance(result, Redirect):
            # htmx follows a redirect itself and would swap the page into a fragment: ask it to navigate instead
            response = Response("", status=303, headers={"Location": result.location})
            if view.htmx:
                response = Response("", status=200, headers={"HX-Redirect": result.location})
        elif isinstance(result, Download):
            response = Response(result.content, mimetype=result.media_type, headers={
                "Content-Disposition": f'attachment; filename="{result.filename}"'})
        else:
            html = self.templates.render(result.template, view, result.context)
            response = Response(html, status=result.status, mimetype="text/html")
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "no-store"  # pages show personal data: never kept by a browser
        for name, (value, options) in view.cookies.items():
            self.set_cookie(response, name, value, **options)
        return response

    def set_cookie(self, response: Response, name: str, value: str, max_age: float | None = None,
                   http_only: bool = True) -> None:
        response.set_cookie(name, value, max_age=int(max_age) if max_age is not None else None, path=BASE,
                            secure=self.secure_cookies, httponly=http_only, samesite="Strict")

    def open_session(self, view: View, username: str) -> None:
        opened = view.gateway.sessions.open(username)
        view.cookies[SESSION_COOKIE] = (opened.token, {"max_age": self.session_ttl_s})
        view.cookies[FORM_COOKIE] = ("", {"max_age": 0})

    def end_session(self, view: View) -> None:
        if view.session:
            view.gateway.sessions.end(view.session)
        view.cookies[SESSION_COOKIE] = ("", {"max_age": 0})

    def choose_language(self, view: View, code: str) -> None:
        if code in LANGUAGES:
            view.cookies[LANG_COOKIE] = (code, {"max_age": 365 * 24 * 3600})
            view.lang = Language(code)
