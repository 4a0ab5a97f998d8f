"""Per-service event store: an eventsourcing Application on the service's own PostgreSQL database.

Every write a service makes goes through :meth:`ServiceApplication.record`: new domain events, read-model rows and
the tracking position of the upstream event that caused them commit in ONE transaction, so a consumer that dies
half-way leaves nothing half-written and re-applies nothing twice.

Longer than ~400 lines because the transaction is one thing: the recorder (events, ledger rows, read-model writes,
tracking), the read-model batching it applies, and the outbox side reading the same log belong to one commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import select
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date
from typing import Any, ClassVar, TypeVar

import psycopg
import psycopg.sql
from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    IntegrityError,
    JSONTranscoder,
    Tracking,
    Transcoder,
    Transcoding,
    UUIDAsHex,
)
from eventsourcing.popo import POPOFactory
from eventsourcing.postgres import PostgresFactory, PostgresProcessRecorder
from eventsourcing.utils import Environment, get_topic
from psycopg import Cursor
from psycopg.conninfo import conninfo_to_dict
from psycopg.sql import SQL
from psycopg_pool import ConnectionPool

from shared import halts
from shared.batches import BatchEventStore, ServiceMapper
from shared.config import eventsourcing_env
from shared.contracts import Envelope, EventData, make_envelope, parse_envelope
from shared.errors import Conflict, NotFound
from shared.ledger import GENESIS, LEDGER_DDL, chain
from shared.memory import IN_MEMORY_ENV, MemoryRecorder

T = TypeVar("T")  # what a command answers besides recording its events
# (after position, limit, relayed only) → an upstream's signed public events, as its ``events_after`` RPC answers
# (shared/backbone.py): what a consumer catches up with, and what a skip checks the halted position against.
PullEvents = Callable[[int, int, bool], list[dict[str, Any]]]

# Tables every service has besides the library's own: where a consumer halted on a poison message.
BACKBONE_DDL = (
    """
    CREATE TABLE IF NOT EXISTS consumer_halts (
        upstream text PRIMARY KEY,
        position bigint NOT NULL,
        reason text NOT NULL,
        halted_at timestamptz NOT NULL DEFAULT now()
    )
    """,
)


class ReadModelWrites:
    """Read-model changes to make, in order, inside the transaction that records events and tracking.

    Batching is what makes a consumer fast (one statement per row costs a round trip each under eventlet):
    consecutive ``insert`` rows for the same table become ONE ``INSERT ... SELECT FROM unnest(arrays)``;
    consecutive identical ``add`` statements run as one ``executemany``; ``increment`` counters are summed per key
    and applied in one statement per table — before the next ``add`` (a statement may read or change what they
    count: a household registered and erased, or moved, in one batch of a replay), else last.
    """

    def __init__(self) -> None:
        self._statements: list[tuple[object, Sequence[Any]]] = []
        self._counters: dict[tuple[str, tuple[str, ...], tuple[str, ...]], dict[tuple, list[int]]] = {}

    def add(self, sql: str, params: Sequence[Any]) -> None:
        self._apply_counters_here()
        self._statements.append((sql, params))

    def insert(self, table: str, row: dict[str, Any], on_conflict: str = "") -> None:
        """Insert a row; with ``ON CONFLICT (first column) DO UPDATE ...`` the last row per key wins."""
        self._statements.append((BulkInsert(table, tuple(row), on_conflict), tuple(row.values())))

    def increment(self, table: str, key: dict[str, Any], deltas: dict[str, int]) -> None:
        totals = self._counters.setdefault((table, tuple(key), tuple(deltas)), {})
        current = totals.setdefault(tuple(key.values()), [0] * len(deltas))
        for index, delta in enumerate(deltas.values()):
            current[index] += delta

    def __len__(self) -> int:
        return len(self._statements) + sum(len(totals) for totals in self._counters.values())

    def apply(self, cursor: Cursor) -> None:
        self._apply_counters_here()
        for statement, group in _group_consecutive(self._statements):
            if isinstance(statement, BulkInsert):
                statement.execute(cursor, group)
            elif len(group) == 1:
                cursor.execute(statement, group[0])
            else:
                cursor.executemany(statement, group)

    def _apply_counters_here(self) -> None:
        """The counters summed so far become statements at this point of the order (one per table)."""
        for (table, key_columns, delta_columns), totals in self._counters.items():
            updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in delta_columns)
            statement = BulkInsert(table, (*key_columns, *delta_columns),
                                   f"ON CONFLICT ({', '.join(key_columns)}) DO UPDATE SET {updates}")
            self._statements += [(statement, (*key, *deltas)) for key, deltas in totals.items()]
        self._counters = {}


@dataclasses.dataclass(frozen=True)
class BulkInsert:
    table: str
    columns: tuple[str, ...]
    on_conflict: str

    def execute(self, cursor: Cursor, rows: list[Sequence[Any]]) -> None:
        if "DO UPDATE" in self.on_conflict:
            # One statement may not update a row twice: keep the last row per key (the first column).
            rows = list({row[0]: row for row in rows}.values())
        types = column_types(cursor, self.table)
        arrays = ", ".join(f"%s::{types[column]}[]" for column in self.columns)
        cursor.execute(
            f"INSERT INTO {self.table} ({', '.join(self.columns)}) SELECT * FROM unnest({arrays}) {self.on_conflict}",
            [list(column) for column in zip(*rows, strict=True)],
        )


_COLUMN_TYPES: dict[tuple[str, str], dict[str, str]] = {}


def column_types(cursor: Cursor, table: str) -> dict[str, str]:
    """SQL types of a table's columns (cached per database: read models do not change shape while running)."""
    key = (cursor.connection.info.dbname, table)
    if key not in _COLUMN_TYPES:
        cursor.execute("SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
                       "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", (table,))
        _COLUMN_TYPES[key] = {row["attname"]: row["type"] for row in cursor.fetchall()}
    return _COLUMN_TYPES[key]


