"""The admin's erasure page (maker–checker): ask for the erasure of a person's household by the NIK typed, with a
reason; the region's requests awaiting a second admin (ids, who asked, when, why — no name); approve another admin's
request. The registry refuses the asker's own approval, and an erasure while a legal duty keeps the data (its
reason shown). A NIK typed is never shown again: the page holds none (masking by need, docs/console.md)."""

from __future__ import annotations

from services.gateway.console.forms import Form
from services.gateway.console.web import View

ASK_FIELDS = {"nik", "reason"}


def erasures(view: View, *, values: dict | None = None, errors: dict | None = None, refusal=None,
             refused_row: str = "", status: int = 200):
    """``refused_row``: the request whose approval was refused (its sentence shows in its row, or above the list
    when it waits no more: approved by another admin meanwhile)."""
    return view.render("erasures.html", status=status, pending=view.api("pending_erasures"),
                       values=values or {}, errors=errors or {}, refusal=refusal, refused_row=refused_row)


def ask_erasure(view: View):
    form = Form(view.form, view.lang)
    nik = form.digits("nik")
    body = {"reason": form.text("reason", max_length=500), "whole_household": form.raw("whole_household") == "1"}
    form.send(view, "request_erasure", path={"nik": nik}, body=body,
              place=lambda refusal: form.refused(refusal, ASK_FIELDS))
    if form.status:
        return erasures(view, values=body, **form.shown_again)
    return view.redirect("/erasures", done="erasure_requested")


def approve_erasure(view: View):
    request_id = view.path["request_id"]
    form = Form(view.form, view.lang)
    form.send(view, "approve_erasure", path={"request_id": request_id})
    if form.status:
        return erasures(view, refusal=form.refusal, refused_row=request_id, status=form.status)
    return view.redirect("/erasures", done="erasure_approved")
