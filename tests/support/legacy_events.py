"""What the tests of a service's events stored before class_version 2 (``shared.versioning``) share.

For the unit tests (tests/unit/test_*_public_events.py): a scenario's log (``EventLog``), aggregates replayed from
it (``aggregates_after``, ``state``), the log as the code before v2 stored it (``EventVersions``: the stored state
without ``class_version`` and the fields v2 added), and the public events of both versions side by side, the old
one through the legacy path of a ``ReplayingApp`` (``legacy_mappings``).

For the integration tests (tests/integration/test_*_public_legacy.py; their application on a database of its own
comes from tests/support/applications.py): rows written as the code before v2 wrote them
(``v1_state``, ``write_v1_rows``) or a whole log (``insert_as_v1``), the aggregates the application reads from its
store (``counting_reads``), and its envelopes checked against the public events as v2 maps them
(``envelopes_as_v2_maps``).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from shared.store import ServiceApplication, event_transcoder

# --- unit: logs, versions, the legacy path -------------------------------------------------------------------


class EventLog(list):
    """A scenario's events, in the order they happen: ``record`` collects what the aggregates decided."""

    def record(self, *aggregates) -> None:
        for aggregate in aggregates:
            self.extend(aggregate.collect_events())


def aggregates_after(log: list) -> dict:
    """Each aggregate as the log leaves it (replayed), by id."""
    aggregates: dict = {}
    for e in log:
        aggregates[e.originator_id] = e.mutate(aggregates.get(e.originator_id))
    return aggregates


def state(aggregate) -> dict:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


class EventVersions:
    """A service's events as its application stores them (v2, in plain: the registry's sealing of personal fields
    is not what these versions are about), and as the code before v2 stored them: ``v1_lacks`` names, by event
    class, the fields v2 added (an event not named has all its fields in both versions)."""

    def __init__(self, application: type[ServiceApplication], v1_lacks: dict[type, tuple[str, ...]]) -> None:
        self.mapper = Mapper(transcoder=event_transcoder(application))
        self.v1_lacks = v1_lacks

    def as_v1(self, stored: StoredEvent) -> StoredEvent:
        """The stored event as the code before v2 wrote it: without ``class_version`` and the fields v2 added."""
        lacks = self.v1_lacks.get(type(self.mapper.to_domain_event(stored)), ())
        state_ = {k: v for k, v in json.loads(stored.state).items() if k not in ("class_version", *lacks)}
        return StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                           json.dumps(state_, separators=(",", ":")).encode())

    def round_trip(self, log: list, v1: bool = False) -> list:
        """The log stored and read back, as v2 writes it or (``v1``) as the code before v2 wrote it."""
        return [self.mapper.to_domain_event(self.as_v1(s) if v1 else s) for s in map(self.mapper.to_stored_event, log)]

    def stored_state(self, e) -> dict:
        """The state v2 stores for the event."""
        return json.loads(self.mapper.to_stored_event(e).state)


class ReplayingApp:
    """Just what the legacy path reads: the repository, replaying a log to an aggregate's version; ``reads`` lists
    each aggregate read, (id, version)."""

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


def replayed_alike(versions: EventVersions, log: list, as_decided: Callable[[Any], bool] | None = None) -> None:
    """Asserts that the aggregates replay to the same state from the log stored either way. With ``as_decided``,
    also that they are the aggregates that decided the events, and those of them it accepts in the same state."""
    new = aggregates_after(versions.round_trip(log))
    old = aggregates_after(versions.round_trip(log, v1=True))
    assert new.keys() == old.keys()
    for aggregate_id, aggregate in new.items():
        assert state(old[aggregate_id]) == state(aggregate)
    if as_decided is not None:
        direct = aggregates_after(log)
        assert new.keys() == direct.keys()
        for aggregate_id, aggregate in direct.items():
            if as_decided(aggregate):
                assert state(new[aggregate_id]) == state(aggregate)


def legacy_mappings(public_events: dict[type, Callable], versions: EventVersions,
                    log: list) -> Iterator[tuple[Any, list[tuple[uuid.UUID, int]]]]:
    """Each event of the log stored as the code before v2 wrote it, mapped through the legacy path (a
    ``ReplayingApp`` of the old log), asserted to give the same public event as the event stored as v2 mapped with
    no application; with the aggregates its mapping read."""
    new, old = versions.round_trip(log), versions.round_trip(log, v1=True)
    app = ReplayingApp(old)
    for before, after in zip(old, new, strict=True):
        reads = len(app.reads)
        assert public_events[type(before)](app, before) == public_events[type(after)](None, after)
        yield before, app.reads[reads:]


# --- integration: a real store ---------------------------------------------------------------------------------


def v1_state(at: str, **fields) -> dict:
    """A stored state as the code before v2 wrote it: its timestamp (ISO) and ``fields``, already in the stored JSON
    form (no ``class_version``)."""
    return {"timestamp": {"_type_": "datetime_iso", "_data_": at}, **fields}


def write_v1_rows(app: ServiceApplication, *rows: tuple[uuid.UUID, int, type, dict]) -> None:
    """Rows (aggregate id, version, event class, stored state) written straight into the application's events table,
    in one transaction, as the code before v2 wrote them."""
    with app.transaction() as cursor:
        for aggregate_id, version, event_class, state_ in rows:
            cursor.execute(f"INSERT INTO {app.recorder.events_table_name} "
                           "(originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)",
                           (aggregate_id, version, get_topic(event_class), json.dumps(state_).encode()))


def insert_as_v1(app: ServiceApplication, versions: EventVersions, log: list) -> list[dict]:
    """The whole log written as the code before v2 wrote it (in plain, and asserted: no row has a
    ``class_version``); its rows, topic and state."""
    app.recorder.insert_events([versions.as_v1(versions.mapper.to_stored_event(e)) for e in log])
    rows = app.query(f"SELECT topic, state FROM {app.recorder.events_table_name}")
    assert all(b"class_version" not in bytes(row["state"]) for row in rows)
    return rows


def envelopes_as_v2_maps(app: ServiceApplication, public_events: dict[type, Callable], log: list) -> tuple[
        list, list, list[tuple[uuid.UUID, int | None]]]:
    """The application's envelopes of ``log`` (stored before v2) and of the events recorded after it, asserted to
    be their public events as v2 holds them, mapped with no application. Returns the envelopes, the events recorded
    after the log, and the aggregates read to build the envelopes (``counting_reads``)."""
    reads = counting_reads(app)
    envelopes = app.public_events_after(0, 500)
    after = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=0, limit=500)][len(log):]
    expected = [public_events[type(e)](None, e).model_dump(mode="json") for e in (*log, *after)]
    assert [envelope.data for envelope in envelopes] == expected
    return envelopes, after, reads


def counting_reads(app: ServiceApplication) -> list[tuple[uuid.UUID, int | None]]:
    """The aggregates (id, version) the application loads from its store from now on."""
    reads, get = [], app.repository.get

    def counted(aggregate_id, *args, **kwargs):
        reads.append((aggregate_id, kwargs.get("version")))
        return get(aggregate_id, *args, **kwargs)

    app.repository.get = counted
    return reads
