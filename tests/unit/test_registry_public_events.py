"""Registry public events without the store: since class_version 2 a household's and a KUBE's events carry what
their public event needs (a member event's KK, a new member's village, the member as corrected, a group's members
after a change), so services/registry/public.py maps them with no application at all (``app=None``: touching it
would fail).

Events stored before v2 (``V1_LACKS``; as ``tests.support.legacy_events`` writes them) read back with those fields
None and keep what they had; aggregates replay from them to the same state; and the legacy path, one read of the
household or group at the event's version (a correction's KK and member from the same), gives the very same public
event.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date

import pytest

from services.registry.application import RegistryApplication
from services.registry.domain import BankAccount, Group, GroupMember, Household, KubeRules, Member, RegionList
from services.registry.public import PUBLIC_EVENTS
from shared.versioning import VersionedEvent
from tests.support.legacy_events import EventLog, EventVersions, legacy_mappings, replayed_alike

RULES = KubeRules()
VILLAGE = "18.01.06.2001"
OTHER_VILLAGE = "18.01.06.2005"

# What the events stored before v2 did not have (besides "class_version"): the code before v2 wrote exactly the
# other fields. An event not named here has all its fields in both versions.
V1_LACKS: dict[type, tuple[str, ...]] = {
    Household.MemberAdded: ("kk", "village_code"),
    Household.MemberRemoved: ("kk",),
    Household.MemberCorrected: ("kk", "member"),
    Household.StatusChanged: ("kk",),
    Household.DecileChanged: ("kk",),
    Group.MemberChanged: ("members",),
}
VERSIONS = EventVersions(RegistryApplication, V1_LACKS)


@pytest.fixture(scope="module")
def log() -> list:
    return scenario()


def nik(household: int, person: int) -> str:
    return f"180106450885{household:02d}{person:02d}"


def kk(household: int) -> str:
    return f"18010601010{household:05d}"


def members_of(household: int) -> list[Member]:
    """A woman head, her husband and their son."""
    return [Member(nik(household, 1), f"Siti {household}", "P", date(1985, 8, 5), "Kepala Keluarga", "Kawin",
                   "Petani"),
            Member(nik(household, 2), f"Ahmad {household}", "L", date(1983, 4, 10), "Suami", "Kawin", "Buruh Tani"),
            Member(nik(household, 3), f"Budi {household}", "L", date(2010, 3, 12), "Anak", "Belum Kawin", "Pelajar")]


def register(household: int, village_code: str = VILLAGE) -> Household:
    return Household.register(kk=kk(household), dtks_id=f"D{household}", village_code=village_code,
                              address=f"Jl. Raya Kalianda {household}", decile=3, members=members_of(household),
                              registered_by="operator")


def group_member(household: int) -> GroupMember:
    return GroupMember(kk=kk(household), representative_nik=nik(household, 1), representative_name=f"Siti {household}")


def scenario() -> list:
    """Every kind of registry event, as the domain decides them, in the order they happen."""
    log = EventLog()
    record = log.record

    regions = RegionList(codes=3, sha256="a" * 64, source="kepmendagri-2022.csv", imported_by="admin")
    regions.reimport(codes=4, sha256="b" * 64, source="kepmendagri-2025.csv", imported_by="admin")
    record(regions)

    # A household through every change: a birth, two corrections, the head's death, a decile and a status change.
    household = register(1)
    household.add_member(Member(nik(1, 4), "Putri 1", "P", date(2024, 3, 5), "Anak", "Belum Kawin"), reason="birth",
                         by="operator.a")
    household.correct_member(nik(1, 3), {"name": "Budi Santoso"}, reason="typo in the KK", by="operator.b")
    household.correct_member(nik(1, 4), {"birth_date": date(2024, 3, 6), "occupation": "-"}, reason="akta lahir",
                             by="operator.b")
    household.remove_member(nik(1, 1), reason="death", by="operator.a", new_head_nik=nik(1, 2))
    household.remove_member(nik(1, 3), reason="moved_out", by="operator.a")
    household.change_decile(2, by="operator.b")
    household.change_status("graduated", reason="income above the line", by="operator.b")
    other = register(2, OTHER_VILLAGE)
    other.add_member(Member(nik(2, 4), "Wati 2", "P", date(1960, 1, 1), "Orang Tua", "Cerai Mati"), reason="moved_in",
                     by="operator.a")
    record(household, other)

    # A KUBE: a household replaced (its role passes on), one added, one removed; funded, then dissolved.
    members = [group_member(n) for n in range(10, 20)]
    group = Group.form(name="KUBE Mawar Jondong", village_code=VILLAGE, business_type="olahan makanan",
                       kind="perempuan", members=members,
                       roles={"ketua": nik(10, 1), "sekretaris": nik(11, 1), "bendahara": nik(12, 1)},
                       bank_account=BankAccount("BRI", "012301000123456", "KUBE Mawar Jondong"),
                       sk_kades="141/12/SK/2001/2025", formed_by="operator", rules=RULES)
    group.change_member(kk(11), group_member(20), reason="moved out", by="operator.a", rules=RULES)
    group.change_member(kk(15), None, reason="left", by="operator.a", rules=RULES)
    group.change_member(None, group_member(21), reason="joined", by="operator.b", rules=RULES)
    group.mark_funded(uuid.uuid4(), 14_000_000)
    group.dissolve(reason="business closed", by="operator.b")
    record(group)
    return log


def test_the_scenario_has_every_kind_of_public_event(log):
    assert {type(e) for e in log} == set(PUBLIC_EVENTS)


def test_every_event_maps_to_its_public_event_without_an_application(log):
    aggregates: dict = {}
    for e in log:
        before = copy.deepcopy(aggregates.get(e.originator_id))
        aggregate = aggregates[e.originator_id] = e.mutate(aggregates.get(e.originator_id))
        data = PUBLIC_EVENTS[type(e)](None, e)  # None: the mapper must not touch the application
        if isinstance(aggregate, Household):
            assert (data.household_id, data.kk) == (aggregate.id, aggregate.kk)
        if isinstance(e, Household.MemberAdded):
            assert data.village_code == aggregate.village_code and data.member.nik == e.member.nik
        elif isinstance(e, Household.MemberCorrected):
            corrected = aggregate.member(e.nik)  # the member as the correction left it
            assert data.member.model_dump() == {"nik": corrected.nik, "name": corrected.name, "sex": corrected.sex,
                                                "birth_date": corrected.birth_date, "relation": corrected.relation}
            assert corrected != before.member(e.nik) and data.corrected_fields == sorted(e.changes)
        elif isinstance(e, Group.MemberChanged):
            assert [(m.kk, m.representative_nik, m.representative_name) for m in data.members] == [
                (m.kk, m.representative_nik, m.representative_name) for m in aggregate.members]
            assert data.roles == aggregate.roles


def test_the_members_after_a_group_change_are_the_groups(log):
    changes = [PUBLIC_EVENTS[Group.MemberChanged](None, e) for e in log if isinstance(e, Group.MemberChanged)]
    assert [len(c.members) for c in changes] == [10, 9, 10]
    assert [m.kk for m in changes[0].members] == [kk(n) for n in (10, *range(12, 20), 20)]  # the newcomer last
    assert changes[0].roles["sekretaris"] == nik(20, 1)  # the leaver's role passed to the newcomer
    assert kk(15) not in {m.kk for m in changes[1].members} and changes[2].members[-1].kk == kk(21)


def test_household_and_group_events_are_stored_as_version_2_the_region_lists_as_before():
    for cls in PUBLIC_EVENTS:
        if issubclass(cls, RegionList.Event):
            assert not issubclass(cls, VersionedEvent) and getattr(cls, "class_version", 1) == 1, cls
        else:
            assert issubclass(cls, VersionedEvent) and cls.class_version == 2, cls


def test_the_stored_state_carries_the_new_fields_and_its_version(log):
    for e in log:
        state_ = VERSIONS.stored_state(e)
        if isinstance(e, VersionedEvent):
            assert state_["class_version"] == 2
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
        # Only an event that lacks fields reads the store, once (a correction's KK and member from one read).
        assert len(reads) == (1 if type(before) in V1_LACKS else 0), type(before)
        total += len(reads)
    assert total == sum(type(e) in V1_LACKS for e in log)
