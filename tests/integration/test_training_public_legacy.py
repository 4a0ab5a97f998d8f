"""Training events stored before class_version 2, on a real PostgreSQL: read back through the upcaster, they still
become the right public envelopes (the legacy path reads a cohort's village from its first event, the curriculum or
gate at the event's version), and aggregates replay from them and carry on with new events.
"""

from __future__ import annotations

import uuid

import pytest

from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES, Cohort, Curriculum, Gate
from services.training.public import PUBLIC_EVENTS
from tests.support import legacy_events as legacy
from tests.support.applications import application_fixture
from tests.unit.test_training_public_events import NIK_OF, RULES, SITI, V1_LACKS, VERSIONS, VILLAGE, scenario

pytestmark = pytest.mark.integration

MODULES = [code for code, _ in DEFAULT_MODULES]


training = application_fixture(TrainingApplication, "training")


def test_rows_as_the_code_before_v2_wrote_them_still_become_their_envelopes(training: TrainingApplication):
    curriculum = training.curriculum()  # Started, as today's code writes it
    cohort = Cohort.open(VILLAGE, "fasilitator.rina", "Kelas Jondong 1", "op1")
    group_id = uuid.uuid4()
    gate = Gate.first(group_id, 0, 3, RULES)
    training.record(cohort, gate)  # Opened and Changed, as today's code writes them
    # Version 2 of each, as the code before v2 wrote it: no village, no active modules, no group (and, before v3,
    # the person by NIK and name).
    enrolled = legacy.v1_state("2025-06-15T02:30:00+00:00", nik=NIK_OF[SITI], name="Ibu Siti",
                               group_id={"_type_": "uuid_hex", "_data_": group_id.hex}, by="op1")
    added = legacy.v1_state("2025-06-15T02:31:00+00:00", code="digital", title="Literasi digital", by="op1")
    updated = legacy.v1_state("2025-06-15T02:32:00+00:00", completed=3, representatives=3, open=True,
                              threshold_percent=80)
    legacy.write_v1_rows(training, (cohort.id, 2, Cohort.Enrolled, enrolled),
                         (curriculum.id, 2, Curriculum.ModuleAdded, added), (gate.id, 2, Gate.Updated, updated))

    reads = legacy.counting_reads(training)
    envelopes = training.public_events_after(0, 10)
    assert [envelope.type for envelope in envelopes] == [
        "training.curriculum.changed", "training.cohort.opened", "training.gate.changed",
        "training.participant.enrolled", "training.curriculum.changed", "training.gate.changed"]
    old_enrolled, old_added, old_updated = (envelope.data for envelope in envelopes[3:])
    # Published as version 2: the person by the id the registry knows them by (derived from that NIK), no name.
    assert old_enrolled == {"cohort_id": str(cohort.id), "village_code": VILLAGE, "person_id": SITI,
                            "group_id": str(group_id), "by": "op1"}
    assert envelopes[3].version == 2
    assert old_added == {"active_modules": [*MODULES, "digital"], "change": "added", "module": "digital",
                         "by": "op1"}
    assert old_updated == {"group_id": str(group_id), "open": True, "completed": 3, "representatives": 3,
                           "threshold_percent": 80}
    assert envelopes[3].time.isoformat() == "2025-06-15T02:30:00+00:00"
    # The old rows read the store, once each: the cohort's first event, the curriculum and the gate at the event's
    # version. The rows today's code wrote read nothing.
    assert reads == [(cohort.id, 1), (curriculum.id, 2), (gate.id, 2)]

    # The aggregates replay from the old rows.
    assert training.repository.get(cohort.id).participants[SITI]["status"] == "enrolled"
    assert training.repository.get(curriculum.id).active == [*MODULES, "digital"]
    assert training.repository.get(gate.id).open is True


def test_a_log_stored_before_v2_maps_as_it_did_and_carries_on_with_v2_events(training: TrainingApplication):
    log = scenario()
    legacy.insert_as_v1(training, VERSIONS, log)  # the whole log as the code before v2 wrote it

    # After the upgrade, the cohort carries on: replayed from v1 events, it decides a v2 one.
    cohort_id = next(e.originator_id for e in log if isinstance(e, Cohort.Completed))
    cohort: Cohort = training.repository.get(cohort_id)
    assert cohort.enrol(str(uuid.uuid4()), None, by="op1")
    curriculum: Curriculum = training.repository.get(Curriculum.ID)
    curriculum.retire_module("digital", by="op1")
    training.record(cohort, curriculum)

    # The envelopes: the old events' public events as v2 holds them, then the new ones'.
    _, new, reads = legacy.envelopes_as_v2_maps(training, PUBLIC_EVENTS, log)
    assert [type(e) for e in new] == [Cohort.Enrolled, Curriculum.ModuleRetired]
    assert new[0].village_code == VILLAGE and "digital" not in new[1].active_modules  # carried: no read for them
    assert len(reads) == sum(type(e) in V1_LACKS for e in log)  # one read per old event that lacks fields
