"""A newer DTSEN file against a known household: the change of each kind, in applicable order, and which wait."""

from dataclasses import replace
from datetime import date

import pytest

from services.registry.domain import Household, KubeRules, Member
from services.registry.updates import (
    Change,
    KubeStanding,
    Listing,
    Source,
    apply,
    change_of,
    differences,
    held_because,
    held_detail,
)

KK = "1801062005100001"
HEAD = Member("1801060508850001", "BUDI", "L", date(1985, 8, 5), "Kepala Keluarga", "Kawin", "Petani")
WIFE = Member("1801064109870001", "SITI", "P", date(1987, 9, 1), "Istri", "Kawin", "Pedagang")
CHILD = Member("1801061503100001", "RAHMAT", "L", date(2010, 3, 15), "Anak", "Belum Kawin", "Pelajar")
SOURCE = Source("dtsen-2026-11.csv", date(2026, 11, 30), "ab" * 32)
RULES = KubeRules()
IN_KUBE = KubeStanding("KUBE Mawar", WIFE.nik)
ALONE = KubeStanding(None, None)


def household() -> Household:
    return Household.register(kk=KK, dtks_id="D1", village_code="18.01.06.2001", address="Dusun I", decile=3,
                              members=[HEAD, WIFE, CHILD], registered_by="op")


def listed(**changes) -> Listing:
    base = Listing(kk=KK, village_code="18.01.06.2001", address="Dusun I", decile=3, status="active",
                   status_reason="", members=(HEAD, WIFE, CHILD))
    return replace(base, **changes)


def test_the_same_listing_is_no_change() -> None:
    assert differences(household(), listed()) == []


@pytest.mark.parametrize(("listing", "expected"), [
    (listed(decile=6), [Change("decile_changed", decile=6)]),
    (listed(status="removed", status_reason="deceased"),
     [Change("status_changed", status="removed", status_reason="deceased")]),
    (listed(members=(HEAD, WIFE)), [Change("member_removed", nik=CHILD.nik)]),
    (listed(members=(HEAD, WIFE, CHILD, replace(CHILD, nik="1801061503120001", name="ANI"))),
     [Change("member_added", nik="1801061503120001", member=replace(CHILD, nik="1801061503120001", name="ANI"))]),
    (listed(members=(HEAD, replace(WIFE, name="SITI AMINAH", occupation="Petani"), CHILD)),
     [Change("member_corrected", nik=WIFE.nik, fields={"name": "SITI AMINAH", "occupation": "Petani"})]),
    (listed(village_code="18.01.04.2001", address="Dusun III"),
     [Change("household_moved", village_code="18.01.04.2001", address="Dusun III")]),
])
def test_each_kind_of_change(listing: Listing, expected: list[Change]) -> None:
    assert differences(household(), listing) == expected


def test_a_head_who_left_is_followed_by_the_member_the_file_names_head() -> None:
    changes = differences(household(), listed(members=(replace(WIFE, relation="Kepala Keluarga"), CHILD)))
    assert changes == [Change("member_removed", nik=HEAD.nik, new_head_nik=WIFE.nik)]  # no separate correction
    subject = household()
    apply(subject, changes[0], SOURCE, by="op")
    assert subject.head.nik == WIFE.nik


def test_changes_come_in_applicable_order() -> None:
    newcomer = replace(CHILD, nik="1801061503120001")
    kinds = [c.kind for c in differences(household(), listed(members=(HEAD, replace(WIFE, name="S"), newcomer),
                                                             decile=5, status="graduated"))]
    assert kinds == ["member_removed", "member_added", "member_corrected", "decile_changed", "status_changed"]


@pytest.mark.parametrize(("change", "standing", "rule"), [
    (Change("decile_changed", decile=5), IN_KUBE, "kube.decile"),
    (Change("decile_changed", decile=4), IN_KUBE, None),  # still within the limit
    (Change("decile_changed", decile=9), ALONE, None),  # no KUBE: no money at stake
    (Change("status_changed", status="removed", status_reason="moved"), IN_KUBE, "kube.bdt_active"),
    (Change("status_changed", status="graduated"), IN_KUBE, "kube.bdt_active"),
    (Change("status_changed", status="removed", status_reason="moved"), ALONE, None),
    (Change("member_removed", nik=WIFE.nik), IN_KUBE, "kube.representative_left"),
    (Change("member_removed", nik=CHILD.nik), IN_KUBE, None),  # not the representative
    (Change("member_added", nik=CHILD.nik), IN_KUBE, None),
    (Change("household_moved", village_code="18.01.04.2001", address=""), IN_KUBE, None),
])
def test_what_touches_money_is_held(change: Change, standing: KubeStanding, rule: str | None) -> None:
    assert held_because(change, standing, RULES) == rule


def test_a_held_removal_keeps_ids_only_and_applies_later_to_the_household_as_it_is() -> None:
    subject = household()
    change = Change("member_removed", nik=WIFE.nik)
    detail = held_detail(change, subject)
    assert detail == {"person_id": str(subject.member(WIFE.nik).id), "new_head_id": None}
    assert WIFE.nik not in str(detail)
    apply(subject, change_of("member_removed", detail, subject), SOURCE, by="op")
    assert [m.nik for m in subject.members] == [HEAD.nik, CHILD.nik]


def test_applied_changes_are_the_households_own_events_naming_the_file() -> None:
    subject = household()
    for change in differences(subject, listed(decile=7, status="removed", status_reason="duplicate",
                                              village_code="18.01.04.2001")):
        apply(subject, change, SOURCE, by="op")
    events = subject.collect_events()
    assert [type(e).__name__ for e in events] == ["Registered", "Moved", "DecileChanged", "StatusChanged"]
    assert events[-1].reason == "duplicate: " + SOURCE.says() and SOURCE.sha256[:12] in events[-1].reason
    assert (subject.village_code, subject.decile, subject.bdt_status) == ("18.01.04.2001", 7, "removed")
