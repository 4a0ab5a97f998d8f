"""The review queue of DTSEN/DTKS updates: the changes of a newer file that touch a KUBE's money (its household
removed or graduated, above the decile limit, its representative gone), each confirmed — then applied to the
household as it is now — or rejected, by an operator of the household's region. Everything else of the file was
applied at the import (services/registry/dtsen.py)."""

from __future__ import annotations

from services.gateway.console.forms import Form
from services.gateway.console.web import ROUTE, View

# action in the path → (route, what the redirect says)
ACTIONS = {"confirm": ("confirm_held_change", "held_confirmed"), "reject": ("reject_held_change", "held_rejected")}


def held_changes(view: View, *, errors: dict | None = None, refusal=None, status: int = 200):
    return view.render("held.html", status=status, changes=view.api("held_changes"), refusal=refusal,
                       may=view.user.role in ROUTE["confirm_held_change"].roles)


def decide_held_change(view: View):
    action = view.path["action"]
    if action not in ACTIONS:
        return view.redirect("/imports/held")
    route, done = ACTIONS[action]
    form = Form(view.form, view.lang)
    form.send(view, route, path={"change_id": view.path["change_id"]}, place=lambda refusal: refusal)
    if form.status:
        return held_changes(view, **form.shown_again)
    return view.redirect("/imports/held", done=done)