def _group_consecutive(statements: list[tuple[object, Sequence[Any]]]) -> Iterator[tuple[object, list]]:
    current, group = None, []
    for statement, params in statements:
        if statement != current and group:
            yield current, group
            group = []
        current = statement
        group.append(params)
    if group:
        yield current, group


def check_unbroken(conn: psycopg.Connection) -> None:
    """The pool's check before it hands out a connection, at no round trip while nothing came from the server: an
    idle session's server speaks only to say goodbye (a restart, a terminated session: its reason, then the socket
    closes). Then the library's check, an empty query, decides; if it raises, the pool opens another connection."""
    if select.select([conn.pgconn.socket], [], [], 0)[0]:  # green under eventlet, as psycopg's own waits
        ConnectionPool.check_connection(conn)


class ServiceRecorder(PostgresProcessRecorder):
    """The library's process recorder, plus: read-model writes in the same transaction; money events chained
    into the ledger; and an advisory lock instead of ``LOCK TABLE`` to order writers (``LOCK TABLE ... EXCLUSIVE``
    needs UPDATE/DELETE/TRUNCATE privilege, which the service's role must not have on its append-only log)."""

    ledger_topics: frozenset[str] = frozenset()

    def __init__(self, datastore, **kwargs) -> None:
        # No server-side prepared statements: under concurrent writers whose transactions fail and retry (version
        # collisions), psycopg's pipeline mode was seen to keep a statement it believed prepared that the server
        # never had ("prepared statement _pg3_16 does not exist": the command failed). Set before the library's
        # recorder opens the pool, so that every connection has it.
        datastore.pool.kwargs["prepare_threshold"] = None
        # POSTGRES_PRE_PING's check is an empty query: a round trip per checkout, ~6 % of the registry's CPU per HTTP
        # request (four checkouts a read). This one costs none while the session is sound (psycopg_pool: _check).
        datastore.pool._check = check_unbroken
        super().__init__(datastore, **kwargs)
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
            SQL("SELECT pg_advisory_xact_lock({0})").format(advisory_key(f"berdaya:log:{self.events_table_name}")),
        ]

    def insert_events(self, stored_events, **kwargs):
        try:
            return super().insert_events(stored_events, **kwargs)
        except IntegrityError:
            # The library retries a write whose connection broke; when the break came after the COMMIT, the retry
            # collides with the write itself. Its events are then in the log byte for byte (same state, same
            # timestamps): the write succeeded, and must not be re-decided as if someone else had written first.
            committed = self._already_committed(stored_events)
            if committed is None:
                raise
            return committed

    def _already_committed(self, stored_events) -> list[int] | None:
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(f"SELECT originator_id, originator_version, topic, state, notification_id "
                         f"FROM {self.events_table_name} WHERE (originator_id, originator_version) IN "
                         f"(SELECT * FROM unnest(%s::uuid[], %s::bigint[])) ORDER BY notification_id",
                         ([e.originator_id for e in stored_events], [e.originator_version for e in stored_events]))
            stored = {(row["originator_id"], row["originator_version"]): row for row in curs.fetchall()}
        ids = []
        for event in stored_events:
            row = stored.get((event.originator_id, event.originator_version))
            if row is None or row["topic"] != event.topic or bytes(row["state"]) != bytes(event.state):
                return None
            ids.append(row["notification_id"])
        return ids

    def _insert_events(self, curs, stored_events, **kwargs):
        writes: ReadModelWrites | None = kwargs.get("read_model_writes")
        if writes:
            writes.apply(curs)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(self, curs, stored_events, **kwargs):
        super()._insert_stored_events(curs, stored_events, **kwargs)  # takes the lock, inserts
        money = [stored for stored in stored_events if stored.topic in self.ledger_topics]
        if money:
            # Another cursor: the library reads the inserted notification ids from ``curs`` afterwards.
            with curs.connection.cursor() as ledger:
                ledger.execute("SELECT entry_hash FROM ledger ORDER BY seq DESC LIMIT 1")
                head = ledger.fetchone()
                ledger.executemany(
                    "INSERT INTO ledger (originator_id, originator_version, topic, previous_hash, entry_hash) "
                    "VALUES (%s, %s, %s, %s, %s)", chain(head["entry_hash"] if head else GENESIS, money))


def advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


APPEND_ONLY_FUNCTION = """
    CREATE OR REPLACE FUNCTION berdaya_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'berdaya: % is append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$"""


def append_only(table: str) -> list[str]:
    """Triggers that refuse UPDATE, DELETE and TRUNCATE on a table, whoever asks (short of disabling them)."""
    return [
        f"CREATE OR REPLACE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION berdaya_append_only()",
        f"CREATE OR REPLACE TRIGGER append_only_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION berdaya_append_only()",
    ]


def prepare_database(app_cls: type[ServiceApplication], setup_url: str, runtime_url: str) -> None:
    """Create the service's tables and guards as the owner role, and give the runtime role what it needs only.

    The runtime role may INSERT and SELECT its event log, ledger and other append-only tables (the registry's
    access log), never UPDATE, DELETE or TRUNCATE them; it may change read models and tracking. Idempotent; replicas
    starting together take turns (advisory lock).
    """
    setup, runtime = conninfo_to_dict(setup_url), conninfo_to_dict(runtime_url)
    if (setup.get("host"), setup.get("port"), setup.get("dbname")) != (
            runtime.get("host"), runtime.get("port"), runtime.get("dbname")):
        raise RuntimeError(f"{app_cls.service_name}: SETUP_DATABASE_URL and DATABASE_URL name different databases "
                           f"({setup.get('dbname')} and {runtime.get('dbname')}): set both")
    env = Environment(app_cls.service_name, {**eventsourcing_env(setup_url), "CREATE_TABLE": "y",
                                             "PROCESS_RECORDER_TOPIC": get_topic(ServiceRecorder)})
    guarded = [f"{app_cls.service_name}_events", *app_cls.append_only_tables]
    with psycopg.connect(setup_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key(f"berdaya:setup:{app_cls.service_name}"),))
        factory = PostgresFactory(env)
        try:
            factory.process_recorder()  # creates the library's tables when missing
        finally:
            factory.close()
        with conn.transaction():
            for statement in (*BACKBONE_DDL, *app_cls.read_model_ddl):
                conn.execute(statement)
            if app_cls.ledger_events:
                conn.execute(LEDGER_DDL)
                guarded.append("ledger")
            conn.execute(APPEND_ONLY_FUNCTION)
            for table in guarded:
                for statement in append_only(table):
                    conn.execute(statement)
            runtime_user = runtime.get("user")
            if runtime_user and runtime_user != setup.get("user"):
                role = psycopg.sql.Identifier(runtime_user)
                conn.execute(SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
                             .format(role))
                conn.execute(SQL("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(role))
                conn.execute(SQL("REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {} FROM {}").format(
                    SQL(", ").join(psycopg.sql.Identifier(t) for t in guarded), role))
        conn.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(f"berdaya:setup:{app_cls.service_name}"),))


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def register_value_transcodings(transcoder: Transcoder, value_objects: Sequence[type]) -> None:
    transcoder.register(DateAsISO())
    for cls in value_objects:
        transcoder.register(dataclass_transcoding(cls))


