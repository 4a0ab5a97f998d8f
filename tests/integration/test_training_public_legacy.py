"""Training events stored before class_version 2, on a real PostgreSQL: read back through the upcaster, they still
become the right public envelopes (the legacy path reads a cohort's village from its first event, the curriculum or
gate at the event's version), and aggregates replay from them and carry on with new events.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES, Cohort, Curriculum, Gate
from services.training.public import PUBLIC_EVENTS
from tests.support.system import ADMIN_URL
from tests.unit.test_training_public_events import RULES, SITI, V1_LACKS, VILLAGE, as_v1, scenario

pytestmark = pytest.mark.integration

MODULES = [code for code, _ in DEFAULT_MODULES]


@pytest.fixture
def training():
    name = "t" + uuid.uuid4().hex[:10]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    app = TrainingApplication(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield app
    finally:
        app.close()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def counting_reads(app: TrainingApplication) -> list[tuple]:
    """The aggregates (id, version) the application loads from its store from now on."""
    reads, get = [], app.repository.get

    def counted(aggregate_id, *args, **kwargs):
        reads.append((aggregate_id, kwargs.get("version")))
        return get(aggregate_id, *args, **kwargs)

    app.repository.get = counted
    return reads


def at(when: str) -> dict:
    return {"_type_": "datetime_iso", "_data_": when}


def test_rows_as_the_code_before_v2_wrote_them_still_become_their_envelopes(training: TrainingApplication):
    curriculum = training.curriculum()  # Started, as today's code writes it
    cohort = Cohort.open(VILLAGE, "fasilitator.rina", "Kelas Jondong 1", "op1")
    group_id = uuid.uuid4()
    gate = Gate.first(group_id, 0, 3, RULES)
    training.record(cohort, gate)  # Opened and Changed, as today's code writes them
    # Version 2 of each, as the code before v2 wrote it: no village, no active modules, no group.
    enrolled = {"timestamp": at("2025-06-15T02:30:00+00:00"), "nik": SITI, "name": "Ibu Siti",
                "group_id": {"_type_": "uuid_hex", "_data_": group_id.hex}, "by": "op1"}
    added = {"timestamp": at("2025-06-15T02:31:00+00:00"), "code": "digital", "title": "Literasi digital",
             "by": "op1"}
    updated = {"timestamp": at("2025-06-15T02:32:00+00:00"), "completed": 3, "representatives": 3, "open": True,
               "threshold_percent": 80}
    with training.transaction() as cursor:
        for aggregate_id, topic, state in ((cohort.id, "Cohort.Enrolled", enrolled),
                                           (curriculum.id, "Curriculum.ModuleAdded", added),
                                           (gate.id, "Gate.Updated", updated)):
            cursor.execute(f"INSERT INTO {training.recorder.events_table_name} "
                           "(originator_id, originator_version, topic, state) VALUES (%s, 2, %s, %s)",
                           (aggregate_id, f"services.training.domain:{topic}", json.dumps(state).encode()))

    reads = counting_reads(training)
    envelopes = training.public_events_after(0, 10)
    assert [envelope.type for envelope in envelopes] == [
        "training.curriculum.changed", "training.cohort.opened", "training.gate.changed",
        "training.participant.enrolled", "training.curriculum.changed", "training.gate.changed"]
    old_enrolled, old_added, old_updated = (envelope.data for envelope in envelopes[3:])
    assert old_enrolled == {"cohort_id": str(cohort.id), "village_code": VILLAGE, "nik": SITI,
                            "group_id": str(group_id), "by": "op1"}
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
    training.recorder.insert_events([as_v1(training.mapper.to_stored_event(e)) for e in log])
    assert all(b"class_version" not in bytes(row["state"])
               for row in training.query(f"SELECT state FROM {training.recorder.events_table_name}"))

    # After the upgrade, the cohort carries on: replayed from v1 events, it decides a v2 one.
    cohort_id = next(e.originator_id for e in log if isinstance(e, Cohort.Completed))
    cohort: Cohort = training.repository.get(cohort_id)
    assert cohort.enrol("1801064904940005", "Ibu Wati", None, by="op1")
    curriculum: Curriculum = training.repository.get(Curriculum.ID)
    curriculum.retire_module("digital", by="op1")
    training.record(cohort, curriculum)

    reads = counting_reads(training)
    envelopes = training.public_events_after(0, 500)
    expected = [PUBLIC_EVENTS[type(e)](None, e).model_dump(mode="json") for e in log]  # the events as v2 holds them
    new = [training.mapper.to_domain_event(n) for n in training.recorder.select_notifications(start=0, limit=500)]
    new = new[len(log):]
    assert [type(e) for e in new] == [Cohort.Enrolled, Curriculum.ModuleRetired]
    expected += [PUBLIC_EVENTS[type(e)](None, e).model_dump(mode="json") for e in new]
    assert [envelope.data for envelope in envelopes] == expected
    assert new[0].village_code == VILLAGE and "digital" not in new[1].active_modules  # carried: no read for them
    assert len(reads) == sum(type(e) in V1_LACKS for e in log)  # one read per old event that lacks fields
