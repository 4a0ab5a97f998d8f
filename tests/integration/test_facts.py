"""The in-memory facts the application tests run on (tests/support/memory/) answer as the services' read models in
PostgreSQL do: the same upstream events and the same commands, given to a service on its database (the events
through its consumer's projections, as the consumer applies them) and to the service in memory; then every fact a
command reads is asked of both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.grants import commands as cmd
from services.grants.application import GrantsApplication
from shared.consumer import UnitOfWork, handlers_of
from shared.contracts import EventData, make_envelope, registry, training
from shared.ledger import GENESIS
from tests.support.applications import application_fixture
from tests.support.grants_cast import MIN, MIN2, OP1, PROV, TR, TR2, VER, VILLAGE
from tests.support.memory.grants import MemoryGrantsFacts

pytestmark = pytest.mark.integration

grants_sql = application_fixture(GrantsApplication, "grants_sql")


def consumed(app, upstream: str) -> Callable[..., None]:
    """Feed upstream events to ``app`` as its consumer does: its handlers, one unit of work, the tracked position."""

    def feed(*events: EventData) -> None:
        unit, handlers = UnitOfWork(app), handlers_of(app)
        position = app.tracked_position(upstream)
        for data in events:
            position += 1
            envelope = make_envelope(source=upstream, position=position, previous_position=position - 1,
                                     subject=str(uuid.uuid4()), time=datetime.now(UTC), data=data)
            handlers[envelope.type](data, envelope, unit)
        unit.commit(upstream, position)

    return feed


def grants_scenario(grants: GrantsApplication, from_registry, from_training) -> dict:
    """Three KUBEs and their households; news that changes them; proposals drafted, rejected and approved; money
    paid. Returns the ids to ask about (the same on both sides: chosen here, not by the stores)."""
    groups = [uuid.UUID(int=n) for n in (101, 102, 103)]
    kks = {g: [f"1801060000{g.int:03d}{i:03d}" for i in range(10)] for g in groups}
    for group_id in groups:
        from_registry(*[registry.HouseholdRegisteredV1(
            household_id=uuid.uuid4(), kk=kk, dtks_id=f"DTKS-{kk}", village_code=VILLAGE, decile=2,
            bdt_status="active", members=[], registered_by="op1") for kk in kks[group_id]])
        from_registry(registry.GroupFormedV1(
            group_id=group_id, name=f"KUBE {group_id.int}", village_code=VILLAGE, business_type="ternak",
            kind="perempuan", members=[registry.GroupMemberV1(kk=kk, representative_nik="1801064101800001",
                                                              representative_name="Ibu") for kk in kks[group_id]],
            roles={}, formed_by="op1"))
    first, second, third = groups
    from_registry(registry.HouseholdDecileChangedV1(household_id=uuid.uuid4(), kk=kks[third][0], decile=7, by="op1"),
                  registry.HouseholdStatusChangedV1(household_id=uuid.uuid4(), kk=kks[third][1],
                                                    bdt_status="graduated", reason="lulus", by="op1"),
                  registry.GroupMemberChangedV1(group_id=second, removed_kk=kks[second][9], members=[
                      registry.GroupMemberV1(kk=kk, representative_nik="1801064101800001", representative_name="Ibu")
                      for kk in kks[second][:9]], roles={}, reason="pindah", by="op1"),
                  registry.GroupDissolvedV1(group_id=third, reason="bubar", by="op1"))
    from_training(training.GateChangedV1(group_id=first, open=True, completed=8, representatives=10,
                                         threshold_percent=80))

    lines = [{"item": "kambing betina", "quantity": 10, "unit": "ekor", "unit_price_rp": 1_500_000}]

    def draft(group_id: uuid.UUID) -> str:
        return grants.draft_proposal(cmd.DraftProposal(actor=OP1, group_id=str(group_id), business_plan="ternak",
                                                       budget_lines=lines, form="cash"))

    rejected = draft(first)
    draft(second)
    grants.submit(cmd.ProposalAction(actor=OP1, proposal_id=rejected))
    grants.reject(cmd.ReasonedAction(actor=VER, proposal_id=rejected, reason="tidak layak"))
    approved = draft(first)
    grants.submit(cmd.ProposalAction(actor=OP1, proposal_id=approved))
    grants.verify(cmd.ProposalAction(actor=VER, proposal_id=approved))
    grants.recommend(cmd.ProposalAction(actor=PROV, proposal_id=approved))
    grants.set_budget_ceiling(cmd.SetBudgetCeiling(actor=MIN, fiscal_year=2026, source="APBN",
                                                   ceiling_rp=100_000_000))
    grants.approve(cmd.Approve(actor=MIN2, proposal_id=approved, amount_rp=15_000_000, form="cash",
                               fiscal_year=2026, source="APBN"))
    payment = grants.instruct(cmd.Instruct(actor=TR, proposal_id=approved, tranche=1, idempotency_key="bayar-0001"))
    grants.mark_sent(cmd.PaymentAction(actor=TR, proposal_id=approved, payment_id=payment["payment_id"]))
    grants.confirm(cmd.Confirm(actor=TR2, proposal_id=approved, payment_id=payment["payment_id"],
                               bank_reference="BRI-1"))
    from_registry(registry.GroupFundedV1(group_id=first, proposal_id=uuid.UUID(approved), amount_rp=15_000_000))
    unknown_kk = "1801069999999999"
    return {"groups": [*groups, uuid.UUID(int=999)], "kks": [kk for g in groups for kk in kks[g]] + [unknown_kk]}


def grants_facts(grants: GrantsApplication, ids: dict) -> dict:
    facts = grants.facts
    head = facts.ledger_head()
    return {
        "kubes": [facts.kube(str(g)) for g in ids["groups"]],
        "open_proposals": [len(facts.open_proposals(str(g))) for g in ids["groups"]],
        "standings": facts.standings(ids["kks"]),
        "gates": [facts.gate_open(g) for g in ids["groups"]],
        # The hashes cover timestamps, which differ between the two runs: each head must be its own chain's last.
        "ledger_seq": head.seq, "ledger_started": head.hash != GENESIS,
    }


def test_grants_facts_in_memory_answer_as_the_read_model_does(grants_sql):
    in_memory = GrantsApplication.in_memory(MemoryGrantsFacts)
    ids = grants_scenario(in_memory, in_memory.facts.project, in_memory.facts.project)
    expected = grants_facts(in_memory, ids)
    ids_sql = grants_scenario(grants_sql, consumed(grants_sql, "registry"), consumed(grants_sql, "training"))
    assert ids_sql == ids
    assert grants_facts(grants_sql, ids) == expected
    # The scenario reaches every kind of answer, so agreement means something.
    assert {k.status for k in expected["kubes"] if k} == {"formed", "funded", "dissolved"}
    assert expected["kubes"][-1] is None and len(expected["kubes"][1].kks) == 9
    assert expected["open_proposals"] == [1, 1, 0, 0] and expected["gates"] == [True, False, False, False]
    assert {s.bdt_status for s in expected["standings"].values()} == {"active", "graduated"}
    assert expected["ledger_seq"] == 4 and expected["ledger_started"]
    assert grants_sql.facts.ledger_head().hash == grants_sql.query(
        "SELECT entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")[0]["entry_hash"]
