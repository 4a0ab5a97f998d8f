"""The access log: one row for every read of personal data the registry answers — who (user, role, region), when
(UTC), why (the read's purpose and the kind of route), what it read, and how many records it showed.

It names what was read by ids only: the households' ids, and for people shown one by one a keyed hash of the NIK
(``KeyEncryptionKey.person_hash``), never a NIK, KK or name. Append-only, like the event log (``append_only``): the
runtime role may INSERT and SELECT it, nothing else. One INSERT per read, however many households a search showed.

A person's entries (``of_person``): the rows naming their NIK's hash, and the rows that read their household (a
household read shows every member; a search or a group at least the household's KK) — when in doubt, listed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC
from typing import Any

from psycopg import Cursor

from services.registry.vault import KeyEncryptionKey
from shared.reads import ReadBy

TABLE = "access_log"
ACCESS_LOG_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        seq bigserial PRIMARY KEY, read_at timestamptz NOT NULL DEFAULT now(), username text NOT NULL,
        role text NOT NULL, region text NOT NULL, purpose text NOT NULL, route text NOT NULL, read text NOT NULL,
        households uuid[] NOT NULL, people text[] NOT NULL, returned int NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS access_log_households ON {TABLE} USING gin (households)",
    f"CREATE INDEX IF NOT EXISTS access_log_people ON {TABLE} USING gin (people)",
)


class AccessLog:
    def __init__(self, kek: KeyEncryptionKey, transaction: Callable[[], AbstractContextManager[Cursor]]) -> None:
        self._kek = kek
        self._transaction = transaction

    def record(self, reader: ReadBy, read: str, *, households: Iterable[str | uuid.UUID] = (),
               niks: Iterable[str] = (), returned: int = 1) -> None:
        """``reader`` read ``read``: these households (whole or in part), these people one by one."""
        actor = reader.actor
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (username, role, region, purpose, route, read, households, people, returned) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s::uuid[], %s, %s)",
                (actor.user, actor.role, actor.region, reader.purpose, reader.route, read,
                 list(dict.fromkeys(str(h) for h in households)),
                 list(dict.fromkeys(self._kek.person_hash(nik) for nik in niks)), returned))

    def of_person(self, nik: str, household_id: str | None) -> list[dict[str, Any]]:
        """Every read of this person's data, oldest first."""
        with self._transaction() as cursor:
            rows = cursor.execute(
                f"SELECT read_at, username, role, region, purpose, route, read, returned FROM {TABLE} "
                "WHERE people @> ARRAY[%s] OR households @> ARRAY[%s::uuid] ORDER BY seq",
                (self._kek.person_hash(nik), household_id)).fetchall()
        return [{**row, "read_at": row["read_at"].astimezone(UTC).isoformat()} for row in rows]
