"""The printouts' routes: each gathers what its paper shows from the reads the gateway already makes (the proposal,
the grant, the cohort, the KUBE), asks the owning service for the code of the event it stands on, and renders it
(printing.py). And ``GET /verify/{code}``: anyone checks a paper's code against the ledger, and sees only the
non-personal essentials.

A name on a paper comes through :func:`person_name` alone: the one place to change when names are read otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nameko.exceptions import RemoteError

from services.gateway.console.words import EVENT_WORDS
from services.gateway.core import Call, File
from services.gateway.errors import ApiError, from_remote_error
from services.gateway.terbilang import rupiah_words
from shared.document_codes import parse_code
from shared.errors import ValidationFailed
from shared.ids import WIB

PDF = "application/pdf"
PAID = ("confirmed", "delivered")  # a payment whose money (or goods) reached the group
PAID_EVENTS = ["Confirmed", "Delivered"]
LPJ_BLANK_LINES = 12  # rows to write receipts in by hand


def person_name(c: Call, nik: str) -> str:
    """A person's name for a paper, read from the registry as the user (region-checked, on its access log)."""
    found = c.rpc("registry", "person", c.reader(), nik)
    return found["name"] if found else "—"


def places(c: Call, village_code: str) -> dict[str, str]:
    """The village's, its district's and its regency's names, for the paper's address lines."""
    wanted = {"village": village_code, "district": village_code[:8], "regency": village_code[:5]}
    names = {row["code"]: row["name"] for row in c.rpc("registry", "region_rows") if row["code"] in wanted.values()}
    return {key: names.get(code, code) for key, code in wanted.items()}


def printout(c: Call, template: str, anchor: dict, filename: str, village_code: str, **context: Any) -> File:
    pdf = c.gateway.printer.pdf(template, anchor["code"], places=places(c, village_code),
                                printed_at=datetime.now(WIB), **context)
    return File(pdf, filename)


def last_step(history: list[dict], event: str) -> dict:
    return [entry for entry in history if entry["event"] == event][-1]


def payment_of(grant: dict, payment_id: str) -> dict:
    found = next((p for p in grant["payments"] if p["payment_id"] == payment_id), None)
    if found is None:
        raise ApiError(404, "not_found", "no such payment")
    return found


def group_of(c: Call, group_id: str) -> dict:
    return c.rpc("registry", "group", c.reader(), group_id)


def role_name(c: Call, group: dict, role: str) -> str | None:
    nik = group.get("roles", {}).get(role)
    return person_name(c, nik) if nik else None


def grants_code(c: Call, aggregate: str, events: list[str], payment_id: str | None = None) -> dict:
    return c.rpc("grants", "document_code", c.path.proposal_id, aggregate, events, payment_id)


# --- the papers --------------------------------------------------------------------------------------------------

def proposal_letter(c: Call) -> File:
    """The district's letter to the province, once the district has verified the proposal."""
    proposal = c.resource
    anchor = grants_code(c, "proposal", ["Verified"])
    return printout(c, "proposal_letter.html", anchor, f"surat-usulan-{anchor['code']}.pdf",
                    proposal["village_code"], proposal=proposal, verified=last_step(proposal["history"], "Verified"))


def decision_annex(c: Call) -> File:
    """The approval's annex: the amount, and the families of the KUBE who benefit (NIK and KK masked)."""
    proposal = c.resource
    anchor = grants_code(c, "proposal", ["Approved"])
    group = group_of(c, proposal["group_id"])
    roles = {nik: role for role, nik in group.get("roles", {}).items()}
    beneficiaries = [{"name": person_name(c, member["representative_nik"]), "nik": member["representative_nik"],
                      "kk": member["kk"], "role": roles.get(member["representative_nik"])}
                     for member in group["members"]]
    return printout(c, "decision_annex.html", anchor, f"lampiran-keputusan-{anchor['code']}.pdf",
                    proposal["village_code"], proposal=proposal, approval=proposal["approval"],
                    approved=last_step(proposal["history"], "Approved"), beneficiaries=beneficiaries)


