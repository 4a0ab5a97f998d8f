"""In-memory persistence for application tests: the eventsourcing library's POPO process recorder, which keeps the
log, the notifications and the tracking positions in this process, plus the money ledger that the PostgreSQL
recorder chains in the same transaction (``shared.ledger``), so a command that seals or audits the ledger decides
the same way on either."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOProcessRecorder

from shared.ledger import GENESIS, chain

# What the application's environment selects to run on this recorder.
IN_MEMORY_ENV = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class MemoryRecorder(POPOProcessRecorder):
    ledger_topics: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self.ledger: list[tuple] = []  # rows as the ledger table holds them, without seq (their index + 1)

    def _update_table(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        # Read-model writes (kwargs["read_model_writes"]) are SQL: in memory, the facts answer from the log instead.
        ids = super()._update_table(stored_events, **kwargs)
        money = [stored for stored in stored_events if stored.topic in self.ledger_topics]
        if money:
            self.ledger.extend(chain(self.ledger[-1][-1] if self.ledger else GENESIS, money))
        return ids
