"""Registry events stored before class_version 2, on a real PostgreSQL: read back through the upcaster, they still
become the right public envelopes (the legacy path reads their aggregate at the event's version), and aggregates
replay from them and carry on with new events, which map without a read.
"""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.application import RegistryApplication
from services.registry.domain import Group, Household
from services.registry.public import PUBLIC_EVENTS
from shared.keys import legacy_person_id
from tests.support import legacy_events as legacy
from tests.support.applications import application_fixture
from tests.unit.test_registry_public_events import READ_BEFORE_V2, VERSIONS, kk, nik, register, scenario

pytestmark = pytest.mark.integration


registry = application_fixture(RegistryApplication, "registry")


def test_a_correction_row_as_the_code_before_v2_wrote_it_still_becomes_its_envelope(registry: RegistryApplication):
    household = register(7)
    registry.record(household)  # Registered, as today's code writes it
    corrected_at = "2025-06-15T02:30:00+00:00"
    # No KK, no member as corrected: the state exactly as the code before v2 stored a correction.
    state = legacy.v1_state(
        corrected_at, nik=nik(7, 3),
        changes={"name": "Budi Santoso", "birth_date": {"_type_": "date_iso", "_data_": "2010-03-13"}},
        reason="typo in the KK", by="operator.b")
    legacy.write_v1_rows(registry, (household.id, 2, Household.MemberCorrected, state))

    reads = legacy.counting_reads(registry)
    registered, corrected = registry.public_events_after(0, 10)
    assert corrected.type == "registry.household.member_corrected"
    assert corrected.previous_position == registered.position
    # Published as version 2: the member by id (no NIK, name, birth date), which fields changed (not to what).
    assert corrected.version == 2 and corrected.data == {
        "household_id": str(household.id),
        "member": {"person_id": str(legacy_person_id(nik(7, 3))), "sex": "L", "relation": "Anak"},
        "corrected_fields": ["birth_date", "name"], "by": "operator.b"}
    assert corrected.time.isoformat() == corrected_at
    assert len(reads) == 1  # the old row, read at its version; the new Registered read nothing
    assert registry.repository.get(household.id).member(nik(7, 3)).birth_date == date(2010, 3, 13)


def test_a_log_stored_before_v2_maps_as_it_did_and_carries_on_with_v2_events(registry: RegistryApplication):
    log = scenario()
    rows = legacy.insert_as_v1(registry, VERSIONS, log)  # the whole log as the code before v2 wrote it
    assert not any(b'"kk"' in bytes(row["state"]) for row in rows if row["topic"].endswith("StatusChanged"))

    # After the upgrade, a household replayed from v1 events decides a v2 one.
    household_id = next(e.originator_id for e in log if isinstance(e, Household.Registered) and e.kk == kk(2))
    household: Household = registry.repository.get(household_id)
    assert len(household.members) == 3 and household.decile == 3  # four, one of them erased alone
    household.change_decile(4, by="operator.c")
    registry.record(household)

    # The envelopes: the old events' public events as v2 holds them, then the new one's.
    envelopes, (decile,), reads = legacy.envelopes_as_v2_maps(registry, PUBLIC_EVENTS, log)
    assert isinstance(decile, Household.DecileChanged)
    assert decile.kk == kk(2) and envelopes[-1].data["decile"] == 4  # the new event carries its KK: no read for it
    # One read per old event that lacks what its public event needs, none for the new one.
    assert len(reads) == sum(type(e) in READ_BEFORE_V2 for e in log)
    group_changes = [envelope.data for envelope in envelopes if envelope.type == "registry.group.member_changed"]
    assert [len(data["members"]) for data in group_changes] == [10, 9, 10]
    assert registry.repository.get(next(e.originator_id for e in log if isinstance(e, Group.Formed))).status == (
        "dissolved")
