"""A KUBE group from registration to its second tranche, through the HTTP API only, with every service a real
`nameko run` process: registry, grants, training and the gateway.

The route and data are those of tests/integration/test_grants_training.py, which drives it by RPC: seven eligible
households, a women's KUBE, a budget, the proposal's climb (operator → district → province → ministry), tranche 1
paid, its LPJ submitted and accepted by a second operator, the Family School (automatic enrolment, six sessions,
attendance of six of the seven representatives: ≥ 80 %), and tranche 2 paid once the gate opens.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.ids import jakarta_today
from shared.masking import mask
from tests.integration.test_gateway import LINES, VILLAGE, _created, group_body, household_body
from tests.support.http_system import HttpSystem
from tests.support.system import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
def http(request):
    system = HttpSystem()
    failed = True
    try:
        system.start()
        yield system
        failed = False
    finally:
        system.close(failed)


def test_a_group_goes_from_registration_to_tranche_two_over_http(http: HttpSystem):
    group_to_tranche_two(http)


def group_to_tranche_two(http: HttpSystem) -> list[dict]:
    """The module's scenario, each step asserted; returns the households it registered."""
    admin = http.client("admin.pusat", "admin", "")
    operator = http.client("op.kalianda", "operator", "18.01")
    operator_2 = http.client("op2.kalianda", "operator", "18.01")
    verifier = http.client("kabid.lamsel", "verifier", "18.01")
    province = http.client("dinsos.lampung", "province", "18")
    ministry = http.client("kemensos.pusat", "ministry", "")
    treasurer = http.client("bendahara.lamsel", "treasurer", "18.01")
    treasurer_2 = http.client("bendahara2.lamsel", "treasurer", "18.01")
    facilitator = http.client("fasilitator.rina", "facilitator", "18.01")
    auditor = http.client("inspektorat", "auditor", "")

    # The official region list, then seven eligible households and their women's KUBE.
    rows = [{"code": "18", "name": "Lampung", "level": 1}, {"code": "18.01", "name": "Lampung Selatan", "level": 2},
            {"code": "18.01.06", "name": "Kalianda", "level": 3}, {"code": VILLAGE, "name": "Jondong", "level": 4}]
    assert admin.ok("POST", "/api/v1/regions/import", {"rows": rows, "source": "kepmendagri"})["codes"] == 4
    households = [household_body(500 + i) for i in range(7)]
    for body in households:  # each sent with an Idempotency-Key, as a client that retries sends it
        key = {"Idempotency-Key": f"household-{uuid.uuid4()}"}
        assert operator.ok("POST", "/api/v1/households", body, headers=key)["kk"] == body["kk"]
    replayed = operator.ok("POST", "/api/v1/households", households[-1], headers=key)  # the retry: answered again
    assert replayed["kk"] == households[-1]["kk"]
    assert operator.ok("GET", "/api/v1/households", params={"village": VILLAGE})["total"] == 7
    group_id = operator.ok("POST", "/api/v1/groups", group_body("KUBE Mawar", households))["group_id"]
    assert operator.ok("GET", f"/api/v1/groups/{group_id}")["status"] == "formed"

    # Budget, then the proposal's climb.
    ministry.ok("PUT", "/api/v1/budgets/2026/APBN", {"ceiling_rp": 100_000_000})
    draft = {"group_id": group_id, "business_plan": "Usaha jahit seragam sekolah", "budget_lines": LINES,
             "form": "cash"}
    proposal_id = eventually(lambda: _created(operator.post("/api/v1/proposals", draft)), timeout=60,
                             message="grants learns of the group")["proposal_id"]
    assert operator.ok("GET", f"/api/v1/proposals/{proposal_id}")["requested_rp"] == 16_500_000
    assert operator.ok("POST", f"/api/v1/proposals/{proposal_id}/submit")["status"] == "submitted"
    assert verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/verify")["status"] == "verified"
    assert province.ok("POST", f"/api/v1/proposals/{proposal_id}/recommend")["status"] == "recommended"
    approved = ministry.ok("POST", f"/api/v1/proposals/{proposal_id}/approve",
                           {"amount_rp": 14_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    assert approved["status"] == "approved" and approved["approval"]["amount_rp"] == 14_000_000
    grant = treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")
    assert [(t["number"], t["amount_rp"]) for t in grant["tranches"]] == [(1, 9_800_000), (2, 4_200_000)]
    assert ministry.ok("GET", "/api/v1/budgets", params={"fiscal_year": "2026"})[0]["committed_rp"] == 14_000_000

    # The group is funded; its representatives are enrolled in a Family School cohort of their village.
    eventually(lambda: operator.ok("GET", f"/api/v1/groups/{group_id}")["status"] == "funded", timeout=60)
    cohorts = eventually(lambda: facilitator.ok("GET", "/api/v1/cohorts", params={"region": VILLAGE})["items"],
                         timeout=60)
    cohort_id = cohorts[0]["cohort_id"]
    eventually(lambda: len(facilitator.ok("GET", f"/api/v1/cohorts/{cohort_id}")["participants"]) == 7, timeout=60)
    # Training knows them by the registry's ids; the facilitator sees their names (the registry tells them) and
    # their NIKs masked.
    participants = facilitator.ok("GET", f"/api/v1/cohorts/{cohort_id}")["participants"]
    by_name = {p["name"]: p["person_id"] for p in participants}
    representatives = [by_name[h["members"][0]["name"]] for h in households]
    assert {p["nik"] for p in participants} == {mask(h["members"][0]["nik"]) for h in households}

    # Tranche 1: instructed (once, whatever the retries), sent, confirmed — by another treasurer than who instructed.
    key = {"Idempotency-Key": f"tranche-1-{uuid.uuid4()}"}
    payment = treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse", headers=key)
    assert treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse", headers=key) == payment
    payment_id = payment["payment_id"]
    treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment_id}/sent")
    status, answer = treasurer.post(f"/api/v1/grants/{proposal_id}/payments/{payment_id}/confirm",
                                    {"bank_reference": "BRI-2026-000001"})
    assert status == 403 and answer["error"]["rule"] == "payment.maker_checker", answer
    paid = treasurer_2.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment_id}/confirm",
                          {"bank_reference": "BRI-2026-000001"})
    assert paid["disbursed_rp"] == 9_800_000

    # Tranche 2 waits for the LPJ...
    key_2 = {"Idempotency-Key": f"tranche-2-{uuid.uuid4()}"}
    status, lpj_refusal = treasurer.post(f"/api/v1/grants/{proposal_id}/tranches/2/disburse", headers=key_2)
    assert status == 409 and lpj_refusal["error"]["rule"] == "tranche.lpj", lpj_refusal
    operator.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/lpj", {"lines": [
        {"description": "Mesin jahit 5 unit", "receipt_number": "INV-001", "receipt_date": jakarta_today().isoformat(),
         "amount_rp": 9_800_000}]})
    status, answer = operator.post(f"/api/v1/grants/{proposal_id}/tranches/1/lpj/review", {"accept": True})
    assert status == 403 and answer["error"]["rule"] == "lpj.maker_checker", answer
    reviewed = operator_2.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/lpj/review", {"accept": True})
    assert reviewed["tranches"][0]["lpj"] == "accepted"

    # ...and for the Family School: six of the seven representatives complete it (≥ 80 %). (A refusal is an
    # answer stored under its Idempotency-Key: the same key would replay it, so each attempt takes a new one.)
    assert treasurer.post(f"/api/v1/grants/{proposal_id}/tranches/2/disburse", headers=key_2)[1] == lpj_refusal
    key_2 = {"Idempotency-Key": f"tranche-2-{uuid.uuid4()}"}
    status, answer = treasurer.post(f"/api/v1/grants/{proposal_id}/tranches/2/disburse", headers=key_2)
    assert status == 409 and answer["error"]["rule"] == "tranche.family_school", answer
    modules = facilitator.ok("GET", "/api/v1/curriculum")["active"]
    completed = []
    for index, module in enumerate(modules):
        session = facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions", {
            "module": module, "session_date": (jakarta_today() - timedelta(days=60 - index * 7)).isoformat(),
            "place": "Balai Desa Jondong"})
        marks = {person: "present" for person in representatives[:6]} | {representatives[6]: "absent"}
        completed += facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions/{session['session_id']}/attendance",
                                    {"marks": marks})["completed"]
    assert len(completed) == 6
    participant = auditor.ok("GET", f"/api/v1/participants/{representatives[0]}")
    assert participant["enrolments"][0]["status"] == "completed"
    eventually(lambda: treasurer.ok("GET", f"/api/v1/grants/{proposal_id}")["family_school_gate_open"], timeout=60)

    # Tranche 2 paid; the grant is fully disbursed and a third instruction is refused.
    key_2 = {"Idempotency-Key": f"tranche-2-{uuid.uuid4()}"}
    payment_2 = treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/2/disburse", headers=key_2)
    treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment_2['payment_id']}/sent")
    grant = treasurer_2.ok("POST", f"/api/v1/grants/{proposal_id}/payments/{payment_2['payment_id']}/confirm",
                           {"bank_reference": "BRI-2026-000002"})
    assert grant["disbursed_rp"] == grant["amount_rp"] == 14_000_000
    assert [t["status"] for t in grant["tranches"]] == ["confirmed", "confirmed"]
    status, answer = treasurer.post(f"/api/v1/grants/{proposal_id}/tranches/2/disburse",
                                    headers={"Idempotency-Key": f"tranche-2-{uuid.uuid4()}"})
    assert status == 409 and answer["error"]["rule"] == "tranche.once", answer
    # The auditor reads it all, and writes nothing.
    assert auditor.ok("GET", f"/api/v1/proposals/{proposal_id}")["status"] == "approved"
    assert auditor.post(f"/api/v1/proposals/{proposal_id}/cancel", {"reason": "audit"})[0] == 403
    return households
