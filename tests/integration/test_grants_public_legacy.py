"""Grants events stored before class_version 2, on a real PostgreSQL: read back through the upcaster, they still
become the right public envelopes (the legacy path reads their aggregate at the event's version), aggregates replay
from them and carry on with new events, and the money ledger over them verifies as before.
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from services.grants.application import GrantsApplication
from services.grants.domain import Grant, Proposal
from services.grants.public import PUBLIC_EVENTS
from shared import ledger
from tests.support.system import ADMIN_URL
from tests.unit.test_grants_public_events import FAC, OP1, TODAY, V1_LACKS, as_v1, draft, scenario

pytestmark = pytest.mark.integration


@pytest.fixture
def grants():
    name = "t" + uuid.uuid4().hex[:10]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    app = GrantsApplication(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield app
    finally:
        app.close()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def counting_reads(app: GrantsApplication) -> list[int]:
    """Count the aggregates the application loads from its store from now on."""
    reads, get = [0], app.repository.get

    def counted(*args, **kwargs):
        reads[0] += 1
        return get(*args, **kwargs)

    app.repository.get = counted
    return reads


def test_a_row_as_the_code_before_v2_wrote_it_still_becomes_its_envelope(grants: GrantsApplication):
    proposal = draft()
    grants.record(proposal)  # Drafted, as today's code writes it
    submitted_at = "2025-06-15T02:30:00+00:00"
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": submitted_at}, "by": OP1.user}  # no group, village
    with grants.transaction() as cursor:
        cursor.execute("INSERT INTO grants_events (originator_id, originator_version, topic, state) "
                       "VALUES (%s, 2, 'services.grants.domain:Proposal.Submitted', %s)",
                       (proposal.id, json.dumps(state).encode()))

    reads = counting_reads(grants)
    drafted, submitted = grants.public_events_after(0, 10)
    assert submitted.type == "grants.proposal.submitted" and submitted.previous_position == drafted.position
    assert submitted.data == {"proposal_id": str(proposal.id), "group_id": str(proposal.group_id),
                              "village_code": proposal.village_code, "by": OP1.user}
    assert submitted.time.isoformat() == submitted_at
    assert reads[0] == 1  # the old row, read at its version; the new Drafted read nothing
    assert grants.repository.get(proposal.id).status == "submitted"


def test_a_log_stored_before_v2_maps_as_it_did_and_carries_on_with_v2_events(grants: GrantsApplication):
    log = scenario()
    stored = [grants.mapper.to_stored_event(e) for e in log]
    grants.recorder.insert_events([as_v1(s) for s in stored])  # the whole log as the code before v2 wrote it
    assert all(b"class_version" not in bytes(row["state"]) for row in grants.query("SELECT state FROM grants_events"))

    # After the upgrade, the grant paid in two tranches carries on: replayed from v1 events, it decides a v2 one.
    grant_id = next(e.originator_id for e in log if isinstance(e, Grant.Confirmed))
    grant = grants.repository.get(grant_id)
    assert grant.disbursed_rp == 14_000_000 and grant.visits == 1
    grant.record_visit(TODAY, "running", 4_000_000, "", FAC, TODAY)
    grants.record(grant)

    reads = counting_reads(grants)
    envelopes = grants.public_events_after(0, 500)
    expected = [PUBLIC_EVENTS[type(e)](None, e).model_dump(mode="json") for e in log]  # the events as v2 holds them
    visit = grants.mapper.to_domain_event(grants.recorder.select_notifications(start=0, limit=500)[-1])
    expected.append(PUBLIC_EVENTS[Grant.Visited](None, visit).model_dump(mode="json"))
    assert [envelope.data for envelope in envelopes] == expected
    assert visit.group_id == grant.group_id  # the new event carries its fields: no read for it
    # One read per old event that lacks fields (two for an approval: its grant's tranches), none for the new one.
    approvals = sum(isinstance(e, Proposal.Approved) for e in log)
    assert reads[0] == sum(type(e) in V1_LACKS for e in log) + approvals

    # The ledger chained the old rows' own bytes and the new row's: every entry verifies.
    rows = grants.query("SELECT l.seq, l.originator_id, l.originator_version, l.topic, l.previous_hash, "
                        "l.entry_hash, e.notification_id, e.state FROM ledger l LEFT JOIN grants_events e "
                        "USING (originator_id, originator_version) ORDER BY l.seq")
    checked, problems, _ = ledger.verify(iter(tuple(row.values()) for row in rows))
    money = sum(type(e) in GrantsApplication.ledger_events for e in log)
    assert (checked, problems) == (money, [])
