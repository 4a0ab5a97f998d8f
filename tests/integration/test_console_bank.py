"""The treasurer's bank files in the console, on the real gateway and services, driven as a browser would: the
instructed transfers ticked on the list and taken as one bulk-transfer file, then the bank's statement uploaded and
what each line did shown, what waits for a decision marked — and the same statement again changing nothing.

Pages are read in English (the language switch), so the sentences checked are the message ids themselves.
"""

from __future__ import annotations

import csv
import html
import io
import re
import uuid

import pytest

from berdaya.bank.statement import mt940
from services.grants.bankfiles import payment_reference
from tests.integration.test_console_audit_users import CONSOLE, browser, console  # noqa: F401
from tests.integration.test_gateway import GatewaySystem, Staff, approved_proposal, register_group, set_budget

pytestmark = pytest.mark.integration


def result_rows(text: str) -> list[tuple[str, str]]:
    """The statement's result table: each row's class (what awaits a decision is marked) and its cells' text."""
    table = re.search(r'<section aria-labelledby="result">.*?<tbody>(.*?)</tbody>', text, re.S).group(1)
    return [(css, " | ".join(" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in
                             re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)))
            for css, row in re.findall(r'<tr(?: class="([^"]*)")?>(.*?)</tr>', table, re.S)]


def test_the_treasurer_takes_the_bank_file_and_reconciles_the_statement(console: GatewaySystem):  # noqa: F811
    staff = Staff(console)
    set_budget(staff)
    group_id, _ = register_group(staff, 800, name="KUBE Teratai")
    proposal_id = approved_proposal(staff, group_id)
    payment_id = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                    headers={"Idempotency-Key": f"console-bank-{uuid.uuid4()}"})["payment_id"]
    reference = payment_reference(payment_id)

    treasurer = browser(console, "bendahara.lamsel")
    listed = treasurer.page(f"{CONSOLE}/grants")
    assert f'value="{proposal_id}:{payment_id}" form="batch"' in listed and "In the bank file" in listed
    nothing = treasurer.post(f"{CONSOLE}/grants/batch")
    assert nothing.status_code == 400 and "Tick the payments to put in the file." in html.unescape(nothing.text)

    taken = treasurer.post(f"{CONSOLE}/grants/batch", {"payment": f"{proposal_id}:{payment_id}"})
    assert taken.status_code == 200, taken.text[:500]
    assert taken.headers["Content-Disposition"].endswith('-1trx-Rp9800000.csv"')
    lines = list(csv.reader(io.StringIO(taken.content.decode())))
    assert lines[1][1:] == ["KUBE Teratai", "BRI", "9800000", reference, "BLPS UEP Tahap 1 KUBE Teratai"]
    assert staff.treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["tranches"][0]["status"] == "sent"

    # Another treasurer records the bank's word (the one who instructed may not confirm).
    other = browser(console, "bendahara2.lamsel")
    statement = mt940(("D", 9_800_000, reference, "BRI2612020001", "TRF KUBE TERATAI"),
                      ("D", 2_500_000, "BLPS000000000000", "BRI2612020002", "TRF LAIN"))

    def upload() -> str:
        answer = other.http.post(console.base + f"{CONSOLE}/grants/statement", allow_redirects=False, timeout=300,
                                 data={"_csrf": other.csrf, "_key": uuid.uuid4().hex, "format": "mt940"},
                                 files={"statement": ("mt940.sta", statement, "application/octet-stream")})
        assert answer.status_code == 200, answer.text[:500]
        return html.unescape(answer.text)

    first = upload()
    assert "1 applied, 1 awaiting your decision." in first
    assert result_rows(first) == [
        ("", f"1 | {reference} | Rp 9,800,000 | BRI2612020001 | confirmed | "),
        ("overdue",
         "2 | BLPS000000000000 | Rp 2,500,000 | BRI2612020002 | unknown reference · awaits your decision | ")]
    assert staff.treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["tranches"][0]["status"] == "confirmed"

    again = upload()
    assert "This statement was reconciled before: nothing changed." in again
    assert "1 applied, 1 awaiting your decision." in again
