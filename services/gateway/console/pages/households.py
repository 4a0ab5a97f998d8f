"""Households and people: find a person at the desk, register a household, read one and correct it."""

from __future__ import annotations

from typing import Any

from services.gateway.console.forms import Form, compact
from services.gateway.console.i18n import N_
from services.gateway.console.refusals import Refusal
from services.gateway.console.web import Refused, View
from shared.vocabulary import (
    BDT_STATUSES,
    JOIN_REASONS,
    LEAVE_REASONS,
    MARITAL_STATUSES,
    RELATIONS,
    SEXES,
)

NEW_MEMBER_ROWS = 3  # rows of an empty registration form; "another member" adds one
MEMBER_FIELDS = ("nik", "name", "sex", "birth_date", "relation", "marital_status", "occupation")


def people(view: View):
    query = view.args.get("q", "").strip()
    found, refusal = None, None
    if query:
        try:
            found = view.api("find_people", query={"q": query, "page": view.args.get("page", 1), "size": 20})
        except Refused as refused:
            refusal = refused.refusal
    return view.render("people.html", q=query, found=found, refusal=refusal)


def vocabulary(view: View) -> dict[str, Any]:
    """The lists a household's forms choose from, as (value, shown) pairs."""
    return {"relations_shown": [(r, r) for r in RELATIONS], "marital_shown": [(m, m) for m in MARITAL_STATUSES],
            "sexes_shown": [("P", view._("female (P)")), ("L", view._("male (L)"))],
            "villages": view.console.templates.regions.villages(view, view.user.region)}


def new_household(view: View):
    values = {key: "" for key in ("kk", "dtks_id", "village_code", "address", "decile")}
    return view.render("household_new.html", values={**values, "members": [{}] * NEW_MEMBER_ROWS}, errors={},
                       refusal=None, **vocabulary(view))


def member_from(form: Form, prefix: str) -> dict[str, Any]:
    return {
        "nik": form.digits(f"{prefix}.nik"), "name": form.text(f"{prefix}.name", max_length=200),
        "sex": form.choice(f"{prefix}.sex", SEXES), "birth_date": form.day(f"{prefix}.birth_date"),
        "relation": form.choice(f"{prefix}.relation", RELATIONS),
        "marital_status": form.choice(f"{prefix}.marital_status", MARITAL_STATUSES, required=False),
        "occupation": form.text(f"{prefix}.occupation", required=False, max_length=100),
    }


def register_household(view: View):
    form = Form(compact(view.form, "members", MEMBER_FIELDS), view.lang)
    count = len(form.rows("members"))
    values = {key: form.raw(key) for key in ("kk", "dtks_id", "village_code", "address", "decile")}
    values["members"] = [{field: form.raw(f"members.{i}.{field}") for field in MEMBER_FIELDS} for i in range(count)]
    if "_more" in view.form:  # another member row; nothing is sent yet
        values["members"].append({})
        return view.render("household_new.html", values=values, errors={}, refusal=None, **vocabulary(view))
    body = {
        "kk": form.digits("kk"), "dtks_id": form.text("dtks_id", max_length=64),
        "village_code": form.text("village_code"), "address": form.text("address", required=False, max_length=500),
        "decile": form.integer("decile", 1, 10),
        "members": [member_from(form, f"members.{index}") for index in range(count)],
    }
    if not count:
        form.wrong("members.0.nik", N_("Enter at least the head of the household."))
    registered = form.send(view, "register_household", body=body,
                           place=lambda refusal: member_refusal(form, refusal, count))
    if not form.status:
        return view.redirect(f"/households/{registered['household_id']}", done="household_registered")
    values["members"] = values["members"] or [{}]
    return view.render("household_new.html", values=values, **form.shown_again, **vocabulary(view))


def member_refusal(form: Form, refusal: Refusal, count: int) -> Refusal | None:
    """A refusal about one member (the services name its NIK) goes next to that member's field."""
    nik = refusal.details.get("nik")
    for index in range(count):
        if nik and form.raw(f"members.{index}.nik") == nik:
            form.errors[f"members.{index}.{refusal.field if refusal.field in MEMBER_FIELDS else 'nik'}"] = \
                refusal.sentence
            return None
    return form.refused(refusal)


def household(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    path = {"kk": view.path["household_id"]}  # the API names a household by its KK or its id
    found = view.api("get_household", path=path)
    history = view.api("household_history", path=path)
    return view.render("household.html", status=status, household=found, history=history, errors=errors or {},
                       refusal=refusal, bdt_statuses=BDT_STATUSES, join_reasons=JOIN_REASONS,
                       leave_reasons=LEAVE_REASONS,
                       member_choices=[(m["person_id"], m["name"]) for m in found["members"]], **vocabulary(view))


def household_change(view: View):
    """One of the household page's forms: decile, BDT status, a member added, corrected or removed. The forms name
    a member by their id; the member's NIK and current data come from the household, read here."""
    household_id, action = view.path["household_id"], view.path["action"]
    form = Form(view.form, view.lang)
    path: dict[str, str] = {"kk": household_id}
    members = {m["person_id"]: m for m in view.api("get_household", path=path)["members"]} \
        if action in ("remove", "correct") else {}
    if action == "decile":
        route, body = "change_decile", {"decile": form.integer("decile", 1, 10)}
    elif action == "status":
        route, body = "change_status", {"status": form.choice("status", BDT_STATUSES),
                                        "reason": form.text("reason", max_length=500)}
    elif action == "add":
        route, body = "add_member", {"member": member_from(form, "member"),
                                     "reason": form.choice("reason", JOIN_REASONS)}
    elif action == "remove" and form.raw("person_id") in members:
        path["nik"] = members[form.raw("person_id")]["nik"]
        route, body = "remove_member", {"reason": form.choice("reason", LEAVE_REASONS)}
        if new_head := members.get(form.raw("new_head_id")):
            body["new_head_nik"] = new_head["nik"]
    elif action == "correct" and form.raw("person_id") in members:
        member = members[form.raw("person_id")]
        path["nik"] = member["nik"]
        changes = {field: form.raw(f"changes.{field}") for field in MEMBER_FIELDS[1:]
                   if form.raw(f"changes.{field}") != (member.get(field) or "")}
        route, body = "correct_member", {"changes": changes, "reason": form.text("reason", max_length=500)}
    else:
        return view.redirect(f"/households/{household_id}")
    form.send(view, route, path=path, body=body)
    if form.status:
        return household(view, **form.shown_again)
    return view.redirect(f"/households/{household_id}", done="household_changed")
