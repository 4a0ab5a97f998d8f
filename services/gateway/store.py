"""The gateway's own database (berdaya_gateway): users and who changed them, failed logins (throttle.py), the
console's sessions, and the stored answers of writes sent with an Idempotency-Key. Used by the gateway service and
by ``berdaya users`` (which talks to it directly).

Connections are pure-Python psycopg (green under eventlet), kept in a small pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
import psycopg.rows
from psycopg.types.json import Jsonb

from services.gateway.auth import User

# The users table's columns in the order of the User dataclass's fields.
USER_COLUMNS = "username, role, region, disabled, must_change_password, identifier_search, dci_public_key"
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
    # A password an administrator set is changed by its user at the next login (added after the first release).
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS must_change_password boolean NOT NULL DEFAULT false",
    # Every change to a user, by whom, when (timestamptz: stored as UTC): append-only, like the services' logs —
    # the database itself refuses to update, delete or truncate it.
    """CREATE TABLE IF NOT EXISTS user_changes (
        seq bigserial PRIMARY KEY, username text NOT NULL, change text NOT NULL, role text, region text,
        by text NOT NULL, at timestamptz NOT NULL DEFAULT now())""",
    "CREATE INDEX IF NOT EXISTS user_changes_username ON user_changes (username, seq)",
    """CREATE OR REPLACE FUNCTION user_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS
        $$BEGIN RAISE EXCEPTION 'user_changes is append-only: % refused', TG_OP; END$$""",
    """CREATE OR REPLACE TRIGGER user_changes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON user_changes
        FOR EACH STATEMENT EXECUTE FUNCTION user_changes_append_only()""",
    # The console's sessions, by the SHA-256 of the cookie's value (a copy of this table opens no session).
    """CREATE TABLE IF NOT EXISTS console_sessions (
        token_hash text PRIMARY KEY, username text NOT NULL, csrf text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(), seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS console_sessions_username ON console_sessions (username)",
    # Failed logins by username and by client address (kind 'user' or 'address'), wrong verification codes by
    # address (kind 'code'), and until when each is blocked.
    """CREATE TABLE IF NOT EXISTS login_failures (
        kind text NOT NULL, subject text NOT NULL, failures int NOT NULL, last_at timestamptz NOT NULL,
        blocked_until timestamptz, PRIMARY KEY (kind, subject))""",
    # Each verification run through the gateway, so that the next auditor sees when it last ran and what it said.
    """CREATE TABLE IF NOT EXISTS audit_runs (
        seq bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), by text NOT NULL, as_of timestamptz,
        ok boolean NOT NULL, events_checked bigint NOT NULL, ledger_entries_checked bigint NOT NULL,
        ledger_head text NOT NULL, problems int NOT NULL)""",
    # Each DCI search a client sent, for its txn/status: what each search request came to (status, reason code,
    # how many records matched) — never the records themselves (dci.py).
    """CREATE TABLE IF NOT EXISTS dci_transactions (
        seq bigserial PRIMARY KEY, client text NOT NULL, transaction_id text NOT NULL, correlation_id text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(), outcomes jsonb NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS dci_transactions_client ON dci_transactions (client, transaction_id, seq)",
    # Each DCI client's subscriptions to registry changes of a region, and the registry's log position its next
    # notify pull starts after (dci.py).
    """CREATE TABLE IF NOT EXISTS dci_subscriptions (
        subscription_code text PRIMARY KEY, client text NOT NULL, region text NOT NULL, position bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())""",
    # A DCI client entitled to search by NIK or KK (off unless the office grants it: docs/dci.md).
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS identifier_search boolean NOT NULL DEFAULT false",
    # A subscription pushed to its subscriber's sender_uri (dci_push.py) rather than pulled; and one ended by an
    # unsubscribe, kept with who ended it and when (no longer pulled nor pushed).
    "ALTER TABLE dci_subscriptions ADD COLUMN IF NOT EXISTS notify_uri text",
    "ALTER TABLE dci_subscriptions ADD COLUMN IF NOT EXISTS ended_at timestamptz",
    "ALTER TABLE dci_subscriptions ADD COLUMN IF NOT EXISTS ended_by text",
    # A DCI client's Ed25519 public key, '<key id>:<base64>': a client with one must sign its messages (dci.py).
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS dci_public_key text",
    # Each client's identifier lookups of the last window (throttle.py: LookupLimit), and the index that counts them.
    """CREATE TABLE IF NOT EXISTS dci_lookups (
        client text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    "CREATE INDEX IF NOT EXISTS dci_lookups_client ON dci_lookups (client, at)",
)


# A key's claim: inserted if new; else, if this request's own claim was left pending past its time bound, taken
# over; and the row as it stood (the statement's parts see the table as it was when it began, not each other's
# changes). One round trip for every outcome — new, replay, mismatch or pending — where it used to take up to three.
CLAIM = """
    WITH claimed AS (
        INSERT INTO idempotency_keys (username, key, request_hash) VALUES (%(user)s, %(key)s, %(hash)s)
        ON CONFLICT DO NOTHING RETURNING 1),
    taken AS (
        UPDATE idempotency_keys SET created_at = now()
        WHERE username = %(user)s AND key = %(key)s AND request_hash = %(hash)s AND status IS NULL
        AND created_at < now() - make_interval(secs => %(stale_s)s) RETURNING 1)
    SELECT EXISTS (SELECT FROM claimed), EXISTS (SELECT FROM taken), k.request_hash, k.status, k.response
    FROM (SELECT) AS one LEFT JOIN idempotency_keys k ON k.username = %(user)s AND k.key = %(key)s"""


class DuplicateUser(Exception):
    pass


class UnknownUser(Exception):
    pass


@dataclass(frozen=True)
class UserChange:
    username: str
    # added, disabled, enabled, password_reset (by an admin), password_changed (by the user); of a DCI client:
    # identifier_search_granted / _revoked, public_key_registered / _replaced
    change: str
    role: str | None  # of an added user
    region: str | None
    by: str
    at: datetime


@dataclass(frozen=True)
class SessionRow:
    username: str
    csrf: str
    idle_s: float  # since the session was last seen


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

    def add_user(self, username: str, password_hash: str, role: str, region: str, *, by: str,
                 must_change_password: bool, identifier_search: bool = False) -> None:
        """``must_change_password``: the password was chosen by someone else than the user, who must replace it
        at the first login (every caller says whether, on purpose: there is no default). ``identifier_search``: a
        DCI client entitled to search by NIK or KK."""
        with self.connection() as conn, conn.transaction():
            inserted = conn.execute(
                "INSERT INTO users (username, password_hash, role, region, must_change_password, identifier_search) "
                "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (username) DO NOTHING RETURNING username",
                (username, password_hash, role, region, must_change_password, identifier_search)).fetchone()
            if inserted is None:
                raise DuplicateUser(username)
            self._record(conn, username, "added", by, role, region)
            if identifier_search:  # the entitlement is on the log as its own change, as a later grant is
                self._record(conn, username, "identifier_search_granted", by)

    def user(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, or None."""
        with self.connection() as conn:
            row = conn.execute(f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = %s",
                               (username,)).fetchone()
        return (User(*row[:-1]), row[-1]) if row else None

    def users(self) -> list[User]:
        with self.connection() as conn:
            rows = conn.execute(f"SELECT {USER_COLUMNS} FROM users ORDER BY username").fetchall()
        return [User(*row) for row in rows]

    def set_disabled(self, username: str, disabled: bool, *, by: str) -> None:
        """Disabling also ends the user's console sessions, in the same transaction."""
        with self.connection() as conn, conn.transaction():
            self._change(conn, username, "UPDATE users SET disabled = %s, updated_at = now() WHERE username = %s "
                                         "RETURNING username", (disabled, username))
            if disabled:
                conn.execute("DELETE FROM console_sessions WHERE username = %s", (username,))
            self._record(conn, username, "disabled" if disabled else "enabled", by)

    def set_password(self, username: str, password_hash: str, *, by: str, reset: bool) -> None:
        """A new password ends the user's console sessions: whoever knew the old one is logged out. ``reset``: set
        by an administrator, so the user must change it at the next login; else the user changed their own."""
        with self.connection() as conn, conn.transaction():
            self._change(conn, username, "UPDATE users SET password_hash = %s, must_change_password = %s, "
                                         "updated_at = now() WHERE username = %s RETURNING username",
                         (password_hash, reset, username))
            conn.execute("DELETE FROM console_sessions WHERE username = %s", (username,))
            self._record(conn, username, "password_reset" if reset else "password_changed", by)

    def set_identifier_search(self, username: str, entitled: bool, *, by: str) -> bool:
        """Grant or revoke a DCI client's search by NIK or KK; False (and nothing recorded) when it already was so."""
        with self.connection() as conn, conn.transaction():
            self._change(conn, username, "SELECT username FROM users WHERE username = %s AND role = 'dci_client' "
                                         "FOR UPDATE", (username,))
            changed = conn.execute("UPDATE users SET identifier_search = %s, updated_at = now() WHERE username = %s "
                                   "AND identifier_search <> %s RETURNING username",
                                   (entitled, username, entitled)).fetchone()
            if changed:
                self._record(conn, username, "identifier_search_granted" if entitled else "identifier_search_revoked",
                             by)
            return changed is not None

    def set_dci_public_key(self, username: str, public_key: str, *, by: str) -> None:
        """Register a DCI client's public key ('<key id>:<base64>'), or replace the one it had."""
        with self.connection() as conn, conn.transaction():
            row = self._change(conn, username, "SELECT dci_public_key FROM users WHERE username = %s "
                                               "AND role = 'dci_client' FOR UPDATE", (username,))
            conn.execute("UPDATE users SET dci_public_key = %s, updated_at = now() WHERE username = %s",
                         (public_key, username))
            self._record(conn, username, "public_key_replaced" if row[0] else "public_key_registered", by)

    def user_changes(self, username: str | None = None, limit: int = 200) -> list[UserChange]:
        """The latest changes first (of one user, or of all)."""
        with self.connection() as conn:
            rows = conn.execute("SELECT username, change, role, region, by, at FROM user_changes "
                                "WHERE %(u)s::text IS NULL OR username = %(u)s ORDER BY seq DESC LIMIT %(n)s",
                                {"u": username, "n": limit}).fetchall()
        return [UserChange(*row) for row in rows]

    @staticmethod
    def _change(conn: psycopg.Connection, username: str, sql: str, params: tuple) -> tuple:
        """The user's row the statement found or changed; none: :class:`UnknownUser`."""
        row = conn.execute(sql, params).fetchone()
        if row is None:
            raise UnknownUser(username)
        return row

    @staticmethod
    def _record(conn: psycopg.Connection, username: str, change: str, by: str, role: str | None = None,
                region: str | None = None) -> None:
        conn.execute("INSERT INTO user_changes (username, change, role, region, by) VALUES (%s, %s, %s, %s, %s)",
                     (username, change, role, region, by))

    # --- failed logins -------------------------------------------------------------------------------------

    def login_blocked_s(self, subjects: list[tuple[str, str]]) -> float:
        """How many seconds the longest block among these (kind, subject) pairs still lasts; 0 when none does."""
        with self.connection() as conn:
            row = conn.execute("SELECT extract(epoch FROM max(blocked_until) - now()) FROM login_failures "
                               "WHERE (kind, subject) IN (SELECT * FROM unnest(%s::text[], %s::text[])) "
                               "AND blocked_until > now()",
                               ([kind for kind, _ in subjects], [subject for _, subject in subjects])).fetchone()
        return float(row[0]) if row and row[0] is not None else 0.0

    def login_failed(self, kind: str, subject: str, *, forget_after_s: float) -> int:
        """One more failure of ``subject``: how many it has now (failures older than ``forget_after_s`` are
        forgotten, and with them rows nobody failed with since)."""
        with self.connection() as conn:
            conn.execute("DELETE FROM login_failures WHERE last_at < now() - make_interval(secs => %s) "
                         "AND (blocked_until IS NULL OR blocked_until < now())", (forget_after_s,))
            return conn.execute(
                "INSERT INTO login_failures (kind, subject, failures, last_at) VALUES (%s, %s, 1, now()) "
                "ON CONFLICT (kind, subject) DO UPDATE SET last_at = now(), failures = CASE "
                "WHEN login_failures.last_at < now() - make_interval(secs => %s) THEN 1 "
                "ELSE login_failures.failures + 1 END RETURNING failures",
                (kind, subject, forget_after_s)).fetchone()[0]

    def block_login(self, kind: str, subject: str, seconds: float) -> None:
        with self.connection() as conn:
            conn.execute("UPDATE login_failures SET blocked_until = now() + make_interval(secs => %s) "
                         "WHERE kind = %s AND subject = %s", (seconds, kind, subject))

    def login_succeeded(self, kind: str, subject: str) -> None:
        with self.connection() as conn:
            conn.execute("DELETE FROM login_failures WHERE kind = %s AND subject = %s", (kind, subject))

    # --- console sessions -----------------------------------------------------------------------------------

    def open_session(self, token_hash: str, username: str, csrf: str, ttl_s: float) -> None:
        with self.connection() as conn:
            conn.execute("INSERT INTO console_sessions (token_hash, username, csrf, expires_at) "
                         "VALUES (%s, %s, %s, now() + make_interval(secs => %s))",
                         (token_hash, username, csrf, ttl_s))

    def session(self, token_hash: str) -> SessionRow | None:
        """A live (not expired) session, or None."""
        with self.connection() as conn:
            row = conn.execute("SELECT username, csrf, extract(epoch FROM now() - seen_at) FROM console_sessions "
                               "WHERE token_hash = %s AND expires_at > now()", (token_hash,)).fetchone()
        return SessionRow(row[0], row[1], float(row[2])) if row else None

    def touch_session(self, token_hash: str) -> None:
        with self.connection() as conn:
            conn.execute("UPDATE console_sessions SET seen_at = now() WHERE token_hash = %s", (token_hash,))

    def end_session(self, token_hash: str) -> None:
        with self.connection() as conn:
            # Expired sessions of anyone go with it: the table never grows without bound.
            conn.execute("DELETE FROM console_sessions WHERE token_hash = %s OR expires_at < now()", (token_hash,))

    # --- audit runs -----------------------------------------------------------------------------------------

    def record_audit_run(self, by: str, as_of: datetime | None, result: dict) -> None:
        with self.connection() as conn:
            conn.execute("INSERT INTO audit_runs (by, as_of, ok, events_checked, ledger_entries_checked, ledger_head, "
                         "problems) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (by, as_of, result["ok"], result["events_checked"], result["ledger_entries_checked"],
                          result["ledger_head"], len(result["problems"])))

    def record_dci_transaction(self, client: str, transaction_id: str, correlation_id: str,
                               outcomes: list[dict]) -> None:
        with self.connection() as conn:
            conn.execute("INSERT INTO dci_transactions (client, transaction_id, correlation_id, outcomes) "
                         "VALUES (%s, %s, %s, %s)", (client, transaction_id, correlation_id, Jsonb(outcomes)))

    def dci_transaction(self, client: str, attribute: str, value: str) -> dict | None:
        """The client's latest search by its transaction id or the correlation id it was answered with."""
        column = {"transaction_id": "transaction_id", "correlation_id": "correlation_id"}[attribute]
        with self.connection() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
            return cursor.execute(f"SELECT transaction_id, correlation_id, outcomes FROM dci_transactions "
                                f"WHERE client = %s AND {column} = %s ORDER BY seq DESC LIMIT 1",
                                (client, value)).fetchone()

    def add_dci_subscription(self, code: str, client: str, region: str, position: int,
                             notify_uri: str | None = None) -> None:
        with self.connection() as conn:
            conn.execute("INSERT INTO dci_subscriptions (subscription_code, client, region, position, notify_uri) "
                         "VALUES (%s, %s, %s, %s, %s)", (code, client, region, position, notify_uri))

    def dci_subscription(self, client: str, code: str) -> dict | None:
        """The client's own subscription, if not ended (another client's is unknown to it)."""
        with self.connection() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
            return cursor.execute("SELECT subscription_code, region, position, notify_uri FROM dci_subscriptions "
                                  "WHERE client = %s AND subscription_code = %s AND ended_at IS NULL",
                                  (client, code)).fetchone()

    def advance_dci_subscription(self, code: str, position: int) -> bool:
        """Move a live subscription past ``position`` (False: it has been ended meanwhile)."""
        with self.connection() as conn:
            return conn.execute("UPDATE dci_subscriptions SET position = %s WHERE subscription_code = %s "
                                "AND ended_at IS NULL RETURNING 1", (position, code)).fetchone() is not None

    def end_dci_subscription(self, client: str, code: str, *, by: str) -> str | None:
        """End the client's subscription: ``ended``, ``already`` (it was ended before: nothing changes), or None
        when the client has none with this code (another client's is unknown to it)."""
        with self.connection() as conn, conn.transaction():
            found = conn.execute("SELECT ended_at IS NOT NULL FROM dci_subscriptions WHERE client = %s "
                                 "AND subscription_code = %s FOR UPDATE", (client, code)).fetchone()
            if found is None or found[0]:
                return "already" if found else None
            conn.execute("UPDATE dci_subscriptions SET ended_at = now(), ended_by = %s WHERE subscription_code = %s",
                         (by, code))
            return "ended"

    def dci_push_subscriptions(self) -> list[dict]:
        """The live subscriptions pushed to their subscriber, oldest first."""
        with self.connection() as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cursor:
            return cursor.execute("SELECT subscription_code, client, region, notify_uri FROM dci_subscriptions "
                                  "WHERE notify_uri IS NOT NULL AND ended_at IS NULL "
                                  "ORDER BY created_at, subscription_code").fetchall()

    @contextmanager
    def dci_push_claim(self, code: str) -> Iterator[int | None]:
        """The position a push of the subscription starts after, while this process alone pushes it (an advisory
        lock held on one connection: a second gateway skips it, and the lock goes with a process that dies);
        None when another process pushes it now or it has been ended."""
        key = f"berdaya_gateway.dci_push:{code}"
        with self.connection() as conn:
            if not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()[0]:
                yield None
                return
            row = conn.execute("SELECT position FROM dci_subscriptions WHERE subscription_code = %s "
                               "AND ended_at IS NULL", (code,)).fetchone()
            yield row[0] if row else None
            # (after a failure the pool closes the connection instead, and the lock goes with it)
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def take_lookups(self, client: str, count: int, limit: int, window_s: float) -> float:
        """Take ``count`` of the client's ``limit`` lookups per ``window_s``: 0 when taken (and recorded), else the
        seconds until enough of the window's lookups are old enough (nothing is recorded then)."""
        with self.connection() as conn, conn.transaction():
            # One client's takers one at a time: two concurrent messages must not both fit in the same room.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('dci_lookups'), hashtext(%s))", (client,))
            conn.execute("DELETE FROM dci_lookups WHERE client = %s AND at <= clock_timestamp() - "
                         "make_interval(secs => %s)", (client, window_s))
            recent = [row[0] for row in conn.execute(
                "SELECT extract(epoch FROM at + make_interval(secs => %s) - clock_timestamp()) FROM dci_lookups "
                "WHERE client = %s ORDER BY at", (window_s, client)).fetchall()]
            excess = len(recent) + count - limit
            if excess > 0:  # wait until the oldest ``excess`` lookups have left the window (never: count > limit)
                return float(recent[excess - 1]) if excess <= len(recent) else window_s
            conn.execute("INSERT INTO dci_lookups (client) SELECT %s FROM generate_series(1, %s)", (client, count))
            return 0.0

    def audit_runs(self, limit: int = 20) -> list[dict]:
        """The latest first."""
        with self.connection() as conn:
            conn.row_factory = psycopg.rows.dict_row
            try:
                return conn.execute("SELECT at, by, as_of, ok, events_checked, ledger_entries_checked, ledger_head, "
                                    "problems FROM audit_runs ORDER BY seq DESC LIMIT %s", (limit,)).fetchall()
            finally:
                conn.row_factory = psycopg.rows.tuple_row

    # --- idempotency keys -----------------------------------------------------------------------------------

    def claim(self, username: str, key: str, request_hash: str, stale_after_s: float) -> Claim:
        """Claim a key for a request, in one statement whatever it finds (``CLAIM``). A claim left pending longer
        than ``stale_after_s`` — the request's own time bound: its gateway died mid-call, and the call can no longer
        be running — is taken over."""
        with self.connection() as conn:
            claimed, taken, row_hash, status, response = conn.execute(
                CLAIM, {"user": username, "key": key, "hash": request_hash, "stale_s": stale_after_s}).fetchone()
        if claimed or taken:
            return Claim("new")
        if row_hash is None:  # another request's claim, committed after this statement began (or released): again
            return self.claim(username, key, request_hash, stale_after_s)
        if row_hash != request_hash:
            return Claim("mismatch")
        return Claim("replay", status, response) if status is not None else Claim("pending")

    def complete(self, username: str, key: str, status: int, response: str) -> None:
        with self.connection() as conn:
            conn.execute("UPDATE idempotency_keys SET status = %s, response = %s, completed_at = now() "
                         "WHERE username = %s AND key = %s", (status, response, username, key))

    def release(self, username: str, key: str) -> None:
        """Forget a claim whose outcome is unknown (the service did not answer): the client may try again."""
        with self.connection() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE username = %s AND key = %s AND status IS NULL",
                         (username, key))
