"""`berdaya audit`: what an auditor (Inspektorat, BPK) runs, years later, against the services' databases.

Everything is rebuilt from the event logs alone: the aggregates are replayed event by event, the read models the
services serve are recomputed from them and compared with the live tables, the money ledger's hash chain is
walked, and the services are checked against each other. Nothing here writes to a service's database.
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
from shared import ledger
from shared.config import SERVICES, load_config, service_config_path
from shared.halts import ConsumerSkip
from shared.store import ServiceApplication, event_mapper

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


def stored_events(conn: psycopg.Connection, service: str) -> Iterator[tuple]:
    # A server-side cursor (a year of events need not fit in memory) lives in a transaction: a read-only one.
    with conn.transaction(), conn.cursor(name=f"audit_{service}") as cursor:
        conn.execute("SET TRANSACTION READ ONLY")
        cursor.itersize = 5000
        cursor.execute(f"SELECT notification_id, originator_id, originator_version, topic, state "
                       f"FROM {service}_events ORDER BY notification_id")
        yield from cursor


def replay(service: str, conn: psycopg.Connection, as_of: datetime | None = None,
           problems: list[Problem] | None = None) -> ServiceHistory:
    mapper = event_mapper(APPLICATIONS[service])
    history = ServiceHistory(service)
    for position, originator_id, version, topic, state in stored_events(conn, service):
        history.events_read += 1
        try:
            domain_event = mapper.to_domain_event(StoredEvent(originator_id, version, topic, bytes(state)))
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


def normalised(row) -> tuple:
    """Values as PostgreSQL prints them as text, so Python's and the table's rows compare."""
    return tuple(None if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                 for value in row)


def compare_read_models(app_cls: type[ServiceApplication], history: ServiceHistory, conn: psycopg.Connection,
                        problems: list[Problem]) -> None:
    aggregates = list(history.aggregates.values())
    for audited in app_cls.audited_tables:
        expected = {row[0]: row for row in map(normalised, audited.rows(aggregates))}
        columns = ", ".join(f"({column})::text" for column in audited.columns)
        live = {row[0]: row for row in map(normalised, conn.execute(f"SELECT {columns} FROM {audited.table}"))}
        for key in sorted(expected.keys() - live.keys()):
            problems.append(Problem(app_cls.service_name, None, "read_model_missing",
                                    f"{audited.table}: {key} is in the events but not in the table"))
        for key in sorted(live.keys() - expected.keys()):
            problems.append(Problem(app_cls.service_name, None, "read_model_extra",
                                    f"{audited.table}: {key} is in the table but not in the events"))
        for key in sorted(expected.keys() & live.keys()):
            if expected[key] != live[key]:
                problems.append(Problem(app_cls.service_name, None, "read_model_differs",
                                        f"{audited.table} {key}: events say {expected[key][1:]}, "
                                        f"the table says {live[key][1:]}"))


def verify_ledger(conn: psycopg.Connection, problems: list[Problem]) -> tuple[int, str]:
    """Walk grants' hash chain; also find money events that are not in it (forged rows)."""
    rows = conn.execute(
        "SELECT l.seq, l.originator_id, l.originator_version, l.topic, l.previous_hash, l.entry_hash, "
        "e.notification_id, e.state FROM ledger l LEFT JOIN grants_events e "
        "USING (originator_id, originator_version) ORDER BY l.seq")
    checked, chain_problems, head = ledger.verify(iter(rows))
    problems += [Problem("grants", p.position, p.kind, p.detail) for p in chain_problems]
    topics = [f"{cls.__module__}:{cls.__qualname__}" for cls in GrantsApplication.ledger_events]
    for position, topic in conn.execute(
            "SELECT e.notification_id, e.topic FROM grants_events e WHERE e.topic = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM ledger l WHERE l.originator_id = e.originator_id "
            "AND l.originator_version = e.originator_version) ORDER BY e.notification_id", (topics,)):
        problems.append(Problem("grants", position, "event_unchained",
                                f"{topic.rsplit(':', 1)[-1]} is not in the ledger (inserted behind its back)"))
    return checked, head


