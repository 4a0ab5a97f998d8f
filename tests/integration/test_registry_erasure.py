"""Erasure in the registry (issue 16 item 3), on a real PostgreSQL: one admin asks, another approves; refused while
the household's KUBE has an open grant; once approved, the household's key is destroyed and its rows deleted, so a
dump of the whole database holds neither its NIKs, KK nor names in any form, every read answers that nothing is
held, and an auditor's replay still agrees with the read model."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import psycopg
import pytest

from berdaya.audit.replay import replay
from berdaya.audit.verify import compare_read_models
from services.grants.application import GrantsApplication
from services.registry.application import RegistryApplication
from services.registry.commands import ApproveErasure, RecordGrievance, RequestErasure
from services.registry.sealing import ERASED
from services.training.application import TrainingApplication
from shared.actor import Actor
from shared.contracts import grants
from shared.contracts import registry as registry_events
from shared.errors import NotFound, NotYours, RuleViolated
from shared.reads import ReadBy
from tests.integration.test_facts import consumed
from tests.integration.test_registry_sealing import dump, forms
from tests.support.applications import application_fixture
from tests.support.households import nik as make_nik
from tests.support.registry_cast import IMPORT_REGIONS, VILLAGE, formation, household

pytestmark = pytest.mark.integration

registry = application_fixture(RegistryApplication, "registry")

ADMIN, CHECKER = Actor("admin.maker", "admin", "18.01"), Actor("admin.checker", "admin", "18.01")
AUDITOR = ReadBy(actor=Actor("auditor1", "auditor", ""), purpose="rpc.tests")
PROPOSAL, GRANT = uuid.UUID(int=1), uuid.UUID(int=2)


@pytest.fixture
def funded(registry: RegistryApplication) -> dict:
    """Seven households in a KUBE whose grant (two tranches) is approved and opened: the money is in flight."""
    return funded_group(registry, [household(number) for number in range(1, 8)])


@pytest.fixture
def funded_by_a_daughter(registry: RegistryApplication) -> dict:
    """As ``funded``, but the first household is a mother, her son and her adult daughter, who represents it in the
    KUBE and chairs it (ketua): the group's events name her."""
    first = household(1)
    region6 = first.kk[:6]
    daughter = {"nik": make_nik(region6, date(2001, 4, 9), "P", 8001), "name": "Dewi Lestari Satu", "sex": "P",
                "birth_date": "2001-04-09", "relation": "Anak", "marital_status": "Belum Kawin",
                "occupation": "Penjahit"}
    first = household(1, members=[daughter, *(m.model_dump() for m in first.members)])
    return funded_group(registry, [first, *(household(number) for number in range(2, 8))])


def funded_group(registry: RegistryApplication, commands: list) -> dict:
    registry.import_regions(IMPORT_REGIONS)
    registry.register_households(commands)
    group_id = uuid.UUID(registry.form_group(formation("KUBE Mawar", commands)))
    grant = {"grant_id": GRANT, "proposal_id": PROPOSAL, "group_id": group_id, "village_code": VILLAGE}
    consumed(registry, "grants")(
        grants.ProposalApprovedV1(proposal_id=PROPOSAL, group_id=group_id, village_code=VILLAGE, by="min2",
                                  amount_rp=14_000_000, form="cash", fiscal_year=2026, source="APBN",
                                  tranches=[grants.TrancheV1(number=1, amount_rp=9_800_000),
                                            grants.TrancheV1(number=2, amount_rp=4_200_000)]),
        grants.GrantOpenedV1(**grant, amount_rp=14_000_000, form="cash",
                             tranches=[grants.TrancheV1(number=1, amount_rp=9_800_000),
                                       grants.TrancheV1(number=2, amount_rp=4_200_000)]))
    return {"households": commands, "group_id": group_id, "grant": grant}


def lpj_accepted(registry: RegistryApplication, funded: dict, *tranches: int) -> None:
    consumed(registry, "grants")(*[grants.LpjAcceptedV1(**funded["grant"], tranche=t, by="ver1") for t in tranches])


