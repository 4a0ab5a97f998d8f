"""A benchmark's own scratch database on this machine's PostgreSQL: created fresh, dropped at the end.

Imported as ``bench.databases`` by bench/audit.py and bench/envelopes.py (they put the project root on
``sys.path``). The benchmarks that run the services as processes use ``bench.machine.BenchEnvironment`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def fresh_database(name: str, keep: bool = False) -> Iterator[str]:
    """Database ``name``, empty (whatever an earlier run left is dropped first); its URL. Dropped on the way out,
    unless ``keep`` (for inspection)."""
    drop_database(name)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield database_url(name)
    finally:
        if not keep:
            drop_database(name)
