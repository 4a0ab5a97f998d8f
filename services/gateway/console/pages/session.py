"""Logging in and out, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.gateway.console.refusals import Refusal
from services.gateway.console.web import BASE, Redirect, Refused, View


def safe_next(target: str | None) -> str:
    """Only a page of the console itself: never another site (an open redirect)."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not (parts.path == BASE or parts.path.startswith(BASE + "/")):
        return BASE + "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login(view: View):
    if view.user is not None:
        return Redirect(safe_next(view.args.get("next")))
    return view.render("login.html", next=safe_next(view.args.get("next")), username="", refusal=None)


def login_post(view: View):
    username = view.form.get("username", "").strip().lower()
    try:
        # The API's own check of the password (and of a disabled user); its token is not used: the session is.
        view.api("issue_token", body={"username": username, "password": view.form.get("password", "")})
    except Refused as refused:
        # Which of the two was wrong is not said: that would tell a stranger which usernames exist. A throttled
        # login (429) says how long to wait.
        status = refused.refusal.status
        shown = refused.refusal if status == 429 or status >= 500 else Refusal(
            401, view._("Wrong username or password, or the user is disabled."), None, "login")
        return view.render("login.html", status=shown.status, next=safe_next(view.form.get("next")),
                           username=username, refusal=shown)
    view.console.open_session(view, username)
    return Redirect(safe_next(view.form.get("next")))


def logout(view: View):
    view.console.end_session(view)
    return Redirect(f"{BASE}/login")


def language(view: View):
    view.console.choose_language(view, view.form.get("language", ""))
    return Redirect(safe_next(view.form.get("next")))