def request(registry: RegistryApplication, nik: str, by: Actor = ADMIN) -> dict:
    return registry.request_erasure(RequestErasure(actor=by, nik=nik, reason="permintaan subjek data",
                                                   whole_household=True))


def state(registry: RegistryApplication, kk: str) -> dict:
    """What a refusal must leave as it was: the household's rows, its key, the log's length."""
    return {"rows": registry.query("SELECT kk, member_count FROM households WHERE kk = %s", (kk,)),
            "people": registry.query("SELECT nik, name FROM individuals WHERE kk = %s ORDER BY nik", (kk,)),
            "keys": registry.query("SELECT count(*) AS live FROM household_keys WHERE wrapped_key IS NOT NULL"),
            "events": registry.last_position()}


def test_an_erasure_is_refused_while_the_kubes_grant_is_open_and_changes_nothing(registry, funded):
    target = funded["households"][0]
    lpj_accepted(registry, funded, 1)  # tranche 2's LPJ is not accepted yet: the money trail is still open
    before = state(registry, target.kk)
    with pytest.raises(RuleViolated) as refused:
        request(registry, target.members[0].nik)
    assert refused.value.rule == "erasure.grant_open" and refused.value.details["group_ids"] == [
        str(funded["group_id"])]
    assert "LPJ" in refused.value.message
    assert state(registry, target.kk) == before


def test_an_approval_is_refused_when_a_hold_began_after_the_request(registry):
    registry.import_regions(IMPORT_REGIONS)
    commands = [household(number) for number in range(1, 8)]
    registry.register_households(commands)
    asked = request(registry, commands[0].members[0].nik)  # no grant yet: the request is taken
    group_id = uuid.UUID(registry.form_group(formation("KUBE Mawar", commands)))
    consumed(registry, "grants")(grants.ProposalApprovedV1(
        proposal_id=PROPOSAL, group_id=group_id, village_code=VILLAGE, by="min2", amount_rp=14_000_000,
        form="cash", fiscal_year=2026, source="APBN", tranches=[grants.TrancheV1(number=1, amount_rp=14_000_000)]))
    before = state(registry, commands[0].kk)
    with pytest.raises(RuleViolated, match="legal duty") as refused:
        registry.approve_erasure(ApproveErasure(actor=CHECKER, request_id=asked["request_id"]))
    assert refused.value.rule == "erasure.grant_open"
    assert state(registry, commands[0].kk) == before
    assert registry.repository.get(uuid.UUID(asked["request_id"])).approved_by is None


def test_the_requester_cannot_approve_their_own_request_nor_an_operator_ask(registry, funded):
    target = funded["households"][0]
    lpj_accepted(registry, funded, 1, 2)
    with pytest.raises(NotYours) as operator:
        request(registry, target.members[0].nik, by=Actor("op1", "operator", "18.01"))
    assert operator.value.rule == "role.forbidden"
    asked = request(registry, target.members[0].nik)
    before = state(registry, target.kk)
    with pytest.raises(NotYours) as own:
        registry.approve_erasure(ApproveErasure(actor=ADMIN, request_id=asked["request_id"]))
    assert own.value.rule == "erasure.four_eyes"
    assert state(registry, target.kk) == before


def ask_for_one(registry: RegistryApplication, nik: str) -> dict:
    """An erasure of this person alone, their household staying (no "whole household")."""
    return registry.request_erasure(RequestErasure(actor=ADMIN, nik=nik, reason="permintaan subjek data"))


def test_one_members_erasure_is_refused_while_the_kubes_grant_is_open_and_changes_nothing(registry,
                                                                                          funded_by_a_daughter):
    funded = funded_by_a_daughter
    target = funded["households"][0]
    lpj_accepted(registry, funded, 1)  # tranche 2's LPJ is not accepted yet: the money trail is still open
    before = state(registry, target.kk)
    for member in (target.members[0], target.members[2]):  # the daughter who chairs the KUBE, her brother
        with pytest.raises(RuleViolated) as refused:
            ask_for_one(registry, member.nik)
        assert refused.value.rule == "erasure.grant_open" and "LPJ" in refused.value.message
        assert registry.person(AUDITOR, member.nik)["name"] == member.name
    assert state(registry, target.kk) == before
    lpj_accepted(registry, funded, 2)  # the hold, and nothing else, refused it: accounted for, the request is taken
    assert ask_for_one(registry, target.members[2].nik)["person_only"]


