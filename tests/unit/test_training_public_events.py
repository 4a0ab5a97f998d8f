"""Training public events without the store: since class_version 2 every domain event carries what its public event
needs, so services/training/public.py maps it with no application at all (``app=None``: touching it would fail).

Events stored before v2 lack those fields: the upcaster reads them with the fields None (what they had, they keep),
aggregates replay from them to the same state, and the mapper's legacy path reads the aggregate (a cohort's village
from its first event) and gives the very same public event.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import defaultdict
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from eventsourcing.persistence import StoredEvent

from services.training.application import TrainingApplication
from services.training.domain import DEFAULT_MODULES, Cohort, Curriculum, Gate, TrainingRules
from services.training.public import PUBLIC_EVENTS
from shared.store import event_mapper
from shared.versioning import VersionedEvent

RULES = TrainingRules()
VILLAGE = "18.01.06.2001"
OTHER_VILLAGE = "18.01.04.2002"
TODAY = date(2025, 6, 15)
FAC = "fac"
MODULES = [code for code, _ in DEFAULT_MODULES]
SITI, ANI, RINA, DEWI = "1801064501850001", "1801064601870002", "1801064702900003", "1801064803920004"

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


def scenario() -> list:
    """Every kind of training event, as the domain decides them, in the order they happen."""
    log: list = []

    def record(*aggregates) -> None:
        for aggregate in aggregates:
            log.extend(aggregate.collect_events())

    curriculum = Curriculum(modules=list(DEFAULT_MODULES))
    curriculum.add_module("digital", "Literasi digital", by="op1")
    curriculum.retire_module("kesehatan", by="op1")
    curriculum.add_module("gizi", "Gizi keluarga", by="op2")
    record(curriculum)

    group = uuid.uuid4()
    cohort = Cohort.open(VILLAGE, FAC, "Kelas Jondong 1", by="op1")
    for nik in (SITI, ANI, RINA, DEWI):
        cohort.enrol(nik, f"Ibu {nik[-4:]}", group, by="op1")
    cohort.withdraw(DEWI, "pindah desa", by="op1")
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
    other.enrol(SITI, "Ibu Siti", None, by="op2")
    record(other)
    return log


def aggregates_after(log: list) -> dict:
    """Each aggregate as the log leaves it (replayed), by id."""
    aggregates: dict = {}
    for e in log:
        aggregates[e.originator_id] = e.mutate(aggregates.get(e.originator_id))
    return aggregates


def state(aggregate) -> dict:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


MAPPER = event_mapper(TrainingApplication)


def as_v1(stored: StoredEvent) -> StoredEvent:
    """The stored event as the code before v2 wrote it: without ``class_version`` and the fields v2 added."""
    lacks = V1_LACKS.get(type(MAPPER.to_domain_event(stored)), ())
    state_ = {k: v for k, v in json.loads(stored.state).items() if k not in ("class_version", *lacks)}
    return StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                       json.dumps(state_, separators=(",", ":")).encode())


def round_trip(log: list, v1: bool = False) -> list:
    """The log stored and read back, as v2 writes it or (``v1``) as the code before v2 wrote it."""
    return [MAPPER.to_domain_event(as_v1(s) if v1 else s) for s in map(MAPPER.to_stored_event, log)]


class ReplayingApp:
    """Just what the legacy path reads: the repository, replaying a log to an aggregate's version; counts reads."""

    def __init__(self, log: list) -> None:
        self.by_id = defaultdict(list)
        for e in log:
            self.by_id[e.originator_id].append(e)
        self.reads: list[tuple[uuid.UUID, int]] = []
        self.repository = SimpleNamespace(get=self.get)

    def get(self, aggregate_id: uuid.UUID, version: int):
        self.reads.append((aggregate_id, version))
        aggregate = None
        for e in self.by_id[aggregate_id][:version]:
            aggregate = e.mutate(aggregate)
        return aggregate


@pytest.fixture(scope="module")
def log() -> list:
    return scenario()


def test_the_scenario_has_every_kind_of_public_event(log):
    assert {type(e) for e in log} == set(PUBLIC_EVENTS)


def test_every_event_maps_to_its_public_event_without_an_application(log):
    aggregates: dict = {}
    for e in round_trip(log):  # as stored and read back: the fields survive the store
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


def test_every_training_event_is_stored_as_version_2(log):
    for cls in PUBLIC_EVENTS:
        assert issubclass(cls, VersionedEvent) and cls.class_version == 2, cls
    for e in log:
        state_ = json.loads(MAPPER.to_stored_event(e).state)
        assert state_["class_version"] == 2
        assert set(V1_LACKS.get(type(e), ())) <= set(state_)


def test_an_event_stored_before_v2_reads_with_the_new_fields_none_and_keeps_what_it_had(log):
    first = {}
    for e in log:
        first.setdefault(type(e), e)
    old = {cls: MAPPER.to_domain_event(as_v1(MAPPER.to_stored_event(e))) for cls, e in first.items()}
    for cls, lacks in V1_LACKS.items():
        assert all(getattr(old[cls], name) is None for name in lacks), cls
    assert old[Cohort.Opened].village_code == VILLAGE  # Opened always had it: setdefault keeps it
    assert old[Gate.Changed].group_id == first[Gate.Changed].group_id  # so did Changed
    assert (old[Cohort.Enrolled].nik, old[Cohort.Enrolled].by) == (SITI, "op1")
    assert (old[Gate.Updated].completed, old[Gate.Updated].representatives, old[Gate.Updated].open) == (2, 3, False)
    assert "village_code" not in vars(old[Gate.Updated])  # only the fields the event declares are set
    assert "active_modules" not in vars(old[Curriculum.Started])


def test_aggregates_replay_to_the_same_state_from_either_version(log):
    new, old = aggregates_after(round_trip(log)), aggregates_after(round_trip(log, v1=True))
    assert new.keys() == old.keys()
    for aggregate_id, aggregate in new.items():
        assert state(old[aggregate_id]) == state(aggregate)
    # ...and the same state as the aggregates that decided the events.
    direct = aggregates_after(log)
    for aggregate_id, aggregate in direct.items():
        if not isinstance(aggregate, Curriculum):  # Started's (code, title) pairs come back from JSON as lists
            assert state(new[aggregate_id]) == state(aggregate)


def test_the_legacy_path_gives_the_same_public_events_for_events_stored_before_v2(log):
    new, old = round_trip(log), round_trip(log, v1=True)
    app = ReplayingApp(old)
    for before, after in zip(old, new, strict=True):
        reads = len(app.reads)
        assert PUBLIC_EVENTS[type(before)](app, before) == PUBLIC_EVENTS[type(after)](None, after)
        # Only an event that lacks fields reads the store, once: a cohort's village from its first event (Opened),
        # a curriculum or gate as the event left it.
        expected = [] if type(before) not in V1_LACKS else [
            (before.originator_id, 1 if isinstance(before, Cohort.Event) else before.originator_version)]
        assert app.reads[reads:] == expected, type(before)
