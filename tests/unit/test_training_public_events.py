"""Training public events without the store: since class_version 2 every domain event carries what its public event
needs, so services/training/public.py maps it with no application at all (``app=None``: touching it would fail).

Events stored before v2 (``V1_LACKS``; as ``tests.support.legacy_events`` writes them) read back with those fields
None and keep what they had; aggregates replay from them to the same state; and the legacy path, reading a cohort's
village from its first event and a curriculum or gate at the event's version, gives the very same public event.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES, Cohort, Curriculum, Gate, TrainingRules
from services.training.public import PUBLIC_EVENTS
from shared.keys import legacy_person_id
from shared.versioning import VersionedEvent
from tests.support.legacy_events import EventLog, EventVersions, legacy_mappings, replayed_alike

RULES = TrainingRules()
VILLAGE = "18.01.06.2001"
OTHER_VILLAGE = "18.01.04.2002"
TODAY = date(2025, 6, 15)
FAC = "fac"
MODULES = [code for code, _ in DEFAULT_MODULES]
# People by the ids the registry knows people registered before random ids by (derived from their NIKs): the events
# stored before v2 (and v3) named them by NIK.
NIKS = ("1801064501850001", "1801064601870002", "1801064702900003", "1801064803920004")
SITI, ANI, RINA, DEWI = (str(legacy_person_id(nik)) for nik in NIKS)
NIK_OF = dict(zip((SITI, ANI, RINA, DEWI), NIKS, strict=True))

# What the events stored before v2 did not have (besides "class_version"): the code before v2 wrote exactly the
# other fields. An event not named here has all its fields in both versions.
V1_LACKS: dict[type, tuple[str, ...]] = {
    Curriculum.ModuleAdded: ("active_modules",),
    Curriculum.ModuleRetired: ("active_modules",),
    **{cls: ("village_code",) for cls in (
        Cohort.Enrolled, Cohort.Withdrawn, Cohort.SessionScheduled, Cohort.AttendanceRecorded,
        Cohort.AttendanceCorrected, Cohort.Completed)},
    Gate.Updated: ("group_id",),
}


class BeforeV3(EventVersions):
    """Training's events as the code before v2 stored them: also (before v3) people by NIK, an enrolment by name."""

    def as_v1(self, stored: StoredEvent) -> StoredEvent:
        old = super().as_v1(stored)
        state_ = json.loads(old.state)
        if "person_id" in state_:
            state_["nik"] = NIK_OF[state_.pop("person_id")]
            if "group_id" in state_:
                state_["name"] = f"Ibu {state_['nik'][-4:]}"
        if "marks" in state_:
            state_["marks"] = {NIK_OF[person_id]: mark for person_id, mark in state_["marks"].items()}
        return StoredEvent(old.originator_id, old.originator_version, old.topic, json.dumps(state_).encode())


VERSIONS = BeforeV3(TrainingApplication, V1_LACKS)


@pytest.fixture(scope="module")
def log() -> list:
    return scenario()


def scenario() -> list:
    """Every kind of training event, as the domain decides them, in the order they happen."""
    log = EventLog()
    record = log.record

    curriculum = Curriculum(modules=list(DEFAULT_MODULES))
    curriculum.add_module("digital", "Literasi digital", by="op1")
    curriculum.retire_module("kesehatan", by="op1")
    curriculum.add_module("gizi", "Gizi keluarga", by="op2")
    record(curriculum)

    group = uuid.uuid4()
    cohort = Cohort.open(VILLAGE, FAC, "Kelas Jondong 1", by="op1")
    for person_id in (SITI, ANI, RINA, DEWI):
        cohort.enrol(person_id, group, by="op1")
    cohort.withdraw(DEWI, "pindah desa", by="op1")
    cohort.assign_facilitator("fasilitator.rina", by="op1")
    record(cohort)
    gate = Gate.first(group, 0, 3, RULES)
    record(gate)

    modules = [m for m in MODULES if m in curriculum.active] + ["digital"]  # 6 active modules
    for i, module in enumerate(modules):
        session_id = cohort.schedule(module, TODAY - timedelta(days=60 - 7 * i), "Balai Desa Jondong", curriculum,
                                     by=FAC)
        cohort.record_attendance(session_id, {SITI: "present", ANI: "present", RINA: "absent" if i else "present"},
                                 by=FAC, today=TODAY)
        if i == 2:
            cohort.correct_attendance(session_id, ANI, "excused", "sakit, surat dokter", by=FAC, today=TODAY)
    for nik in cohort.completable(RULES):
        cohort.complete(nik, f"SK-{nik[-4:]}", RULES)
    record(cohort)
    gate.update(2, 3, RULES)
    gate.update(2, 2, RULES)
    record(gate)

    # A second cohort, elsewhere: its events carry its own village.
    other = Cohort.open(OTHER_VILLAGE, FAC, "", by="op2")
    other.enrol(SITI, None, by="op2")
    record(other)
    return log


def test_the_scenario_has_every_kind_of_public_event(log):
    assert {type(e) for e in log} == set(PUBLIC_EVENTS)


def test_every_event_maps_to_its_public_event_without_an_application(log):
    aggregates: dict = {}
    for e in VERSIONS.round_trip(log):  # as stored and read back: the fields survive the store
        aggregates[e.originator_id] = aggregate = e.mutate(aggregates.get(e.originator_id))
        data = PUBLIC_EVENTS[type(e)](None, e)  # None: the mapper must not touch the application
        if isinstance(aggregate, Cohort):
            assert (data.cohort_id, data.village_code) == (aggregate.id, aggregate.village_code)
        elif isinstance(aggregate, Curriculum):
            assert data.active_modules == aggregate.active  # the curriculum as this event left it
        else:
            assert (data.group_id, data.open, data.completed, data.representatives) == (
                aggregate.group_id, aggregate.open, aggregate.completed, aggregate.representatives)


