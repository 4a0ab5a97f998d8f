"""Registry public events without the store: since class_version 2 a household's and a KUBE's events carry what
their public event needs (a new member's village, the member as corrected, a group's members after a change; since
v3 a removal's people by id), so services/registry/public.py maps them with no application at all (``app=None``:
touching it would fail). They are published as version 2: ids, never a NIK, KK, name or birth date.

Events stored before v2 (``V1_LACKS``; as ``tests.support.legacy_events`` writes them) read back with those fields
None and keep what they had; aggregates replay from them to the same state; and the legacy path, one read of the
household or group at the event's version (a correction's KK and member from the same), gives the very same public
event. The scenario's people and households carry the ids the registry gave them before it gave random ones (the
legacy ids derived from NIK and KK), as such a log holds them.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date

import pytest

from services.registry.application import RegistryApplication
from services.registry.domain import (
    BankAccount,
    ErasureRequest,
    Group,
    GroupMember,
    Household,
    KubeRules,
    Member,
    RegionList,
)
from services.registry.grievance import Grievance, GrievanceRules
from services.registry.public import PUBLIC_EVENTS
from services.registry.updates import BdtFile, HeldChange
from shared.actor import Actor
from shared.keys import legacy_household_id, legacy_person_id
from shared.versioning import VersionedEvent
from tests.support.legacy_events import EventLog, EventVersions, legacy_mappings, replayed_alike

RULES = KubeRules()
VILLAGE = "18.01.06.2001"
OTHER_VILLAGE = "18.01.06.2005"

# What the events stored before v2 did not have (besides "class_version"): the code before v2 wrote exactly the
# other fields. An event not named here has all its fields in both versions.
V1_LACKS: dict[type, tuple[str, ...]] = {
    Household.MemberAdded: ("kk", "village_code"),
    Household.MemberRemoved: ("kk", "person_id", "new_head_id"),
    Household.MemberCorrected: ("kk", "member"),
    Household.StatusChanged: ("kk",),
    Household.DecileChanged: ("kk",),
    Group.MemberChanged: ("members", "removed_household_id"),
}
# The events whose public event, stored before, the legacy path completes from the store (the others lack only what
# version 2 of the public events no longer carries, or what their legacy ids give).
READ_BEFORE_V2 = {Household.MemberAdded, Household.MemberCorrected, Group.MemberChanged}
VERSIONS = EventVersions(RegistryApplication, V1_LACKS)


@pytest.fixture(scope="module")
def log() -> list:
    return scenario()


def nik(household: int, person: int) -> str:
    return f"180106450885{household:02d}{person:02d}"


def kk(household: int) -> str:
    return f"18010601010{household:05d}"


def members_of(household: int) -> list[Member]:
    """A woman head, her husband and their son (by the ids a log from before random ids knows them by)."""
    return [person(nik(household, 1), f"Siti {household}", "P", date(1985, 8, 5), "Kepala Keluarga", "Kawin",
                   "Petani"),
            person(nik(household, 2), f"Ahmad {household}", "L", date(1983, 4, 10), "Suami", "Kawin", "Buruh Tani"),
            person(nik(household, 3), f"Budi {household}", "L", date(2010, 3, 12), "Anak", "Belum Kawin", "Pelajar")]


def person(nik_: str, *fields) -> Member:
    return Member(nik_, *fields, person_id=legacy_person_id(nik_))


def register(household: int, village_code: str = VILLAGE) -> Household:
    return Household.register(kk=kk(household), dtks_id=f"D{household}", village_code=village_code,
                              address=f"Jl. Raya Kalianda {household}", decile=3, members=members_of(household),
                              registered_by="operator")


def group_member(household: int) -> GroupMember:
    return GroupMember(kk=kk(household), representative_nik=nik(household, 1), representative_name=f"Siti {household}",
                       household_id=legacy_household_id(kk(household)),
                       representative_id=legacy_person_id(nik(household, 1)))


def scenario() -> list:
    """Every kind of registry event, as the domain decides them, in the order they happen."""
    log = EventLog()
    record = log.record

    regions = RegionList(codes=3, sha256="a" * 64, source="kepmendagri-2022.csv", imported_by="admin")
    regions.reimport(codes=4, sha256="b" * 64, source="kepmendagri-2025.csv", imported_by="admin")
    record(regions)

    # A household through every change: a birth, two corrections, the head's death, a decile and a status change.
    household = register(1)
    household.add_member(person(nik(1, 4), "Putri 1", "P", date(2024, 3, 5), "Anak", "Belum Kawin"), reason="birth",
                         by="operator.a")
    household.correct_member(nik(1, 3), {"name": "Budi Santoso"}, reason="typo in the KK", by="operator.b")
    household.correct_member(nik(1, 4), {"birth_date": date(2024, 3, 6), "occupation": "-"}, reason="akta lahir",
                             by="operator.b")
    household.remove_member(nik(1, 1), reason="death", by="operator.a", new_head_nik=nik(1, 2))
    household.remove_member(nik(1, 3), reason="moved_out", by="operator.a")
    household.change_decile(2, by="operator.b")
    household.change_status("graduated", reason="income above the line", by="operator.b")
    household.move(OTHER_VILLAGE, "Jl. Baru 1", reason="DTSEN dtsen-2026-11.csv", by="operator.a")
    other = register(2, OTHER_VILLAGE)
    other.add_member(person(nik(2, 4), "Wati 2", "P", date(1960, 1, 1), "Orang Tua", "Cerai Mati"), reason="moved_in",
                     by="operator.a")
    # A household erased at its member's request: one admin asks, another approves.
    erased = register(3)
    erasure = ErasureRequest.request(household_id=erased.id, person_id=erased.members[0].id, village_code=VILLAGE,
                                     reason="permintaan subjek data", requested_by="admin.a", person_only=False)
    erasure.approve(by="admin.b")
    erased.erase(request_id=erasure.id, by="admin.b")
    # One member erased at her own request, her household staying.
    leaving = other.member(nik(2, 4))
    alone = ErasureRequest.request(household_id=other.id, person_id=leaving.id, village_code=OTHER_VILLAGE,
                                   reason="permintaan subjek data", requested_by="admin.a", person_only=True)
    alone.approve(by="admin.b")
    other.erase_person(person_id=leaving.id, request_id=alone.id, by="admin.b")
    record(household, erasure, erased, alone, other)  # (household 2 stays the last registered)

    # A KUBE: a household replaced (its role passes on), one added, one removed; funded, then dissolved.
    group = kube("KUBE Mawar Jondong", 10)
    group.change_member(kk(11), group_member(20), reason="moved out", by="operator.a", rules=RULES)
    group.change_member(kk(15), None, reason="left", by="operator.a", rules=RULES)
    group.change_member(None, group_member(21), reason="joined", by="operator.b", rules=RULES)
    group.mark_funded(uuid.uuid4(), 14_000_000)
    group.dissolve(reason="business closed", by="operator.b")
    record(group)

    # A DTSEN file applied: a change held for review, then rejected.
    held = HeldChange(sha256="c" * 64, household_id=household.id, kind="decile_changed", detail={"decile": 6},
                      rule="kube.decile", file_name="dtsen-2026-11.csv", file_date=date(2026, 11, 30),
                      village_code=VILLAGE, by="operator.a")
    held.decide("rejected", by="operator.b")
    file = BdtFile(sha256="c" * 64, name="dtsen-2026-11.csv", file_date=date(2026, 11, 30))
    file.applied(changes={str(household.id): ["household_moved"]}, held={str(household.id): ["decile_changed"]},
                 by="operator.a")
    record(held, file)

    # A grievance: recorded at the desk, assigned to a verifier of the region, noted, resolved after its deadline.
    desk = Actor(user="operator.a", role="operator", region="18.01")
    verifier = Actor(user="verifier.a", role="verifier", region="18.01")
    grievance = Grievance.record(actor=desk, village_code=VILLAGE, category="payment_not_received",
                                 description="Tahap II belum diterima", complainant_name="Siti 1",
                                 complainant_contact="0812 0000 0001", group_id=group.id, today=date(2026, 11, 2),
                                 rules=GrievanceRules())
    grievance.assign(desk, verifier)
    grievance.note(verifier, "cek ke bank", date(2026, 11, 5))
    grievance.resolve(verifier, "upheld", "ditransfer ulang", date(2026, 11, 20))
    record(grievance)

    # Another: funded, active once its first tranche is paid, then graduated (mandiri).
    graduate = kube("KUBE Melati Jondong", 30)
    proposal_id = uuid.uuid4()
    graduate.attach_document("sk_kades", "d" * 64, 48_213, "application/pdf",
                             Actor(user="operator.b", role="operator", region="18.01"))
    graduate.mark_funded(proposal_id, 14_000_000)
    graduate.activate(proposal_id, "pay-1")
    graduate.graduate(reason="usaha mandiri, tabungan kelompok cukup", by="operator.b")
    record(graduate)
    return log


def kube(name: str, first: int) -> Group:
    """A women's KUBE of the ten households numbered from ``first``."""
    return Group.form(name=name, village_code=VILLAGE, business_type="olahan makanan", kind="perempuan",
                      members=[group_member(n) for n in range(first, first + 10)],
                      roles={"ketua": nik(first, 1), "sekretaris": nik(first + 1, 1), "bendahara": nik(first + 2, 1)},
                      bank_account=BankAccount("BRI", "012301000123456", name), sk_kades="141/12/SK/2001/2025",
                      formed_by="operator", rules=RULES)


