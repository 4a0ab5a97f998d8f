"""A grievance's rules in the domain: recorded by an operator of its region, anonymous only for a misuse report; due
after the deadline setting; assigned by the desk or the head to a verifier of its region; resolved by that verifier
only, once; overdue while open after its due date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registry.grievance import Grievance, GrievanceRules, due_on
from shared.actor import Actor
from shared.errors import Conflict, NotYours, ValidationFailed

VILLAGE = "18.01.06.2001"  # Jondong, Kalianda
TODAY = date(2026, 12, 7)
OPERATOR = Actor(user="op.kalianda", role="operator", region="18.01")
HEAD = Actor(user="kadis", role="head", region="18.01")
VERIFIER = Actor(user="ver.kalianda", role="verifier", region="18.01")
OTHER_VERIFIER = Actor(user="ver.lamteng", role="verifier", region="18.02")


def recorded(category: str = "exclusion", name: str | None = "Ibu Siti", rules: GrievanceRules = GrievanceRules(),
             by: Actor = OPERATOR) -> Grievance:
    return Grievance.record(actor=by, village_code=VILLAGE, category=category, description="tidak terdaftar",
                            complainant_name=name, today=TODAY, rules=rules)


def test_the_deadline_is_a_setting_of_14_days_by_default():
    assert recorded().due_on == TODAY + timedelta(days=14)
    assert recorded(rules=GrievanceRules(deadline_days=30)).due_on == TODAY + timedelta(days=30)


def test_a_letter_typed_in_later_is_due_from_the_day_it_came_never_from_the_future():
    letter = Grievance.record(actor=OPERATOR, village_code=VILLAGE, category="inclusion", description="bukan miskin",
                              complainant_name="Pak Amir", received_on=TODAY - timedelta(days=20), today=TODAY,
                              rules=GrievanceRules())
    assert letter.due_on == TODAY - timedelta(days=6) and letter.overdue(TODAY)
    with pytest.raises(ValidationFailed) as future:
        Grievance.record(actor=OPERATOR, village_code=VILLAGE, category="inclusion", description="x",
                         complainant_name="Pak Amir", received_on=TODAY + timedelta(days=1), today=TODAY,
                         rules=GrievanceRules())
    assert future.value.rule == "grievance.received_on"


def test_only_a_misuse_report_may_be_anonymous():
    with pytest.raises(ValidationFailed) as refused:
        recorded(category="payment_not_received", name="  ")
    assert refused.value.rule == "grievance.anonymous"
    assert recorded(category="misuse", name=None).anonymous


def test_an_operator_of_its_region_records_it():
    with pytest.raises(NotYours) as role:
        recorded(by=VERIFIER)
    assert role.value.rule == "role.forbidden"
    with pytest.raises(NotYours) as region:
        recorded(by=Actor(user="op.lamteng", role="operator", region="18.02"))
    assert region.value.rule == "region.scope"


def test_assigned_by_the_desk_or_the_head_to_a_verifier_of_its_region():
    grievance = recorded()
    with pytest.raises(NotYours) as by_verifier:
        grievance.assign(VERIFIER, VERIFIER)
    assert by_verifier.value.rule == "role.forbidden"
    for assignee in (OTHER_VERIFIER, Actor(user="op.2", role="operator", region="18.01")):
        with pytest.raises(NotYours) as wrong:
            grievance.assign(OPERATOR, assignee)
        assert wrong.value.rule == "grievance.assignee" and grievance.assigned_to is None
    grievance.assign(HEAD, VERIFIER)
    assert grievance.assigned_to == "ver.kalianda" and grievance.status == "assigned"


def test_only_the_assigned_verifier_resolves_it_once():
    grievance = recorded()
    with pytest.raises(NotYours) as unassigned:
        grievance.resolve(VERIFIER, "upheld", "didaftarkan ulang", TODAY)
    assert unassigned.value.rule == "grievance.not_assigned"
    grievance.assign(OPERATOR, VERIFIER)
    with pytest.raises(NotYours) as other:
        grievance.resolve(Actor(user="ver.2", role="verifier", region="18.01"), "upheld", "x", TODAY)
    assert other.value.rule == "grievance.not_assigned"
    with pytest.raises(NotYours):
        grievance.resolve(HEAD, "upheld", "x", TODAY)
    grievance.resolve(VERIFIER, "upheld", "didaftarkan ulang", TODAY + timedelta(days=3))
    assert (grievance.status, grievance.outcome, grievance.resolved_on) == ("resolved", "upheld",
                                                                           TODAY + timedelta(days=3))
    with pytest.raises(Conflict):
        grievance.resolve(VERIFIER, "not_upheld", "lagi", TODAY)
    with pytest.raises(Conflict):
        grievance.note(OPERATOR, "terlambat", TODAY)
    assert grievance.outcome == "upheld"


def test_overdue_while_open_after_its_due_date():
    grievance = recorded()
    assert not grievance.overdue(grievance.due_on)
    assert grievance.overdue(grievance.due_on + timedelta(days=1))
    grievance.assign(OPERATOR, VERIFIER)
    grievance.note(VERIFIER, "kunjungan rumah", TODAY)
    grievance.resolve(VERIFIER, "not_upheld", "desil sesuai", grievance.due_on + timedelta(days=2))
    assert not grievance.overdue(grievance.due_on + timedelta(days=5))
    assert [note.text for note in grievance.notes] == ["kunjungan rumah"]


@pytest.mark.parametrize(("setting", "days"), [(None, 14), ("", 14), ("30", 30), (" 7 ", 7)])
def test_the_deadline_is_the_offices_setting_or_fourteen_days(setting, days):
    environ = {} if setting is None else {"GRIEVANCE_DEADLINE_DAYS": setting}
    rules = GrievanceRules.from_environment(environ)
    assert rules.deadline_days == days
    assert due_on(date(2026, 12, 1), rules) == date(2026, 12, 1) + timedelta(days=days)


@pytest.mark.parametrize("setting", ["0", "366", "-3", "two weeks", "1.5"])
def test_a_deadline_setting_that_is_not_a_number_of_days_stops_the_registry(setting):
    with pytest.raises(ValueError, match="GRIEVANCE_DEADLINE_DAYS"):
        GrievanceRules.from_environment({"GRIEVANCE_DEADLINE_DAYS": setting})
