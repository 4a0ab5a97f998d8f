"""The service store on a real PostgreSQL: a write whose COMMIT went through but whose acknowledgement was lost."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, StoredEvent

from shared.store import ServiceApplication
from tests.support.system import ADMIN_URL

pytestmark = pytest.mark.integration


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text


class NotesApplication(ServiceApplication):
    service_name = "notes"


@pytest.fixture
def notes():
    name = "t" + uuid.uuid4().hex[:10]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    app = NotesApplication(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield app
    finally:
        app.close()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


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
