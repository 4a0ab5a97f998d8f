"""psycopg waits on the eventlet hub (issue 17, item 1): with its binary build installed, a slow query in one green
thread does not hold up the others, and the start-up guard refuses the C wait function that would.

Each query says, by the server's clock, when it started and when it finished: a clock read in the green thread
before the call would also count the wait for a pooled connection, and so could not tell queued from blocked.
"""

from __future__ import annotations

import os
import subprocess
import sys

import eventlet
import psycopg
import psycopg.waiting
import pytest

from shared.store import ServiceApplication
from tests.support.applications import application_fixture

pytestmark = pytest.mark.integration

SLOW = "SELECT clock_timestamp() AS started, pg_sleep(0.5), clock_timestamp() AS finished"
QUERIES = 10  # within the store's pool: 4 connections and 8 more on demand (shared/config.py)
GUARDED_START = "import eventlet; eventlet.monkey_patch(); import shared.runtime; shared.runtime.ensure_green_psycopg()"


class NotesApplication(ServiceApplication):
    service_name = "notes"


notes = application_fixture(NotesApplication, "notes")


def slow_queries_at_once(app: ServiceApplication) -> list[dict]:
    """Each query's row (started, finished), all of them sent at once from green threads of their own."""
    return list(eventlet.GreenPool(QUERIES).imap(lambda _: app.query(SLOW)[0], range(QUERIES)))


def test_the_driver_is_the_binary_build_waiting_green():
    assert psycopg.pq.__impl__ == "binary"
    assert psycopg.waiting.wait is psycopg.waiting.wait_select


def test_slow_queries_in_green_threads_run_at_once(notes: NotesApplication):
    runs = slow_queries_at_once(notes)
    assert max(run["started"] for run in runs) < min(run["finished"] for run in runs)  # all ten ran together


def test_with_the_c_wait_they_would_run_one_after_another(notes: NotesApplication, monkeypatch):
    """What the guard is there for, and the proof that the test above can fail."""
    monkeypatch.setattr(psycopg.waiting, "wait", psycopg.waiting.wait_c)
    runs = sorted(slow_queries_at_once(notes), key=lambda run: run["started"])
    assert all(earlier["finished"] <= later["started"] for earlier, later in zip(runs, runs[1:], strict=False))


def test_an_eventlet_process_refuses_to_start_on_the_c_wait():
    env = {**os.environ, "PSYCOPG_WAIT_FUNC": "wait_c"}
    refused = subprocess.run([sys.executable, "-c", GUARDED_START], env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    assert "psycopg uses its C wait function" in refused.stderr

    green = subprocess.run([sys.executable, "-c", GUARDED_START], env={**env, "PSYCOPG_WAIT_FUNC": "wait_select"},
                           capture_output=True, text=True)
    assert green.returncode == 0, green.stderr
