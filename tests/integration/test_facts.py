"""The in-memory facts the application tests run on (tests/support/memory/) answer as the services' read models in
PostgreSQL do: the same upstream events and the same commands, given to a service on its database (the events
through its consumer's projections, as the consumer applies them) and to the service in memory; then every fact a
command reads is asked of both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.grants import commands as cmd
from services.grants.application import GrantsApplication
from services.registry.application import RegistryApplication
from services.registry.commands import (
    AddMember,
    ChangeDecile,
    ChangeGroupMember,
    ChangeStatus,
    CorrectMember,
    DissolveGroup,
    RemoveMember,
)
from services.training import commands as training_cmd
from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES
from shared.consumer import UnitOfWork, handlers_of
from shared.contracts import EventData, grants, make_envelope, registry, training
from shared.errors import Conflict
from shared.ledger import GENESIS
from tests.support.applications import application_fixture
from tests.support.grants_cast import FAC, MIN, MIN2, OP1, PROV, TR, TR2, VER, VILLAGE
from tests.support.households import nik
from tests.support.memory.grants import MemoryGrantsFacts
from tests.support.memory.registry import MemoryRegistryFacts
from tests.support.memory.training import MemoryTrainingFacts, enrolled_on_approval
from tests.support.registry_cast import (
    IMPORT_REGIONS,
    OP,
    OP_OTHER,
    OTHER_VILLAGE,
    REGIONS,
    an_import,
    formation,
    household,
)

pytestmark = pytest.mark.integration

grants_sql = application_fixture(GrantsApplication, "grants_sql")
training_sql = application_fixture(TrainingApplication, "training_sql")
registry_sql = application_fixture(RegistryApplication, "registry_sql")


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
    households = {g: [uuid.UUID(int=g.int * 1000 + i) for i in range(10)] for g in groups}

    def members(ids: list[uuid.UUID]) -> list[registry.GroupMemberV2]:
        return [registry.GroupMemberV2(household_id=h, representative_id=uuid.UUID(int=h.int + 10**6)) for h in ids]

    for group_id in groups:
        from_registry(*[registry.HouseholdRegisteredV2(
            household_id=household_id, village_code=VILLAGE, decile=2, bdt_status="active", members=[],
            registered_by="op1") for household_id in households[group_id]])
        from_registry(registry.GroupFormedV2(
            group_id=group_id, name=f"KUBE {group_id.int}", village_code=VILLAGE, business_type="ternak",
            kind="perempuan", members=members(households[group_id]), roles={}, formed_by="op1",
            bank_account=registry.BankAccountV1(bank="BRI", number=f"0206-01-000{group_id.int}-50-1",
                                                holder=f"KUBE {group_id.int}")))
    first, second, third = groups
    from_registry(registry.HouseholdDecileChangedV2(household_id=households[third][0], decile=7, by="op1"),
                  registry.HouseholdStatusChangedV2(household_id=households[third][1], bdt_status="graduated",
                                                    by="op1"),
                  registry.GroupMemberChangedV2(group_id=second, removed_household_id=households[second][9],
                                                members=members(households[second][:9]), roles={}, reason="pindah",
                                                by="op1"),
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
    unknown = uuid.UUID(int=999_999)
    return {"groups": [*groups, uuid.UUID(int=999)],
            "households": [str(h) for g in groups for h in households[g]] + [str(unknown)]}


def grants_facts(grants: GrantsApplication, ids: dict) -> dict:
    facts = grants.facts
    head = facts.ledger_head()
    return {
        "kubes": [facts.kube(str(g)) for g in ids["groups"]],
        "open_proposals": [len(facts.open_proposals(str(g))) for g in ids["groups"]],
        "standings": facts.standings(ids["households"]),
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
    assert expected["kubes"][-1] is None and len(expected["kubes"][1].households) == 9
    assert expected["kubes"][0].bank_account == {"bank": "BRI", "number": "0206-01-000101-50-1", "holder": "KUBE 101"}
    assert expected["open_proposals"] == [1, 1, 0, 0] and expected["gates"] == [True, False, False, False]
    assert {s.bdt_status for s in expected["standings"].values()} == {"active", "graduated"}
    assert expected["ledger_seq"] == 4 and expected["ledger_started"]
    assert grants_sql.facts.ledger_head().hash == grants_sql.query(
        "SELECT entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")[0]["entry_hash"]


def approved_by_grants(training_sql: TrainingApplication) -> Callable[[uuid.UUID, str], None]:
    """Grants' approval of a KUBE's proposal, through training's projection: it enrols the representatives in the
    village's latest cohort (the scenario's only one, the cohort named)."""
    feed = consumed(training_sql, "grants")

    def approve(group_id: uuid.UUID, cohort_id: str) -> None:
        feed(grants.ProposalApprovedV1(
            proposal_id=uuid.uuid4(), group_id=group_id, village_code=VILLAGE, by="min2", amount_rp=15_000_000,
            form="cash", fiscal_year=2026, source="APBN", tranches=[
                grants.TrancheV1(number=1, amount_rp=9_000_000), grants.TrancheV1(number=2, amount_rp=6_000_000)]))

    return approve


def training_scenario(training_app: TrainingApplication, from_registry,
                      approve: Callable[[uuid.UUID, str], None]) -> dict:
    """Households and their people; news that changes them (a death, a household removed from BDT, a name
    corrected, a member added); two KUBEs, one of which changes its members; one approved, its representatives
    enrolled and most of them certified. Returns the ids to ask about and who was enrolled."""
    people = [str(uuid.UUID(int=5000 + n)) for n in range(8)]

    def household(n: int, *members: str, village_code: str = VILLAGE) -> uuid.UUID:
        from_registry(registry.HouseholdRegisteredV2(
            household_id=uuid.UUID(int=n), village_code=village_code, decile=2, bdt_status="active",
            members=[member(person) for person in members], registered_by="op1"))
        return uuid.UUID(int=n)

    def member(person: str, relation: str = "Istri") -> registry.MemberV2:
        return registry.MemberV2(person_id=person, sex="P", relation=relation)

    def kube(group_id: uuid.UUID, representatives: list[str]) -> list[registry.GroupMemberV2]:
        return [registry.GroupMemberV2(household_id=uuid.UUID(int=group_id.int * 100 + i), representative_id=person)
                for i, person in enumerate(representatives)]

    first, second, third, fourth = (household(1, *people[0:2]), household(2, *people[2:4]), household(3, people[4]),
                                    household(4, people[5]))
    household(5, people[6], village_code="18.02.01.2001")
    from_registry(
        registry.HouseholdMemberRemovedV2(household_id=first, person_id=people[1], reason="death", by="op1"),
        registry.HouseholdStatusChangedV2(household_id=second, bdt_status="removed", by="op1"),
        registry.HouseholdMemberCorrectedV2(household_id=third, member=member(people[4], "Kepala Keluarga"),
                                            corrected_fields=["relation"], by="op1"),
        registry.HouseholdMemberAddedV2(household_id=fourth, village_code=VILLAGE, member=member(people[7]),
                                        reason="marriage", by="op1"))
    approved, changed = uuid.UUID(int=201), uuid.UUID(int=202)
    for group_id, representatives in ((approved, [people[n] for n in (0, 1, 4, 5, 7)]), (changed, people[2:4])):
        from_registry(registry.GroupFormedV2(
            group_id=group_id, name=f"KUBE {group_id.int}", village_code=VILLAGE, business_type="ternak",
            kind="perempuan", members=kube(group_id, representatives), roles={}, formed_by="op1",
            bank_account=registry.BankAccountV1(bank="BRI", number=f"0206-01-000{group_id.int}-50-1",
                                                holder=f"KUBE {group_id.int}")))
    from_registry(registry.GroupMemberChangedV2(group_id=changed,
                                                removed_household_id=kube(changed, people[2:4])[1].household_id,
                                                members=kube(changed, people[2:3]), roles={}, reason="pindah",
                                                by="op1"))

    cohort_id = training_app.open_cohort(training_cmd.OpenCohort(actor=FAC, village_code=VILLAGE,
                                                                 facilitator="fasilitator.rina"))
    approve(approved, cohort_id)
    marks = {people[0]: "present", people[4]: "present", people[5]: "present", people[7]: "absent"}
    for i, (module, _) in enumerate(DEFAULT_MODULES[:5]):
        session_id = training_app.schedule_session(training_cmd.ScheduleSession(
            actor=FAC, cohort_id=cohort_id, module=module, session_date=date(2025, 3, 3) + timedelta(days=7 * i),
            place="balai desa"))
        training_app.record_attendance(training_cmd.RecordAttendance(actor=FAC, cohort_id=cohort_id,
                                                                     session_id=session_id, marks=marks))
    return {"people": [*people, str(uuid.UUID(int=9999))], "groups": [approved, changed, uuid.UUID(int=999)],
            "enrolled": [p["person_id"] for p in training_app.cohort(cohort_id)["participants"]]}


def training_facts(training_app: TrainingApplication, ids: dict) -> dict:
    facts = training_app.facts
    return {
        "people": [facts.person(person) for person in ids["people"]],
        "representatives": [facts.representatives(g) for g in ids["groups"]],
        "certified": facts.certified(ids["people"]),
        "next_serial": facts.certificate_serial(),  # last: it takes a number
    }


def test_training_facts_in_memory_answer_as_the_read_model_does(training_sql):
    in_memory = TrainingApplication.in_memory(MemoryTrainingFacts)
    ids = training_scenario(in_memory, in_memory.facts.project,
                            lambda group_id, cohort_id: enrolled_on_approval(in_memory, group_id, cohort_id))
    expected = training_facts(in_memory, ids)
    ids_sql = training_scenario(training_sql, consumed(training_sql, "registry"), approved_by_grants(training_sql))
    assert ids_sql == ids
    assert training_facts(training_sql, ids) == expected
    # The scenario reaches every kind of answer, so agreement means something.
    people = expected["people"]
    assert [p.status if p else None for p in people] == ["active", "left", "left", "left", "active", "active",
                                                         "active", "active", None]
    assert people[6].village_code == "18.02.01.2001"
    assert [len(r) for r in expected["representatives"]] == [5, 1, 0]
    assert ids["enrolled"] == sorted(ids["people"][n] for n in (0, 4, 5, 7))
    assert expected["certified"] == {ids["people"][n] for n in (0, 4, 5)} and expected["next_serial"] == 4


def registry_scenario(registry: RegistryApplication, from_grants) -> dict:
    """Households registered (one in another regency) and imported; a member added, one removed, one corrected; a
    status and a decile changed; KUBEs formed, one funded (grants' news), one changed, one dissolved. Returns the
    KKs and NIKs to ask about, an unknown one of each among them."""
    registry.import_regions(IMPORT_REGIONS)
    commands = [household(number) for number in range(1, 25)]
    registry.register_households(commands)
    commands += [household(25, OTHER_VILLAGE, OP_OTHER)]
    registry.register_households(commands[-1:])
    commands += [household(26), household(27)]
    registry.import_households(an_import(commands[0], *commands[-2:]))
    h = {number: command for number, command in enumerate(commands, start=1)}
    child = {"nik": nik("180106", date(2020, 2, 2), "L", 9), "name": "Bayi", "sex": "L",
             "birth_date": date(2020, 2, 2), "relation": "Anak"}
    registry.add_member(AddMember(actor=OP, kk=h[2].kk, member=child, reason="birth"))
    registry.remove_member(RemoveMember(actor=OP, kk=h[3].kk, nik=h[3].members[1].nik, reason="moved_out"))
    registry.correct_member(CorrectMember(actor=OP, kk=h[4].kk, nik=h[4].members[0].nik,
                                          changes={"name": "Siti Rahmawati"}, reason="salah ketik"))
    registry.change_status(ChangeStatus(actor=OP, kk=h[5].kk, status="graduated", reason="lulus"))
    registry.change_decile(ChangeDecile(actor=OP, kk=h[6].kk, decile=7))

    funded = registry.form_group(formation("KUBE Mawar", [h[n] for n in (1, 2, 3, 4, 7, 8, 9)]))
    changed = registry.form_group(formation("KUBE Melati", [h[n] for n in range(10, 17)]))
    dissolved = registry.form_group(formation("KUBE Anggrek", [h[n] for n in range(18, 25)]))
    registry.change_group_member(ChangeGroupMember(actor=OP, group_id=changed, removed_kk=h[16].kk, added={
        "kk": h[17].kk, "representative_nik": h[17].members[0].nik}, reason="pindah"))
    registry.dissolve_group(DissolveGroup(actor=OP, group_id=dissolved, reason="bubar"))
    from_grants(grants.ProposalApprovedV1(
        proposal_id=uuid.UUID(int=1), group_id=uuid.UUID(funded), village_code=VILLAGE, by="min2",
        amount_rp=15_000_000, form="cash", fiscal_year=2026, source="APBN",
        tranches=[grants.TrancheV1(number=1, amount_rp=15_000_000)]))
    return {"kks": [c.kk for c in commands] + ["1801069999999999"],
            "niks": [m.nik for c in commands for m in c.members] + [child["nik"], "1801060101019999"]}


def registry_facts(registry: RegistryApplication, ids: dict) -> dict:
    """The facts, but the households' and people's ids: each run's registry gives its own (random) ones, so each
    is only checked to be there."""
    facts = registry.facts
    people, households = facts.people(ids["niks"]), facts.households(ids["kks"])
    assert all(p.member.person_id for p in people.values()) and all(h.household_id for h in households.values())
    return {"regions": facts.regions().rows(), "registrations": facts.registrations(ids["kks"]),
            "people": {nik: replace(p, member=replace(p.member, person_id=None)) for nik, p in people.items()},
            "households": {kk: replace(h, household_id=None) for kk, h in households.items()}}


def test_registry_facts_in_memory_answer_as_the_read_model_does(registry_sql):
    in_memory = RegistryApplication.in_memory(MemoryRegistryFacts)
    for app in (in_memory, registry_sql):
        with pytest.raises(Conflict) as refused:
            app.facts.regions()
        assert refused.value.details["rule"] == "regions.missing"
    in_memory.facts.given_regions(REGIONS)
    ids = registry_scenario(in_memory, consumed(in_memory, "grants"))
    expected = registry_facts(in_memory, ids)
    assert registry_scenario(registry_sql, consumed(registry_sql, "grants")) == ids
    assert registry_facts(registry_sql, ids) == expected
    # The scenario reaches every kind of answer, so agreement means something.
    kk = dict(enumerate(ids["kks"], start=1))
    assert len(expected["regions"]) == len(REGIONS) and len(expected["registrations"]) == 27
    # KUBE Mawar funded (still active), KUBE Melati changed (16 out, 17 in), KUBE Anggrek (18–24) dissolved.
    assert [expected["households"][kk[n]].active_group for n in (1, 16, 17, 18)] == [
        "KUBE Mawar", None, "KUBE Melati", None]
    assert (expected["households"][kk[5]].bdt_status, expected["households"][kk[6]].decile) == ("graduated", 7)
    assert expected["households"][kk[25]].village_code == OTHER_VILLAGE and kk[28] not in expected["households"]
    people = expected["people"]
    assert len(people) == len(ids["niks"]) - 2  # the son who moved out, and the unknown NIK
    assert people[ids["niks"][-2]].kk == kk[2] and people[ids["niks"][6]].member.name == "Siti Rahmawati"