def bast(c: Call) -> File:
    """The handover record of an equipment delivery, pre-filled for the two parties and the village head to sign."""
    grant, payment = c.resource, payment_of(c.resource, c.path.payment_id)
    anchor = grants_code(c, "grant", ["DeliveryRecorded"], payment["payment_id"])
    proposal = c.rpc("grants", "proposal", c.path.proposal_id)
    return printout(c, "bast.html", anchor, f"bast-{anchor['code']}.pdf", grant["village_code"],
                    proposal=proposal, payment=payment)


def receipt(c: Call) -> File:
    """The kuitansi of a tranche paid (confirmed by the bank, or goods handed over), for the KUBE's chair to sign."""
    grant, payment = c.resource, payment_of(c.resource, c.path.payment_id)
    anchor = grants_code(c, "grant", PAID_EVENTS, payment["payment_id"])
    proposal = c.rpc("grants", "proposal", c.path.proposal_id)
    group = group_of(c, grant["group_id"])
    return printout(c, "receipt.html", anchor, f"kuitansi-{anchor['code']}.pdf", grant["village_code"],
                    proposal=proposal, payment=payment, paid=anchor, amount_words=rupiah_words(payment["amount_rp"]),
                    bank_account=group.get("bank_account") or {}, chair=role_name(c, group, "ketua"))


def lpj_form(c: Call) -> File:
    """The LPJ form of a paid tranche: the lines submitted so far, and blank rows to write receipts in."""
    grant = c.resource
    payment = next((p for p in grant["payments"] if p["tranche"] == c.path.n and p["status"] in PAID), None)
    if payment is None:
        raise ApiError(409, "conflict", f"tranche {c.path.n} is not paid yet: its LPJ form is printed once it is",
                       rule="document.not_yet")
    anchor = grants_code(c, "grant", PAID_EVENTS, payment["payment_id"])
    submitted = [entry for entry in grant["history"]
                 if entry["event"] == "LpjSubmitted" and entry["details"].get("tranche") == c.path.n]
    lines = submitted[-1]["details"]["lines"] if submitted else []
    group = group_of(c, grant["group_id"])
    return printout(c, "lpj_form.html", anchor, f"lpj-{anchor['code']}.pdf", grant["village_code"],
                    proposal=c.rpc("grants", "proposal", c.path.proposal_id), tranche=c.path.n, payment=payment,
                    paid=anchor, lines=lines, blank_lines=max(0, LPJ_BLANK_LINES - len(lines)),
                    chair=role_name(c, group, "ketua"), treasurer=role_name(c, group, "bendahara"))


def provenance(c: Call) -> File:
    """For the auditor: a disbursement and every decision it rests on, who made it and when."""
    grant, payment = c.resource, payment_of(c.resource, c.path.payment_id)
    anchor = grants_code(c, "grant", PAID_EVENTS, payment["payment_id"])
    proposal = c.rpc("grants", "proposal", c.path.proposal_id)
    history = proposal["history"] + [entry for entry in grant["history"]
                                     if entry["details"].get("payment_id") == payment["payment_id"]]
    steps = [{"word": EVENT_WORDS.get(entry["event"], entry["event"]), "by": entry["by"], "at": entry["at"]}
             for entry in history]
    return printout(c, "provenance.html", anchor, f"asal-usul-{anchor['code']}.pdf", grant["village_code"],
                    proposal=proposal, grant=grant, payment=payment, steps=steps)


def certificate(c: Call) -> File:
    """The Family School certificate of a participant who completed the cohort."""
    cohort = c.resource
    participant = next((p for p in cohort["participants"] if p["nik"] == c.path.nik), None)
    if participant is None:
        raise ApiError(404, "not_found", "no such participant in this cohort")
    anchor = c.rpc("training", "document_code", c.path.cohort_id, c.path.nik)
    return printout(c, "certificate.html", anchor, f"sertifikat-{anchor['code']}.pdf", cohort["village_code"],
                    cohort=cohort, participant=participant, completed=anchor, name=person_name(c, c.path.nik))


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
