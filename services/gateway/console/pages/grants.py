"""Grants and money: the treasurer's list of grants awaiting payment (each payment step done from the list, and the
bulk-transfer file of the ticked ones), the bank statement's upload and what it did, a grant's page (tranches,
payments, the handover of equipment, LPJ, monitoring visits, refunds), and the LPJ due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.gateway.console.documents import attach_file, download_file, listed_documents
from services.gateway.console.forms import Form, compact
from services.gateway.console.pages.session import safe_next
from services.gateway.console.refusals import Refusal
from services.gateway.console.web import BASE, ROUTE, Download, Redirect, Refused, View
from shared.vocabulary import BUSINESS_STATUSES, DOCUMENT_KINDS

ITEM_FIELDS = ("item", "quantity", "value_rp")
SPENDING_FIELDS = ("description", "receipt_number", "receipt_date", "amount_rp")
NEW_ROWS = 3


def payables(view: View, *, refusal=None, status: int = 200):
    return view.render("grants.html", status=status, grants=view.api("payable_grants"), refusal=refusal,
                       may_pay=view.user.role in ROUTE["disburse_tranche"].roles,
                       may_accept=view.user.role in ROUTE["handover_accepted"].roles)


def batch(view: View):
    """The bulk-transfer file of the instructed payments ticked on the treasurer's list: taking it sends them."""
    ticked = [value.split(":", 1) for value in view.form.getlist("payment") if value.count(":") == 1]
    if not ticked:
        return payables(view, refusal=Refusal(400, view._("Tick the payments to put in the file."), "payment", None),
                        status=400)
    try:
        taken = view.api("take_batch", body={"payments": [{"proposal_id": proposal_id, "payment_id": payment_id}
                                                          for proposal_id, payment_id in ticked]})
    except Refused as refused:
        return payables(view, refusal=refused.refusal, status=refused.refusal.status)
    return Download(taken["content"].encode("utf-8"), taken["file_name"], "text/csv")


def statement(view: View, *, result: dict | None = None, refusal=None, status: int = 200):
    return view.render("statement.html", status=status, result=result, refusal=refusal,
                       formats=(("mt940", "MT940"), ("csv", "CSV")))


def reconcile(view: View):
    """The bank's statement, uploaded as the bank sent it: what each line did, and what waits for a decision."""
    upload = view.request.files.get("statement")
    form = view.form.get("format")
    if upload is None or not upload.filename or form not in ("mt940", "csv"):
        return statement(view, refusal=Refusal(400, view._("Choose the statement's file and its format."),
                                               "statement", None), status=400)
    try:
        result = view.api("reconcile_statement", query={"format": form}, raw=upload.read())
    except Refused as refused:
        return statement(view, refusal=refused.refusal, status=refused.refusal.status)
    return statement(view, result=result)


def lpj_due(view: View):
    return view.render("lpj_due.html", rows=view.api("lpj_due"))


def grant(view: View, *, errors: dict[str, str] | None = None, refusal=None, status: int = 200):
    found = view.api("get_grant", path={"proposal_id": view.path["proposal_id"]})
    visits = [entry for entry in found["history"] if entry["event"] in ("Visited", "Monitored")]
    documents = listed_documents(view, "list_documents", {"proposal_id": view.path["proposal_id"]})
    return view.render("grant.html", status=status, grant=found, visits=visits, errors=errors or {},
                       refusal=refusal, business_statuses=BUSINESS_STATUSES, rows=[{}] * NEW_ROWS,
                       documents=documents, document_kinds=DOCUMENT_KINDS,
                       may={name: view.user.role in ROUTE[name].roles for name in (
                           "disburse_tranche", "deliver_tranche", "handover_accepted", "submit_lpj", "review_lpj",
                           "record_visit", "record_refund", "print_provenance", "attach_document")})


def attach(view: View):
    """A file attached as evidence from the grant's page: what it is, and the delivery or tranche it belongs to;
    its type is decided by its content (a refusal says so in the user's language)."""
    form = Form(view.form, view.lang)
    where = {"kind": form.choice("kind", DOCUMENT_KINDS),
             "payment_id": form.text("payment_id", required=False, max_length=36) or None,
             "tranche": form.integer("tranche", 1, 10, required=False)}
    proposal_id = view.path["proposal_id"]
    return attach_file(view, "attach_document", path={"proposal_id": proposal_id}, query=where,
                       wrong=bool(form.errors), page=grant, back=f"/grants/{proposal_id}", done="document_attached")


def document(view: View) -> Download:
    """An attached file, as stored: the download is on grants' document access log."""
    return download_file(view, "download_document", {"proposal_id": view.path["proposal_id"],
                                                     "digest": view.path["digest"]})


def tranche(form: Form) -> dict[str, Any]:
    return {"n": form.integer("tranche", 1, 10)}


