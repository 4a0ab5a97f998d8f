"""The cap follows the group: a proposal returned for revision while its KUBE shrank is capped, when it comes back,
for the households the group still has (Rp 2,000,000 each) — not for those it had when it was drafted."""

from __future__ import annotations

import pytest

from tests.integration.test_gateway import LINES, GatewaySystem, Staff, _created, register_group, set_budget
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def grants_caught_up_with_registry(gateway: GatewaySystem) -> None:
    with gateway.system.rpc() as rpc:
        eventually(lambda: rpc.grants.backbone_status()["consumers"]["registry"]["position"]
                   >= rpc.registry.backbone_status()["last_position"], message="grants learns of the removals")


def test_a_group_that_shrank_while_its_proposal_was_returned_is_capped_for_what_it_has(gateway: GatewaySystem):
    staff = Staff(gateway)
    set_budget(staff)
    group_id, households = register_group(staff, start=820, size=10)  # cap Rp 20,000,000
    draft = {"group_id": group_id, "business_plan": "Usaha jahit seragam sekolah", "budget_lines": LINES,
             "form": "cash"}  # Rp 16,500,000 requested
    proposal_id = eventually(lambda: _created(staff.operator.post("/api/v1/proposals", draft)), timeout=30,
                             message="grants learns of the group")["proposal_id"]
    staff.operator.ok("POST", f"/api/v1/proposals/{proposal_id}/submit")
    staff.verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/return", {"reason": "RAB perlu rincian"})

    for household in households[7:]:  # three households leave: 7 remain, cap Rp 14,000,000
        staff.operator.ok("POST", f"/api/v1/groups/{group_id}/members",
                          {"removed_kk": household["kk"], "reason": "pindah domisili"})
    assert len(staff.operator.ok("GET", f"/api/v1/groups/{group_id}")["members"]) == 7
    grants_caught_up_with_registry(gateway)
    staff.operator_2.ok("POST", f"/api/v1/proposals/{proposal_id}/resubmit", {})
    staff.verifier.ok("POST", f"/api/v1/proposals/{proposal_id}/verify")
    staff.province.ok("POST", f"/api/v1/proposals/{proposal_id}/recommend")

    status, refusal = staff.ministry.post(f"/api/v1/proposals/{proposal_id}/approve",
                                          {"amount_rp": 16_000_000, "form": "cash", "fiscal_year": 2026,
                                           "source": "APBN"})
    assert status in (409, 422) and refusal["error"]["rule"] == "approval.above_cap", refusal
    assert "× 7 households" in refusal["error"]["message"]
    proposal = staff.ministry.ok("GET", f"/api/v1/proposals/{proposal_id}")
    assert proposal["status"] == "recommended" and proposal.get("approved_rp") is None  # nothing committed
    approved = staff.ministry.ok("POST", f"/api/v1/proposals/{proposal_id}/approve",
                                 {"amount_rp": 14_000_000, "form": "cash", "fiscal_year": 2026, "source": "APBN"})
    assert approved["status"] == "approved"
