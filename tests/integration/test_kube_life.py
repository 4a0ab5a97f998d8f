"""A KUBE's life after funding through the gateway (docs/procedures/kube-life.md): funded → active when tranche 1
is paid → visited and classified → a member change enrols the newcomer in the Family School and recounts the gate →
graduated (mandiri), after which nothing more is monitored. Each refusal is re-read to prove nothing changed."""

from __future__ import annotations

import pytest

from berdaya.cli import kube_life_story
from services.grants.monitoring import add_months
from shared.config import SERVICES
from shared.ids import jakarta_today
from tests.integration.test_gateway import (
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,  # noqa: F401  (the fixture)
    register_group,
    set_budget,
)
from tests.integration.test_grants_training import (
    FACILITATOR,
    MINISTRY,
    OPERATOR,
    VILLAGE,
    approve,
    climb,
    draft,
    pay,
)
from tests.integration.test_registry import eligible_households, group
from tests.support.households import household_body, person_id, reader
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def pay_first_tranche(staff: Staff, proposal_id: str) -> None:
    payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                 headers={"Idempotency-Key": "kube-life-tranche-1-0001"})
    path = f"/api/v1/grants/{proposal_id}/payments/{payment['payment_id']}"
    staff.treasurer.ok("POST", f"{path}/sent")
    staff.treasurer_2.ok("POST", f"{path}/confirm", {"bank_reference": "BRI-KUBE-LIFE-1"})


def refused(client, method: str, path: str, body: dict, status: int, rule: str) -> None:
    answer_status, answer = client.request(method, path, body)
    assert answer_status == status and answer["error"]["rule"] == rule, answer


