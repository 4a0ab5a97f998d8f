"""The ledger's walk streams (berdaya/audit/verify.py ``verify_ledger``): over a long log an edit deep in the middle is
still found and named, and the walk's memory does not grow with the log — a plain query would hold the whole join
in the client before the first entry is hashed (a million entries took 922 MB)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from services.grants.application import GrantsApplication
from shared import ledger
from tests.support.applications import fresh_database

pytestmark = pytest.mark.integration

ENTRIES = 20_000
STATE_BYTES = 4_000  # 80 MB of events in all: what a walk that does not stream would hold at once
TOPIC = "services.grants.domain:Grant.Confirmed"
# Text a row can carry that COPY, JSON and the driver each escape in their own way.
AWKWARD = 'Bank "BRI"\tcabang Kalianda\\Lampung\nrekening № 12 — ✓ '

# The walk in a process of its own: its peak memory is the walk's, not the test runner's.
WALK = """
import json, sys
import psycopg
from berdaya.audit.verify import verify_ledger

def peak_mb():  # this process's own high-water mark (getrusage's would count the test runner it was forked from)
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024

with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute("SELECT 1")
    before = peak_mb()
    problems = []
    checked, head = verify_ledger(conn, problems)
print(json.dumps({"checked": checked, "head": head, "problems": [p.as_dict() for p in problems],
                  "grew_mb": peak_mb() - before}))
"""


class Stored:
    def __init__(self, number: int) -> None:
        self.originator_id, self.originator_version, self.topic = uuid.uuid4(), 1, TOPIC
        fields = {"payment_id": str(uuid.uuid4()), "bank_reference": f"BRI-{number:012d}", "note": AWKWARD}
        self.state = json.dumps(fields, ensure_ascii=False).ljust(STATE_BYTES).encode("utf-8")


def fill(url: str) -> str:
    """ENTRIES money events and their chained ledger rows, written with COPY; the chain's head."""
    events = [Stored(number) for number in range(1, ENTRIES + 1)]
    rows = ledger.chain(ledger.GENESIS, events)
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy("COPY grants_events (originator_id, originator_version, topic, state) FROM STDIN") as copy:
            for event in events:
                copy.write_row((event.originator_id, event.originator_version, event.topic, event.state))
        with cursor.copy("COPY ledger (originator_id, originator_version, topic, previous_hash, entry_hash) "
                         "FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return rows[-1][4]


def walk(url: str) -> dict:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", WALK, url], cwd=root, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.fixture
def grants_url() -> Iterator[str]:
    """Grants' database with its tables (the service's own DDL, guards included), nothing in them."""
    with fresh_database() as url:
        GrantsApplication(url).close()
        yield url


def test_an_edit_deep_in_a_long_ledger_is_named_and_the_walk_does_not_hold_the_log(grants_url: str):
    url = grants_url
    head = fill(url)
    middle = ENTRIES // 2
    with psycopg.connect(url, autocommit=True) as conn:  # a superuser edits one payment's bank reference
        conn.execute("ALTER TABLE grants_events DISABLE TRIGGER USER")
        conn.execute("UPDATE grants_events SET state = convert_to(replace(convert_from(state, 'UTF8'), 'BRI-', "
                     "'BNI-'), 'UTF8') WHERE notification_id = %s", (middle,))
        conn.execute("ALTER TABLE grants_events ENABLE TRIGGER USER")

    result = walk(url)

    assert (result["checked"], result["head"]) == (ENTRIES, head)
    assert [(p["position"], p["kind"]) for p in result["problems"]] == [(middle, "event_altered")]
    assert result["problems"][0]["detail"].startswith(f"ledger entry {middle} (Grant.Confirmed of ")
    assert result["grew_mb"] < ENTRIES * STATE_BYTES / 2**20 / 4, result  # a fraction of the log: it streamed
