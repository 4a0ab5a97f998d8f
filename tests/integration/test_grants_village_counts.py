"""Grants' count of households and members per village (the dashboard's and the demo's) follows the registry's news:
a registration counts a household where it lives, a move (a newer DTSEN file) counts it in its new village, an
erasure takes it off — also when all of it comes in one batch, as a replay delivers it."""

from __future__ import annotations

import uuid

import pytest

from services.grants.application import GrantsApplication
from shared.contracts import registry
from tests.integration.test_facts import consumed
from tests.support.applications import application_fixture
from tests.support.households import VILLAGE

pytestmark = pytest.mark.integration

NEW_VILLAGE = "18.01.04.2001"  # Hajimena, Natar

grants_sql = application_fixture(GrantsApplication, "grants_sql")


def registered(household_id: uuid.UUID, members: int) -> registry.HouseholdRegisteredV2:
    return registry.HouseholdRegisteredV2(
        household_id=household_id, village_code=VILLAGE, decile=2, bdt_status="active", registered_by="op1",
        members=[registry.MemberV2(person_id=uuid.uuid4(), sex="P", relation="Kepala Keluarga" if n == 0 else "Anak")
                 for n in range(members)])


def counts(grants: GrantsApplication) -> dict[str, tuple[int, int]]:
    rows = grants.query("SELECT village_code, households, members FROM village_households WHERE households > 0 "
                        "OR members > 0")
    return {row["village_code"]: (row["households"], row["members"]) for row in rows}


def test_a_moved_household_counts_in_its_new_village_and_an_erased_one_in_none_even_in_one_batch(grants_sql):
    from_registry = consumed(grants_sql, "registry")
    stays, moves, erased = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    from_registry(registered(stays, 2), registered(moves, 3), registered(erased, 4),
                  registry.HouseholdMovedV1(household_id=moves, village_code=NEW_VILLAGE, by="op1"),
                  registry.HouseholdErasedV1(household_id=erased, person_ids=[], request_id=uuid.uuid4(),
                                             by="admin.checker"))
    assert counts(grants_sql) == {VILLAGE: (1, 2), NEW_VILLAGE: (1, 3)}
    assert grants_sql.household(str(moves))["village_code"] == NEW_VILLAGE

    from_registry(registry.HouseholdMovedV1(household_id=moves, village_code=VILLAGE, by="op1"))  # and back
    assert counts(grants_sql) == {VILLAGE: (2, 5)}
