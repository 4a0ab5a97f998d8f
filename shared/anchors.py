"""Printouts' anchors in a service's own log: the code of a recorded event (``shared.document_codes``), and the event
a code stands on once its hash is checked against what is stored now.

Mixed into a ServiceApplication (its ``query``, ``events``, ``recorder`` and ``ledger_events``): a service whose
money events are chained (grants) anchors them in the ledger, any other event in its event log.
"""

from __future__ import annotations

import uuid
from typing import Any

from shared.document_codes import DocumentCode, code_for, event_digest
from shared.errors import NotFound
from shared.ledger import entry_hash

EVENT_LOG_LETTERS = {"grants": "G", "training": "T"}


class DocumentAnchors:
    def anchor_code(self, originator_id: Any, version: int) -> str:
        """The code of the stored event (originator, version): its ledger entry's, else its log position's."""
        key = (str(originator_id), version)
        if self.ledger_events:
            rows = self.query("SELECT seq, entry_hash FROM ledger WHERE originator_id = %s AND originator_version = %s",
                              key)
            if rows:
                return str(code_for("L", rows[0]["seq"], rows[0]["entry_hash"]))
        events = self.recorder.events_table_name
        rows = self.query(f"SELECT notification_id, originator_id::text, originator_version, topic, state FROM "
                          f"{events} WHERE originator_id = %s AND originator_version = %s", key)
        row = rows[0]
        return str(code_for(EVENT_LOG_LETTERS[self.service_name], row["notification_id"],
                            event_digest(row["originator_id"], row["originator_version"], row["topic"], row["state"])))

    def anchored_event(self, code: DocumentCode) -> Any:
        """The domain event the code stands on; NotFound when no stored event matches it as it is stored now (a
        forged code, or a paper whose event was altered or deleted since)."""
        events = self.recorder.events_table_name
        if code.ledger and not self.ledger_events:
            row, genuine = None, False
        elif code.ledger:
            rows = self.query(f"SELECT l.originator_id::text, l.originator_version, l.topic, l.previous_hash, "
                              f"l.entry_hash, e.state FROM ledger l LEFT JOIN {events} e USING "
                              f"(originator_id, originator_version) WHERE l.seq = %s", (code.position,))
            row = rows[0] if rows else None
            genuine = row is not None and row["state"] is not None and code.matches(row["entry_hash"]) and \
                entry_hash(row["previous_hash"], row["originator_id"], row["originator_version"], row["topic"],
                           bytes(row["state"])) == row["entry_hash"]
        else:
            rows = self.query(f"SELECT originator_id::text, originator_version, topic, state FROM {events} "
                              f"WHERE notification_id = %s", (code.position,))
            row = rows[0] if rows else None
            genuine = row is not None and code.matches(
                event_digest(row["originator_id"], row["originator_version"], row["topic"], row["state"]))
        if not genuine:
            raise NotFound(f"no document has the code {code}: it was not printed by berdaya, or what it records was "
                           "changed since", field="code", rule="document.unknown")
        version = row["originator_version"]
        return next(iter(self.events.get(uuid.UUID(row["originator_id"]), gt=version - 1, lte=version)))
