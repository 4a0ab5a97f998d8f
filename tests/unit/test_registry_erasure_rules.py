"""The erasure's rules in the domain: a request needs a reason; another admin approves it, once; an erased
household holds no one, and cannot be erased twice; one member is erased while the household stays, unless they
head it or are its last member; a request stored before one member could be asked for reads as a whole household's."""

from __future__ import annotations

import uuid

import pytest

from services.registry.application import registered_from
from services.registry.domain import ErasureRequest, Household, check_eraser
from shared.actor import Actor
from shared.errors import Conflict, NotYours, RuleViolated, ValidationFailed
from tests.support.registry_cast import OP, VILLAGE, household


def registered(number: int) -> Household:
    """Household ``number`` as its Registered event makes it (as a replay does)."""
    return registered_from(household(number), OP.user).mutate(None)


def asked(by: str = "admin.maker") -> ErasureRequest:
    return ErasureRequest.request(household_id=uuid.uuid4(), person_id=uuid.uuid4(), village_code=VILLAGE,
                                  reason="permintaan subjek data", requested_by=by)


def test_a_request_needs_a_reason():
    with pytest.raises(ValidationFailed) as refused:
        ErasureRequest.request(household_id=uuid.uuid4(), person_id=uuid.uuid4(), village_code=VILLAGE,
                               reason="  ", requested_by="admin.maker")
    assert refused.value.rule == "erasure.reason"


def test_the_requester_may_not_approve_and_another_admin_approves_once():
    request = asked()
    with pytest.raises(NotYours) as own:
        request.approve(by="admin.maker")
    assert own.value.rule == "erasure.four_eyes" and request.approved_by is None
    request.approve(by="admin.checker")
    assert request.approved_by == "admin.checker"
    with pytest.raises(Conflict) as again:
        request.approve(by="admin.third")
    assert again.value.details["rule"] == "erasure.approved" and request.approved_by == "admin.checker"


@pytest.mark.parametrize(("actor", "rule"), [(Actor("op1", "operator", "18.01"), "role.forbidden"),
                                             (Actor("adm9", "admin", "18.02"), "region.scope")])
def test_only_an_admin_of_the_households_region_asks_or_approves(actor, rule):
    with pytest.raises(NotYours) as refused:
        check_eraser(actor, VILLAGE, "ask for an erasure")
    assert refused.value.rule == rule


def test_an_erased_household_holds_no_one_and_is_erased_once():
    erased = registered(1)
    people = [m.id for m in erased.members]
    request_id = uuid.uuid4()
    erased.erase(request_id=request_id, by="admin.checker")
    (event,) = erased.collect_events()[-1:]
    assert (erased.erased, erased.members, event.person_ids, event.request_id) == (True, [], people, request_id)
    with pytest.raises(Conflict) as again:
        erased.erase(request_id=uuid.uuid4(), by="admin.checker")
    assert again.value.details["rule"] == "erasure.done"


def test_one_member_is_erased_while_the_household_and_the_others_stay():
    family = registered(1)
    head, son = family.members
    request_id = uuid.uuid4()
    family.erase_person(person_id=son.id, request_id=request_id, by="admin.checker")
    (event,) = family.collect_events()[-1:]
    assert (family.erased, family.members) == (False, [head])
    assert vars(event).keys() >= {"person_id", "request_id", "by"} and "nik" not in vars(event)  # ids only
    assert (event.person_id, event.request_id) == (son.id, request_id)
    with pytest.raises(Conflict) as again:
        family.erase_person(person_id=son.id, request_id=uuid.uuid4(), by="admin.checker")
    assert again.value.details["rule"] == "erasure.done"


def test_the_head_or_the_last_member_is_not_erased_alone():
    family = registered(1)
    head, son = family.members
    with pytest.raises(RuleViolated) as head_alone:
        family.erase_person(person_id=head.id, request_id=uuid.uuid4(), by="admin.checker")
    assert head_alone.value.rule == "erasure.head_of_household" and family.members == [head, son]
    family.erase_person(person_id=son.id, request_id=uuid.uuid4(), by="admin.checker")
    with pytest.raises(RuleViolated) as last:
        family.erase_person(person_id=head.id, request_id=uuid.uuid4(), by="admin.checker")
    assert last.value.rule == "erasure.last_member" and family.members == [head]


def test_a_request_stored_before_one_member_could_be_asked_for_reads_as_a_whole_households():
    requested = ErasureRequest.request(household_id=uuid.uuid4(), person_id=uuid.uuid4(), village_code=VILLAGE,
                                       reason="permintaan subjek data", requested_by="admin.maker", person_only=True)
    (event,) = requested.collect_events()
    assert event.mutate(None).person_only
    del vars(event)["person_only"]  # as the code before it stored the event
    assert event.mutate(None).person_only is False
