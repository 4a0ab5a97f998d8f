"""Replaying a service's history, as an auditor does: every stored event read back in log order, read-only, and each
aggregate rebuilt event by event (up to a moment, if given). ``state_as_of`` answers what everything was at a moment.

The databases are read with the audit's own URLs (``<SERVICE>_AUDIT_DATABASE_URL``: a read-only role in
production) and never written to.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from eventsourcing.persistence import StoredEvent

from services.grants.application import GrantsApplication
from services.grants.domain import Budget, Grant, Proposal
from services.registry.application import RegistryApplication
from services.registry.domain import Group
from services.training.application import TrainingApplication
from shared.batches import ServiceMapper
from shared.config import load_config, service_config_path
from shared.store import ServiceApplication, event_mapper

BATCH = 5000  # rows fetched, and their keys read, at a time

APPLICATIONS: dict[str, type[ServiceApplication]] = {
    "registry": RegistryApplication, "grants": GrantsApplication, "training": TrainingApplication,
}


def audit_url(service: str, urls: dict[str, str] | None = None) -> str:
    """Given URLs, else ``<SERVICE>_AUDIT_DATABASE_URL``, else the service's own configured database URL."""
    if urls and service in urls:
        return urls[service]
    return os.environ.get(f"{service.upper()}_AUDIT_DATABASE_URL") or load_config(
        service_config_path(service))["DATABASE_URL"]


@dataclass
class Problem:
    service: str
    position: int | None
    kind: str
    detail: str

    def as_dict(self) -> dict:
        return {"service": self.service, "position": self.position, "kind": self.kind, "detail": self.detail}


@dataclass
class ServiceHistory:
    """A service's aggregates as its events leave them (up to ``as_of``), with each aggregate's events."""

    service: str
    aggregates: dict[Any, Any] = field(default_factory=dict)
    events: dict[Any, list] = field(default_factory=lambda: defaultdict(list))
    positions: dict[tuple, int] = field(default_factory=dict)  # (aggregate id, version) → position
    events_read: int = 0
    last_position: int = 0


def stored_events(conn: psycopg.Connection, service: str, mapper: ServiceMapper) -> Iterator[tuple[int, StoredEvent]]:
    """(position, stored event) in log order; ``mapper`` is told each batch before its events are decoded."""
    # A server-side cursor (a year of events need not fit in memory) lives in a transaction: a read-only one.
    with conn.transaction(), conn.cursor(name=f"audit_{service}") as cursor:
        conn.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SELECT notification_id, originator_id, originator_version, topic, state "
                       f"FROM {service}_events ORDER BY notification_id")
        while rows := cursor.fetchmany(BATCH):
            batch = [(position, StoredEvent(originator_id, version, topic, bytes(state)))
                     for position, originator_id, version, topic, state in rows]
            mapper.prefetch([stored for _, stored in batch])
            yield from batch


def replay(service: str, conn: psycopg.Connection, as_of: datetime | None = None,
           problems: list[Problem] | None = None) -> ServiceHistory:
    mapper = event_mapper(APPLICATIONS[service], conn)
    history = ServiceHistory(service)
    for position, stored in stored_events(conn, service, mapper):
        originator_id, version, topic = stored.originator_id, stored.originator_version, stored.topic
        history.events_read += 1
        try:
            domain_event = mapper.to_domain_event(stored)
        except Exception as exc:  # a row someone edited into something that no longer decodes
            if problems is not None:
                problems.append(Problem(service, position, "event_unreadable", f"{type(exc).__name__}: {exc}"))
            continue
        if as_of is not None and domain_event.timestamp > as_of:
            break
        try:
            history.aggregates[originator_id] = domain_event.mutate(history.aggregates.get(originator_id))
        except Exception as exc:  # out of order, a version from nowhere: the aggregate's history is broken
            if problems is not None:
                problems.append(Problem(service, position, "history_broken",
                                        f"{topic.rsplit(':', 1)[-1]} v{version} of {originator_id} does not follow "
                                        f"its aggregate's history ({type(exc).__name__})"))
            continue
        history.events[originator_id].append(domain_event)
        history.positions[(originator_id, version)] = position
        history.last_position = position
    return history


def state_as_of(as_of: datetime, urls: dict[str, str] | None = None) -> dict:
    """Every grant, budget and group as it was at ``as_of``, from the events alone."""
    with psycopg.connect(audit_url("grants", urls), autocommit=True) as conn:
        grants = replay("grants", conn, as_of)
    with psycopg.connect(audit_url("registry", urls), autocommit=True) as conn:
        registry = replay("registry", conn, as_of)
    aggregates = list(grants.aggregates.values())
    grant_of = {g.proposal_id: g for g in aggregates if isinstance(g, Grant)}
    return {
        "as_of": as_of.isoformat(),
        "budgets": [{"fiscal_year": b.fiscal_year, "source": b.source, "ceiling_rp": b.ceiling_rp,
                     "committed_rp": b.committed_rp} for b in aggregates if isinstance(b, Budget)],
        "proposals": [{"proposal_id": str(p.id), "group": p.group_name, "village_code": p.village_code,
                       "status": p.status, "requested_rp": p.requested_rp,
                       "approved_rp": (p.approval or {}).get("amount_rp"),
                       "disbursed_rp": grant_of[p.id].disbursed_rp if p.id in grant_of else 0,
                       "tranches": ({str(t.number): grant_of[p.id].tranche_status(t.number)
                                     for t in grant_of[p.id].tranches} if p.id in grant_of else {})}
                      for p in aggregates if isinstance(p, Proposal)],
        "groups": [{"group_id": str(g.id), "name": g.name, "village_code": g.village_code, "status": g.status,
                    "households": len(g.members)}
                   for g in registry.aggregates.values() if isinstance(g, Group)],
    }