def test_the_head_alone_and_a_household_sealed_before_per_person_keys_are_refused_saying_why(registry, funded):
    lpj_accepted(registry, funded, 1, 2)
    target = funded["households"][0]
    head, son = target.members
    before = state(registry, target.kk)
    with pytest.raises(RuleViolated) as head_alone:
        ask_for_one(registry, head.nik)
    assert head_alone.value.rule == "erasure.head_of_household"
    # A household whose key was made before each member had one: that key seals its members' fields too.
    household_id = registry.query("SELECT household_id FROM households WHERE kk = %s", (target.kk,))[0]["household_id"]
    with registry.transaction() as cursor:
        cursor.execute("UPDATE household_keys SET shared_with_members = true WHERE household_id = %s",
                       (household_id,))
    with pytest.raises(RuleViolated) as sealed_together:
        ask_for_one(registry, son.nik)
    assert sealed_together.value.rule == "erasure.household_key"
    assert state(registry, target.kk) == before


def test_after_erasing_one_member_of_a_funded_group_nothing_of_her_is_held_and_her_household_stays(
        registry, funded_by_a_daughter):
    """Issue 16 item 7: a KUBE's grant accounted for (every tranche's LPJ accepted), the daughter who chairs it asks
    to be erased; her mother and brother, their household and the group stay."""
    funded = funded_by_a_daughter
    target = funded["households"][0]
    daughter, mother, son = target.members
    lpj_accepted(registry, funded, 1, 2)
    holds = registry.query("SELECT * FROM grant_holds")
    asked = ask_for_one(registry, daughter.nik)
    assert asked["person_only"] and asked["approved_by"] is None
    approved = registry.approve_erasure(ApproveErasure(actor=CHECKER, request_id=asked["request_id"]))
    assert approved["approved_by"] == CHECKER.user

    everything = dump(registry)
    for value in (daughter.nik, daughter.name):
        for form in forms(value):
            assert form not in everything, f"{value!r} is still in the registry's database as {form!r}"
    assert registry.person(AUDITOR, daughter.nik) is None
    with pytest.raises(NotFound, match="no person with this NIK"):
        registry.person_export(AUDITOR, daughter.nik)

    # Her household, her mother and brother read as before; the group holds her place, erased.
    household_id = uuid.UUID(asked["household_id"])
    kept = registry.household(AUDITOR, target.kk)
    assert (kept["address"], [m["name"] for m in kept["members"]]) == (target.address, [mother.name, son.name])
    assert registry.person_export(AUDITOR, son.nik)["person"]["name"] == son.name
    group = registry.repository.get(funded["group_id"])
    chair = next(m for m in group.members if m.household == household_id)
    assert (chair.kk, chair.representative_nik, chair.representative_name) == (target.kk, ERASED, ERASED)
    assert group.roles["ketua"] == ERASED and group.name == "KUBE Mawar"
    assert registry.query("SELECT * FROM grant_holds") == holds  # the money trail's holds: untouched

    (erased,) = [e for e in registry.public_events_after(0, 1000) if e.type == "registry.person.erased"]
    assert erased.data == {"household_id": str(household_id), "person_id": asked["person_id"],
                           "request_id": asked["request_id"], "by": CHECKER.user}
    assert not [e for e in registry.public_events_after(0, 1000) if e.type == "registry.household.erased"]

    problems = []
    url = f"postgresql://postgres@127.0.0.1:5432/{registry.env['POSTGRES_DBNAME']}"
    with psycopg.connect(url, autocommit=True) as conn:
        history = replay("registry", conn, problems=problems)
        compare_read_models(RegistryApplication, history, conn, problems)
    assert problems == []
    assert [m.name for m in history.aggregates[household_id].members] == [mother.name, son.name]


