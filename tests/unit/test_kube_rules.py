"""KUBE group rules (domain.md, "Registry"): size, roles, bank account, SK Kades, eligibility of each household,
member changes and dissolution. Defaults of KubeRules: 5–20 households, women's KUBE 7–10, decile ≤ 4,
representative aged 18–59.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.domain import (
    BankAccount,
    Candidate,
    Group,
    GroupMember,
    KubeRules,
    Member,
    age_on,
    check_candidate,
    check_group_size,
)
from shared.errors import Conflict, NotFound, RuleViolated, ValidationFailed

RULES = KubeRules()
VILLAGE = "18.01.06.2001"  # Jondong, Kalianda
OTHER_VILLAGE = "18.01.06.2005"  # Maja, Kalianda
TODAY = date(2025, 6, 15)
NAME = "KUBE Mawar Jondong"
BANK = BankAccount(bank="BRI", number="012301000123456", holder="KUBE Mawar Jondong")


def kk(i: int) -> str:
    return f"180106{i:010d}"


def nik(i: int) -> str:
    return f"18010645088{i:05d}"


def household(i: int, sex: str = "P") -> tuple[GroupMember, Candidate]:
    """Household number i with its representative (a woman of 39 by default) and what the registry knows of it."""
    member = GroupMember(kk=kk(i), representative_nik=nik(i), representative_name=f"Ibu {i}")
    person = Member(nik(i), f"Ibu {i}", sex, date(1985, 8, 5), "Istri", "Kawin", "Ibu Rumah Tangga")
    return member, Candidate(kk=kk(i), village_code=VILLAGE, bdt_status="active", decile=3, representative=person,
                             active_group=None)


def households(n: int, sex: str = "P", start: int = 1) -> tuple[list[GroupMember], list[Candidate]]:
    pairs = [household(i, sex) for i in range(start, start + n)]
    return [m for m, _ in pairs], [c for _, c in pairs]


def roles_of(members: list[GroupMember]) -> dict[str, str]:
    return {"ketua": members[0].representative_nik, "sekretaris": members[1].representative_nik,
            "bendahara": members[2].representative_nik}


def form(n: int = 10, kind: str = "perempuan", rules: KubeRules = RULES, **overrides) -> Group:
    members = overrides.pop("members", None) or households(n)[0]
    roles = overrides.pop("roles", None)
    arguments = dict(name=NAME, village_code=VILLAGE, business_type="olahan makanan", kind=kind, members=members,
                     roles=roles_of(members) if roles is None else roles, bank_account=BANK,
                     sk_kades="141/12/SK/2001/2025", formed_by="operator")
    return Group.form(**(arguments | overrides), rules=rules)


def formed(n: int = 10, kind: str = "perempuan") -> Group:
    """A formed group with its Formed event already collected."""
    group = form(n, kind)
    group.collect_events()
    return group


def group_state(group: Group) -> tuple:
    return (list(group.members), dict(group.roles), group.status, group.version)


def refused(group: Group, error: type[Exception], command, *args, **kwargs) -> Exception:
    """Run a command that must be refused; the group must not change and record nothing."""
    before = group_state(group)
    with pytest.raises(error) as caught:
        command(*args, **kwargs)
    assert group_state(group) == before
    assert group.collect_events() == []
    return caught.value


def form_refused(error: type[Exception], *args, **kwargs) -> Exception:
    with pytest.raises(error) as caught:
        form(*args, **kwargs)
    return caught.value


# --- forming a group ----------------------------------------------------------------------------------------


def test_a_valid_womens_kube_of_ten_is_formed():
    members, _ = households(10)
    group = form(10, "perempuan", members=members)
    events = group.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Group.Formed"]
    assert events[0].members == members and events[0].formed_by == "operator"
    assert group.status == "formed" and group.is_active and group.kind == "perempuan"
    assert group.member_kks() == [kk(i) for i in range(1, 11)]
    assert group.roles == {"ketua": nik(1), "sekretaris": nik(2), "bendahara": nik(3)}
    assert group.bank_account == BANK and group.sk_kades == "141/12/SK/2001/2025"
    assert group.name == NAME and group.village_code == VILLAGE and group.business_type == "olahan makanan"


@pytest.mark.parametrize(("kind", "n"), [("perempuan", 7), ("perempuan", 10), ("umum", 5), ("umum", 20)])
def test_sizes_on_the_bounds_are_accepted(kind, n):
    assert len(form(n, kind).members) == n


@pytest.mark.parametrize(("kind", "n"), [("perempuan", 6), ("perempuan", 11), ("umum", 4), ("umum", 21)])
def test_sizes_outside_the_bounds_are_refused(kind, n):
    error = form_refused(RuleViolated, n, kind)
    assert error.rule == "kube.size" and error.details["households"] == n and str(n) in error.message


def test_the_size_bounds_are_settings():
    rules = KubeRules(min_households=3, max_households=30, women_min_households=5, women_max_households=12)
    assert len(form(12, "perempuan", rules=rules).members) == 12
    assert len(form(3, "umum", rules=rules).members) == 3
    check_group_size(5, "perempuan", rules)
    with pytest.raises(RuleViolated, match="kube.size"):
        check_group_size(13, "perempuan", rules)


def test_a_household_cannot_appear_twice():
    members, _ = households(10)
    members[9] = replace(members[9], kk=members[4].kk)
    error = form_refused(RuleViolated, members=members)
    assert error.rule == "kube.distinct_households"


@pytest.mark.parametrize("roles", [
    {"ketua": nik(1), "sekretaris": nik(2)},
    {"ketua": nik(1), "sekretaris": nik(2), "bendahara": nik(3), "wakil": nik(4)},
    {"ketua": nik(1), "sekretaris": nik(2), "penasihat": nik(3)},
    {},
])
def test_the_three_roles_are_required_exactly(roles):
    error = form_refused(ValidationFailed, roles=roles)
    assert error.field == "roles" and error.rule == "kube.roles"


def test_one_member_cannot_hold_two_roles():
    error = form_refused(RuleViolated, roles={"ketua": nik(1), "sekretaris": nik(2), "bendahara": nik(1)})
    assert error.rule == "kube.roles_distinct"


def test_a_role_is_held_by_a_representative_of_a_member_household():
    outsider = "1801065001900099"
    error = form_refused(RuleViolated, roles={"ketua": nik(1), "sekretaris": outsider, "bendahara": nik(3)})
    assert error.rule == "kube.role_holder" and error.details["nik"] == outsider


@pytest.mark.parametrize("holder", ["Siti Aminah", "KUBE Mawar", "Mawar Jondong", ""])
def test_the_bank_account_is_in_the_groups_name(holder):
    error = form_refused(RuleViolated, bank_account=replace(BANK, holder=holder))
    assert error.rule == "kube.bank_account_holder"


@pytest.mark.parametrize("holder", ["kube  MAWAR jondong", "KUBE Mawar Jondong Kalianda"])
def test_the_account_holder_is_compared_ignoring_case_and_spacing(holder):
    assert form(bank_account=replace(BANK, holder=holder)).bank_account.holder == holder


@pytest.mark.parametrize(("bank", "number"), [("", "0123"), ("BRI", " "), (" ", "")])
def test_bank_and_account_number_are_required(bank, number):
    error = form_refused(ValidationFailed, bank_account=BankAccount(bank, number, NAME))
    assert error.field == "bank_account" and error.rule == "kube.bank_account"


@pytest.mark.parametrize("sk_kades", ["", "   "])
def test_the_village_heads_decree_is_required(sk_kades):
    error = form_refused(ValidationFailed, sk_kades=sk_kades)
    assert error.field == "sk_kades" and error.rule == "kube.sk_kades"


@pytest.mark.parametrize(("override", "field"), [
    ({"business_type": "tambang"}, "business_type"),
    ({"business_type": "Jahit"}, "business_type"),
    ({"kind": "laki-laki"}, "kind"),
    ({"kind": ""}, "kind"),
    ({"name": "  "}, "name"),
])
def test_unknown_business_type_or_kind_and_an_empty_name_are_refused(override, field):
    error = form_refused(ValidationFailed, **override)
    assert error.field == field and error.rule == f"kube.{field}"


@pytest.mark.parametrize("business_type", ["warung/kios", "ternak kambing", "jahit", "pertanian", "perikanan"])
def test_the_business_types_of_domain_md_are_accepted(business_type):
    assert form(business_type=business_type).business_type == business_type


# --- eligibility of one household ---------------------------------------------------------------------------


def candidate(sex: str = "P", **changes) -> Candidate:
    base = household(7, sex)[1]
    person = changes.pop("person", {})
    if person:
        base = replace(base, representative=replace(base.representative, **person))
    return replace(base, **changes)


def check(c: Candidate, kind: str = "perempuan", today: date = TODAY, rules: KubeRules = RULES) -> None:
    check_candidate(c, VILLAGE, kind, rules, today, nik(7))


def refusal(c: Candidate, rule: str, **kwargs) -> RuleViolated:
    with pytest.raises(RuleViolated) as caught:
        check(c, **kwargs)
    error = caught.value
    assert error.rule == rule
    assert error.details["kk"] == c.kk == kk(7) and kk(7) in error.message
    return error


def test_an_eligible_household_passes():
    assert check(candidate()) is None
    assert check(candidate(), kind="umum") is None


def test_a_household_of_another_village_is_refused():
    error = refusal(candidate(village_code=OTHER_VILLAGE), "kube.same_village")
    assert OTHER_VILLAGE in error.message and VILLAGE in error.message


@pytest.mark.parametrize("status", ["graduated", "removed"])
def test_a_household_not_active_in_bdt_is_refused(status):
    error = refusal(candidate(bdt_status=status), "kube.bdt_active")
    assert status in error.message


@pytest.mark.parametrize("decile", [5, 6, 10])
def test_a_decile_above_4_is_refused(decile):
    refusal(candidate(decile=decile), "kube.decile")


@pytest.mark.parametrize("decile", [1, 4])
def test_deciles_up_to_4_pass(decile):
    check(candidate(decile=decile))


def test_the_decile_limit_is_a_setting():
    check(candidate(decile=5), rules=KubeRules(max_decile=5))
    refusal(candidate(decile=5), "kube.decile", rules=KubeRules(max_decile=4))


def test_a_household_in_another_active_kube_is_refused():
    error = refusal(candidate(active_group="KUBE Melati"), "kube.one_active_group")
    assert "KUBE Melati" in error.message


@pytest.mark.parametrize("occupation", ["Tentara Nasional Indonesia", "KEPOLISIAN RI", "Pegawai Negeri Sipil (PNS)",
                                        "Purnawirawan TNI", "pensiunan guru"])
def test_official_occupation_names_of_civil_servants_soldiers_and_police_are_refused(occupation):
    refusal(candidate(person={"occupation": occupation}), "kube.occupation")


@pytest.mark.parametrize("occupation", ["Petani", "Pedagang Nasi", "Ibu Rumah Tangga", "Pensiun dini? tidak"])
def test_ordinary_occupations_pass(occupation):
    check(candidate(person={"occupation": occupation}))


def test_a_representative_who_is_not_a_member_of_the_household_is_refused():
    error = refusal(candidate(representative=None), "kube.representative_member")
    assert nik(7) in error.message


@pytest.mark.parametrize(("birth_date", "age"), [
    (date(2007, 6, 16), 17),  # 18th birthday tomorrow
    (date(1965, 6, 15), 60),  # 60th birthday today
    (date(2010, 1, 1), 15),
    (date(1950, 1, 1), 75),
])
def test_a_representative_younger_than_18_or_older_than_59_is_refused(birth_date, age):
    assert age_on(birth_date, TODAY) == age
    error = refusal(candidate(person={"birth_date": birth_date}), "kube.representative_age")
    assert f"is {age}" in error.message


@pytest.mark.parametrize(("birth_date", "age"), [
    (date(2007, 6, 15), 18),  # 18th birthday today
    (date(1965, 6, 16), 59),  # 60th birthday tomorrow
])
def test_a_representative_aged_18_to_59_passes(birth_date, age):
    assert age_on(birth_date, TODAY) == age
    check(candidate(person={"birth_date": birth_date}))


def test_the_age_bounds_are_settings():
    seventeen = candidate(person={"birth_date": date(2007, 6, 16)})
    check(seventeen, rules=KubeRules(min_age=17))
    refusal(candidate(person={"birth_date": date(1985, 8, 5)}), "kube.representative_age",
            rules=KubeRules(max_age=30))


def test_a_birthday_on_29_february_counts_from_1_march_in_other_years():
    assert age_on(date(2004, 2, 29), date(2022, 2, 28)) == 17
    assert age_on(date(2004, 2, 29), date(2022, 3, 1)) == 18
    assert age_on(date(2004, 2, 29), date(2024, 2, 29)) == 20


def test_a_man_cannot_represent_a_womens_kube():
    man = candidate(sex="L")
    error = refusal(man, "kube.women_representative")
    assert nik(7) in error.message


def test_a_man_can_represent_a_general_kube():
    check(candidate(sex="L"), kind="umum")


@pytest.mark.parametrize("occupation", [
    "PNS", "pns", " Pns ", "TNI", "tni", "Polri", "POLRI", "Pensiunan", "PENSIUNAN", "ASN", "Pegawai Negeri Sipil",
])
def test_civil_servants_soldiers_police_and_pensioners_are_refused(occupation):
    error = refusal(candidate(person={"occupation": occupation}), "kube.occupation")
    assert occupation in error.message


@pytest.mark.parametrize("occupation", ["Petani", "Buruh Tani", "Ibu Rumah Tangga", "Pedagang", "Tidak Bekerja", ""])
def test_other_occupations_pass(occupation):
    check(candidate(person={"occupation": occupation}))
    check(candidate(sex="L", person={"occupation": occupation}), kind="umum")


def test_the_rules_are_checked_in_order_and_the_first_broken_one_is_named():
    everything_wrong = candidate(sex="L", village_code=OTHER_VILLAGE, bdt_status="removed", decile=9,
                                 person={"occupation": "PNS", "birth_date": date(2010, 1, 1)})
    refusal(everything_wrong, "kube.same_village")
    refusal(replace(everything_wrong, village_code=VILLAGE), "kube.bdt_active")


@given(birth_date=st.dates(date(1940, 1, 1), date(2015, 12, 31)), today=st.dates(date(2020, 1, 1), date(2035, 12, 31)))
def test_the_age_rule_follows_the_birthdays(birth_date, today):
    def birthday(years: int) -> date:
        year = birth_date.year + years
        if (birth_date.month, birth_date.day) == (2, 29) and not (year % 4 == 0 and (year % 100 or year % 400 == 0)):
            return date(year, 3, 1)
        return birth_date.replace(year=year)

    adult = birthday(18) <= today < birthday(60)
    c = candidate(person={"birth_date": birth_date})
    if adult:
        check(c, today=today)
    else:
        with pytest.raises(RuleViolated) as caught:
            check(c, today=today)
        assert caught.value.rule == "kube.representative_age"


# --- member changes and dissolution -------------------------------------------------------------------------


NEWCOMER = household(50)[0]


def test_replacing_a_member_passes_its_role_to_the_newcomer():
    group = formed(10)
    group.change_member(kk(1), NEWCOMER, reason="moved to Natar", by="operator", rules=RULES)
    events = group.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Group.MemberChanged"]
    assert events[0].removed_kk == kk(1) and events[0].added == NEWCOMER and events[0].reason == "moved to Natar"
    assert group.roles == {"ketua": NEWCOMER.representative_nik, "sekretaris": nik(2), "bendahara": nik(3)}
    assert group.member_kks() == [kk(i) for i in range(2, 11)] + [kk(50)]


def test_replacing_a_member_without_a_role_keeps_the_roles():
    group = formed(10)
    group.change_member(kk(8), NEWCOMER, reason="moved", by="operator", rules=RULES)
    assert group.roles == {"ketua": nik(1), "sekretaris": nik(2), "bendahara": nik(3)}
    assert kk(8) not in group.member_kks() and len(group.members) == 10


def test_a_household_is_added():
    group = formed(9)
    group.change_member(None, NEWCOMER, reason="joins", by="operator", rules=RULES)
    events = group.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Group.MemberChanged"] and events[0].removed_kk is None
    assert len(group.members) == 10 and group.members[-1] == NEWCOMER


def test_a_household_without_a_role_is_removed():
    group = formed(10)
    group.change_member(kk(10), None, reason="graduated from BDT", by="operator", rules=RULES)
    assert [type(e).__qualname__ for e in group.collect_events()] == ["Group.MemberChanged"]
    assert kk(10) not in group.member_kks() and len(group.members) == 9


@pytest.mark.parametrize("role_holder", [1, 2, 3])
def test_a_role_holder_cannot_be_removed_without_a_replacement(role_holder):
    group = formed(10)
    error = refused(group, RuleViolated, group.change_member, kk(role_holder), None, reason="left", by="operator",
                    rules=RULES)
    assert error.rule == "kube.role_holder" and error.details["kk"] == kk(role_holder)


def test_a_group_cannot_go_below_its_minimum():
    group = formed(7, "perempuan")
    error = refused(group, RuleViolated, group.change_member, kk(7), None, reason="left", by="operator", rules=RULES)
    assert error.rule == "kube.size" and error.details["households"] == 6
    general = formed(5, "umum")
    error = refused(general, RuleViolated, general.change_member, kk(5), None, reason="left", by="operator",
                    rules=RULES)
    assert error.rule == "kube.size" and error.details["households"] == 4


def test_a_group_cannot_go_above_its_maximum():
    group = formed(10, "perempuan")
    error = refused(group, RuleViolated, group.change_member, None, NEWCOMER, reason="joins", by="operator",
                    rules=RULES)
    assert error.rule == "kube.size" and error.details["households"] == 11


def test_a_household_already_in_the_group_cannot_be_added():
    group = formed(9)
    again = replace(household(4)[0], representative_nik=nik(60))
    error = refused(group, RuleViolated, group.change_member, None, again, reason="joins", by="operator",
                    rules=RULES)
    assert error.rule == "kube.distinct_households" and error.details["kk"] == kk(4)


def test_removing_a_household_that_is_not_a_member_is_not_found():
    group = formed(10)
    error = refused(group, NotFound, group.change_member, kk(99), None, reason="left", by="operator", rules=RULES)
    assert error.details["kk"] == kk(99)


def test_a_change_names_a_household():
    group = formed(10)
    error = refused(group, ValidationFailed, group.change_member, None, None, reason="nothing", by="operator",
                    rules=RULES)
    assert error.field == "member" and error.rule == "kube.member_change"


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_change_needs_a_reason(reason):
    group = formed(10)
    error = refused(group, ValidationFailed, group.change_member, kk(9), None, reason=reason, by="operator",
                    rules=RULES)
    assert error.field == "reason" and error.rule == "kube.member_change_reason"


def test_a_group_is_dissolved_with_a_reason():
    group = formed(10)
    group.dissolve(reason="business closed", by="operator")
    events = group.collect_events()
    assert [type(e).__qualname__ for e in events] == ["Group.Dissolved"] and events[0].reason == "business closed"
    assert group.status == "dissolved" and not group.is_active


@pytest.mark.parametrize("reason", ["", "  "])
def test_dissolving_needs_a_reason(reason):
    group = formed(10)
    error = refused(group, ValidationFailed, group.dissolve, reason=reason, by="operator")
    assert error.field == "reason" and error.rule == "kube.dissolve_reason"
    assert group.status == "formed"


def test_a_dissolved_group_cannot_change_or_be_dissolved_again():
    group = formed(10)
    group.dissolve(reason="business closed", by="operator")
    group.collect_events()
    error = refused(group, Conflict, group.dissolve, reason="again", by="operator")
    assert error.details["status"] == "dissolved" and error.details["group_id"] == str(group.id)
    assert error.details["rule"] == "kube.inactive"
    refused(group, Conflict, group.change_member, kk(9), None, reason="left", by="operator", rules=RULES)
    refused(group, Conflict, group.change_member, kk(1), NEWCOMER, reason="left", by="operator", rules=RULES)
    refused(group, Conflict, group.change_member, None, NEWCOMER, reason="joins", by="operator", rules=RULES)


def test_replaying_the_events_rebuilds_the_same_group():
    group = form(10)
    group.change_member(kk(2), NEWCOMER, reason="moved", by="operator", rules=RULES)
    group.change_member(kk(10), None, reason="left", by="operator", rules=RULES)
    group.dissolve(reason="business closed", by="operator")
    events = group.collect_events()
    assert [type(e).__qualname__ for e in events] == [
        "Group.Formed", "Group.MemberChanged", "Group.MemberChanged", "Group.Dissolved",
    ]
    copy = None
    for domain_event in events:
        copy = domain_event.mutate(copy)
    assert group_state(copy) == group_state(group) and copy.id == group.id
    assert copy.roles["sekretaris"] == NEWCOMER.representative_nik and len(copy.members) == 9


# --- property: size bounds ----------------------------------------------------------------------------------


@given(n=st.integers(1, 30), kind=st.sampled_from(["perempuan", "umum"]))
def test_a_group_is_formed_iff_its_size_is_within_the_kinds_bounds(n, kind):
    low, high = (7, 10) if kind == "perempuan" else (5, 20)
    members = households(n)[0]
    roles = dict(zip(("ketua", "sekretaris", "bendahara"), (members[i % n].representative_nik for i in range(3)),
                     strict=True))
    if n < 3:  # three different role holders are impossible
        with pytest.raises((RuleViolated, ValidationFailed)):
            form(n, kind, members=members, roles=roles)
    elif low <= n <= high:
        group = form(n, kind, members=members, roles=roles)
        assert len(group.members) == n and group.status == "formed"
    else:
        error = form_refused(RuleViolated, n, kind, members=members, roles=roles)
        assert error.rule == "kube.size" and error.details["households"] == n


# --- a group's name and business ---------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "rule"), [
    ("name", "  ", "kube.name"),
    ("business_type", "tambang emas", "kube.business_type"),
])
def test_a_kube_needs_a_name_and_a_business_of_the_programme(field, value, rule):
    error = form_refused(ValidationFailed, **{field: value})
    assert (error.field, error.rule) == (field, rule)

