"""Read-model writes on a real PostgreSQL: order kept, rows batched into one statement, counters summed."""

import uuid

import psycopg
import pytest
from psycopg.rows import dict_row

from shared.store import ReadModelWrites
from tests.support.system import ADMIN_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def cursor():
    name = "t" + uuid.uuid4().hex[:10]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}", row_factory=dict_row) as conn:
            conn.execute("CREATE TABLE people (nik text PRIMARY KEY, name text NOT NULL, age int NOT NULL)")
            conn.execute("CREATE TABLE counts (village text PRIMARY KEY, households int NOT NULL, "
                         "members int NOT NULL)")
            with conn.cursor() as cur:
                yield cur
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def rows(cursor, sql):
    cursor.execute(sql)
    return [tuple(row.values()) for row in cursor.fetchall()]


def test_inserts_updates_and_counters_apply_in_order_and_add_up(cursor):
    writes = ReadModelWrites()
    for number in range(500):
        writes.insert("people", {"nik": f"{number:016d}", "name": f"Ibu {number}", "age": 30})
        writes.increment("counts", {"village": f"V{number % 3}"}, {"households": 1, "members": 2})
    writes.add("UPDATE people SET age = age + 1 WHERE nik = %s", (f"{7:016d}",))
    writes.insert("people", {"nik": f"{7:016d}", "name": "Ibu Tujuh", "age": 0},
                  on_conflict="ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name")
    writes.insert("people", {"nik": f"{7:016d}", "name": "Ibu Tujuh Lagi", "age": 0},
                  on_conflict="ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name")
    writes.increment("counts", {"village": "V0"}, {"households": -1, "members": -2})
    writes.apply(cursor)
    assert rows(cursor, "SELECT count(*) FROM people") == [(500,)]
    assert rows(cursor, f"SELECT name, age FROM people WHERE nik = '{7:016d}'") == [("Ibu Tujuh Lagi", 31)]
    assert rows(cursor, "SELECT * FROM counts ORDER BY village") == [("V0", 166, 332), ("V1", 167, 334),
                                                                     ("V2", 166, 332)]


def test_counters_add_to_what_is_there(cursor):
    for _ in range(2):
        writes = ReadModelWrites()
        writes.increment("counts", {"village": "V9"}, {"households": 2, "members": 5})
        writes.apply(cursor)
    assert rows(cursor, "SELECT * FROM counts") == [("V9", 4, 10)]


def test_nothing_to_write_touches_nothing(cursor):
    ReadModelWrites().apply(cursor)
    assert rows(cursor, "SELECT count(*) FROM people") == [(0,)]


def test_a_statement_sees_the_counters_incremented_before_it(cursor):
    """A household counted, then taken off its village's count by a statement that reads the count (an erasure or
    a move in the same batch of a replay): the statement runs on the counted row, not before it exists."""
    writes = ReadModelWrites()
    writes.increment("counts", {"village": "V1"}, {"households": 1, "members": 3})
    writes.increment("counts", {"village": "V1"}, {"households": 1, "members": 2})
    writes.add("UPDATE counts SET households = households - 1, members = members - 3 WHERE village = %s", ("V1",))
    writes.increment("counts", {"village": "V1"}, {"households": 1, "members": 4})
    writes.apply(cursor)
    assert rows(cursor, "SELECT * FROM counts") == [("V1", 2, 6)]