def test_after_erasing_a_funded_groups_household_nothing_of_it_is_held_and_the_audit_agrees(registry, funded):
    target, other = funded["households"][0], funded["households"][1]
    lpj_accepted(registry, funded, 1, 2)  # the grant is accounted for: no legal duty keeps the data any more
    asked = request(registry, target.members[1].nik)  # the son asks; his household is erased whole
    assert asked["approved_by"] is None and asked["requested_by"] == ADMIN.user
    approved = registry.approve_erasure(ApproveErasure(actor=CHECKER, request_id=asked["request_id"]))
    assert approved["approved_by"] == CHECKER.user

    everything = dump(registry)
    personal = [target.kk, target.dtks_id, target.address, *(m.nik for m in target.members),
                *(m.name for m in target.members)]
    for value in personal:
        for form in forms(value):
            assert form not in everything, f"{value!r} is still in the registry's database as {form!r}"

    for nik in (m.nik for m in target.members):
        assert registry.person(AUDITOR, nik) is None
        with pytest.raises(NotFound, match="no person with this NIK"):
            registry.person_export(AUDITOR, nik)
    assert registry.household(AUDITOR, target.kk) is None
    household_id = uuid.UUID(asked["household_id"])
    group = registry.repository.get(funded["group_id"])
    assert [m.kk for m in group.members].count(ERASED) == 1
    assert registry.person(AUDITOR, other.members[0].nik)["name"] == other.members[0].name  # the others stay

    (erased,) = [e for e in registry.public_events_after(0, 1000) if e.type == "registry.household.erased"]
    (erased,) = [e for e in registry.public_events_after(0, 1000) if e.type == "registry.household.erased"]
    assert (erased.data["household_id"], erased.data["request_id"], erased.data["by"],
            len(erased.data["person_ids"])) == (str(household_id), asked["request_id"], CHECKER.user, 2)
    assert not any(value in str(erased.data) for value in personal)

    problems = []
    url = f"postgresql://postgres@127.0.0.1:5432/{registry.env['POSTGRES_DBNAME']}"
    with psycopg.connect(url, autocommit=True) as conn:
        history = replay("registry", conn, problems=problems)
        compare_read_models(RegistryApplication, history, conn, problems)
    assert problems == []
    assert history.aggregates[household_id].erased


grants_sql = application_fixture(GrantsApplication, "grants_sql")
training_sql = application_fixture(TrainingApplication, "training_sql")


def one_of_two_households_erased(app) -> uuid.UUID:
    """Two households registered (of two members and of one), then the first erased, as the registry publishes it:
    the one kept."""
    from_registry = consumed(app, "registry")
    erased, kept = uuid.uuid4(), uuid.uuid4()
    from_registry(*[registry_events.HouseholdRegisteredV2(
        household_id=household_id, village_code=VILLAGE, decile=2, bdt_status="active", registered_by="op1",
        members=[registry_events.MemberV2(person_id=uuid.uuid4(), sex="P", relation="Kepala Keluarga")
                 for _ in range(members)]) for household_id, members in ((erased, 2), (kept, 1))])
    from_registry(registry_events.HouseholdErasedV1(household_id=erased, person_ids=[uuid.uuid4()],
                                                    request_id=uuid.uuid4(), by="admin.checker"))
    return kept


def test_grants_forgets_an_erased_household_from_its_mirror_of_the_registry(grants_sql):
    kept = one_of_two_households_erased(grants_sql)
    assert [row["household_id"] for row in grants_sql.query("SELECT household_id FROM households")] == [kept]
    assert grants_sql.query("SELECT households, members FROM village_households WHERE village_code = %s",
                            (VILLAGE,)) == [{"households": 1, "members": 1}]


def test_training_forgets_an_erased_households_people(training_sql):
    kept = one_of_two_households_erased(training_sql)
    assert [row["household_id"] for row in training_sql.query("SELECT household_id FROM individuals")] == [kept]
    assert training_sql.individuals_summary()["individuals"] == 1


