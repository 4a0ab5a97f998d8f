"""Household (keluarga) commands after registration: members join and leave, corrections, BDT status, decile.

Every refusal checks the error class, the rule or field it names, that the household is unchanged and that no
event was recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from services.registry.domain import Household, Member
from shared.errors import Conflict, NotFound, RuleViolated, ValidationFailed
from shared.vocabulary import HEAD_OF_HOUSEHOLD

KK = "1801060101000001"
# A woman head (day of birth +40 in her NIK), her husband and their son.
# With their ids, as the registry gave them (a member with an id keeps it).
HEAD = Member("1801064508850001", "Siti Aminah", "P", date(1985, 8, 5), "Kepala Keluarga", "Kawin", "Petani",
              uuid.UUID(int=1))
HUSBAND = Member("1801061004830002", "Ahmad Yani", "L", date(1983, 4, 10), "Suami", "Kawin", "Buruh Tani",
                 uuid.UUID(int=2))
SON = Member("1801061203100003", "Budi", "L", date(2010, 3, 12), "Anak", "Belum Kawin", "Pelajar", uuid.UUID(int=3))
BABY = Member("1801064503240004", "Putri", "P", date(2024, 3, 5), "Anak", "Belum Kawin", "", uuid.UUID(int=4))


def register(members: list[Member] | None = None, decile: int = 3) -> Household:
    """A registered household with its Registered event already collected."""
    household = Household.register(kk=KK, dtks_id="D1", village_code="18.01.06.2001", address="Jl. Raya Kalianda 1",
                          decile=decile, members=[HEAD, HUSBAND, SON] if members is None else members,
                          registered_by="operator")
    household.collect_events()
    return household


def state(household: Household) -> tuple:
    return (list(household.members), household.bdt_status, household.decile, household.version)


def refused(household: Household, error: type[Exception], command, *args, **kwargs) -> Exception:
    """Run a command that must be refused; the household must not change and record nothing."""
    before = state(household)
    with pytest.raises(error) as caught:
        command(*args, **kwargs)
    assert state(household) == before
    assert household.collect_events() == []
    return caught.value


def event_names(household: Household) -> list[str]:
    return [type(e).__qualname__ for e in household.collect_events()]


def replayed(events: list) -> Household:
    aggregate = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


# --- adding a member ----------------------------------------------------------------------------------------


def test_a_birth_adds_the_baby_as_a_member():
    household = register()
    household.add_member(BABY, reason="birth", by="operator")
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Household.MemberAdded"]
    assert events[0].member == BABY and events[0].reason == "birth" and events[0].by == "operator"
    assert household.members == [HEAD, HUSBAND, SON, BABY]
    assert household.version == 2 and household.head == HEAD


@pytest.mark.parametrize("reason", ["birth", "marriage", "moved_in", "other"])
def test_every_join_reason_is_accepted(reason):
    household = register()
    household.add_member(BABY, reason=reason, by="operator")
    assert event_names(household) == ["Household.MemberAdded"] and household.members[-1] == BABY


def test_a_second_kepala_keluarga_cannot_be_added():
    household = register()
    second_head = Member("1801061507800005", "Joko", "L", date(1980, 7, 15), HEAD_OF_HOUSEHOLD)
    error = refused(household, RuleViolated, household.add_member, second_head, reason="moved_in", by="operator")
    assert error.rule == "household.one_head"
    assert error.details["kk"] == KK and error.details["heads"] == [HEAD.nik, second_head.nik]


def test_a_nik_already_in_the_household_cannot_be_added_again():
    household = register()
    twin = Member(SON.nik, "Budi Kembar", "L", date(2010, 3, 12), "Anak")
    error = refused(household, RuleViolated, household.add_member, twin, reason="birth", by="operator")
    assert error.rule == "nik.unique" and error.details["nik"] == SON.nik and error.details["kk"] == KK


@pytest.mark.parametrize("reason", ["death", "moved_out", "adoption", "", "Birth"])
def test_adding_needs_a_join_reason(reason):
    household = register()
    error = refused(household, ValidationFailed, household.add_member, BABY, reason=reason, by="operator")
    assert error.field == "reason" and error.rule == "member.reason"


@pytest.mark.parametrize(("change", "field", "rule"), [({"relation": "Bapak"}, "relation", "member.relation"),
                                                       ({"sex": "W"}, "sex", "member.sex")])
def test_an_added_member_needs_a_known_relation_and_sex(change, field, rule):
    household = register()
    newcomer = replace(BABY, **change)
    error = refused(household, ValidationFailed, household.add_member, newcomer, reason="birth", by="operator")
    assert error.field == field and error.rule == rule


# --- removing a member --------------------------------------------------------------------------------------


def test_a_death_removes_the_member():
    household = register()
    household.remove_member(SON.nik, reason="death", by="operator")
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Household.MemberRemoved"]
    assert events[0].nik == SON.nik and events[0].reason == "death" and events[0].new_head_nik is None
    assert household.members == [HEAD, HUSBAND] and household.head == HEAD


def test_the_head_cannot_leave_without_a_new_head():
    household = register()
    error = refused(household, RuleViolated, household.remove_member, HEAD.nik, reason="death", by="operator")
    assert error.rule == "household.one_head" and error.details == {"rule": "household.one_head", "kk": KK,
                                                                       "nik": HEAD.nik}


def test_when_the_head_leaves_the_named_member_becomes_kepala_keluarga():
    household = register()
    household.remove_member(HEAD.nik, reason="death", by="operator", new_head_nik=HUSBAND.nik)
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Household.MemberRemoved"]
    assert events[0].new_head_nik == HUSBAND.nik
    assert [(m.nik, m.relation) for m in household.members] == [(HUSBAND.nik, HEAD_OF_HOUSEHOLD), (SON.nik, "Anak")]
    assert household.head.nik == HUSBAND.nik and household.head.name == "Ahmad Yani"


def test_a_new_head_is_named_only_when_the_head_leaves():
    household = register()
    error = refused(household, ValidationFailed, household.remove_member, SON.nik, reason="moved_out",
                    by="operator", new_head_nik=HUSBAND.nik)
    assert error.field == "new_head_nik" and error.rule == "household.new_head"


def test_the_new_head_must_be_a_member():
    household = register()
    error = refused(household, NotFound, household.remove_member, HEAD.nik, reason="death", by="operator",
                    new_head_nik="1801069999990009")
    assert error.details["nik"] == "1801069999990009" and error.details["kk"] == KK


def test_the_leaving_head_cannot_name_themself_the_new_head():
    household = register()
    error = refused(household, RuleViolated, household.remove_member, HEAD.nik, reason="moved_out", by="operator",
                    new_head_nik=HEAD.nik)
    assert error.rule == "household.one_head" and error.details["heads"] == []


@pytest.mark.parametrize("new_head_nik", [None, HEAD.nik])
def test_the_last_member_cannot_be_removed(new_head_nik):
    household = register([HEAD])
    error = refused(household, RuleViolated, household.remove_member, HEAD.nik, reason="death", by="operator",
                    new_head_nik=new_head_nik)
    assert error.rule == "household.members" and error.details["kk"] == KK and error.details["nik"] == HEAD.nik
    assert household.members == [HEAD]


def test_removing_an_unknown_nik_is_not_found():
    household = register()
    error = refused(household, NotFound, household.remove_member, "1801060101019999", reason="moved_out",
                    by="operator")
    assert error.details == {"field": "nik", "nik": "1801060101019999", "kk": KK}


@pytest.mark.parametrize("reason", ["birth", "moved_in", "", "kematian"])
def test_removing_needs_a_leave_reason(reason):
    household = register()
    error = refused(household, ValidationFailed, household.remove_member, SON.nik, reason=reason, by="operator")
    assert error.field == "reason" and error.rule == "member.reason"


# --- correcting a member ------------------------------------------------------------------------------------


def test_a_correction_of_name_and_occupation_is_recorded_with_its_changes():
    household = register()
    changes = {"name": "Ahmad Yani Saputra", "occupation": "Nelayan"}
    household.correct_member(HUSBAND.nik, changes, reason="typo in the KK", by="operator")
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Household.MemberCorrected"]
    assert events[0].nik == HUSBAND.nik and events[0].changes == changes and events[0].reason == "typo in the KK"
    corrected = household.member(HUSBAND.nik)
    assert (corrected.name, corrected.occupation) == ("Ahmad Yani Saputra", "Nelayan")
    assert (corrected.sex, corrected.birth_date, corrected.relation) == ("L", date(1983, 4, 10), "Suami")
    assert household.members[0] == HEAD and household.members[2] == SON


@pytest.mark.parametrize("changes", [{"name": HUSBAND.name}, {"occupation": "Buruh Tani", "sex": "L"}, {}])
def test_a_correction_that_changes_nothing_is_a_conflict(changes):
    household = register()
    error = refused(household, Conflict, household.correct_member, HUSBAND.nik, changes, reason="check",
                    by="operator")
    assert type(error) is Conflict and error.details == {"nik": HUSBAND.nik}


@pytest.mark.parametrize("field", ["nik", "kk", "address"])
def test_only_correctable_fields_can_be_corrected(field):
    household = register()
    error = refused(household, ValidationFailed, household.correct_member, HUSBAND.nik, {field: "1801060000000000"},
                    reason="wrong number", by="operator")
    assert error.field == field and error.rule == "member.correctable"


def test_a_correction_cannot_make_a_second_head():
    household = register()
    error = refused(household, RuleViolated, household.correct_member, HUSBAND.nik,
                    {"relation": HEAD_OF_HOUSEHOLD}, reason="he is the head", by="operator")
    assert error.rule == "household.one_head" and error.details["heads"] == [HEAD.nik, HUSBAND.nik]


def test_a_correction_cannot_leave_the_household_without_a_head():
    household = register()
    error = refused(household, RuleViolated, household.correct_member, HEAD.nik, {"relation": "Istri"},
                    reason="she is the wife", by="operator")
    assert error.rule == "household.one_head" and error.details["heads"] == []


@pytest.mark.parametrize(("changes", "field"), [({"sex": "X"}, "sex"), ({"relation": "Keponakan"}, "relation")])
def test_a_correction_must_keep_sex_and_relation_valid(changes, field):
    household = register()
    error = refused(household, ValidationFailed, household.correct_member, SON.nik, changes, reason="fix",
                    by="operator")
    assert error.field == field


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_needs_a_reason(reason):
    household = register()
    error = refused(household, ValidationFailed, household.correct_member, SON.nik, {"name": "Budi Santoso"},
                    reason=reason, by="operator")
    assert error.field == "reason" and error.rule == "correction.reason"


def test_correcting_an_unknown_nik_is_not_found():
    household = register()
    error = refused(household, NotFound, household.correct_member, "1801060101019999", {"name": "X"},
                    reason="fix", by="operator")
    assert error.details["nik"] == "1801060101019999"


# --- BDT status and decile ----------------------------------------------------------------------------------


def test_an_active_household_can_be_removed_from_bdt_with_a_reason():
    household = register()
    household.change_status("removed", reason="moved to Bandar Lampung", by="operator")
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Household.StatusChanged"]
    assert events[0].status == "removed" and events[0].reason == "moved to Bandar Lampung"
    assert household.bdt_status == "removed"


def test_a_household_can_graduate_and_come_back():
    household = register()
    household.change_status("graduated", reason="income above the line", by="operator")
    household.change_status("active", reason="lost the job", by="operator")
    assert event_names(household) == ["Household.StatusChanged", "Household.StatusChanged"]
    assert household.bdt_status == "active"


def test_the_same_status_again_is_a_conflict():
    household = register()
    error = refused(household, Conflict, household.change_status, "active", reason="still poor", by="operator")
    assert type(error) is Conflict and error.details == {"kk": KK}


@pytest.mark.parametrize("status", ["deceased", "Active", "", "moved"])
def test_an_unknown_status_is_refused(status):
    household = register()
    error = refused(household, ValidationFailed, household.change_status, status, reason="x", by="operator")
    assert error.field == "status" and error.rule == "bdt.status"


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_status_change_needs_a_reason(reason):
    household = register()
    error = refused(household, ValidationFailed, household.change_status, "removed", reason=reason, by="operator")
    assert error.field == "reason" and error.rule == "bdt.status_reason"


def test_the_decile_changes_from_3_to_5():
    household = register(decile=3)
    household.change_decile(5, by="operator")
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Household.DecileChanged"]
    assert events[0].decile == 5 and household.decile == 5


def test_the_same_decile_again_is_a_conflict():
    household = register(decile=3)
    error = refused(household, Conflict, household.change_decile, 3, by="operator")
    assert type(error) is Conflict and error.details == {"kk": KK}


@pytest.mark.parametrize("decile", [0, 11, -1, True, False, 4.0, "5", None])
def test_a_decile_outside_1_to_10_or_not_an_int_is_refused(decile):
    household = register(decile=3)
    error = refused(household, ValidationFailed, household.change_decile, decile, by="operator")
    assert error.field == "decile" and error.rule == "decile.range"


@pytest.mark.parametrize("decile", [1, 10])
def test_deciles_1_and_10_are_accepted(decile):
    household = register(decile=5)
    household.change_decile(decile, by="operator")
    assert household.decile == decile


# --- replay -------------------------------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_same_household():
    household = Household.register(kk=KK, dtks_id="D1", village_code="18.01.06.2001", address="Jl. Raya Kalianda 1",
                          decile=3, members=[HEAD, HUSBAND, SON], registered_by="operator")
    household.add_member(BABY, reason="birth", by="operator")
    household.correct_member(SON.nik, {"name": "Budi Santoso"}, reason="typo", by="operator")
    household.remove_member(HEAD.nik, reason="death", by="operator", new_head_nik=HUSBAND.nik)
    household.change_decile(2, by="operator")
    household.change_status("graduated", reason="income above the line", by="operator")
    events = household.collect_events()
    assert [type(e).__qualname__ for e in events] == [
        "Household.Registered", "Household.MemberAdded", "Household.MemberCorrected", "Household.MemberRemoved",
        "Household.DecileChanged", "Household.StatusChanged",
    ]
    copy = replayed(events)
    assert state(copy) == state(household) and copy.id == household.id and copy.version == 6
    assert [(m.name, m.relation) for m in copy.members] == [
        ("Ahmad Yani", HEAD_OF_HOUSEHOLD), ("Budi Santoso", "Anak"), ("Putri", "Anak"),
    ]
