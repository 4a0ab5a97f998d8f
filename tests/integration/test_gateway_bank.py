"""The treasurer's bank files over HTTP, through the gateway and the running services: the group's bank account
reaches grants from registry's event, the bulk-transfer file pays into it, and the bank's statement, uploaded as the
bank sent it, confirms the payment — once, whoever uploads it again."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from berdaya.bank.statement import mt940
from services.grants.bankfiles import payment_reference
from tests.integration.test_gateway import (  # noqa: F401  (gateway: the fixture)
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,
    register_group,
    set_budget,
)

pytestmark = pytest.mark.integration


def test_the_treasurer_takes_the_batch_file_and_the_statement_confirms_its_payment(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    set_budget(staff)
    group_id, _ = register_group(staff, 700, name="KUBE Anggrek")
    proposal_id = approved_proposal(staff, group_id)
    payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                 headers={"Idempotency-Key": f"bank-{uuid.uuid4()}"})
    selection = {"payments": [{"proposal_id": proposal_id, "payment_id": payment["payment_id"]}]}

    batch = staff.treasurer.ok("POST", "/api/v1/grants/batches", selection)
    rows = list(csv.reader(io.StringIO(batch["content"])))
    group = staff.operator.ok("GET", f"/api/v1/groups/{group_id}")
    account = group["bank_account"]
    assert rows[1] == [account["number"], account["holder"], account["bank"], "9800000",
                       payment_reference(payment["payment_id"]), "BLPS UEP Tahap 1 KUBE Anggrek"]
    assert rows[2] == ["TOTAL", "1", "9800000"] and batch["file_name"].endswith("-1trx-Rp9800000.csv")
    tranche = staff.treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["tranches"][0]
    assert tranche["status"] == "sent"

    statement = mt940(("D", 9_800_000, payment_reference(payment["payment_id"]), "BRI2612020001", "TRF KUBE"))
    headers = {"Content-Type": "application/octet-stream"}
    # The treasurer who instructed it may not record the bank's confirmation: the line waits for another one.
    mine = staff.treasurer.ok("POST", "/api/v1/grants/statements", params={"format": "mt940"}, data=statement,
                              headers=headers)
    assert [(line["verdict"], line["awaits_decision"]) for line in mine["lines"]] == [("refused", True)]
    # The same statement is reconciled once: another treasurer's upload of the very same file changes nothing.
    again = staff.treasurer_2.ok("POST", "/api/v1/grants/statements", params={"format": "mt940"}, data=statement,
                                 headers=headers)
    assert again["repeated"] and again["statement_id"] == mine["statement_id"]
    assert staff.treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["tranches"][0]["status"] == "sent"
    # The bank's next statement (another file) confirms it, uploaded by the other treasurer.
    next_day = statement.replace(b":20:BERDAYA", b":20:BERDAYA2")
    result = staff.treasurer_2.ok("POST", "/api/v1/grants/statements", params={"format": "mt940"}, data=next_day,
                                  headers=headers)
    assert [(line["verdict"], line["awaits_decision"]) for line in result["lines"]] == [("confirm", False)]
    grant = staff.treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")
    assert grant["tranches"][0]["status"] == "confirmed"