def payment(form: Form) -> dict[str, Any]:
    return {"payment_id": form.text("payment_id")}


def rows_of(form: Form, prefix: str, read: dict[str, Callable[[Form, str], Any]]) -> list[dict[str, Any]]:
    return [{name: reader(form, f"{prefix}.{i}.{name}") for name, reader in read.items()} for i in form.rows(prefix)]


ITEM = {"item": lambda f, n: f.text(n, max_length=200), "quantity": lambda f, n: f.integer(n, 1, 1_000_000),
        "value_rp": lambda f, n: f.rupiah(n)}
SPENDING = {"description": lambda f, n: f.text(n, max_length=300),
            "receipt_number": lambda f, n: f.text(n, max_length=100), "receipt_date": lambda f, n: f.day(n),
            "amount_rp": lambda f, n: f.rupiah(n)}


def handover(form: Form) -> dict[str, Any]:
    return {"items": rows_of(form, "items", ITEM), "handover_date": form.day("handover_date"),
            "receiver": form.text("receiver", max_length=200)}


def review(form: Form) -> dict[str, Any]:
    accept = form.choice("decision", ("accept", "return")) == "accept"
    return {"accept": accept, "reason": form.text("reason", required=not accept),
            "refund_reference": form.text("refund_reference", required=False, max_length=100),
            "explanation": form.text("explanation", required=False)}


def visit(form: Form) -> dict[str, Any]:
    return {"visit_date": form.day("visit_date"),
            "business_status": form.choice("business_status", BUSINESS_STATUSES),
            "monthly_revenue_rp": form.rupiah("monthly_revenue_rp", positive=False),
            "members_active": form.integer("members_active", 0, 20),
            "savings_rp": form.rupiah("savings_rp", positive=False),
            "iuran_rp": form.rupiah("iuran_rp", positive=False),
            "notes": form.text("notes", required=False)}


def refund(form: Form) -> dict[str, Any]:
    return {"amount_rp": form.rupiah("amount_rp"), "reason": form.text("reason"),
            "reference": form.text("reference", max_length=100)}


@dataclass(frozen=True)
class Step:
    """A step on a grant: the API route, what the page then says, and what the form gives its path and body."""

    route: str
    done: str
    path: Callable[[Form], dict[str, Any]] = lambda form: {}
    body: Callable[[Form], dict[str, Any] | None] = lambda form: None


STEPS = {
    "instruct": Step("disburse_tranche", "instructed", tranche),
    "deliver": Step("deliver_tranche", "delivered", tranche, handover),
    "accept_handover": Step("handover_accepted", "handover_accepted", payment),
    "sent": Step("payment_sent", "sent", payment),
    "confirm": Step("payment_confirmed", "confirmed", payment,
                    lambda form: {"bank_reference": form.text("bank_reference", max_length=100)}),
    "fail": Step("payment_failed", "failed", payment, lambda form: {"reason": form.text("reason")}),
    "cancel_payment": Step("payment_cancelled", "payment_cancelled", payment,
                           lambda form: {"reason": form.text("reason")}),
    "lpj": Step("submit_lpj", "lpj_submitted", tranche, lambda form: {"lines": rows_of(form, "lines", SPENDING)}),
    "lpj_review": Step("review_lpj", "lpj_reviewed", tranche, review),
    "visit": Step("record_visit", "visit_recorded", body=visit),
    "refund": Step("record_refund", "refund_recorded", body=refund),
}


def act(view: View):
    """One step on a grant: pay, record the bank's answer, hand over or accept a handover, report or review an LPJ,
    visit, refund."""
    step = STEPS.get(view.path["action"])
    if step is None:
        return view.redirect(f"/grants/{view.path['proposal_id']}")
    form = Form(compact(compact(view.form, "items", ITEM_FIELDS), "lines", SPENDING_FIELDS), view.lang)
    path, body = step.path(form), step.body(form)
    back = safe_next(view.form.get("back") or f"{BASE}/grants/{view.path['proposal_id']}")
    form.send(view, step.route, path={"proposal_id": view.path["proposal_id"], **path}, body=body)
    if form.status:
        return shown_again(view, back, form)
    return Redirect(f"{back}{'&' if '?' in back else '?'}done={step.done}")


def shown_again(view: View, back: str, form: Form):
    """A refused step is shown on the page it was taken from: the treasurer's list (its sentence above the list),
    or the grant's page (next to the field)."""
    if back.rstrip("/") != f"{BASE}/grants":
        return grant(view, **form.shown_again)
    refusal = form.refusal
    if refusal is None and form.errors:
        field, sentence = next(iter(form.errors.items()))
        refusal = Refusal(form.status, sentence, field, None)
    return payables(view, refusal=refusal, status=form.status)
