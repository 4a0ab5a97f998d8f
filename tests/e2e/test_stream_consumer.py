"""Conformance of the public streams (docs/consumers.md): the example consumer (examples/consumer/consumer.py, run
as another team would run it: a process of its own, kombu and SQLite, signatures verified) follows a running
system while the demo's route publishes — households registered, KUBEs formed in two villages, approved, paid — is
SIGKILLed twice and restarted, and at the end has applied every event of every source exactly once, in the log's
order, each valid against the JSON Schema the gateway serves; its count of KUBE funded per village is the
registry's."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from berdaya.cli.processes import ROOT
from shared.config import SERVICES
from shared.contracts.catalog import data_schema
from tests.e2e.process_system import ProcessSystem
from tests.e2e.test_processes import CONVERGE_TIMEOUT, caught_up
from tests.integration.test_grants_training import approved_proposal, pay
from tests.integration.test_registry import eligible_households, group
from tests.support.system import eventually

pytestmark = pytest.mark.e2e

CONSUMER = ROOT / "examples" / "consumer" / "consumer.py"
VILLAGES = ("18.01.06.2001", "18.01.06.2002")


class ExampleConsumer:
    def __init__(self, system: ProcessSystem, database: Path) -> None:
        self.command = [sys.executable, str(CONSUMER), "--amqp", system.amqp_uri, "--db", str(database),
                        "--public-keys", system.event_keys["EVENT_PUBLIC_KEYS"]]
        self.database, self.log = database, database.with_suffix(".log")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()[-2000:]
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def journal(self) -> dict[str, list[tuple]]:
        """Per source, what it applied: (position, id, type, version, data), in the order it applied them."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute("SELECT source, position, id, type, version, data FROM journal ORDER BY seq").fetchall()
        applied: dict[str, list[tuple]] = {source: [] for source in SERVICES}
        for source, *event in rows:
            applied[source].append(tuple(event))
        return applied

    def funded_by_village(self) -> dict[str, int]:
        with sqlite3.connect(self.database) as db:
            return dict(db.execute("SELECT village_code, count(*) FROM kube WHERE funded GROUP BY village_code"))


def the_logs(system: ProcessSystem) -> dict[str, list[dict]]:
    with system.rpc(timeout=30) as rpc:
        eventually(lambda: caught_up(rpc), timeout=CONVERGE_TIMEOUT, message="backbone caught up")
        logs = {}
        for source in SERVICES:
            events = logs[source] = rpc[source].events_after(0, 5000)
            assert len(events) < 5000
        return logs


def publish_the_route(system: ProcessSystem, round_: int, village: str) -> None:
    """A KUBE in ``village`` formed, its proposal carried up and approved (registry: funded; training: its
    representatives enrolled), tranche 1 paid; and a group formed that stays unfunded."""
    with system.rpc(timeout=30) as rpc:
        _, _, proposal_id = approved_proposal(rpc, start=1000 + round_ * 20, village=village)
        pay(rpc, proposal_id, 1, key=f"conformance-{round_}")
        members = eligible_households(rpc, 7, village, start=1010 + round_ * 20)
        rpc.registry.form_group(group(f"KUBE Melati {round_}", village, members))


def test_the_example_consumer_applies_every_event_once_in_order_through_two_kills(e2e: ProcessSystem, tmp_path):
    e2e.launch(*SERVICES)
    e2e.import_regions()
    consumer = ExampleConsumer(e2e, tmp_path / "consumer.sqlite3")
    consumer.start()
    for round_, village in enumerate((*VILLAGES, VILLAGES[0])):
        publish_the_route(e2e, round_, village)
        if round_ < 2:
            eventually(lambda: consumer.journal()["grants"], timeout=CONVERGE_TIMEOUT, message="consumer applying")
            consumer.kill()
            consumer.start()
    logs = the_logs(e2e)

    expected = {source: [(e["position"], e["id"], e["type"], e["version"]) for e in events]
                for source, events in logs.items()}
    eventually(lambda: {s: [event[:4] for event in events] for s, events in consumer.journal().items()} == expected,
               timeout=CONVERGE_TIMEOUT, message="the consumer has applied every event")
    consumer.kill()  # it follows live: it never exits by itself
    applied = consumer.journal()
    for source, events in logs.items():
        assert [json.loads(event[4]) for event in applied[source]] == [e["data"] for e in events]
        for _, _, event_type, version, data in applied[source]:
            Draft202012Validator(data_schema(event_type, version)).validate(json.loads(data))

    # funded: as the consumer counts them, every group funded and not dissolved (active once tranche 1 is paid)
    registry = dict(e2e.sql("registry", "SELECT village_code, count(*) FROM groups WHERE status IN ('funded', "
                                        "'active', 'graduated') GROUP BY village_code"))
    assert registry == {VILLAGES[0]: 2, VILLAGES[1]: 1}
    assert consumer.funded_by_village() == registry
