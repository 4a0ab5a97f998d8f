"""Registry's commands through RegistryApplication on in-memory (POPO) persistence: the rules that need more than
the aggregate a command changes — the region table in force, a KK registered once, a NIK in one household (and who
may learn which), an import that never overwrites, a household in one active KUBE, what the KUBE rules read of a
household now — with no database, in milliseconds. A refusal re-reads the log to prove nothing was recorded. The
same facts from PostgreSQL: tests/integration/test_facts.py."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.registry.application import RegistryApplication
from services.registry.commands import (
    AddMember,
    ChangeDecile,
    ChangeGroupMember,
    ChangeStatus,
    DissolveGroup,
    RecordGrievance,
    RegisterHousehold,
    RemoveMember,
)
from services.registry.domain import Group
from shared.actor import Actor
from shared.errors import Conflict, NotFound, RuleViolated
from tests.support.households import VILLAGE
from tests.support.memory import log_length, refused
from tests.support.memory.registry import MemoryRegistryFacts
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


def recorded_group(registry: RegistryApplication, group_id: str) -> Group:
    """The KUBE as its events left it (the registry's read of a group is a logged read of personal data: SQL)."""
    return registry.repository.get(uuid.UUID(group_id))


def in_memory() -> RegistryApplication:
    return RegistryApplication.in_memory(MemoryRegistryFacts)


@pytest.fixture
def registry() -> RegistryApplication:
    return with_regions(in_memory())


def with_regions(app: RegistryApplication) -> RegistryApplication:
    """The registry with the region table imported (its rows given to the facts: SQL keeps them)."""
    app.facts.given_regions(REGIONS)
    app.import_regions(IMPORT_REGIONS)
    return app


def registered(registry: RegistryApplication, *numbers: int, village: str = VILLAGE,
               actor: Actor = OP) -> list[RegisterHousehold]:
    commands = [household(number, village, actor) for number in numbers]
    registry.register_households(commands)
    return commands


def head(command: RegisterHousehold) -> dict:
    return command.members[0].model_dump()


def form(registry: RegistryApplication, name: str, members: list[RegisterHousehold]) -> str:
    return registry.form_group(formation(name, members))



# --- the region table, a KK once, a NIK in one household ------------------------------------------------------

def test_nothing_is_registered_before_a_region_table_is_imported():
    registry = in_memory()
    refused(registry, Conflict, "regions.missing", lambda: registry.register_households([household(1)]))
    assert log_length(registry) == 0


def test_a_kk_is_registered_once(registry):
    first, = registered(registry, 1)
    error = refused(registry, Conflict, "household.registered",
                    lambda: registry.register_households([household(2), household(1, address="Dusun lain")]))
    assert error.details["kk"] == first.kk  # and the batch is refused whole: nothing recorded


def test_a_nik_of_a_registered_household_is_named_to_an_operator_who_covers_it(registry):
    first, = registered(registry, 1)
    second = household(2, members=[head(first), household(2).members[1].model_dump()])
    error = refused(registry, Conflict, None, lambda: registry.register_households([second]))
    assert error.details["kks"] == [first.kk, second.kk] and first.kk in error.message


def test_a_nik_registered_elsewhere_is_refused_without_saying_where(registry):
    elsewhere, = registered(registry, 1, village=OTHER_VILLAGE, actor=OP_OTHER)
    mine = household(2, members=[head(elsewhere), household(2).members[1].model_dump()])
    error = refused(registry, Conflict, None, lambda: registry.register_households([mine]))
    assert error.details["kks"] == [mine.kk] and elsewhere.kk not in error.message


def test_a_member_added_must_not_belong_to_another_household(registry):
    first, second = registered(registry, 1, 2)
    son = first.members[1].model_dump()
    refused(registry, Conflict, None, lambda: registry.add_member(
        AddMember(actor=OP, kk=second.kk, member=son, reason="moved_in")))
    registry.remove_member(RemoveMember(actor=OP, kk=first.kk, nik=son["nik"], reason="moved_out"))
    registry.add_member(AddMember(actor=OP, kk=second.kk, member=son, reason="moved_in"))
    assert registry.facts.people([son["nik"]])[son["nik"]].kk == second.kk


def test_an_import_registers_the_new_keeps_the_identical_and_never_overwrites(registry):
    known, = registered(registry, 1)
    clashing = household(3, members=[head(known), household(3).members[1].model_dump()])
    batch = [known, household(1, address="Dusun lain"), household(2), clashing]
    result = registry.import_households(an_import(*batch))
    assert (result["imported"], result["individuals"], result["unchanged"]) == (1, 2, 1)
    assert {r["kk"] for r in result["rejected"]} == {known.kk, clashing.kk}
    before = log_length(registry)
    again = registry.import_households(an_import(*batch))
    assert (again["imported"], again["unchanged"]) == (0, 2) and log_length(registry) == before


# --- KUBE groups: households as registry knows them now ---------------------------------------------------------

def test_a_kube_takes_its_representatives_names_from_the_registry(registry):
    members = registered(registry, *range(1, 8))
    group = recorded_group(registry, form(registry, "KUBE Mawar", members))
    assert [m.representative_name for m in group.members] == [c.members[0].name for c in members]


def test_a_household_is_in_one_active_kube_until_it_is_dissolved(registry):
    members = registered(registry, *range(1, 15))
    first = form(registry, "KUBE Mawar", members[:7])
    error = refused(registry, RuleViolated, "kube.one_active_group",
                    lambda: form(registry, "KUBE Melati", [members[0], *members[8:14]]))
    assert "KUBE Mawar" in error.message
    registry.dissolve_group(DissolveGroup(actor=OP, group_id=first, reason="bubar"))
    form(registry, "KUBE Melati", [members[0], *members[8:14]])


def test_a_household_outside_the_operators_region_is_answered_as_missing(registry):
    members = registered(registry, *range(1, 7))
    elsewhere, = registered(registry, 7, village=OTHER_VILLAGE, actor=OP_OTHER)
    error = refused(registry, NotFound, None, lambda: form(registry, "KUBE Mawar", [*members, elsewhere]))
    assert error.message == f"no household with KK {elsewhere.kk}"


def test_a_representative_must_be_a_member_of_the_household(registry):
    members = registered(registry, *range(1, 8))
    formed = formation("KUBE Mawar", members)
    stranger = formed.members[6].model_copy(update={"representative_nik": members[5].members[0].nik})
    command = formed.model_copy(update={"members": [*formed.members[:6], stranger]})
    refused(registry, RuleViolated, "kube.representative_member", lambda: registry.form_group(command))


def test_a_member_change_reads_the_households_standing_as_it_is_now(registry):
    members = registered(registry, *range(1, 10))
    group_id = form(registry, "KUBE Mawar", members[:7])
    richer, graduated = members[7], members[8]
    registry.change_decile(ChangeDecile(actor=OP, kk=richer.kk, decile=6))
    registry.change_status(ChangeStatus(actor=OP, kk=graduated.kk, status="graduated", reason="lulus"))

    def add(command: RegisterHousehold):
        return lambda: registry.change_group_member(ChangeGroupMember(
            actor=OP, group_id=group_id, added={"kk": command.kk, "representative_nik": command.members[0].nik},
            reason="bergabung"))

    refused(registry, RuleViolated, "kube.decile", add(richer))
    refused(registry, RuleViolated, "kube.bdt_active", add(graduated))
    registry.change_decile(ChangeDecile(actor=OP, kk=richer.kk, decile=3))
    add(richer)()
    assert len(recorded_group(registry, group_id).members) == 8


def test_a_grievance_is_due_after_the_offices_deadline_setting(monkeypatch):
    monkeypatch.setenv("GRIEVANCE_DEADLINE_DAYS", "30")
    registry = with_regions(in_memory())  # after the setting: an application reads it when it is made
    grievance_id = registry.record_grievance(RecordGrievance(
        actor=OP, village_code=VILLAGE, category="misuse", description="dana dipakai untuk keperluan pribadi"))
    grievance = registry.repository.get(uuid.UUID(grievance_id))
    assert grievance.due_on == grievance.received_on + timedelta(days=30)
