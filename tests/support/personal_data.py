"""Scans for personal data where it must not be: every value a scenario registered that says who a person is (NIK,
KK, name, DTKS id), looked for in every row of every table of a service's database — its events (their stored
bytes read as text), its read model, its tracking and idempotency tables alike.

Issue 16: only the registry holds personal data. A test names the values it registered (``identifying_values``)
and asserts that ``found_in_database`` finds none of them in grants' or training's database; the same scan serves
the dumps of queues and logs (``found_in_text``).
"""

from __future__ import annotations

from collections.abc import Iterable

from tests.support.system import System


def identifying_values(households: Iterable[dict]) -> set[str]:
    """What registration payloads (``tests.support.households.household``) say of who people are."""
    values: set[str] = set()
    for household in households:
        values |= {household["kk"], household["dtks_id"]}
        for member in household["members"]:
            values |= {member["nik"], member["name"]}
    return values


def found_in_text(text: str, values: Iterable[str]) -> set[str]:
    return {value for value in values if value in text}


def found_in_dump(dump: str, values: Iterable[str]) -> set[str]:
    """The ``values`` in a `pg_dump`: as text, or in stored bytes (which it writes as hex)."""
    return {value for value in values if value in dump or value.encode().hex() in dump}


def database_dump(system: System, service: str) -> dict[str, str]:
    """Every table of the service's database as text, by table: each row's values, bytes decoded as UTF-8."""
    tables = [row[0] for row in system.sql(
        service, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                 "AND table_type = 'BASE TABLE' ORDER BY table_name")]
    return {table: "\n".join(" | ".join(_text(value) for value in row)
                             for row in system.sql(service, f'SELECT * FROM "{table}"'))
            for table in tables}


def found_in_database(system: System, service: str, values: Iterable[str]) -> dict[str, set[str]]:
    """Table → the ``values`` found in it (only the tables with any)."""
    values = set(values)
    found = {table: found_in_text(text, values) for table, text in database_dump(system, service).items()}
    return {table: hits for table, hits in found.items() if hits}


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)
