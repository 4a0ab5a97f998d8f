"""The printouts, from the "Print" links of the pages where each belongs: the API's PDF routes run as the user (the
same roles and region as the thing printed), answered as a download; and the page a printout's QR code leads to."""

from __future__ import annotations

from services.gateway.console.web import Download, Html, View
from services.gateway.printouts import PDF


def paper(view: View, route: str, *names: str) -> Download:
    printed = view.api(route, path={name: view.path[name] for name in names})
    return Download(printed.content, printed.filename, PDF)


def proposal_letter(view: View) -> Download:
    return paper(view, "print_proposal_letter", "proposal_id")


def decision_annex(view: View) -> Download:
    return paper(view, "print_decision_annex", "proposal_id")


def bast(view: View) -> Download:
    return paper(view, "print_bast", "proposal_id", "payment_id")


def receipt(view: View) -> Download:
    return paper(view, "print_receipt", "proposal_id", "payment_id")


def provenance_sheet(view: View) -> Download:
    return paper(view, "print_provenance", "proposal_id", "payment_id")


def lpj_form(view: View) -> Download:
    return paper(view, "print_lpj_form", "proposal_id", "n")


def certificate(view: View) -> Download:
    return paper(view, "print_certificate", "cohort_id", "person_id")


def verify(view: View) -> Html:
    """Where a printout's QR code leads: anyone, without logging in, sees whether the paper matches what berdaya
    recorded (the API's ``GET /verify/{code}``, throttled the same), in their language."""
    return view.render("verify.html", check=view.api("verify_document", path={"code": view.path["code"]}))
