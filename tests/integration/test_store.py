"""The service store on a real PostgreSQL: a write whose COMMIT went through but whose acknowledgement was lost; pooled
connections whose sessions were killed."""

from __future__ import annotations

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, StoredEvent

from shared.store import ServiceApplication
from tests.support.applications import application_fixture
from tests.support.system import ADMIN_URL, eventually

pytestmark = pytest.mark.integration


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class NotesApplication(ServiceApplication):
    service_name = "notes"


notes = application_fixture(NotesApplication, "notes")


def test_a_retried_write_that_had_committed_is_recognised_not_refused(notes: NotesApplication):
    """The library retries a write whose connection broke; if the break came after the COMMIT, the retry sends the
    very same events again. That is the write succeeding, not a concurrent writer: it gets its positions back."""
    first, second = Note("Rapat kelompok"), Note("Kas bulan Juni")
    stored = [notes.mapper.to_stored_event(e) for e in (*first.collect_events(), *second.collect_events())]
    positions = notes.recorder.insert_events(stored)
    assert notes.recorder.insert_events(stored) == positions
    assert len(notes.recorder.select_notifications(start=0, limit=10)) == 2

    # Another write of the same versions (someone else's decision) is still a collision.
    rival = StoredEvent(originator_id=first.id, originator_version=1, topic=stored[0].topic,
                        state=stored[0].state.replace(b"Rapat", b"Arisan"))
    with pytest.raises(IntegrityError):
        notes.recorder.insert_events([rival])
    with pytest.raises(IntegrityError):  # one of two events is not ours: the whole write was not ours
        notes.recorder.insert_events([stored[1], rival])
    assert len(notes.recorder.select_notifications(start=0, limit=10)) == 2


def test_reads_and_writes_go_on_after_every_pooled_connection_was_killed(notes: NotesApplication):
    """A pooled connection whose server session was killed (a database restart, an operator's
    pg_terminate_backend) is never handed to a read or a write: the pool checks each one before use
    (shared.store.check_unbroken) and opens a fresh one."""
    notes.save(Note("Rapat kelompok"))
    busy = [notes.datastore.get_connection() for _ in range(3)]
    opened = [held.__enter__() for held in busy]  # three sessions in the pool, then idle
    for held in busy:
        held.__exit__(None, None, None)
    pids = [conn.info.backend_pid for conn in opened]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT count(pg_terminate_backend(pid)) FROM unnest(%s::int[]) AS pid",
                             (pids,)).fetchone()[0] == 3
        # pg_terminate_backend only signals: the sessions end (their reason sent, their sockets closed) just after.
        eventually(lambda: not admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchall(),
                   timeout=10, message="the terminated sessions end")

    for _ in range(4):  # more reads than dead connections
        assert notes.query(f"SELECT count(*) AS notes FROM {notes.recorder.events_table_name}") == [{"notes": 1}]
    notes.save(Note("Kas bulan Juni"))
    assert len(notes.recorder.select_notifications(start=0, limit=10)) == 2
