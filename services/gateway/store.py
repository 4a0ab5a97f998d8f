"""The gateway's own database (berdaya_gateway): users, and the stored answers of writes sent with an
Idempotency-Key. Used by the gateway service and by ``berdaya users`` (which talks to it directly).

Connections are pure-Python psycopg (green under eventlet), kept in a small pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from services.gateway.auth import User

DEFAULT_URL = "postgresql://berdaya_gateway:berdaya_gateway@127.0.0.1:5432/berdaya_gateway"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS users (
        username text PRIMARY KEY, password_hash text NOT NULL, role text NOT NULL, region text NOT NULL,
        disabled boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        username text NOT NULL, key text NOT NULL, request_hash text NOT NULL, status int, response text,
        created_at timestamptz NOT NULL DEFAULT now(), completed_at timestamptz,
        PRIMARY KEY (username, key))""",
)


class DuplicateUser(Exception):
    pass


class UnknownUser(Exception):
    pass


@dataclass(frozen=True)
class Claim:
    """What a write's Idempotency-Key says: ``new`` (go ahead), ``replay`` (answer with the stored response),
    ``mismatch`` (the key was used for another request) or ``pending`` (the first request is still running)."""

    outcome: str
    status: int | None = None
    response: str | None = None


class GatewayStore:
    def __init__(self, url: str = DEFAULT_URL, pool_size: int = 10, connect_timeout: int = 5) -> None:
        self.url, self.connect_timeout = url, connect_timeout
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(pool_size)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=self.connect_timeout)
            try:
                yield conn
            except BaseException:
                conn.close()  # its state is unknown: never hand it out again
                raise
            if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.close()
            else:
                with self._lock:
                    self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def ensure_schema(self) -> None:
        with self.connection() as conn, conn.transaction():
            # Two processes creating the tables at once would collide in the catalogue: one at a time.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('berdaya_gateway.schema'))")
            for statement in SCHEMA:
                conn.execute(statement)

    def ping(self) -> None:
        with self.connection() as conn:
            conn.execute("SELECT 1")

    # --- users ----------------------------------------------------------------------------------------------

    def add_user(self, username: str, password_hash: str, role: str, region: str) -> None:
        with self.connection() as conn:
            inserted = conn.execute(
                "INSERT INTO users (username, password_hash, role, region) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (username) DO NOTHING RETURNING username",
                (username, password_hash, role, region)).fetchone()
        if inserted is None:
            raise DuplicateUser(username)

    def user(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        with self.connection() as conn:
            row = conn.execute("SELECT username, role, region, disabled, password_hash FROM users "
                               "WHERE username = %s", (username,)).fetchone()
        return (User(row[0], row[1], row[2], row[3]), row[4]) if row else None

    def users(self) -> list[User]:
        with self.connection() as conn:
            rows = conn.execute("SELECT username, role, region, disabled FROM users ORDER BY username").fetchall()
        return [User(*row) for row in rows]

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self.connection() as conn:
            changed = conn.execute("UPDATE users SET disabled = %s, updated_at = now() WHERE username = %s "
                                   "RETURNING username", (disabled, username)).fetchone()
        if changed is None:
            raise UnknownUser(username)

    # --- idempotency keys -----------------------------------------------------------------------------------

    def claim(self, username: str, key: str, request_hash: str, stale_after_s: float) -> Claim:
        """Claim a key for a request. A claim left pending longer than ``stale_after_s`` — the request's own time
        bound: its gateway died mid-call, and the call can no longer be running — is taken over."""
        with self.connection() as conn:
            if conn.execute("INSERT INTO idempotency_keys (username, key, request_hash) VALUES (%s, %s, %s) "
                            "ON CONFLICT DO NOTHING RETURNING 1", (username, key, request_hash)).fetchone():
                return Claim("new")
            row = conn.execute("SELECT request_hash, status, response FROM idempotency_keys "
                               "WHERE username = %s AND key = %s", (username, key)).fetchone()
            if row is None:  # released between our insert and select: take it
                return self.claim(username, key, request_hash, stale_after_s)
            if row[0] != request_hash:
                return Claim("mismatch")
            if row[1] is not None:
                return Claim("replay", row[1], row[2])
            taken = conn.execute(
                "UPDATE idempotency_keys SET created_at = now() WHERE username = %s AND key = %s AND status IS NULL "
                "AND created_at < now() - make_interval(secs => %s) RETURNING 1",
                (username, key, stale_after_s)).fetchone()
            return Claim("new") if taken else Claim("pending")

    def complete(self, username: str, key: str, status: int, response: str) -> None:
        with self.connection() as conn:
            conn.execute("UPDATE idempotency_keys SET status = %s, response = %s, completed_at = now() "
                         "WHERE username = %s AND key = %s", (status, response, username, key))

    def release(self, username: str, key: str) -> None:
        """Forget a claim whose outcome is unknown (the service did not answer): the client may try again."""
        with self.connection() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE username = %s AND key = %s AND status IS NULL",
                         (username, key))
