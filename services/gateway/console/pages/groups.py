"""KUBE groups: the list, forming one from a village's eligible households, and a group's page with its own papers
(the SK Kades, the village meeting's minutes)."""

from __future__ import annotations

from typing import Any

from services.gateway.console.documents import attach_file, download_file, listed_documents
from services.gateway.console.forms import Form
from services.gateway.console.i18n import N_
from services.gateway.console.refusals import Refusal, refusal
from services.gateway.console.web import ROUTE, Download, Refused, View
from shared.vocabulary import BUSINESS_TYPES, GROUP_DOCUMENT_KINDS, GROUP_KINDS, GROUP_ROLES, GROUP_STATUSES


def groups(view: View):
    status = view.args.get("status") or None
    found = view.api("list_groups", query={"status": status, "page": view.args.get("page", 1), "size": 50})
    return view.render("groups.html", found=found, shown_status=status, statuses=GROUP_STATUSES)


def new_group(view: View):
    return group_form(view, values={"village_code": view.args.get("village", ""),
                                    "kind": view.args.get("kind", "perempuan")}, picked=set())


def group_form(view: View, *, values: dict[str, Any], picked: set[str], errors: dict[str, str] | None = None,
               refused=None, status: int = 200):
    """The form: with a village chosen, its households — each eligible one with who may represent it, each other
    one with the rule that keeps it out (the registry decides both). It names households and people by the
    registry's ids: no KK or NIK sits in the page but as its role may see it (``id_number``)."""
    village, kind = values.get("village_code", ""), values.get("kind", "perempuan")
    candidates = []
    if village:
        try:
            candidates = view.api("group_candidates", query={"village": village, "kind": kind})
        except Refused as not_shown:
            refused = refused or not_shown.refusal
    for candidate in candidates:
        excluded = candidate.get("excluded")
        if excluded:
            candidate["why_not"] = refusal(409, {"rule": excluded["rule"], "details": {
                "kk": candidate["kk"], **(excluded.get("details") or {})}}, view.lang).sentence
    representatives = [(person["person_id"], f"{person['name']} · {candidate['kk'][-4:]}")
                       for candidate in candidates for person in candidate["eligible"]]
    return view.render("group_new.html", status=status, values=values, picked=picked, candidates=candidates,
                       representatives=representatives, errors=errors or {}, refusal=refused,
                       kinds=GROUP_KINDS, business_types=BUSINESS_TYPES, roles=GROUP_ROLES,
                       villages=view.console.templates.regions.villages(view, view.user.region))


class Candidates:
    """The village's households as the form named them (by id), and the KK and NIKs the API takes for them —
    read again from the registry when the form is sent, so that the page never carried them."""

    def __init__(self, found: list[dict] | None) -> None:
        self.kk = {c["household_id"]: c["kk"] for c in found or ()}
        self.household_of = {kk: household_id for household_id, kk in self.kk.items()}
        self.nik = {p["person_id"]: p["nik"] for c in found or () for p in c["eligible"]}

    def person(self, form: Form, name: str) -> str:
        """The NIK of the person chosen in ``name`` (one of the form's options; else a sentence next to it)."""
        return self.nik.get(form.choice(name, self.nik), "")


def form_group(view: View):
    form = Form(view.form, view.lang)
    picked = view.form.getlist("pick")
    values = {key: form.raw(key) for key in ("village_code", "kind", "name", "business_type", "sk_kades",
                                             "bank_account.bank", "bank_account.number", "bank_account.holder",
                                             *(f"roles.{role}" for role in GROUP_ROLES))}
    values.update({f"rep.{household_id}": form.raw(f"rep.{household_id}") for household_id in picked})
    if "_show" in view.form:  # the village or the kind was chosen: show its households
        return group_form(view, values=values, picked=set(picked))
    village, kind = form.raw("village_code"), form.raw("kind")
    known = Candidates(form.read(view, "group_candidates", query={"village": village, "kind": kind})
                       if village else None)
    picked = [household_id for household_id in picked if household_id in known.kk]
    body = {
        "name": form.text("name", max_length=200), "village_code": form.text("village_code"),
        "business_type": form.choice("business_type", BUSINESS_TYPES), "kind": form.choice("kind", GROUP_KINDS),
        "members": [{"kk": known.kk[household_id], "representative_nik": known.person(form, f"rep.{household_id}")}
                    for household_id in picked],
        "roles": {role: known.person(form, f"roles.{role}") for role in GROUP_ROLES},
        "bank_account": {"bank": form.text("bank_account.bank", max_length=100),
                         "number": form.text("bank_account.number", max_length=30),
                         "holder": form.text("bank_account.holder", max_length=200)},
        "sk_kades": form.text("sk_kades", max_length=100),
    }
    if not picked:
        form.wrong("pick", N_("Tick the households that form the group."))

    def place(refusal: Refusal) -> Refusal | None:
        """A household's refusal goes next to its row; the rest next to its field or above the form."""
        household_id = known.household_of.get(refusal.details.get("kk"))
        if household_id in picked:
            form.errors[f"rep.{household_id}"] = refusal.sentence
            return None
        return form.refused(refusal)

    formed = form.send(view, "form_group", body=body, place=place)
    if not form.status:
        return view.redirect(f"/groups/{formed['group_id']}", done="group_formed")
    return group_form(view, values=values, picked=set(picked), errors=form.errors, refused=form.refusal,
                      status=form.status)


def group(view: View, *, errors: dict[str, str] | None = None, refusal: Refusal | None = None, status: int = 200):
    found = view.api("get_group", path={"group_id": view.path["group_id"]})
    proposals = view.api("list_proposals", query={"region": found["village_code"], "size": 200})
    return view.render("group.html", status=status, group=found, errors=errors or {}, refusal=refusal,
                       officers={nik: role for role, nik in found["roles"].items()},
                       proposals=[p for p in proposals["items"] if p["group_id"] == found["group_id"]],
                       documents=listed_documents(view, "list_group_documents", {"group_id": found["group_id"]}),
                       document_kinds=GROUP_DOCUMENT_KINDS,
                       may_attach=view.user.role in ROUTE["attach_group_document"].roles)


def attach_group_document(view: View):
    """One of the KUBE's own papers, attached from its page; the registry decides who may, and the file's type by
    its content (a refusal says so in the user's language)."""
    form = Form(view.form, view.lang)
    group_id = view.path["group_id"]
    return attach_file(view, "attach_group_document", path={"group_id": group_id},
                       query={"kind": form.choice("kind", GROUP_DOCUMENT_KINDS)}, wrong=bool(form.errors),
                       page=group, back=f"/groups/{group_id}", done="group_document_attached")


def group_document(view: View) -> Download:
    """A KUBE's paper, as stored: the download is on the registry's access log."""
    return download_file(view, "download_group_document", {"group_id": view.path["group_id"],
                                                           "digest": view.path["digest"]})


# The end of a KUBE's life, with its reason: graduated (mandiri) once active, or dissolved.
ENDINGS = {"graduate": ("graduate_group", "group_graduated"), "dissolve": ("dissolve_group", "group_dissolved")}


def end_group(view: View):
    group_id = view.path["group_id"]
    form = Form(view.form, view.lang)
    # an unknown choice is refused by the form before anything is sent (the fallback only names a route)
    route, done = ENDINGS.get(form.choice("ending", ENDINGS), ENDINGS["dissolve"])
    form.send(view, route, path={"group_id": group_id}, body={"reason": form.text("reason")})
    if form.status:
        return group(view, **form.shown_again)
    return view.redirect(f"/groups/{group_id}", done=done)
