"""`berdaya audit verify`: what an auditor (Inspektorat, BPK) runs, years later, against the services' databases.

Everything is rebuilt from the event logs alone (``berdaya.audit.replay``): the read models the services serve are
recomputed from the aggregates and compared with the live tables — those fed by another service's events (grants'
Family School gates, say) from that service's own log — the money ledger's hash chain is walked, the services are
checked against each other, and no consumer may track a position its upstream never wrote. Nothing here writes to
a service's database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime

import psycopg

from berdaya.audit.replay import APPLICATIONS, Problem, ServiceHistory, audit_url, replay
from services.grants.application import GrantsApplication
from services.grants.domain import Grant, Proposal
from shared import ledger
from shared.config import SERVICES
from shared.document_store import SELECT_CONTENT
from shared.halts import ConsumerSkip
from shared.store import MirroredTable, ServiceApplication


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


def compare_mirrors(histories: dict[str, ServiceHistory], conns: dict[str, psycopg.Connection],
                    problems: list[Problem]) -> list[dict]:
    """Each read model fed by an upstream's events, rebuilt from the upstream's own log and compared — once the
    consumer has caught up with that log (before, a difference is only lag; beyond it, something the upstream never
    wrote was applied: compared, and named by :func:`verify_positions` too). Returns what was compared."""
    compared = []
    for service, app_cls in APPLICATIONS.items():
        for mirror in app_cls.mirrored_tables:
            upstream = APPLICATIONS[mirror.upstream]
            tracked = tracked_position(conns[service], service, mirror.upstream)
            last = last_position(conns[mirror.upstream], mirror.upstream)
            compared.append({"service": service, "table": mirror.table, "upstream": mirror.upstream,
                             "compared": tracked >= last})
            if tracked < last:
                continue
            expected, excused = mirror_rows(mirror, upstream, histories[mirror.upstream], {
                skip.position for skip in skips(histories[service]) if skip.upstream == mirror.upstream})
            columns = ", ".join(f"({column})::text" for column in mirror.columns)
            live = {row[0]: row for row in map(normalised, conns[service].execute(
                f"SELECT {columns} FROM {mirror.table}"))}
            where = f"{mirror.table} (from {mirror.upstream}.{mirror.upstream_table})"
            expected = {key: row for key, row in expected.items() if key not in excused}
            live = {key: row for key, row in live.items() if key not in excused}
            for key in sorted(expected.keys() - live.keys()):
                problems.append(Problem(service, None, "mirror_missing",
                                        f"{where}: {key} is in {mirror.upstream}'s log but not in the table"))
            for key in sorted(live.keys() - expected.keys()):
                problems.append(Problem(service, None, "mirror_extra",
                                        f"{where}: {key} is in the table but not in {mirror.upstream}'s log"))
            for key in sorted(expected.keys() & live.keys()):
                if expected[key] != live[key]:
                    problems.append(Problem(service, None, "mirror_differs",
                                            f"{where} {key}: {mirror.upstream}'s log says {expected[key][1:]}, the "
                                            f"table says {live[key][1:]}"))
    return compared


def mirror_rows(mirror: MirroredTable, upstream: type[ServiceApplication], history: ServiceHistory,
                skipped: set[int]) -> tuple[dict, set]:
    """The mirror's rows as the upstream's log says, by key; and the keys not compared because the consumer skipped
    one of their aggregate's events by an operator's decision (listed as a skip, not a problem)."""
    audited = next(t for t in upstream.audited_tables if t.table == mirror.upstream_table)
    indexes = [audited.columns.index(column) for column in mirror.columns]
    expected, excused = {}, set()
    for aggregate in history.aggregates.values():
        touched = any(history.positions.get((aggregate.id, event.originator_version)) in skipped
                      for event in history.events.get(aggregate.id, ()))
        for row in audited.rows([aggregate]):
            key_row = normalised(tuple(row[i] for i in indexes))
            expected[key_row[0]] = key_row
            if touched:
                excused.add(key_row[0])
    return expected, excused


def tracked_position(conn: psycopg.Connection, service: str, upstream: str) -> int:
    return conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {service}_tracking "
                        "WHERE application_name = %s", (upstream,)).fetchone()[0]


def last_position(conn: psycopg.Connection, service: str) -> int:
    return conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {service}_events").fetchone()[0]


def verify_positions(conns: dict[str, psycopg.Connection], problems: list[Problem]) -> None:
    """No consumer tracks a position its upstream never wrote (a forged event applied leaves exactly that)."""
    for service, app_cls in APPLICATIONS.items():
        for upstream in app_cls.upstreams:
            tracked = tracked_position(conns[service], service, upstream)
            written = conns[upstream].execute(f"SELECT 1 FROM {upstream}_events WHERE notification_id = %s",
                                              (tracked,)).fetchone()
            if tracked and written is None:
                problems.append(Problem(service, tracked, "tracked_unwritten",
                                        f"{service} tracks {upstream}'s position {tracked}, which {upstream}'s log "
                                        f"never wrote (it ends at {last_position(conns[upstream], upstream)})"))


# The ledger in chain order, each entry with its event (notification id and state NULL when the row is gone); the
# id as PostgreSQL prints it, the text the chain hashed (read as a uuid, it would be printed again per row).
LEDGER_JOIN = ("SELECT l.seq, l.originator_id::text, l.originator_version, l.topic, l.previous_hash, l.entry_hash, "
               "e.notification_id, e.state FROM ledger l LEFT JOIN grants_events e "
               "USING (originator_id, originator_version) ORDER BY l.seq")
CHUNK = 2000  # rows per chunk the server streams


def ledger_rows(conn: psycopg.Connection) -> Iterator[tuple]:
    """``LEDGER_JOIN``'s rows as the server sends them, in chunks loaded by the binary driver: a million entries
    take no more memory than a chunk (a plain query holds the whole result in the client before the first row)."""
    return conn.cursor(binary=True).stream(LEDGER_JOIN, size=CHUNK)


def verify_ledger(conn: psycopg.Connection, problems: list[Problem]) -> tuple[int, str]:
    """Walk grants' hash chain; also find money events that are not in it (forged rows)."""
    checked, chain_problems, head = ledger.verify(ledger_rows(conn))
    problems += [Problem("grants", p.position, p.kind, p.detail) for p in chain_problems]
    topics = [f"{cls.__module__}:{cls.__qualname__}" for cls in GrantsApplication.ledger_events]
    for position, topic in conn.execute(
            "SELECT e.notification_id, e.topic FROM grants_events e WHERE e.topic = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM ledger l WHERE l.originator_id = e.originator_id "
            "AND l.originator_version = e.originator_version) ORDER BY e.notification_id", (topics,)):
        problems.append(Problem("grants", position, "event_unchained",
                                f"{topic.rsplit(':', 1)[-1]} is not in the ledger (inserted behind its back)"))
    return checked, head


