"""The double-aid check (issue 18, item 6) through the real gateway: what a household already receives from the KUBE
programme — its group, the proposal's status, the approved amount, fiscal year and source, the tranches paid — by
its KK or its id, as ids and amounts only; another region's user learns nothing, and nothing is logged for them."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_gateway import (  # noqa: F401 (gateway: the fixture)
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,
    register_group,
    set_budget,
)
from tests.support.households import household_body
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def pay_tranche_1(staff: Staff, proposal_id: str) -> None:
    payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                 headers={"Idempotency-Key": f"benefits-{proposal_id}"})
    grant = f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}"
    staff.treasurer.ok("POST", f"{grant}/sent")
    staff.treasurer_2.ok("POST", f"{grant}/confirm", {"bank_reference": "BRI-BENEFITS-1"})


def test_a_households_benefits_answer_its_kube_grant_by_kk_or_id_without_personal_data(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    set_budget(staff)
    group_id, households = register_group(staff, 7100)
    proposal_id = approved_proposal(staff, group_id, amount=14_000_000)
    pay_tranche_1(staff, proposal_id)
    member = households[0]
    found = staff.operator.ok("GET", f"/api/v1/households/{member['kk']}")

    path = f"/api/v1/households/{member['kk']}/benefits"
    eventually(lambda: staff.treasurer.ok("GET", path)["groups"][0]["status"] == "active", timeout=30,
               message="the registry marks the group active: funded, its first tranche paid")
    answer = staff.treasurer.ok("GET", path)
    tranches = staff.treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["tranches"]
    assert answer == {
        "household_id": found["household_id"], "village_code": member["village_code"], "programme": "KUBE",
        "enrolment": "receiving",
        "groups": [{"group_id": group_id, "village_code": member["village_code"], "kind": "perempuan",
                    "status": "active", "proposals": [{
                        "proposal_id": proposal_id, "status": "approved", "requested_rp": answer["groups"][0][
                            "proposals"][0]["requested_rp"], "approved_rp": 14_000_000, "fiscal_year": 2026,
                        "source": "APBN", "grant": {
                            "grant_id": answer["groups"][0]["proposals"][0]["grant"]["grant_id"],
                            "amount_rp": 14_000_000, "disbursed_rp": tranches[0]["amount_rp"], "refunded_rp": 0,
                            "tranches": len(tranches), "tranches_paid": 1}}]}]}
    assert staff.ministry.ok("GET", f"/api/v1/households/{found['household_id']}/benefits") == answer
    said = json.dumps(answer)
    personal = [member["kk"], member["address"], *(p[key] for p in member["members"] for key in ("nik", "name"))]
    assert not [value for value in personal if value in said]

    outsider = household_body(7200)  # registered, in no KUBE
    staff.operator.ok("POST", "/api/v1/households", outsider)
    assert staff.operator.ok("GET", f"/api/v1/households/{outsider['kk']}/benefits")["groups"] == []
    assert staff.operator.ok("GET", f"/api/v1/households/{outsider['kk']}/benefits")["enrolment"] == "none"


def test_a_household_applying_is_applying_until_approved(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    group_id, households = register_group(staff, 7300, "KUBE Melati")
    path = f"/api/v1/households/{households[2]['kk']}/benefits"
    eventually(lambda: staff.operator.ok("GET", path)["enrolment"] == "member", timeout=30,
               message="grants learns of the group")
    draft = {"group_id": group_id, "business_plan": "Warung sembako", "form": "cash", "budget_lines": [
        {"item": "Etalase", "quantity": 1, "unit": "unit", "unit_price_rp": 3_000_000}]}
    proposal_id = staff.operator.ok("POST", "/api/v1/proposals", draft)["proposal_id"]
    proposal = staff.operator.ok("GET", path)["groups"][0]["proposals"]
    assert (staff.operator.ok("GET", path)["enrolment"], proposal) == ("applying", [{
        "proposal_id": proposal_id, "status": "draft", "requested_rp": 3_000_000, "approved_rp": None,
        "fiscal_year": None, "source": None, "grant": None}])


def test_another_regions_user_gets_the_answer_of_a_missing_household_and_no_read_is_logged(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    _, households = register_group(staff, 7400, "KUBE Anggrek")
    path = f"/api/v1/households/{households[0]['kk']}/benefits"
    head = households[0]["members"][0]["nik"]
    elsewhere = gateway.user_client("operator", "18.02", "op.lampung-tengah")
    staff.operator.ok("GET", path)

    def reads() -> list[tuple[str, str]]:  # the auditor's own reads of the log are logged too: left out
        return [(read["username"], read["purpose"]) for read in
                staff.auditor.ok("GET", f"/api/v1/people/{head}/access-log")["reads"] if read["role"] != "auditor"]

    assert reads() == [("op.kalianda", "api.household_benefits")]
    missing = elsewhere.get("/api/v1/households/1801069999999999/benefits")
    assert missing[0] == 404
    assert elsewhere.get(path) == missing
    assert reads() == [("op.kalianda", "api.household_benefits")]
