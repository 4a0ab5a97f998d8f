"""A batch's Registered events, built without a household (``Household.registered``), are the event
``Household.register``'s household has pending: the same class and fields (the random ones, the household's and new
members' ids and the time, of the same kind), the same refusals of the same data, and, stored and read back by the
registry's own mapper, the same household."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from hypothesis import given
from hypothesis import strategies as st

from services.registry.application import RegistryApplication
from services.registry.domain import Household, Member
from shared.vocabulary import HEAD_OF_HOUSEHOLD, MARITAL_STATUSES, RELATIONS, SEXES
from tests.support.memory.registry import MemoryRegistryFacts

OTHER_RELATIONS = [relation for relation in RELATIONS if relation != HEAD_OF_HOUSEHOLD]
sixteen_digits = st.integers(0, 10**16 - 1).map("{:016d}".format)  # a NIK's or a KK's shape


def member(relation: st.SearchStrategy[str]) -> st.SearchStrategy[Member]:
    """Some already have an id (a member with one keeps it), most get a new one."""
    return st.builds(Member, nik=sixteen_digits, name=st.text(min_size=1),
                     sex=st.sampled_from(SEXES), birth_date=st.dates(), relation=relation,
                     marital_status=st.sampled_from(("", *MARITAL_STATUSES)), occupation=st.text(),
                     person_id=st.none() | st.uuids(version=4))


# One head, others of any other relation, each NIK once.
valid_members = st.builds(lambda head, others: [head, *others], member(st.just(HEAD_OF_HOUSEHOLD)),
                          st.lists(member(st.sampled_from(OTHER_RELATIONS)), max_size=5, unique_by=lambda m: m.nik),
                          ).filter(lambda members: len({m.nik for m in members}) == len(members))


def registrations(members: st.SearchStrategy[list[Member]], deciles: st.SearchStrategy) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({
        "kk": sixteen_digits, "dtks_id": st.text(min_size=1),
        "village_code": st.sampled_from(("18.01.06.2001", "18.02.01.2001")),
        "address": st.text(), "decile": deciles, "members": members, "registered_by": st.text(min_size=1)})


valid_registrations = registrations(valid_members, st.integers(1, 10))
# Anything a caller may hand over: no head or two, an unknown relation or sex, a NIK twice, a decile out of range.
any_registrations = registrations(
    st.lists(st.builds(Member, nik=st.sampled_from(("1", "2", "3")), name=st.just("N"),
                       sex=st.sampled_from((*SEXES, "X")), birth_date=st.dates(),
                       relation=st.sampled_from((*RELATIONS, "Teman"))), max_size=4),
    st.integers(-1, 12) | st.booleans())


def pending_and_built(registration: dict) -> tuple[Household.Registered, Household.Registered, datetime, datetime]:
    """The event register's household has pending and the one registered builds, and when they were made."""
    started = datetime.now().astimezone()
    (pending,) = Household.register(**registration).collect_events()
    built = Household.registered(**registration)
    return pending, built, started, datetime.now().astimezone()


def without_random_fields(registered: Household.Registered, given: list[Member]) -> dict:
    """The event's fields but its id and time, each member with the id it was given (None: a new one)."""
    fields = {name: value for name, value in vars(registered).items() if name not in ("originator_id", "timestamp")}
    fields["members"] = [replace(m, person_id=g.person_id) for m, g in zip(registered.members, given, strict=True)]
    return fields


@given(valid_registrations)
def test_the_built_event_is_the_one_register_has_pending(registration):
    pending, built, started, ended = pending_and_built(registration)
    given = registration["members"]
    assert type(built) is type(pending) is Household.Registered
    assert without_random_fields(built, given) == without_random_fields(pending, given)
    assert (built.originator_version, built.originator_topic) == (1, pending.originator_topic)
    for event in (pending, built):
        assert isinstance(event.originator_id, uuid.UUID) and event.originator_id.version == 4
        assert started <= event.timestamp <= ended and event.timestamp.tzinfo == pending.timestamp.tzinfo
        new_ids = [m.person_id for m, g in zip(event.members, given, strict=True) if g.person_id is None]
        assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in new_ids)
        assert len({m.person_id for m in event.members}) == len(given)
    assert built.originator_id != pending.originator_id


@given(any_registrations)
def test_the_builder_refuses_what_register_refuses_and_accepts_what_it_accepts(registration):
    outcomes = []
    for make in (Household.register, Household.registered):
        try:
            make(**registration)
            outcomes.append(None)
        except Exception as refused:  # noqa: BLE001 - the refusal itself is compared
            outcomes.append((type(refused), str(refused), getattr(refused, "rule", None)))
    assert outcomes[0] == outcomes[1]


@given(st.lists(valid_registrations, min_size=1, max_size=3, unique_by=lambda r: r["kk"]))
def test_stored_built_events_read_back_as_the_household_register_makes(batch):
    registry = RegistryApplication.in_memory(MemoryRegistryFacts)
    built = [Household.registered(**registration) for registration in batch]
    registry.record(*built)
    for registration, event in zip(batch, built, strict=True):
        assert list(registry.events.get(event.originator_id)) == [event]
        # register keeps a member's id: the same members as the event's make the same household
        made = Household.register(**{**registration, "members": event.members})
        assert state(registry.repository.get(event.originator_id)) == state(made)


def state(household: Household) -> tuple:
    return (household.version, household.kk, household.dtks_id, household.village_code, household.address,
            household.decile, household.members, [m.id for m in household.members], household.bdt_status,
            household.registered_by, household.erased)