def test_a_kube_lives_from_funded_to_active_visited_classified_and_graduated(gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    set_budget(staff)
    group_id, households = register_group(staff, 700, name="KUBE Anggrek")
    proposal_id = approved_proposal(staff, group_id)
    group_path, grant_path = f"/api/v1/groups/{group_id}", f"/api/v1/grants/{proposal_id}"
    eventually(lambda: staff.operator.ok("GET", group_path)["status"] == "funded", message="registry learns funded")
    visit = {"visit_date": jakarta_today().isoformat(), "business_status": "running",
             "monthly_revenue_rp": 3_500_000, "members_active": 6, "savings_rp": 600_000, "iuran_rp": 70_000,
             "notes": "jahitan seragam laris"}

    # Out of order: no graduation before the group is active, no visit before the money has arrived.
    refused(staff.operator, "POST", f"{group_path}/graduate", {"reason": "mandiri"}, 409, "kube.lifecycle")
    refused(staff.facilitator, "POST", f"{grant_path}/visits", visit, 409, "visit.before_payment")
    assert staff.operator.ok("GET", group_path)["status"] == "funded"
    assert staff.operator.ok("GET", grant_path)["visits"] == 0

    # Tranche 1 paid: registry makes the group active; the schedule counts from today.
    pay_first_tranche(staff, proposal_id)
    eventually(lambda: staff.operator.ok("GET", group_path)["status"] == "active", message="registry learns paid")
    monitoring = eventually(lambda: (lambda m: m if m["group_status"] == "active" else None)(
        staff.operator.ok("GET", grant_path)["monitoring"]), message="grants learns active")
    assert monitoring["stage"] is None and monitoring["overdue"] is False
    assert monitoring["next_visit_due"] == add_months(jakarta_today(), 1).isoformat()
    assert staff.facilitator.ok("GET", "/api/v1/grants/visits-due", params={"region": "18.01"}) == []

    # The facilitator's visit: seven households, six still active, savings and iuran paid, first visit: berkembang.
    refused(staff.facilitator, "POST", f"{grant_path}/visits", {**visit, "members_active": 8}, 400,
            "visit.members_active")
    other_regency = gateway.user_client("facilitator", "18.02", "fasilitator.tanggamus")
    assert other_regency.post(f"{grant_path}/visits", visit)[0] == 404  # as if it did not exist
    assert staff.operator.ok("GET", grant_path)["visits"] == 0
    grant = staff.facilitator.ok("POST", f"{grant_path}/visits", visit)
    assert grant["visits"] == 1 and grant["monitoring"]["stage"] == "berkembang"
    monitored = [e for e in grant["history"] if e["event"] == "Monitored"]
    assert [(e["details"]["stage"], e["details"]["trend"], e["details"]["members_active"]) for e in monitored] == [
        ("berkembang", "steady", 6)]

    # The cohort opened automatically at approval gets its facilitator.
    cohort = eventually(lambda: (staff.operator.ok("GET", "/api/v1/cohorts", params={"region": "18.01"})["items"]
                                 or [None])[0], message="training opens the village's cohort")
    assert cohort["facilitator"] == "belum ditentukan"
    eventually(lambda: len(staff.operator.ok("GET", f"/api/v1/cohorts/{cohort['cohort_id']}")["participants"]) == 7)
    assigned = staff.operator.ok("PUT", f"/api/v1/cohorts/{cohort['cohort_id']}/facilitator",
                                 {"facilitator": "fasilitator.rina"})
    assert assigned["facilitator"] == "fasilitator.rina"

    # A household joins after funding: its representative enrolled in the Family School, the gate recounted.
    newcomer = household_body(720)
    staff.operator.ok("POST", "/api/v1/households", newcomer)
    staff.operator.ok("POST", f"{group_path}/members", {
        "added": {"kk": newcomer["kk"], "representative_nik": newcomer["members"][0]["nik"]},
        "reason": "bergabung setelah musyawarah desa"})
    eventually(lambda: len(staff.operator.ok("GET", f"/api/v1/cohorts/{cohort['cohort_id']}")["participants"]) == 8,
               message="training enrols the newcomer")
    gates = eventually(lambda: [g for g in staff.operator.ok("GET", "/api/v1/gates", params={"region": "18.01"})
                                if g["group_id"] == group_id and g["representatives"] == 8],
                       message="training recounts the gate")
    assert gates[0]["completed"] == 0 and gates[0]["open"] is False

    # Graduated (mandiri): once; grants stops monitoring it.
    assert staff.operator.ok("POST", f"{group_path}/graduate",
                             {"reason": "usaha mandiri, tabungan kelompok cukup"})["status"] == "graduated"
    refused(staff.operator, "POST", f"{group_path}/graduate", {"reason": "lagi"}, 409, "kube.lifecycle")
    refused(staff.operator, "POST", f"{group_path}/dissolve", {"reason": "bubar"}, 409, "kube.inactive")
    eventually(lambda: staff.operator.ok("GET", grant_path)["monitoring"]["group_status"] == "graduated")
    refused(staff.facilitator, "POST", f"{grant_path}/visits", visit, 409, "visit.group_closed")
    grant = staff.operator.ok("GET", grant_path)
    assert grant["visits"] == 1 and grant["monitoring"]["next_visit_due"] is None
    assert staff.operator.ok("GET", group_path)["status"] == "graduated"


def test_the_demos_kube_life_step_names_the_facilitator_and_classifies_the_group_berkembang(system):
    """berdaya/cli/kube_life_story.py, as `make demo` runs it, on a ten-household group paid its first tranche."""
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    said: list[str] = []
    with system.rpc() as rpc:
        rpc.grants.set_budget_ceiling({"actor": MINISTRY, "fiscal_year": 2026, "source": "APBN",
                                       "ceiling_rp": 100_000_000})
        members = eligible_households(rpc, 10, VILLAGE, start=760)
        group_id = rpc.registry.form_group(group("KUBE Demo Berkembang", VILLAGE, members))
        eventually(lambda: rpc.grants.group(group_id) is not None)
        proposal_id = draft(rpc, group_id)
        climb(rpc, proposal_id)
        approve(rpc, proposal_id)
        pay(rpc, proposal_id, 1, "kube-life-demo-t1")
        eventually(lambda: rpc.registry.group(reader(), group_id)["status"] == "active")
        eventually(lambda: rpc.grants.group(group_id)["status"] == "active")
        chair = person_id(rpc, members[0]["representative_nik"])
        eventually(lambda: rpc.training.participant(chair)["enrolments"])

        cohort_id = kube_life_story.assign_facilitator(rpc, said.append, chair, FACILITATOR, OPERATOR)
        told = kube_life_story.visit_and_classify(rpc, said.append, proposal_id, group_id, FACILITATOR,
                                                  {"actor": OPERATOR, "purpose": "test.kube_life"})
        assert rpc.training.cohort(cohort_id)["facilitator"] == FACILITATOR["user"]
        assert (told["group_status"], told["stage"]) == ("active", "berkembang")
        assert told["next_visit_due"] == add_months(jakarta_today(), 1).isoformat()
        assert rpc.grants.grant(proposal_id)["monitoring"]["stage"] == "berkembang"
        assert "classified berkembang" in said[-1] and FACILITATOR["user"] in said[0]
