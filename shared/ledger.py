"""The tamper-evident ledger: money events chained with SHA-256, so that even a database superuser who edits,
deletes, reorders or forges an event row is found out.

Each ledger entry names one stored event (originator id and version) and carries
``hash = SHA-256(canonical JSON of {previous hash, event})`` where the event is exactly what is stored: its id,
version, topic and the state bytes as text. Entries are appended in the event's own transaction, under the same
lock that orders the log, so the chain order is the commit order. The chain head can be published and kept
elsewhere by an auditor: whoever rewrites history must then also match a hash they do not control.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring  # json.dumps' own string encoder (C), as ensure_ascii=False writes

GENESIS = "0" * 64

LEDGER_DDL = """
    CREATE TABLE IF NOT EXISTS ledger (
        seq bigserial PRIMARY KEY,
        originator_id uuid NOT NULL,
        originator_version bigint NOT NULL,
        topic text NOT NULL,
        previous_hash text NOT NULL,
        entry_hash text NOT NULL UNIQUE,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (originator_id, originator_version)
    )"""


def canonical(previous_hash: str, originator_id: str, originator_version: int, topic: str, state: str) -> str:
    """``json.dumps({"previous", "id", "version", "topic", "state"}, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, written out in key order without building and sorting a dict: the audit hashes a million
    of these (tests/unit/test_ledger_hash.py holds it to json.dumps)."""
    return (f'{{"id":{encode_basestring(originator_id)},"previous":{encode_basestring(previous_hash)},'
            f'"state":{encode_basestring(state)},"topic":{encode_basestring(topic)},"version":{originator_version:d}}}')


def entry_hash(previous_hash: str, originator_id: str, originator_version: int, topic: str, state: bytes) -> str:
    canonical_json = canonical(previous_hash, str(originator_id), originator_version, topic, state.decode("utf-8"))
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()


def chain(previous_hash: str, stored_events: Iterable) -> list[tuple]:
    """Ledger rows for new stored events, continuing from ``previous_hash``."""
    rows = []
    for stored in stored_events:
        digest = entry_hash(previous_hash, str(stored.originator_id), stored.originator_version, stored.topic,
                            bytes(stored.state))
        rows.append((stored.originator_id, stored.originator_version, stored.topic, previous_hash, digest))
        previous_hash = digest
    return rows


@dataclass(frozen=True)
class ChainProblem:
    position: int | None  # the event's notification id (None: the event is gone)
    kind: str
    detail: str


def verify(rows: Iterator[tuple]) -> tuple[int, list[ChainProblem], str]:
    """Walk ledger rows joined with their events, in ledger order.

    ``rows``: (seq, originator_id, originator_version, topic, previous_hash, entry_hash, notification_id, state)
    with notification_id/state None when the event row is missing. Returns (entries checked, problems, head).
    """
    expected_previous, checked, problems = GENESIS, 0, []
    last_position = 0
    for row in rows:
        _, originator_id, version, topic, previous, recorded, position, state = row
        checked += 1
        if previous != expected_previous:
            problems.append(ChainProblem(position, "chain_broken", f"{where(row)} does not follow the entry before it"))
        if state is None:
            problems.append(ChainProblem(None, "event_missing", f"{where(row)}: its event row is gone (deleted)"))
        elif entry_hash(previous, str(originator_id), version, topic, bytes(state)) != recorded:
            problems.append(ChainProblem(position, "event_altered", f"{where(row)}: the stored event does not match "
                                                                   "its hash (edited)"))
        if position is not None:
            if position < last_position:
                problems.append(ChainProblem(position, "order_changed", f"{where(row)}: position {position} comes "
                                                                       f"after {last_position} in the chain"))
            last_position = max(last_position, position)
        expected_previous = recorded
    return checked, problems, expected_previous


def where(row: tuple) -> str:
    """A problem's ledger entry, named: only when there is a problem (a million entries are walked)."""
    seq, originator_id, version, topic = row[:4]
    return f"ledger entry {seq} ({topic.rsplit(':', 1)[-1]} of {originator_id} v{version})"
