"""Household rules that need no outside knowledge."""

import uuid
from dataclasses import replace
from datetime import date

import pytest
from eventsourcing.utils import resolve_topic

from services.registry.domain import Household, Member, RegionList
from shared.errors import RuleViolated, ValidationFailed
from shared.keys import legacy_household_id, legacy_person_id

HEAD = Member("1801064508850001", "Siti Aminah", "P", date(1985, 8, 5), "Kepala Keluarga")
CHILD = Member("1801061203100002", "Budi", "L", date(2010, 3, 12), "Anak")


def register(members, decile=3):
    return Household.register(kk="1801060101000001", dtks_id="D1", village_code="18.01.06.2001", address="Jl. Raya",
                     decile=decile, members=members, registered_by="operator")


def test_a_household_is_registered_active_with_its_members_under_random_ids():
    household = register([HEAD, CHILD])
    assert household.bdt_status == "active"
    assert [replace(m, person_id=None) for m in household.members] == [HEAD, CHILD]
    [event] = household.collect_events()
    assert type(event).__name__ == "Registered" and event.members == household.members  # the ids are in the log
    # Nobody computes an id from a KK or NIK: the same household registered again has other ids.
    again = register([HEAD, CHILD])
    assert household.id != again.id and household.id != legacy_household_id("1801060101000001")
    ids = {m.person_id for m in household.members} | {m.person_id for m in again.members}
    assert len(ids) == 4 and None not in ids and legacy_person_id(HEAD.nik) not in ids


def test_a_member_with_an_id_keeps_it_and_one_stored_without_is_known_by_the_legacy_id():
    kept = uuid.uuid4()
    household = register([replace(HEAD, person_id=kept)])
    assert household.members[0].id == kept
    assert HEAD.person_id is None and HEAD.id == legacy_person_id(HEAD.nik)


SECOND_HEAD = Member("1801064508850009", "Sri", "P", date(1985, 8, 5), "Kepala Keluarga")


@pytest.mark.parametrize("members", [[CHILD], [HEAD, SECOND_HEAD]])
def test_a_household_needs_exactly_one_head(members):
    with pytest.raises(RuleViolated) as refused:
        register(members)
    assert refused.value.rule == "household.one_head"


def test_a_nik_cannot_appear_twice_in_one_household():
    with pytest.raises(RuleViolated) as refused:
        register([HEAD, Member(HEAD.nik, "Siti lagi", "P", date(1985, 8, 5), "Anak")])
    assert refused.value.rule == "nik.unique" and refused.value.details["nik"] == HEAD.nik


@pytest.mark.parametrize("decile", [0, 11, -1])
def test_decile_is_1_to_10(decile):
    with pytest.raises(ValidationFailed) as refused:
        register([HEAD], decile=decile)
    assert refused.value.field == "decile"


def test_a_household_without_members_is_refused():
    with pytest.raises(RuleViolated, match="no members"):
        register([])


def test_region_list_events_recorded_before_it_moved_to_the_domain_still_load():
    assert resolve_topic("services.registry.application:RegionList") is RegionList
    assert resolve_topic("services.registry.application:RegionList.Imported") is RegionList.Imported
    assert resolve_topic("services.registry.application:RegionList.Reimported") is RegionList.Reimported