def event_transcoder(app_cls: type[ServiceApplication]) -> JSONTranscoder:
    """The transcoder of a service's stored events, as the service itself builds it."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_value_transcodings(transcoder, app_cls.value_objects)
    return transcoder


def event_mapper(app_cls: type[ServiceApplication], conn: psycopg.Connection) -> ServiceMapper:
    """Decodes a service's stored events without starting the service (auditors replay with it), reading on
    ``conn`` whatever else decoding needs (the registry's household keys)."""
    return app_cls.reading_mapper(event_transcoder(app_cls), conn)


def dataclass_transcoding(cls: type) -> Transcoding:
    """A transcoding for a frozen dataclass value object, so domain events can carry it."""

    class DataclassAsDict(Transcoding):
        type = cls
        name = get_topic(cls)

        def encode(self, obj: Any) -> dict:
            return {field.name: getattr(obj, field.name) for field in dataclasses.fields(obj)}

        def decode(self, data: dict) -> Any:
            return cls(**data)

    return DataclassAsDict()


def added_column(table: str, column: str, definition: str, fill: str = "") -> str:
    """DDL for a read-model column added after its table was released: a table made before gets it once, ``fill``
    (an UPDATE) runs then, and the column becomes NOT NULL. (New tables have it in their CREATE TABLE.)"""
    return f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = current_schema()
                       AND table_name = '{table}' AND column_name = '{column}') THEN
            ALTER TABLE {table} ADD COLUMN {column} {definition};
            {fill + ";" if fill else ""}
            ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;
        END IF;
    END $$"""


def pseudonymised(table: str, dropped: tuple[str, ...], key: tuple[str, ...],
                  derived: dict[str, tuple[str, str]] | None = None) -> str:
    """DDL that turns a read-model table projected from the registry's version-1 events (NIK, KK, names) into one of
    ids, once: each ``derived`` column (name → (kind, column it comes from)) gets the legacy id
    (``shared.keys.stable_id``: uuid5 of the URL namespace), the ``dropped`` columns go, and ``key`` becomes the
    primary key. A table without the first dropped column (new, or done) is left alone. Needs "uuid-ossp"."""
    derived = derived or {}
    adds = ", ".join(f"ADD COLUMN {column} uuid" for column in derived)
    fills = ", ".join(f"{column} = uuid_generate_v5(uuid_ns_url(), 'berdaya:{kind}:' || {source})"
                      for column, (kind, source) in derived.items())
    not_null = "".join(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL; " for column in derived)
    return f"""DO $$ BEGIN
        IF EXISTS (SELECT FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = '{table}' AND column_name = '{dropped[0]}') THEN
            {f"ALTER TABLE {table} {adds}; UPDATE {table} SET {fills};" if derived else ""}
            ALTER TABLE {table} {", ".join(f"DROP COLUMN {column}" for column in dropped)};
            {not_null}ALTER TABLE {table} ADD PRIMARY KEY ({", ".join(key)});
        END IF;
    END $$"""


# A ``groups`` table's members as registry's version-1 events gave them (KK, NIK, name), as its version-2 events give
# them (ids; the legacy ones, as above): once.
PSEUDONYMISED_GROUP_MEMBERS = """
    UPDATE groups SET members = (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
            'household_id', uuid_generate_v5(uuid_ns_url(), 'berdaya:household:' || (m->>'kk')),
            'representative_id', uuid_generate_v5(uuid_ns_url(), 'berdaya:person:' || (m->>'representative_nik'))
        )), '[]'::jsonb) FROM jsonb_array_elements(members) m)
    WHERE jsonb_path_exists(members, '$[*].kk')"""


def in_region(column: str, region: str | None) -> tuple[str, tuple[str, ...]]:
    """A read model's condition (SQL and parameters) for rows whose region code ``column`` lies in ``region``:
    '18.01' covers '18.01' and '18.01.06.2001' but not '18.010'; None or '' is everywhere."""
    if not region:
        return "true", ()
    return f"({column} = %s OR {column} LIKE %s)", (region, region + ".%")


@dataclasses.dataclass(frozen=True)
class AuditedTable:
    """A read model an auditor rebuilds from the events alone and compares with the live table."""

    table: str
    columns: tuple[str, ...]  # the first is the key
    rows: Any  # Callable[[Iterable[Aggregate]], Iterable[tuple]]: the expected rows, from replayed aggregates


@dataclasses.dataclass(frozen=True)
class MirroredTable:
    """A read model fed by an upstream's events: an auditor rebuilds it from the upstream's own log (the upstream's
    audited table ``upstream_table``) and compares it with the live table — what a forged event slipped in, or a
    lost one left out, shows there."""

    table: str
    upstream: str
    upstream_table: str
    columns: tuple[str, ...]  # the first is the key; each also a column of the upstream's audited table


class ServiceApplication(Application):
    """Base of each service's application: its store, its read models, its public events.

    Subclasses set ``service_name``, ``upstreams`` (whose public events they consume), ``read_model_ddl``,
    ``value_objects`` (dataclasses carried by events) and implement :meth:`public_event`, the one place where a
    domain event becomes a public contract (an operator's retry or skip of a halted consumer, recorded by this
    base class, maps the same in every service: ``shared.halts``).
    """

    service_name: ClassVar[str]
    upstreams: ClassVar[Sequence[str]] = ()
    ledger_events: ClassVar[Sequence[type]] = ()  # domain events chained in the tamper-evident ledger
    audited_tables: ClassVar[Sequence[AuditedTable]] = ()
    mirrored_tables: ClassVar[Sequence[MirroredTable]] = ()  # read models of upstream facts, audited against them
    read_model_ddl: ClassVar[Sequence[str]] = ()
    append_only_tables: ClassVar[Sequence[str]] = ()  # of read_model_ddl's: guarded as the event log is
    value_objects: ClassVar[Sequence[type]] = ()
    # What the commands read besides their aggregates, built with the application: its read model in PostgreSQL.
    facts_class: ClassVar[Callable[[Any], Any] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Tables: <service>_events, <service>_tracking — also for a subclass (another build of the same service),
        # which the library would otherwise name after the subclass.
        if hasattr(cls, "service_name"):
            cls.name = cls.service_name

    def __init__(self, database_url: str | None, setup_url: str | None = None) -> None:
        """On the service's PostgreSQL database; ``database_url`` None is :meth:`in_memory`'s store."""
        if database_url is None:
            super().__init__(IN_MEMORY_ENV)
        else:
            prepare_database(type(self), setup_url or database_url, database_url)
            env = eventsourcing_env(database_url)
            env["PROCESS_RECORDER_TOPIC"] = get_topic(ServiceRecorder)
            env["CREATE_TABLE"] = "n"  # the owner role created them in prepare_database
            super().__init__(env)
        self.recorder.ledger_topics = frozenset(get_topic(cls) for cls in self.ledger_events)
        if database_url is not None:
            self.facts = self.facts_class(self) if self.facts_class else None
            self.upgrade_read_model()

    @classmethod
    def in_memory(cls, facts: Callable[[Any], Any], **options: Any) -> Any:
        """The application on the library's in-memory (POPO) persistence, its commands reading from ``facts`` (built
        with the application) instead of a read model: for application tests, which then touch no database. Reads
        and projections that are SQL are not available (they refuse, saying so)."""
        app = cls(None, **options)
        app.facts = facts(app)
        return app

    def upgrade_read_model(self) -> None:
        """Bring rows an older release wrote up to date, once, at start (a service overrides it when it must)."""

    def construct_recorder(self) -> ServiceRecorder | MemoryRecorder:
        if isinstance(self.factory, POPOFactory):
            return MemoryRecorder()
        # A plain Application's recorder silently ignores tracking: we need the process recorder.
        return self.factory.process_recorder()

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        register_value_transcodings(transcoder, self.value_objects)

    def construct_mapper(self) -> ServiceMapper:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=ServiceMapper)

    def construct_event_store(self) -> BatchEventStore:
        return BatchEventStore(mapper=self.mapper, recorder=self.recorder)

    @classmethod
    def reading_mapper(cls, transcoder: Transcoder, conn: psycopg.Connection) -> ServiceMapper:
        """The mapper an auditor decodes this service's log with, over ``conn`` (see :func:`event_mapper`): the
        library's, unless the service stores its events otherwise (the registry seals personal fields)."""
        return ServiceMapper(transcoder=transcoder)

    @property
    def datastore(self):
        if isinstance(self.recorder, MemoryRecorder):
            raise RuntimeError(f"{self.service_name} runs in memory: it has no read model to query or write")
        return self.recorder.datastore

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A committing transaction (the library's default ``commit=False`` silently rolls back)."""
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def page(self, sql: str, params: Sequence[Any], page: int, size: int, order: str = "",
             order_params: Sequence[Any] = ()) -> dict[str, Any]:
        """One page of a query's rows (1-based), with the total: every list a user sees is paginated.

        ``order`` (an ORDER BY clause, with its own parameters) may be given apart from ``sql``: then the total is
        counted without sorting every row (PostgreSQL keeps a subquery's ORDER BY even under count(*))."""
        page, size = max(1, int(page)), max(1, min(int(size), 500))
        total = self.query(f"SELECT count(*) AS total FROM ({sql}) AS listed", params)[0]["total"]
        items = self.query(f"{sql} {order} LIMIT %s OFFSET %s", (*params, *order_params, size, (page - 1) * size))
        return {"items": items, "page": page, "size": size, "total": total}

    def record(
        self,
        *aggregates: Any,
        writes: ReadModelWrites | None = None,
        tracking: Tracking | None = None,
    ) -> None:
        """Commit the aggregates' new events, the read-model writes and the tracking position atomically."""
        processing = ProcessingEvent(tracking=tracking)
        processing.collect_events(*aggregates, read_model_writes=writes)
        self._record(processing)

    def record_retrying(self, attempt: Callable[[ReadModelWrites], list[Any]], retries: int = 8) -> None:
        """Run ``attempt`` (load, decide, return the changed aggregates) and record what it changed; when another
        command changed one of those aggregates first (a version collision), decide again on fresh state."""
        self.decide_retrying(lambda writes: (attempt(writes), None), retries)

    def decide_retrying(self, attempt: Callable[[ReadModelWrites], tuple[list[Any], T]], retries: int = 8) -> T:
        """:meth:`record_retrying` for a decision with an answer: ``attempt`` returns the changed aggregates and
        the answer, and the answer of the attempt that was recorded is returned."""
        for _ in range(retries):
            writes = ReadModelWrites()
            aggregates, answer = attempt(writes)
            try:
                self.record(*aggregates, writes=writes)
                return answer
            except IntegrityError:
                continue
        raise Conflict("the record kept changing under this command; try again", rule="concurrency")

    # --- the outbox side: this service's log as public events -------------------------------------------

    def public_event(self, domain_event: DomainEventProtocol) -> EventData:
        raise NotImplementedError

    def public_events_after(self, position: int, limit: int, *, stop: int | None = None) -> list[Envelope]:
        """Public events with positions after ``position`` (and up to ``stop``), in log order, each chained to its
        predecessor."""
        if stop is not None and stop <= position:
            return []
        notifications = self.recorder.select_notifications(
            start=position, limit=limit, stop=stop, inclusive_of_start=False
        )
        if not notifications:
            return []
        previous = self._position_before(notifications[0].id)
        envelopes = []
        for notification, domain_event in zip(notifications, self.mapper.to_published_events(notifications),
                                              strict=True):
            envelopes.append(
                make_envelope(
                    source=self.service_name,
                    position=notification.id,
                    previous_position=previous,
                    subject=str(domain_event.originator_id),
                    time=domain_event.timestamp,
                    data=self._public_data(domain_event),
                )
            )
            previous = notification.id
        return envelopes

    def _public_data(self, domain_event: DomainEventProtocol) -> EventData:
        # An operator's decision about a halt reads the same in every service; the rest is the service's own.
        decision = halts.public_event(self.service_name, domain_event)
        return decision if decision is not None else self.public_event(domain_event)

    def _position_before(self, position: int) -> int:
        # Positions are not contiguous (failed inserts burn ids): ask the log, never compute position - 1.
        rows = self.query(
            f"SELECT max(notification_id) AS previous FROM {self.recorder.events_table_name} "
            "WHERE notification_id < %s",
            (position,),
        )
        return rows[0]["previous"] or 0

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def tracked_position(self, upstream: str) -> int:
        return self.recorder.max_tracking_id(upstream) or 0

    def consumer_halt(self, upstream: str) -> dict[str, Any] | None:
        rows = self.query("SELECT position, reason, halted_at FROM consumer_halts WHERE upstream = %s", (upstream,))
        return rows[0] if rows else None

    def halt_consumer(self, upstream: str, position: int, reason: str) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                "INSERT INTO consumer_halts (upstream, position, reason) VALUES (%s, %s, %s) "
                "ON CONFLICT (upstream) DO NOTHING",
                (upstream, position, reason),
            )

    # --- an operator's decisions about a halt (shared.halts) --------------------------------------------------

    def retry_upstream(self, command: halts.RetryUpstream) -> dict[str, Any]:
        """Resume a halted consumer: the retry is recorded and the halt cleared in one transaction; within a second
        the consumer pulls the halted event from the upstream's log again."""
        halts.check_decider(command.actor, "resume a halted consumer")
        halt = self._halt_to_resolve(command.upstream)
        retry = halts.ConsumerRetry(service=self.service_name, upstream=command.upstream, position=halt["position"],
                                    halted_at=halt["halted_at"].astimezone(UTC), halt_reason=halt["reason"],
                                    reason=command.reason, by=command.by)
        self._resolve(retry, halt, tracking=None)
        return {"service": self.service_name, "upstream": command.upstream, "position": halt["position"],
                "decided_at": retry.created_on.isoformat()}

    def skip_upstream_event(self, command: halts.SkipUpstreamEvent,
                            pull: PullEvents) -> dict[str, Any]:
        """Never apply the upstream event the consumer halted on: the skip is recorded, the tracking position moves
        to that event and the halt is cleared, in one transaction. ``pull`` reads the upstream's log.

        Only the halted position can be skipped, and only when it is the very next event in the upstream's log
        after what was applied: a skip never jumps over an event nobody looked at."""
        halts.check_decider(command.actor, "skip an upstream event")
        halt = self._halt_to_resolve(command.upstream)
        if command.position != halt["position"]:
            raise Conflict(f"{self.service_name} is halted on {command.upstream} at position {halt['position']}, "
                           f"not {command.position}: nothing skipped; look again with `berdaya dlq list`",
                           rule="skip.position", halted_position=halt["position"])
        tracked = self.tracked_position(command.upstream)
        try:
            following = [parse_envelope(raw) for raw in pull(tracked, 1, False)]
        except Exception as exc:  # whatever stops the upstream answering: the skip waits for it
            raise Conflict(f"{command.upstream}'s log cannot be read to confirm the event at position "
                           f"{command.position} ({type(exc).__name__}): nothing skipped; try again when "
                           f"{command.upstream} answers", rule="skip.upstream_unavailable") from None
        if not following or following[0].position != command.position:
            found = f"position {following[0].position}" if following else "nothing"
            raise Conflict(f"after position {tracked}, {command.upstream}'s log holds {found}, not "
                           f"{command.position}: a skip would not be exactly the halted event; nothing skipped "
                           f"(retry instead)", rule="skip.not_next")
        skipped = following[0]
        skip = halts.ConsumerSkip(service=self.service_name, upstream=command.upstream, position=command.position,
                                  skipped_type=skipped.type, skipped_version=skipped.version, skipped_id=skipped.id,
                                  halt_reason=halt["reason"], reason=command.reason, by=command.by)
        self._resolve(skip, halt, tracking=Tracking(command.upstream, command.position))
        return {"service": self.service_name, **skip.as_dict(), "decided_at": skip.created_on.isoformat()}

    def _halt_to_resolve(self, upstream: str) -> dict[str, Any]:
        if upstream not in self.upstreams:
            raise NotFound(f"{self.service_name} consumes no upstream {upstream!r} (it consumes "
                           f"{', '.join(self.upstreams)})", field="upstream")
        halt = self.consumer_halt(upstream)
        if halt is None:
            raise Conflict(f"{self.service_name} is not halted on {upstream}: nothing to retry or skip",
                           rule="halt.none")
        return halt

    def _resolve(self, decision: Any, halt: dict[str, Any], tracking: Tracking | None) -> None:
        writes = ReadModelWrites()
        writes.add("DELETE FROM consumer_halts WHERE upstream = %s AND position = %s",
                   (decision.upstream, halt["position"]))
        try:
            self.record(decision, writes=writes, tracking=tracking)
        except IntegrityError:
            # The same decision recorded a moment ago, or the consumer already past the position.
            raise Conflict(f"the halt of {self.service_name} on {decision.upstream} was resolved meanwhile: "
                           "nothing changed; look again with `berdaya dlq list`", rule="halt.changed") from None

