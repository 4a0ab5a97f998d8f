"""Grievances (pengaduan): the region's list, oldest due first with the overdue ones marked; recording one at the
desk for a resident (or an anonymous misuse report); one grievance with its notes, assigned to a verifier, noted
and resolved. Only the one grievance's page shows who complained and what was said (a logged read)."""

from __future__ import annotations

from services.gateway.console.forms import Form
from services.gateway.console.web import ROUTE, View
from shared.vocabulary import GRIEVANCE_CATEGORIES, GRIEVANCE_OUTCOMES

ACTIONS = {"assign": ("assign_grievance", "grievance_assigned"), "note": ("note_grievance", "grievance_noted"),
           "resolve": ("resolve_grievance", "grievance_resolved")}


def grievances(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200,
               values: dict | None = None):
    overdue = view.args.get("overdue") == "1"
    return view.render("grievances.html", status=status, rows=view.api("list_grievances",
                                                                        query={"overdue": overdue}),
                       overdue=overdue, errors=errors or {}, refusal=refusal, values=values or {},
                       categories=GRIEVANCE_CATEGORIES,
                       villages=view.console.templates.regions.villages(view, view.user.region),
                       may_record=view.user.role in ROUTE["record_grievance"].roles)


def record_grievance(view: View):
    form = Form(view.form, view.lang)
    body = {"village_code": form.text("village_code"), "category": form.choice("category", GRIEVANCE_CATEGORIES),
            "description": form.text("description", max_length=4000)}
    for optional in ("complainant_name", "complainant_contact"):
        if value := form.text(optional, required=False, max_length=200):
            body[optional] = value
    if kk := form.digits("household_kk", required=False):
        body["household_kk"] = kk
    if received_on := form.day("received_on", required=False):
        body["received_on"] = received_on
    recorded = form.send(view, "record_grievance", body=body)
    if form.status:
        return grievances(view, values=dict(view.form.items()), **form.shown_again)
    return view.redirect(f"/grievances/{recorded['grievance_id']}", done="grievance_recorded")


def grievance(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    found = view.api("get_grievance", path={"grievance_id": view.path["grievance_id"]})
    may = {action: view.user.role in ROUTE[route].roles for action, (route, _) in ACTIONS.items()}
    may["resolve"] = may["resolve"] and found["assigned_to"] == view.user.username
    return view.render("grievance.html", status=status, grievance=found, errors=errors or {}, refusal=refusal,
                       outcomes=GRIEVANCE_OUTCOMES, may=may)


def grievance_change(view: View):
    route, done = ACTIONS.get(view.path["action"], (None, None))
    if route is None:
        return view.render("error.html", status=404, refusal=None)
    form = Form(view.form, view.lang)
    if route == "assign_grievance":
        body = {"assignee": form.text("assignee", max_length=64)}
    elif route == "note_grievance":
        body = {"text": form.text("text", max_length=4000)}
    else:
        body = {"outcome": form.choice("outcome", GRIEVANCE_OUTCOMES),
                "resolution": form.text("resolution", max_length=4000)}
    form.send(view, route, path={"grievance_id": view.path["grievance_id"]}, body=body)
    if form.status:
        return grievance(view, **form.shown_again)
    return view.redirect(f"/grievances/{view.path['grievance_id']}", done=done)
