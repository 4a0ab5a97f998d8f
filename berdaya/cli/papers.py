"""The demo's papers: a tranche's receipt (kuitansi) and a Family School certificate, printed under ``.run/`` as
the office prints them (the gateway's printouts, read through RPC as the given reader), each code then checked as
anyone checks a paper (the service's ``check_document``)."""

from __future__ import annotations

from pathlib import Path

from services.gateway.console.templating import Templates
from services.gateway.printing import Printer, read_letterhead
from services.gateway.printouts import Desk, certificate, receipt
from shared.document_codes import parse_code

PUBLIC_URL = "http://127.0.0.1:8080"  # where `make up` serves GET /verify/{code}


def print_papers(rpc, out: Path, proposal_id: str, graduate: str, reader: dict) -> list[dict]:
    """Print the first paid tranche's receipt of the proposal's grant, and the certificate of a representative who
    completed the Family School (``graduate``: their person id), into ``out``; each with its path, code and what
    checking the code answers."""
    desk = Desk(rpc=lambda service, method, *args: getattr(rpc[service], method)(*args),
                reader=lambda: {"actor": reader, "purpose": "demo.printouts"},
                printer=Printer(Templates(), read_letterhead(None), PUBLIC_URL))
    grant = rpc.grants.grant(proposal_id)
    paid = next(p for p in grant["payments"] if p["status"] in ("confirmed", "delivered"))
    cohort_id = next(e["cohort_id"] for e in rpc.training.participant(graduate)["enrolments"]
                     if e["status"] == "completed")
    out.mkdir(parents=True, exist_ok=True)
    printed = []
    for paper in (receipt(desk, grant, paid["payment_id"]),
                  certificate(desk, rpc.training.cohort(cohort_id), graduate)):
        path = out / paper.filename
        path.write_bytes(paper.content)
        code = parse_code(paper.code)
        printed.append({"path": path, "code": paper.code, "check": rpc[code.service].check_document(paper.code)})
    return printed
