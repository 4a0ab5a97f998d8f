"""Grants events stored before class_version 2, on a real PostgreSQL: read back through the upcaster, they still
become the right public envelopes (the legacy path reads their aggregate at the event's version), aggregates replay
from them and carry on with new events, and the money ledger over them verifies as before.
"""

from __future__ import annotations

import pytest

from services.grants.application import GrantsApplication
from services.grants.domain import Grant, Proposal
from services.grants.public import PUBLIC_EVENTS
from shared import ledger
from tests.support import legacy_events as legacy
from tests.support.applications import application_fixture
from tests.support.grants_cast import FINDINGS, MONITORING
from tests.unit.test_grants_public_events import FAC, OP1, V1_LACKS, VERSIONS, draft, scenario

pytestmark = pytest.mark.integration


grants = application_fixture(GrantsApplication, "grants")


def test_a_row_as_the_code_before_v2_wrote_it_still_becomes_its_envelope(grants: GrantsApplication):
    proposal = draft()
    grants.record(proposal)  # Drafted, as today's code writes it
    submitted_at = "2025-06-15T02:30:00+00:00"
    state = legacy.v1_state(submitted_at, by=OP1.user)  # no group, village
    legacy.write_v1_rows(grants, (proposal.id, 2, Proposal.Submitted, state))

    reads = legacy.counting_reads(grants)
    drafted, submitted = grants.public_events_after(0, 10)
    assert submitted.type == "grants.proposal.submitted" and submitted.previous_position == drafted.position
    assert submitted.data == {"proposal_id": str(proposal.id), "group_id": str(proposal.group_id),
                              "village_code": proposal.village_code, "by": OP1.user}
    assert submitted.time.isoformat() == submitted_at
    assert len(reads) == 1  # the old row, read at its version; the new Drafted read nothing
    assert grants.repository.get(proposal.id).status == "submitted"


def test_a_log_stored_before_v2_maps_as_it_did_and_carries_on_with_v2_events(grants: GrantsApplication):
    log = scenario()
    legacy.insert_as_v1(grants, VERSIONS, log)  # the whole log as the code before v2 wrote it

    # After the upgrade, the grant paid in two tranches carries on: replayed from v1 events, it decides a v2 one.
    grant_id = next(e.originator_id for e in log if isinstance(e, Grant.Confirmed))
    grant = grants.repository.get(grant_id)
    assert grant.disbursed_rp == 14_000_000 and grant.visits == 2
    grant.record_visit(grant.first_paid_on, "running", FINDINGS, "", FAC, grant.first_paid_on, 7, MONITORING)
    grants.record(grant)

    # The envelopes: the old events' public events as v2 holds them, then the new one's.
    _, (visit,), reads = legacy.envelopes_as_v2_maps(grants, PUBLIC_EVENTS, log)
    assert isinstance(visit, Grant.Monitored)
    assert visit.group_id == grant.group_id  # the new event carries its fields: no read for it
    # One read per old event that lacks fields (two for an approval: its grant's tranches), none for the new one.
    approvals = sum(isinstance(e, Proposal.Approved) for e in log)
    assert len(reads) == sum(type(e) in V1_LACKS for e in log) + approvals

    # The ledger chained the old rows' own bytes and the new row's: every entry verifies.
    rows = grants.query("SELECT l.seq, l.originator_id, l.originator_version, l.topic, l.previous_hash, "
                        "l.entry_hash, e.notification_id, e.state FROM ledger l LEFT JOIN grants_events e "
                        "USING (originator_id, originator_version) ORDER BY l.seq")
    checked, problems, _ = ledger.verify(iter(tuple(row.values()) for row in rows))
    money = sum(type(e) in GrantsApplication.ledger_events for e in log)
    assert (checked, problems) == (money, [])
