"""The printouts: each paper gathers what it shows from the reads the gateway already makes (the proposal, the
grant, the cohort, the KUBE), asks the owning service for the code of the event it stands on, and is rendered
(printing.py). The routes print them for a user (through a :class:`Desk` of the request), the demo for its story.
And ``GET /verify/{code}``: anyone checks a paper's code against the ledger, and sees only the non-personal
essentials.

A name on a paper comes through :func:`person_name` or :func:`names_of`: the places to change when names are read
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nameko.exceptions import RemoteError

from services.gateway.console.words import EVENT_WORDS
from services.gateway.core import Call, File
from services.gateway.errors import ApiError, from_remote_error
from services.gateway.printing import Printer
from services.gateway.regions import KeptRegions
from services.gateway.terbilang import rupiah_words
from shared.document_codes import parse_code
from shared.errors import ValidationFailed
from shared.ids import WIB

PDF = "application/pdf"
PAID = ("confirmed", "delivered")  # a payment whose money (or goods) reached the group
PAID_EVENTS = ["Confirmed", "Delivered"]
LPJ_BLANK_LINES = 12  # rows to write receipts in by hand


@dataclass(frozen=True)
class Desk:
    """What papers are made with: the services (``rpc(service, method, *args)``), who reads the personal data a
    paper shows and why (as the registry's reads take it), and the printer."""

    rpc: Callable[..., Any]
    reader: Callable[[], dict]
    printer: Printer
    regions: KeptRegions = field(default_factory=KeptRegions)  # the place names, kept (the gateway's)


def desk(c: Call) -> Desk:
    """The request's: the services as the pipeline calls them, the user as the reader, the gateway's printer."""
    return Desk(c.rpc, c.reader, c.gateway.printer, c.gateway.regions)


def on_request(paper: Callable[..., Paper], *path_params: str) -> Callable[[Call], Paper]:
    """A paper as a route's call: printed at the request's desk, of the resource the route looked up (and the
    path's ``path_params``)."""
    return lambda c: paper(desk(c), c.resource, *(getattr(c.path, name) for name in path_params))


def person_name(desk: Desk, nik: str) -> str:
    """A person's name for a paper, read from the registry as the reader (region-checked, on its access log)."""
    found = desk.rpc("registry", "person", desk.reader(), nik)
    return found["name"] if found else "—"


def names_of(desk: Desk, person_ids: list[str]) -> dict[str, str]:
    """People's names by person id, in one registry read (region-checked, on its access log); "—" for one not found."""
    found = desk.rpc("registry", "names", desk.reader(), person_ids)
    return {person_id: found.get(person_id, {}).get("name", "—") for person_id in person_ids}


def places(desk: Desk, village_code: str) -> dict[str, str]:
    """The village's, its district's and its regency's names, for the paper's address lines."""
    wanted = {"village": village_code, "district": village_code[:8], "regency": village_code[:5]}
    names = desk.regions.names(desk.rpc, list(wanted.values()))
    return {key: names.get(code, code) for key, code in wanted.items()}


@dataclass(frozen=True)
class Paper(File):
    """A printout: the PDF as a route answers it, and the verification code printed on it."""

    code: str = ""


def printout(desk: Desk, template: str, anchor: dict, filename: str, village_code: str, **context: Any) -> Paper:
    pdf = desk.printer.pdf(template, anchor["code"], places=places(desk, village_code),
                           printed_at=datetime.now(WIB), **context)
    return Paper(pdf, filename, anchor["code"])


def last_step(history: list[dict], event: str) -> dict:
    return [entry for entry in history if entry["event"] == event][-1]


def payment_of(grant: dict, payment_id: str) -> dict:
    found = next((p for p in grant["payments"] if p["payment_id"] == payment_id), None)
    if found is None:
        raise ApiError(404, "not_found", "no such payment")
    return found


def group_of(desk: Desk, group_id: str) -> dict:
    return desk.rpc("registry", "group", desk.reader(), group_id)


def role_name(desk: Desk, group: dict, role: str) -> str | None:
    nik = group.get("roles", {}).get(role)
    return person_name(desk, nik) if nik else None


def grants_code(desk: Desk, proposal_id: str, aggregate: str, events: list[str],
                payment_id: str | None = None) -> dict:
    return desk.rpc("grants", "document_code", proposal_id, aggregate, events, payment_id)


# --- the papers: each from the resource the route looked up (a proposal, a grant, a cohort) ----------------------

def proposal_letter(desk: Desk, proposal: dict) -> Paper:
    """The district's letter to the province, once the district has verified the proposal."""
    anchor = grants_code(desk, proposal["proposal_id"], "proposal", ["Verified"])
    return printout(desk, "proposal_letter.html", anchor, f"surat-usulan-{anchor['code']}.pdf",
                    proposal["village_code"], proposal=proposal, verified=last_step(proposal["history"], "Verified"))


def decision_annex(desk: Desk, proposal: dict) -> Paper:
    """The approval's annex: the amount, and the families of the KUBE who benefit (NIK and KK masked)."""
    anchor = grants_code(desk, proposal["proposal_id"], "proposal", ["Approved"])
    group = group_of(desk, proposal["group_id"])
    roles = {nik: role for role, nik in group.get("roles", {}).items()}
    names = names_of(desk, [member["representative_id"] for member in group["members"]])
    beneficiaries = [{"name": names[member["representative_id"]], "nik": member["representative_nik"],
                      "kk": member["kk"], "role": roles.get(member["representative_nik"])}
                     for member in group["members"]]
    return printout(desk, "decision_annex.html", anchor, f"lampiran-keputusan-{anchor['code']}.pdf",
                    proposal["village_code"], proposal=proposal, approval=proposal["approval"],
                    approved=last_step(proposal["history"], "Approved"), beneficiaries=beneficiaries)


def bast(desk: Desk, grant: dict, payment_id: str) -> Paper:
    """The handover record of an equipment delivery, pre-filled for the two parties and the village head to sign."""
    payment = payment_of(grant, payment_id)
    anchor = grants_code(desk, grant["proposal_id"], "grant", ["DeliveryRecorded"], payment_id)
    return printout(desk, "bast.html", anchor, f"bast-{anchor['code']}.pdf", grant["village_code"],
                    proposal=desk.rpc("grants", "proposal", grant["proposal_id"]), payment=payment)


def receipt(desk: Desk, grant: dict, payment_id: str) -> Paper:
    """The kuitansi of a tranche paid (confirmed by the bank, or goods handed over), for the KUBE's chair to sign."""
    payment = payment_of(grant, payment_id)
    anchor = grants_code(desk, grant["proposal_id"], "grant", PAID_EVENTS, payment_id)
    group = group_of(desk, grant["group_id"])
    return printout(desk, "receipt.html", anchor, f"kuitansi-{anchor['code']}.pdf", grant["village_code"],
                    proposal=desk.rpc("grants", "proposal", grant["proposal_id"]), payment=payment, paid=anchor,
                    amount_words=rupiah_words(payment["amount_rp"]), bank_account=group.get("bank_account") or {},
                    chair=role_name(desk, group, "ketua"))


def lpj_form(desk: Desk, grant: dict, tranche: int) -> Paper:
    """The LPJ form of a paid tranche: the lines submitted so far, and blank rows to write receipts in."""
    payment = next((p for p in grant["payments"] if p["tranche"] == tranche and p["status"] in PAID), None)
    if payment is None:
        raise ApiError(409, "conflict", f"tranche {tranche} is not paid yet: its LPJ form is printed once it is",
                       rule="document.not_yet")
    anchor = grants_code(desk, grant["proposal_id"], "grant", PAID_EVENTS, payment["payment_id"])
    submitted = [entry for entry in grant["history"]
                 if entry["event"] == "LpjSubmitted" and entry["details"].get("tranche") == tranche]
    lines = submitted[-1]["details"]["lines"] if submitted else []
    group = group_of(desk, grant["group_id"])
    return printout(desk, "lpj_form.html", anchor, f"lpj-{anchor['code']}.pdf", grant["village_code"],
                    proposal=desk.rpc("grants", "proposal", grant["proposal_id"]), tranche=tranche,
                    payment=payment, paid=anchor, lines=lines, blank_lines=max(0, LPJ_BLANK_LINES - len(lines)),
                    chair=role_name(desk, group, "ketua"), treasurer=role_name(desk, group, "bendahara"))


def provenance(desk: Desk, grant: dict, payment_id: str) -> Paper:
    """For the auditor: a disbursement and every decision it rests on, who made it and when."""
    payment = payment_of(grant, payment_id)
    anchor = grants_code(desk, grant["proposal_id"], "grant", PAID_EVENTS, payment_id)
    proposal = desk.rpc("grants", "proposal", grant["proposal_id"])
    history = proposal["history"] + [entry for entry in grant["history"]
                                     if entry["details"].get("payment_id") == payment_id]
    steps = [{"word": EVENT_WORDS.get(entry["event"], entry["event"]), "by": entry["by"], "at": entry["at"]}
             for entry in history]
    return printout(desk, "provenance.html", anchor, f"asal-usul-{anchor['code']}.pdf", grant["village_code"],
                    proposal=proposal, grant=grant, payment=payment, steps=steps)


def certificate(desk: Desk, cohort: dict, person_id: str) -> Paper:
    """The Family School certificate of a participant who completed the cohort."""
    participant = next((p for p in cohort["participants"] if p["person_id"] == person_id), None)
    if participant is None:
        raise ApiError(404, "not_found", "no such participant in this cohort")
    anchor = desk.rpc("training", "document_code", cohort["cohort_id"], person_id)
    name = names_of(desk, [person_id])[person_id]
    return printout(desk, "certificate.html", anchor, f"sertifikat-{anchor['code']}.pdf", cohort["village_code"],
                    cohort=cohort, participant=participant, completed=anchor, name=name)


# --- anyone checks a paper ---------------------------------------------------------------------------------------

def verify_document(c: Call) -> dict:
    """Whether a paper's code matches what berdaya recorded, with the non-personal essentials to compare with the
    paper. Wrong codes from one address are throttled (a code cannot be guessed by trying)."""
    throttle = c.gateway.code_throttle
    wait_s = throttle.wait_s(c.request.client)
    if wait_s:
        raise ApiError(429, "too_many_attempts", f"too many wrong codes: try again in {wait_s} s",
                       rule="document.throttled", headers={"Retry-After": str(wait_s)},
                       details={"retry_after_s": wait_s})
    try:
        code = parse_code(c.path.code)
    except ValidationFailed:
        throttle.failed(c.request.client)
        raise
    try:
        return c.rpc(code.service, "check_document", str(code))
    except RemoteError as remote:
        if from_remote_error(remote).status == 404:  # no such document (an outage is no wrong guess)
            throttle.failed(c.request.client)
        raise
