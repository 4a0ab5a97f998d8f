"""The auditor's pages: the money ledger's head, the last verifications and a new one, the state as of a moment,
the report to download, and the provenance of a disbursement — from its drafting to its last payment.

The audit routes read every service's database in a child process of the gateway: the ledger's head is loaded
after the page (htmx), and a verification runs only when someone asks for it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from services.gateway.console.forms import Form
from services.gateway.console.i18n import N_, WIB
from services.gateway.console.web import Download, Refused, View

END_OF_DAY = time(23, 59, 59)
# A payment's columns: a transfer is instructed, sent, confirmed; a handover is recorded (its first step) and
# accepted by another person (its confirmation). Other events are a column of their own name (failed, …).
PAYMENT_STEPS = {"Instructed": "instructed", "DeliveryRecorded": "instructed", "Delivered": "confirmed"}


def audit(view: View):
    return view.render("audit.html", runs=view.api("audit_runs"), result=None, values={}, errors={})


def audit_head(view: View):
    """The ledger's head: a fragment for htmx, or a page of its own without JavaScript."""
    head, refusal = None, None
    try:
        head = view.api("ledger_head")
    except Refused as refused:
        refusal = refused.refusal
    # htmx swaps in a fragment only when it is a 200: the refusal's sentence is the fragment then
    status = refusal.status if refusal and not view.htmx else 200
    return view.render("audit_head.html", status=status, head=head, refusal=refusal, fragment=view.htmx)


def audit_verify(view: View):
    result = view.api("audit_verify")
    return view.render("audit.html", runs=view.api("audit_runs"), result=result, values={}, errors={})


def audit_report(view: View):
    report = view.api("audit_report")
    return Download(report.content, report.filename, "application/zip")


def audit_replay(view: View):
    form = Form(view.args, view.lang)
    values = {"as_of_date": form.raw("as_of_date"), "as_of_time": form.raw("as_of_time")}
    moment = as_of(form)
    if moment is None:
        return view.render("audit_replay.html", status=400, values=values, errors=form.errors, state=None)
    state = view.api("audit_replay", query={"as_of": moment.isoformat()})
    return view.render("audit_replay.html", values=values, errors={}, state=state)


def as_of(form: Form) -> datetime | None:
    """The moment a person means by a date and a time of day in WIB (the end of that day without a time)."""
    day, clock = form.day("as_of_date"), form.raw("as_of_time")
    shown = END_OF_DAY
    if clock:
        if not re.fullmatch(r"\d{1,2}[:.]\d{2}", clock) or int(clock[:-3]) > 23 or int(clock[-2:]) > 59:
            form.wrong("as_of_time", N_("A time of day, e.g. 16:30."))
            return None
        shown = time(int(clock[:-3]), int(clock[-2:]))
    if day is None:
        return None
    if not 2000 <= date.fromisoformat(day).year <= 2100:
        form.wrong("as_of_date", N_("Give a date between the years 2000 and 2100."))
        return None
    return datetime.combine(date.fromisoformat(day), shown, tzinfo=WIB)


def provenance(view: View):
    proposal_id = view.path["proposal_id"]
    grant = view.api("get_grant", path={"proposal_id": proposal_id})
    proposal = view.api("get_proposal", path={"proposal_id": proposal_id})
    return view.render("provenance.html", grant=grant, proposal=proposal, payments=payments_of(grant),
                       approved=next((e for e in proposal["history"] if e["event"] == "Approved"), None),
                       timeline=sorted(proposal["history"] + grant["history"],
                                       key=lambda e: datetime.fromisoformat(e["at"])))


def payments_of(grant: dict) -> list[dict[str, Any]]:
    """Each payment with the steps of its history: who instructed (or recorded a handover), sent, confirmed (or
    accepted the handover), and when."""
    steps: dict[str, dict[str, dict]] = {}
    for entry in grant["history"]:
        payment_id = entry["details"].get("payment_id")
        if payment_id:
            taken = steps.setdefault(payment_id, {})
            step = PAYMENT_STEPS.get(entry["event"], entry["event"].lower())
            if entry["event"] == "Delivered" and "instructed" not in taken:  # stored before the acceptance step:
                step = "instructed"  # one event recorded the handover
            taken[step] = entry
    return [{**payment, "steps": steps.get(payment["payment_id"], {})} for payment in grant["payments"]]
