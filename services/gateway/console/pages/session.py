"""Logging in and out, choosing one's own password (at once when an administrator set it), and the language
switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.gateway.console.forms import REQUIRED, Form
from services.gateway.console.i18n import N_
from services.gateway.console.refusals import Refusal
from services.gateway.console.web import BASE, Redirect, Refused, View
from shared.vocabulary import SYSTEM_ROLES


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
        token = view.api("issue_token", body={"username": username, "password": view.form.get("password", "")})
    except Refused as refused:
        if refused.refusal.rule == "password.change_required":  # the password was right, and an admin's
            return change_form(view, username, forced=True)
        refusal = shown(view, refused)
        return view.render("login.html", status=refusal.status, next=safe_next(view.form.get("next")),
                           username=username, refusal=refusal)
    return session_opened(view, username, token["role"])


def shown(view: View, refused: Refused) -> Refusal:
    """A refused login as shown: which of username and password was wrong is not said (that would tell a
    stranger which usernames exist); a throttled login (429) says how long to wait."""
    status = refused.refusal.status
    return refused.refusal if status == 429 or status >= 500 else Refusal(
        401, view._("Wrong username or password, or the user is disabled."), None, "login")


def change_form(view: View, username: str, *, forced: bool = False, errors: dict | None = None,
                refusal: Refusal | None = None, status: int = 200):
    """Choosing one's own password: ``forced`` after a login whose password an administrator set."""
    return view.render("password.html", status=status, next=safe_next(view.form.get("next") or view.args.get("next")),
                       username=username, forced=forced, errors=errors or {}, refusal=refusal)


def password(view: View):
    return change_form(view, view.user.username if view.user else "")


def password_post(view: View):
    """The current password and the new one twice; once changed, the user is logged in (a new session: the store
    ended every session they had)."""
    form = Form(view.form, view.lang)
    username = form.text("username", max_length=64).lower()
    current = form.data.get("password", "")
    if not current:
        form.wrong("password", REQUIRED)
    new = form.password("new_password")
    if form.data.get("repeat_password", "") != new:
        form.wrong("repeat_password", N_("The two new passwords differ."))
    forced = form.data.get("forced") == "1"
    if not form.ok:
        return change_form(view, username, forced=forced, errors=form.errors, status=400)
    try:
        changed = view.api("change_password", body={"username": username, "password": current,
                                                     "new_password": new})
    except Refused as refused:
        place = form.refused(refused.refusal, {"new_password"}) if refused.refusal.status == 400 else \
            shown(view, refused)
        return change_form(view, username, forced=forced, errors=form.errors, refusal=place,
                           status=refused.refusal.status)
    return session_opened(view, username, changed["role"])


def session_opened(view: View, username: str, role: str):
    """The user's console session, once their password is checked; none for another system's credential (it
    reads through its API, docs/dci.md), refused as a login is."""
    if role in SYSTEM_ROLES:
        refusal = Refusal(403, view._("This account belongs to another system: it has no console."), None, "login")
        return view.render("login.html", status=403, next=safe_next(view.form.get("next")), username=username,
                           refusal=refusal)
    view.console.open_session(view, username)
    return Redirect(safe_next(view.form.get("next")))


def logout(view: View):
    view.console.end_session(view)
    return Redirect(f"{BASE}/login")


def language(view: View):
    view.console.choose_language(view, view.form.get("language", ""))
    return Redirect(safe_next(view.form.get("next")))