def test_the_scenario_has_every_kind_of_public_event(log):
    assert {type(e) for e in log} == set(PUBLIC_EVENTS)


def test_every_event_maps_to_its_public_event_without_an_application(log):
    aggregates: dict = {}
    for e in log:
        before = copy.deepcopy(aggregates.get(e.originator_id))
        aggregate = aggregates[e.originator_id] = e.mutate(aggregates.get(e.originator_id))
        data = PUBLIC_EVENTS[type(e)](None, e)  # None: the mapper must not touch the application
        born_at_v1 = (RegionList.Event | Group.Funded | Group.Dissolved | Group.Activated | Group.Graduated
                      | Group.DocumentAttached
                      | Household.Erased | Household.PersonErased | Household.Moved | ErasureRequest.Event
                      | BdtFile.Event | HeldChange.Event | Grievance.Event)
        assert data.event_version == (1 if isinstance(e, born_at_v1) else 2)
        if isinstance(aggregate, Household):
            assert data.household_id == aggregate.id
        if isinstance(e, Household.MemberAdded):
            assert data.village_code == aggregate.village_code and data.member.person_id == e.member.person_id
        elif isinstance(e, Household.MemberRemoved):
            assert data.person_id == before.member(e.nik).person_id
            assert data.new_head_id == (before.member(e.new_head_nik).person_id if e.new_head_nik else None)
        elif isinstance(e, Household.MemberCorrected):
            corrected = aggregate.member(e.nik)  # the member as the correction left it
            assert data.member.model_dump() == {"person_id": corrected.person_id, "sex": corrected.sex,
                                                "relation": corrected.relation}
            assert corrected != before.member(e.nik) and data.corrected_fields == sorted(e.changes)
        elif isinstance(e, Group.DocumentAttached):  # ids and the file's fingerprint, nothing of its content
            assert data.model_dump() == {"group_id": aggregate.id, "kind": "sk_kades", "sha256": "d" * 64,
                                         "size": 48_213, "media_type": "application/pdf"}
        elif isinstance(e, Group.MemberChanged):
            assert [(m.household_id, m.representative_id) for m in data.members] == [
                (m.household_id, m.representative_id) for m in aggregate.members]
            assert data.roles == {role: legacy_person_id(holder) for role, holder in aggregate.roles.items()}


