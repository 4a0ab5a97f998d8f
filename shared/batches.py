"""Stored events decoded a batch at a time: the mapper is told the whole batch before it decodes each event.

A mapper that needs something per event besides its bytes (the registry's household keys) fetches it for the
batch in one query instead of one per event. The batches: a page of the relay (``public_events_after``), a chunk
of an auditor's replay, an aggregate's history loaded by the repository (:class:`BatchEventStore`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, Mapper, StoredEvent


class ServiceMapper(Mapper):
    """The library's mapper, with :meth:`prefetch`: every service's events are decoded through one."""

    def prefetch(self, stored_events: Sequence[StoredEvent]) -> None:
        """Fetch at once what decoding these stored events will need; the library's decoding needs nothing."""

    def to_published_events(self, stored_events: Sequence[StoredEvent]) -> list[DomainEventProtocol]:
        """A page of the log decoded for the relay: each event as far as its public contract reads it (here, all
        of it)."""
        self.prefetch(stored_events)
        return [self.to_domain_event(stored_event) for stored_event in stored_events]


class BatchEventStore(EventStore):
    """The library's event store, telling its mapper each aggregate history it is about to decode."""

    mapper: ServiceMapper

    def get(self, originator_id: Any, *, gt: int | None = None, lte: int | None = None, desc: bool = False,
            limit: int | None = None) -> Iterator[DomainEventProtocol]:
        stored_events = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        self.mapper.prefetch(stored_events)
        return map(self.mapper.to_domain_event, stored_events)
