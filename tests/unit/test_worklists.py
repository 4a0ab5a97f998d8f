"""The rules behind the console's worklists, without I/O: who may represent a household in a KUBE (and the refusal
that explains a household nobody may represent), what blocks a tranche, when a tranche was paid, and the shape of
the people search."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.grants.domain import Grant, GrantRules, TrancheProgress, paid_on, split_tranches
from services.grants.queries import payable
from services.registry.domain import Candidate, KubeRules, Member, eligible_representatives
from services.registry.queries import people_search
from shared.actor import Actor
from shared.errors import ValidationFailed
from shared.store import in_region

TODAY = date(2026, 6, 15)
VILLAGE = "18.01.06.2001"
HOUSEHOLD = Candidate(kk="1801060000000001", village_code=VILLAGE, bdt_status="active", decile=3,
                      representative=None, active_group=None)


def person(nik: str, sex: str, born: date, occupation: str = "Ibu Rumah Tangga") -> Member:
    return Member(nik, f"Orang {nik[-2:]}", sex, born, "Anak", "", occupation)


WOMAN_39 = person("1801064508860001", "P", date(1986, 8, 5))
WOMAN_65 = person("1801064508600002", "P", date(1960, 8, 5))
WOMAN_PNS = person("1801064508900003", "P", date(1990, 8, 5), occupation="Pegawai Negeri Sipil")
MAN_40 = person("1801060508850004", "L", date(1985, 8, 5))
BOY_10 = person("1801060508150005", "L", date(2015, 8, 5))
GIRL_5 = person("1801064508200006", "P", date(2020, 8, 5))


def representatives(members: list[Member], kind: str = "perempuan", **household: object):
    return eligible_representatives(replace(HOUSEHOLD, **household), members, VILLAGE, kind, KubeRules(), TODAY)


def test_the_members_who_qualify_are_eligible_and_the_household_is_not_excluded():
    assert representatives([MAN_40, WOMAN_39, BOY_10]) == ([WOMAN_39], None)
    assert representatives([MAN_40, WOMAN_65], kind="umum") == ([MAN_40], None)


@pytest.mark.parametrize(("household", "rule", "details"), [
    ({"decile": 6}, "kube.decile", {"decile": 6, "limit": 4}),
    ({"bdt_status": "removed"}, "kube.bdt_active", {"status": "removed"}),
    ({"active_group": "KUBE Mawar"}, "kube.one_active_group", {"group": "KUBE Mawar"}),
    ({"village_code": "18.01.06.2005"}, "kube.same_village",
     {"village_code": "18.01.06.2005", "group_village_code": VILLAGE}),
])
def test_a_household_rule_excludes_the_household_whoever_would_represent_it(household, rule, details):
    eligible, refusal = representatives([WOMAN_39, MAN_40], **household)
    assert eligible == [] and refusal.rule == rule
    assert refusal.details == {"rule": rule, "kk": HOUSEHOLD.kk, **details}  # no NIK: nobody in particular


@pytest.mark.parametrize(("members", "rule", "refused"), [
    # An adult woman's refusal says what a women's KUBE misses, rather than "must be a woman" for the man.
    ([MAN_40, WOMAN_65], "kube.representative_age", WOMAN_65),
    ([WOMAN_PNS, GIRL_5], "kube.occupation", WOMAN_PNS),
    # No adult woman: the adult's refusal.
    ([BOY_10, MAN_40], "kube.women_representative", MAN_40),
    ([GIRL_5], "kube.representative_age", GIRL_5),
])
def test_when_nobody_qualifies_the_refusal_of_the_member_nearest_to_qualifying_explains_it(members, rule, refused):
    eligible, refusal = representatives(members)
    assert eligible == [] and refusal.rule == rule and refusal.details["nik"] == refused.nik


def test_refusals_name_their_numbers_for_a_translated_sentence_and_no_name_or_birth_date():
    _, refusal = representatives([WOMAN_65])
    assert refusal.details == {"rule": "kube.representative_age", "kk": HOUSEHOLD.kk, "nik": WOMAN_65.nik, "age": 65,
                               "min_age": 18, "max_age": 59}
    assert WOMAN_65.name not in str(refusal.details) and "1960" not in str(refusal.details)


def test_a_tranche_is_payable_when_pending_and_nothing_before_it_blocks_it():
    unpaid, paid, accepted = (TrancheProgress(1, False, None), TrancheProgress(1, True, "submitted"),
                              TrancheProgress(1, True, "accepted"))
    assert payable(1, "pending", [], gate_open=False) == {"payable": True, "blocked_by": None}
    assert payable(2, "pending", [unpaid], gate_open=True)["blocked_by"] == "tranche.order"
    assert payable(2, "pending", [paid], gate_open=True)["blocked_by"] == "tranche.lpj"
    assert payable(2, "pending", [accepted], gate_open=False)["blocked_by"] == "tranche.family_school"
    assert payable(2, "pending", [accepted], gate_open=True) == {"payable": True, "blocked_by": None}
    assert payable(1, "sent", [], gate_open=True) == {"payable": False, "blocked_by": None}  # under way


def approved_grant() -> Grant:
    return Grant(proposal_id=uuid.uuid4(), group_id=uuid.uuid4(), village_code=VILLAGE, amount_rp=10_000_000,
                 form="cash", tranches=split_tranches(10_000_000, (70, 30)))


def test_the_paid_date_is_the_confirmation_events_day_in_jakarta_and_replay_gives_the_same():
    treasurer, another = Actor("bendahara", "treasurer", "18.01"), Actor("bendahara.2", "treasurer", "18.01")
    grant = approved_grant()
    grant.instruct(1, "pay-1", treasurer, gate_open=False)
    grant.mark_sent("pay-1", treasurer)
    grant.confirm("pay-1", "BRI-1", another)
    events = grant.collect_events()
    assert grant.payments["pay-1"]["paid_on"] == paid_on(events[-1].timestamp)
    replayed = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.payments == grant.payments and replayed.live_payment(1)["payment_id"] == "pay-1"


def test_a_day_in_jakarta_starts_seven_hours_before_utcs():
    assert paid_on(datetime(2026, 3, 1, 16, 59, tzinfo=UTC)) == "2026-03-01"
    assert paid_on(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == "2026-03-02"
    assert GrantRules().lpj_due_days == 30


def test_sixteen_digits_are_a_nik_or_a_kk_and_anything_else_a_folded_name_fragment():
    search = people_search("1801 0600 0000 0001", "18.01")
    assert "nik = %s OR kk = %s" in search.sql and search.params == ("1801060000000001", "1801060000000001",
                                                                      "18.01", "18.01.%")
    search = people_search("NUR'AINI", None)
    assert search.params == ("%nuraini%",) and search.order_params[:3] == ("nuraini", "nuraini%", "% nuraini%")


def test_a_fragment_shorter_than_two_letters_is_refused_without_repeating_it():
    with pytest.raises(ValidationFailed) as refused:
        people_search(" 'x ", "18.01")
    assert (refused.value.field, refused.value.rule) == ("q", "search.too_short")
    assert "x" not in refused.value.message.split()


def test_a_region_covers_itself_and_what_lies_inside_it_and_nothing_is_everywhere():
    assert in_region("village_code", "18.01") == ("(village_code = %s OR village_code LIKE %s)", ("18.01", "18.01.%"))
    assert in_region("village_code", None) == in_region("village_code", "") == ("true", ())