def test_the_requests_awaiting_a_second_admin_are_listed_to_the_regions_admins_by_ids(registry, funded):
    lpj_accepted(registry, funded, 1, 2)
    target = funded["households"][0]
    asked = request(registry, target.members[0].nik)
    checker = ReadBy(actor=CHECKER, purpose="rpc.tests")
    (listed,) = registry.pending_erasures(checker, None)
    assert datetime.fromisoformat(listed.pop("requested_at")) == datetime.fromisoformat(asked["requested_at"])
    assert listed == {"request_id": asked["request_id"], "household_id": asked["household_id"],
                      "village_code": VILLAGE, "reason": "permintaan subjek data", "requested_by": ADMIN.user}
    assert [row["request_id"] for row in registry.pending_erasures(AUDITOR, "18.01")] == [asked["request_id"]]

    elsewhere = ReadBy(actor=Actor("admin.lain", "admin", "18.02"), purpose="rpc.tests")
    assert registry.pending_erasures(elsewhere, None) == []
    with pytest.raises(NotYours):
        registry.pending_erasures(elsewhere, "18.01")
    with pytest.raises(NotYours):
        registry.pending_erasures(ReadBy(actor=Actor("op1", "operator", "18.01"), purpose="rpc.tests"), None)

    registry.approve_erasure(ApproveErasure(actor=CHECKER, request_id=asked["request_id"]))
    assert registry.pending_erasures(checker, None) == []


def one_person_erased(app) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A household of three registered, then one of them erased as the registry publishes it: the household and
    the two who stay."""
    from_registry = consumed(app, "registry")
    household_id, people = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
    from_registry(registry_events.HouseholdRegisteredV2(
        household_id=household_id, village_code=VILLAGE, decile=2, bdt_status="active", registered_by="op1",
        members=[registry_events.MemberV2(person_id=person_id, sex="P", relation=relation)
                 for person_id, relation in zip(people, ("Kepala Keluarga", "Anak", "Anak"), strict=True)]))
    from_registry(registry_events.PersonErasedV1(household_id=household_id, person_id=people[1],
                                                 request_id=uuid.uuid4(), by="admin.checker"))
    return household_id, [people[0], people[2]]


def test_grants_counts_one_member_less_when_a_person_is_erased(grants_sql):
    household_id, _ = one_person_erased(grants_sql)
    assert grants_sql.query("SELECT household_id, member_count FROM households") == [
        {"household_id": household_id, "member_count": 2}]
    assert grants_sql.query("SELECT households, members FROM village_households WHERE village_code = %s",
                            (VILLAGE,)) == [{"households": 1, "members": 2}]


def test_training_forgets_an_erased_person_and_keeps_the_others(training_sql):
    _, staying = one_person_erased(training_sql)
    assert sorted(row["person_id"] for row in training_sql.query("SELECT person_id FROM individuals")) == sorted(
        staying)


def test_the_grievances_about_an_erased_household_lose_their_words_and_keep_their_counts(registry, funded):
    target, other = funded["households"][0], funded["households"][1]
    lpj_accepted(registry, funded, 1, 2)
    desk = Actor("op1", "operator", "18.01")

    def grievance_about(kk: str, name: str) -> str:
        return registry.record_grievance(RecordGrievance(
            actor=desk, village_code=VILLAGE, category="exclusion", description=f"keluarga {name} belum dibantu",
            complainant_name=name, complainant_contact="0812 1111 2222", household_kk=kk))

    erased_one = grievance_about(target.kk, target.members[0].name)
    kept_one = grievance_about(other.kk, other.members[0].name)
    asked = request(registry, target.members[0].nik)
    registry.approve_erasure(ApproveErasure(actor=CHECKER, request_id=asked["request_id"]))

    reader = ReadBy(actor=desk, purpose="rpc.tests")
    erased = registry.grievance(reader, erased_one)
    assert (erased["complainant_name"], erased["complainant_contact"], erased["description"]) == (ERASED,) * 3
    assert (erased["category"], erased["village_code"], erased["status"]) == ("exclusion", VILLAGE, "recorded")
    kept = registry.grievance(reader, kept_one)
    assert kept["complainant_name"] == other.members[0].name
    for form in forms(target.members[0].name):
        assert form not in dump(registry)