# The services that store attached files (shared.document_store): grants' evidence, the registry's KUBE papers.
DOCUMENT_OWNERS = ("grants", "registry")


def verify_documents(service: str, history: ServiceHistory, conn: psycopg.Connection,
                     problems: list[Problem]) -> int:
    """Every file an event of ``service`` attached (grants': its SHA-256 chained in the ledger) hashed again as
    stored: one altered or gone is named. Returns how many were checked."""
    checked = 0
    for aggregate in history.aggregates.values():
        for attached in getattr(aggregate, "documents", ()):
            checked += 1
            row = conn.execute(SELECT_CONTENT, (attached.sha256,)).fetchone()
            where = f"the {attached.kind} {attached.sha256} of {type(aggregate).__name__.lower()} {aggregate.id}"
            if row is None:
                problems.append(Problem(service, None, "document_missing", f"{where} is not stored (deleted)"))
            elif hashlib.sha256(row[0]).hexdigest() != attached.sha256:
                problems.append(Problem(service, None, "document_altered", f"{where} no longer matches its hash "
                                                                            "(edited)"))
    return checked


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
        documents = sum(verify_documents(service, histories[service], conns[service], problems)
                        for service in DOCUMENT_OWNERS)
        cross_check(histories, conns, problems)
        mirrors = compare_mirrors(histories, conns, problems) if as_of is None else []
        verify_positions(conns, problems)
    finally:
        for conn in conns.values():
            conn.close()
    # A skip is a recorded decision, not a problem by itself: listed so that it is seen.
    skipped = [{"service": service, **skip.as_dict()} for service, history in histories.items()
               for skip in sorted(skips(history), key=lambda s: s.created_on)]
    return {"ok": not problems, "events_checked": events, "ledger_entries_checked": chained, "ledger_head": head,
            "documents_checked": documents,
            "read_models_compared": as_of is None, "mirrors": mirrors,
            "problems": [p.as_dict() for p in problems], "skipped": skipped}


def ledger_head(urls: dict[str, str] | None = None) -> dict:
    with psycopg.connect(audit_url("grants", urls), autocommit=True) as conn:
        row = conn.execute("SELECT seq, entry_hash, recorded_at FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return {"seq": 0, "hash": ledger.GENESIS, "recorded_at": None}
    return {"seq": row[0], "hash": row[1], "recorded_at": row[2].isoformat()}