def test_the_members_after_a_group_change_are_the_groups(log):
    changes = [PUBLIC_EVENTS[Group.MemberChanged](None, e) for e in log if isinstance(e, Group.MemberChanged)]
    assert [len(c.members) for c in changes] == [10, 9, 10]
    households = [[m.household_id for m in change.members] for change in changes]
    assert households[0] == [legacy_household_id(kk(n)) for n in (10, *range(12, 20), 20)]  # the newcomer last
    assert changes[0].roles["sekretaris"] == legacy_person_id(nik(20, 1))  # the leaver's role passed on
    assert changes[0].removed_household_id == legacy_household_id(kk(11))
    assert legacy_household_id(kk(15)) not in households[1] and households[2][-1] == legacy_household_id(kk(21))


def test_household_and_group_events_are_stored_as_version_3_the_region_lists_as_before():
    for cls in PUBLIC_EVENTS:
        # an erasure request, a DTSEN file and its held changes, a grievance: born at version 1
        born_at_v1 = RegionList.Event | ErasureRequest.Event | BdtFile.Event | HeldChange.Event | Grievance.Event
        if issubclass(cls, born_at_v1):
            assert not issubclass(cls, VersionedEvent) and getattr(cls, "class_version", 1) == 1, cls
        else:
            assert issubclass(cls, VersionedEvent) and cls.class_version == 3, cls