def skips(history: ServiceHistory) -> list[ConsumerSkip]:
    """The upstream events this service never applied, by an operator's decision."""
    return [a for a in history.aggregates.values() if isinstance(a, ConsumerSkip)]


def cross_check(histories: dict[str, ServiceHistory], conns: dict[str, psycopg.Connection],
                problems: list[Problem]) -> None:
    """The services against each other: training applied every approval; money stays within approvals."""
    grants = histories["grants"]
    approved = [p for p in grants.aggregates.values() if isinstance(p, Proposal) and p.approval]
    training_seen = conns["training"].execute(
        "SELECT notification_id FROM training_tracking WHERE application_name = 'grants'").fetchone()
    # Passed, but not applied: the representatives of a skipped approval were never enrolled.
    training_skipped = {s.position: s for s in skips(histories["training"]) if s.upstream == "grants"}
    for proposal in approved:
        approval_position = next(grants.positions[(proposal.id, e.originator_version)]
                                 for e in grants.events[proposal.id] if type(e).__name__ == "Approved")
        if not training_seen or training_seen[0] < approval_position:
            problems.append(Problem("training", None, "approval_unseen",
                                    f"training has not applied grants' approval of {proposal.id} "
                                    f"(grants position {approval_position})"))
        elif approval_position in training_skipped:
            skip = training_skipped[approval_position]
            problems.append(Problem("training", None, "approval_skipped",
                                    f"training skipped grants' approval of {proposal.id} (grants position "
                                    f"{approval_position}): {skip.reason!r}, by {skip.by}"))
    proposals = {p.id: p for p in approved}
    for grant in (g for g in grants.aggregates.values() if isinstance(g, Grant)):
        proposal = proposals.get(grant.proposal_id)
        if proposal is None:
            problems.append(Problem("grants", None, "grant_without_approval",
                                    f"grant {grant.id} pays proposal {grant.proposal_id}, which is not approved"))
            continue
        if grant.disbursed_rp > proposal.approval["amount_rp"] or grant.committed_payments_rp > grant.amount_rp:
            problems.append(Problem("grants", None, "paid_above_approved",
                                    f"grant {grant.id}: Rp {grant.disbursed_rp:,} disbursed of Rp "
                                    f"{proposal.approval['amount_rp']:,} approved"))


def verify(as_of: datetime | None = None, urls: dict[str, str] | None = None) -> dict:
    problems: list[Problem] = []
    histories, conns, events = {}, {}, 0
    try:
        for service in SERVICES:
            conns[service] = psycopg.connect(audit_url(service, urls), autocommit=True)
            histories[service] = replay(service, conns[service], as_of, problems)
            events += histories[service].events_read
            if as_of is None:  # the live read models show today: a past moment has nothing to compare them with
                compare_read_models(APPLICATIONS[service], histories[service], conns[service], problems)
        chained, head = verify_ledger(conns["grants"], problems)
        cross_check(histories, conns, problems)
    finally:
        for conn in conns.values():
            conn.close()
    # A skip is a recorded decision, not a problem by itself: listed so that it is seen.
    skipped = [{"service": service, **skip.as_dict()} for service, history in histories.items()
               for skip in sorted(skips(history), key=lambda s: s.created_on)]
    return {"ok": not problems, "events_checked": events, "ledger_entries_checked": chained, "ledger_head": head,
            "read_models_compared": as_of is None, "problems": [p.as_dict() for p in problems], "skipped": skipped}


def ledger_head(urls: dict[str, str] | None = None) -> dict:
    with psycopg.connect(audit_url("grants", urls), autocommit=True) as conn:
        row = conn.execute("SELECT seq, entry_hash, recorded_at FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return {"seq": 0, "hash": ledger.GENESIS, "recorded_at": None}
    return {"seq": row[0], "hash": row[1], "recorded_at": row[2].isoformat()}


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
