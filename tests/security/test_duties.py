"""Segregation of duties (issue 15, item 4): the treasurer who instructed a payment cannot confirm it, and whoever
recorded an equipment delivery cannot accept its handover — refused by grants' domain (403, the rule named), not
only by the console. After a refusal a re-read shows the payment as it was and the money ledger without an entry;
another treasurer (another person) then completes it."""

from __future__ import annotations

import uuid

import pytest

from shared.ids import jakarta_today
from tests.integration.test_gateway import (  # noqa: F401  (gateway: the fixture)
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,
    register_group,
    set_budget,
)

pytestmark = pytest.mark.integration

BAST = {"items": [{"item": "Mesin jahit", "quantity": 4, "value_rp": 9_800_000}],
        "handover_date": jakarta_today().isoformat(), "receiver": "Ketua KUBE"}


def ledger_topics(gw: GatewaySystem) -> list[str]:
    return [row[0] for row in gw.system.sql("grants", "SELECT topic FROM ledger ORDER BY seq")]


def refused_as_not_yours(answer: tuple[int, dict], rule: str) -> None:
    status, body = answer
    assert status == 403, answer
    assert (body["error"]["code"], body["error"]["rule"]) == ("rule_violated", rule), body


def test_the_treasurer_who_instructed_a_payment_cannot_confirm_it_another_treasurer_can(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    set_budget(staff)
    group_id, _ = register_group(staff, 1500)
    proposal_id = approved_proposal(staff, group_id)
    grant = f"/api/v1/grants/{proposal_id}"
    payment = staff.treasurer.ok("POST", f"{grant}/tranches/1/disburse",
                                 headers={"Idempotency-Key": f"duties-{uuid.uuid4()}"})
    payment_path = f"{grant}/payments/{payment['payment_id']}"
    staff.treasurer.ok("POST", f"{payment_path}/sent")
    ledger = ledger_topics(gateway)

    answer = staff.treasurer.post(f"{payment_path}/confirm", {"bank_reference": "BRI-DUTIES-1"})
    refused_as_not_yours(answer, "payment.maker_checker")
    again = staff.auditor.ok("GET", grant)
    assert [(p["status"], p.get("bank_reference")) for p in again["payments"]] == [("sent", None)]
    assert again["disbursed_rp"] == 0 and again["tranches"][0]["status"] == "sent"
    assert ledger_topics(gateway) == ledger, "a refused confirmation left a ledger entry"

    paid = staff.treasurer_2.ok("POST", f"{payment_path}/confirm", {"bank_reference": "BRI-DUTIES-1"})
    assert paid["tranches"][0]["status"] == "confirmed" and paid["disbursed_rp"] == 9_800_000
    assert len(ledger_topics(gateway)) == len(ledger) + 1


def test_who_recorded_an_equipment_delivery_cannot_accept_its_handover_another_person_can(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    set_budget(staff)
    group_id, _ = register_group(staff, 1600)
    proposal_id = approved_proposal(staff, group_id, form="equipment")
    grant = f"/api/v1/grants/{proposal_id}"
    delivery = staff.operator.ok("POST", f"{grant}/tranches/1/deliver", BAST,
                                 headers={"Idempotency-Key": f"duties-{uuid.uuid4()}"})
    assert delivery["status"] == "recorded"
    accept = f"{grant}/payments/{delivery['payment_id']}/accept"
    ledger = ledger_topics(gateway)

    refused_as_not_yours(staff.operator.post(accept), "bast.maker_checker")
    again = staff.auditor.ok("GET", grant)
    assert [p["status"] for p in again["payments"]] == ["recorded"]
    assert again["disbursed_rp"] == 0 and again["tranches"][0]["status"] == "recorded"
    assert ledger_topics(gateway) == ledger, "a refused acceptance left a ledger entry"

    accepted = staff.operator_2.ok("POST", accept)
    assert accepted["tranches"][0]["status"] == "delivered" and accepted["disbursed_rp"] == 9_800_000
    assert len(ledger_topics(gateway)) == len(ledger) + 1