def test_the_stored_state_carries_the_new_fields_and_its_version(log):
    for e in log:
        state_ = VERSIONS.stored_state(e)
        if isinstance(e, VersionedEvent):
            assert state_["class_version"] == 3
            assert set(V1_LACKS.get(type(e), ())) <= set(state_)
        else:
            assert "class_version" not in state_


def test_an_event_stored_before_v2_reads_with_the_new_fields_none_and_keeps_what_it_had(log):
    new = {type(e): e for e in log}  # the last of each kind
    old = {type(e): e for e in VERSIONS.round_trip(log, v1=True)}
    assert (old[Household.MemberAdded].kk, old[Household.MemberAdded].village_code) == (None, None)
    assert old[Household.MemberAdded].member == new[Household.MemberAdded].member  # it always had it: kept
    assert (old[Household.MemberCorrected].kk, old[Household.MemberCorrected].member) == (None, None)
    assert old[Household.MemberCorrected].changes == new[Household.MemberCorrected].changes
    for cls in (Household.MemberRemoved, Household.StatusChanged, Household.DecileChanged):
        assert old[cls].kk is None and old[cls].by == new[cls].by
    assert (old[Household.MemberRemoved].person_id, old[Household.MemberRemoved].new_head_id) == (None, None)
    assert old[Group.MemberChanged].removed_household_id is None
    assert old[Group.MemberChanged].members is None and old[Group.MemberChanged].roles == new[Group.MemberChanged].roles
    assert old[Household.Registered].kk == kk(2)  # Registered always had its KK and village: setdefault keeps them
    assert old[Group.Formed].members == new[Group.Formed].members
    assert "member" not in vars(old[Household.StatusChanged])  # only the fields the event declares are set
    assert "members" not in vars(old[Group.Dissolved])


def test_aggregates_replay_to_the_same_state_from_either_version(log):
    # The same aggregates, each in the same state, as each other and as the aggregates that decided the events.
    replayed_alike(VERSIONS, log, as_decided=lambda aggregate: True)


def test_the_legacy_path_gives_the_same_public_events_for_events_stored_before_v2(log):
    total = 0
    for before, reads in legacy_mappings(PUBLIC_EVENTS, VERSIONS, log):  # asserts the same public event
        # Only an event that lacks what its public event needs reads the store, once.
        assert len(reads) == (1 if type(before) in READ_BEFORE_V2 else 0), type(before)
        total += len(reads)
    assert total == sum(type(e) in READ_BEFORE_V2 for e in log)
