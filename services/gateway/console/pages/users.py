"""The admin's page: the gateway's users (role, region, disabled or not, whether they must change their password),
adding one, disabling or enabling one, setting a new password — and the latest changes, with who made them.
Disabling a user or setting their password ends their console sessions at once (the API's store does it); a user
added or given a new password here chooses their own at the next login (session.py)."""

from __future__ import annotations

from services.gateway.console.forms import Form
from services.gateway.console.templating import ROLE_WORDS
from services.gateway.console.web import View

ADD_FIELDS = {"username", "role", "region", "password"}
# action in the path → (route, what the redirect says)
ACTIONS = {"disable": ("disable_user", "user_disabled"), "enable": ("enable_user", "user_enabled"),
           "password": ("reset_password", "password_reset")}


def users(view: View, *, values: dict | None = None, errors: dict | None = None, refusal=None, row: str = "",
          status: int = 200):
    """``row``: the user whose row's form the errors belong to (a new password), when not the add form."""
    return view.render("users.html", status=status, users=view.api("list_users"), changes=view.api("user_changes"),
                       values=values or {}, errors=errors or {}, refusal=refusal, row=row)


def add_user(view: View):
    form = Form(view.form, view.lang)
    body = {"username": form.text("username", max_length=64).lower(), "role": form.choice("role", ROLE_WORDS),
            "region": form.text("region", required=False, max_length=13), "password": form.password()}
    values = {key: value for key, value in body.items() if key != "password"}
    form.send(view, "add_user", body=body, place=lambda refusal: form.refused(refusal, ADD_FIELDS))
    if form.status:
        return users(view, values=values, **form.shown_again)
    return view.redirect("/users", done="user_added")


def user_action(view: View):
    username, action = view.path["username"], view.path["action"]
    if action not in ACTIONS:
        return view.redirect("/users")
    route, done = ACTIONS[action]
    form = Form(view.form, view.lang)
    body = {"password": form.password()} if action == "password" else None
    form.send(view, route, path={"username": username}, body=body,
              place=lambda refusal: form.refused(refusal, {"password"}))
    if form.status:
        return users(view, row=username, **form.shown_again)
    return view.redirect("/users", done=done)