def test_the_curriculum_names_its_active_modules_after_each_change(log):
    changes = [PUBLIC_EVENTS[type(e)](None, e) for e in log if isinstance(e, Curriculum.Event)]
    assert [(c.change, c.module, c.by) for c in changes] == [
        ("started", None, "system"), ("added", "digital", "op1"), ("retired", "kesehatan", "op1"),
        ("added", "gizi", "op2")]
    assert [c.active_modules for c in changes] == [
        MODULES, [*MODULES, "digital"], [m for m in MODULES if m != "kesehatan"] + ["digital"],
        [m for m in MODULES if m != "kesehatan"] + ["digital", "gizi"]]


def test_each_cohort_event_names_its_own_cohort_village(log):
    villages = {e.originator_id: e.village_code for e in log if isinstance(e, Cohort.Opened)}
    cohort_events = [e for e in log if isinstance(e, Cohort.Event)]
    assert len(set(villages.values())) == 2
    for e in cohort_events:
        assert e.village_code == villages[e.originator_id]
        assert PUBLIC_EVENTS[type(e)](None, e).village_code == villages[e.originator_id]


def test_every_training_event_is_stored_as_version_2_a_cohorts_as_version_3(log):
    for cls in PUBLIC_EVENTS:
        assert issubclass(cls, VersionedEvent) and cls.class_version == version_of(cls), cls
    for e in log:
        state_ = VERSIONS.stored_state(e)
        assert state_["class_version"] == version_of(type(e))
        assert set(V1_LACKS.get(type(e), ())) <= set(state_)


def test_an_event_stored_before_v2_reads_with_the_new_fields_none_and_keeps_what_it_had(log):
    first = {}
    for e in log:
        first.setdefault(type(e), e)
    old = {type(e): e for e in VERSIONS.round_trip(list(first.values()), v1=True)}
    for cls, lacks in V1_LACKS.items():
        assert all(getattr(old[cls], name) is None for name in lacks), cls
    assert old[Cohort.Opened].village_code == VILLAGE  # Opened always had it: setdefault keeps it
    assert old[Gate.Changed].group_id == first[Gate.Changed].group_id  # so did Changed
    assert (old[Cohort.Enrolled].person_id, old[Cohort.Enrolled].by) == (SITI, "op1")
    assert (old[Gate.Updated].completed, old[Gate.Updated].representatives, old[Gate.Updated].open) == (2, 3, False)
    assert "village_code" not in vars(old[Gate.Updated])  # only the fields the event declares are set
    assert "active_modules" not in vars(old[Curriculum.Started])


def test_aggregates_replay_to_the_same_state_from_either_version(log):
    # The same aggregates, each in the same state, as each other and as the aggregates that decided the events
    # (but the curriculum: Started's (code, title) pairs come back from JSON as lists).
    replayed_alike(VERSIONS, log, as_decided=lambda aggregate: not isinstance(aggregate, Curriculum))


def test_the_legacy_path_gives_the_same_public_events_for_events_stored_before_v2(log):
    for before, reads in legacy_mappings(PUBLIC_EVENTS, VERSIONS, log):  # asserts the same public event
        # Only an event that lacks fields reads the store, once: a cohort's village from its first event (Opened),
        # a curriculum or gate as the event left it.
        expected = [] if type(before) not in V1_LACKS else [
            (before.originator_id, 1 if isinstance(before, Cohort.Event) else before.originator_version)]
        assert reads == expected, type(before)


def version_of(cls: type) -> int:
    return 3 if issubclass(cls, Cohort.Event) else 2


def test_a_cohort_event_stored_before_v3_names_its_people_by_their_legacy_id_and_drops_the_name():
    """Before v3 a cohort's events named people by NIK, an enrolment by name too: read back, they name the id the
    registry knows such a person by (derived from the NIK), and no name — so they map to the public events v2."""
    nik = "1801064501850001"
    cohort_id, group = uuid.uuid4(), uuid.uuid4()

    def stored(version: int, event_class: type, **fields) -> StoredEvent:
        state_ = {"timestamp": {"_type_": "datetime_iso", "_data_": "2025-06-01T01:00:00+00:00"},
                  "class_version": 2, "village_code": VILLAGE, "by": "op1", **fields}
        return StoredEvent(cohort_id, version, get_topic(event_class), json.dumps(state_).encode())

    enrolled, recorded, corrected = (VERSIONS.mapper.to_domain_event(s) for s in (
        stored(2, Cohort.Enrolled, nik=nik, name="Siti Aminah", group_id={"_type_": "uuid_hex", "_data_": group.hex}),
        stored(4, Cohort.AttendanceRecorded, session_id="s1", marks={nik: "present"}),
        stored(5, Cohort.AttendanceCorrected, session_id="s1", nik=nik, status="absent", reason="salah")))
    person_id = str(legacy_person_id(nik))
    assert "name" not in vars(enrolled) and "nik" not in vars(enrolled) and enrolled.person_id == person_id
    assert recorded.marks == {person_id: "present"} and corrected.person_id == person_id
    public = [PUBLIC_EVENTS[type(e)](None, e) for e in (enrolled, recorded, corrected)]
    assert [(p.event_type, p.event_version) for p in public] == [
        ("training.participant.enrolled", 2), ("training.attendance.recorded", 2), ("training.attendance.corrected", 2)]
    assert nik not in json.dumps([p.model_dump(mode="json") for p in public])
