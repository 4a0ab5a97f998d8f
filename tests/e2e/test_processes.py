"""The whole system as it runs in production: each service a `nameko run` process, killed the way processes die.

The counterpart of tests/integration/test_backbone.py with real OS processes: a SIGKILL closes the sockets from
the kernel's side (AMQP channels, PostgreSQL sessions and the relay's advisory lock) with no shutdown code run.
Outcomes are asserted as a user sees them: RPC answers and the rows in the services' own databases.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from berdaya.cli.processes import ROOT, stop_pid
from shared.config import SERVICES
from shared.topology import consumer_queue_name
from tests.e2e.process_system import ProcessSystem
from tests.support.households import household
from tests.support.system import eventually

pytestmark = pytest.mark.e2e

CONVERGE_TIMEOUT = 40.0


def register(system: ProcessSystem, numbers: Iterable[int], batch: int = 100) -> None:
    payloads = [household(n) for n in numbers]
    with system.rpc(timeout=30) as rpc:
        for start in range(0, len(payloads), batch):
            ids = rpc.registry.register_households(payloads[start:start + batch])
            assert len(ids) == len(payloads[start:start + batch])


def settles_at(read: Callable[[], Any], expected: Any, what: str, timeout: float = CONVERGE_TIMEOUT) -> None:
    """Wait until ``read()`` equals ``expected``; on time-out, say what it last was."""
    last: list[Any] = [None]

    def check() -> bool:
        last[0] = read()
        return last[0] == expected

    try:
        eventually(check, timeout=timeout, interval=0.2)
    except AssertionError:
        raise AssertionError(f"{what}: expected {expected!r}, still {last[0]!r} after {timeout}s") from None


def fields(read: Callable[[], dict], expected: dict) -> Callable[[], dict]:
    """``read()`` narrowed to the fields ``expected`` names (a summary may gain fields; these must stay exact)."""
    return lambda: {key: value for key, value in read().items() if key in expected}


def grants_households(system: ProcessSystem) -> int:
    return system.scalar("grants", "SELECT count(*) FROM households")


def grants_counted(system: ProcessSystem) -> int:
    """Households counted one event at a time (an event applied twice would inflate this)."""
    return system.scalar("grants", "SELECT coalesce(sum(households), 0) FROM village_households")


def caught_up(rpc) -> dict[str, dict] | None:
    """Every service's ``backbone_status()`` once every relay has published its whole log and every consumer is
    at its upstream's last position, not halted; ``None`` until then."""
    statuses = {service: rpc[service].backbone_status() for service in SERVICES}
    for status in statuses.values():
        if status["relay_position"] != status["last_position"]:
            return None
        for upstream, consumer in status["consumers"].items():
            if consumer["halt"] is not None or consumer["position"] != statuses[upstream]["last_position"]:
                return None
    return statuses


def test_household_flows_across_three_processes(e2e):
    e2e.launch(*SERVICES)
    e2e.import_regions()
    register(e2e, range(200))
    with e2e.rpc(timeout=30) as rpc:
        grants_expected = {"households": 200, "members": 400, "decile_1_to_4": 200}
        settles_at(fields(rpc.grants.households_summary, grants_expected), grants_expected,
                   "grants.households_summary()")
        training_expected = {"individuals": 400, "women": 200, "households": 200}
        settles_at(fields(rpc.training.individuals_summary, training_expected), training_expected,
                   "training.individuals_summary()")
        statuses = eventually(lambda: caught_up(rpc), timeout=CONVERGE_TIMEOUT, message="backbone caught up")
    registry_last = statuses["registry"]["last_position"]
    assert registry_last > 200  # the region table's import, then one event per household at least
    for consumer in ("grants", "training"):
        assert statuses[consumer]["consumers"]["registry"] == {"position": registry_last, "halt": None}
    assert grants_counted(e2e) == 200
    assert e2e.scalar("training", "SELECT count(DISTINCT person_id) FROM individuals") == 400


def test_relay_leader_killed_with_sigkill_standby_takes_over(e2e):
    e2e.launch("grants")
    first, second = e2e.launch("registry", "registry")  # together, on one empty database: they take turns
    e2e.import_regions()  # through one replica; the other reads the new table from the shared database
    eventually(lambda: e2e.leads_relay(first) or e2e.leads_relay(second), timeout=30, message="a relay leading")
    leader, standby = (first, second) if e2e.leads_relay(first) else (second, first)
    assert not e2e.leads_relay(standby), "both registry relays claim the advisory lock"

    register(e2e, range(100))
    settles_at(lambda: grants_households(e2e), 100, "grants households before the kill")
    assert not e2e.leads_relay(standby)

    e2e.sigkill(leader)
    register(e2e, range(100, 200))  # only the surviving registry process can answer now
    eventually(lambda: e2e.leads_relay(standby), timeout=30, message="standby relay taking over")
    settles_at(lambda: grants_households(e2e), 200, "grants households after the kill")
    with e2e.rpc(timeout=30) as rpc:
        last = rpc.registry.backbone_status()["last_position"]
        settles_at(lambda: rpc.registry.backbone_status()["relay_position"], last, "the new leader's relay position")
        settles_at(lambda: rpc.grants.backbone_status()["consumers"]["registry"], {"position": last, "halt": None},
                   "grants' registry consumer")
    assert grants_counted(e2e) == 200
    registry_ids = {household_id for (household_id,) in e2e.sql("registry", "SELECT household_id FROM households")}
    assert len(registry_ids) == 200
    assert {household_id for (household_id,) in e2e.sql("grants", "SELECT household_id FROM households")} == (
        registry_ids)


def test_consumer_killed_with_sigkill_mid_stream_converges(e2e):
    e2e.launch("registry")
    e2e.import_regions()
    [grants] = e2e.launch("grants")
    for batch in range(10):
        register(e2e, range(batch * 100, batch * 100 + 100))
        if batch == 2:
            e2e.sigkill(grants)
    assert grants.process.returncode == -9
    e2e.launch("grants")
    settles_at(lambda: grants_households(e2e), 1000, "grants households after restart")
    with e2e.rpc(timeout=30) as rpc:
        expected = {"households": 1000, "members": 2000, "decile_1_to_4": 1000}
        assert fields(rpc.grants.households_summary, expected)() == expected
        last = rpc.registry.backbone_status()["last_position"]
        settles_at(lambda: rpc.grants.backbone_status()["consumers"]["registry"], {"position": last, "halt": None},
                   "grants' registry consumer")
    settles_at(lambda: e2e.queue_depth(consumer_queue_name("grants", "registry")), 0, "grants' queue depth")
    assert grants_counted(e2e) == 1000
    registry_ids = {household_id for (household_id,) in e2e.sql("registry", "SELECT household_id FROM households")}
    assert {household_id for (household_id,) in e2e.sql("grants", "SELECT household_id FROM households")} == (
        registry_ids)


def child_pids(parent: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields_after_name = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields_after_name[1]) == parent:
            children.append(int(stat.parent.name))
    return children


DEMO_HOUSEHOLDS = 50  # the smallest file `berdaya demo` accepts (--households has min=50)
DEMO_TIMEOUT = 180.0


def test_demo_json_runs_end_to_end(tmp_path):
    # The services inherit this environment. PULL_TIMEOUT_S as in the other tests: a service stopping after its
    # upstream waits out its consumer's catch-up RPC to the stopped upstream (30 s by default) before it exits.
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PULL_TIMEOUT_S": "3"}
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("w") as out, stderr.open("w") as err:
        demo = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "berdaya"), "demo", "--json", "--households", str(DEMO_HOUSEHOLDS)],
            cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + DEMO_TIMEOUT
    while demo.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if demo.returncode is None:
        # The demo's services run in sessions of their own: stop them by pid, then the demo itself.
        for pid in child_pids(demo.pid):
            stop_pid(pid, timeout=10)
        demo.kill()
        demo.wait()
        pytest.fail(f"berdaya demo still running after {DEMO_TIMEOUT:.0f}s: {stderr.read_text()[-2000:]}")
    assert demo.returncode == 0, stderr.read_text()[-2000:]
    summary = json.loads(stdout.read_text())
    registry, imported = summary["registry"], summary["registry"]["import"]
    # The generated file carries a few typical errors: whole households are refused, the rest registered.
    assert imported["households_imported"] + imported["households_rejected"] == DEMO_HOUSEHOLDS
    # One household in no KUBE is erased for good (docs/privacy.md), and one member of another alone: the registry
    # holds nothing of them any more (the other members still read), and the audit replays their events as erased.
    erasure = summary["erasure"]
    assert not erasure["erased"]["still_held"] and erasure["money_unchanged"], erasure
    alone = erasure["erased_alone"]
    assert alone["person_only"] and not alone["still_held"] and alone["others_read"], erasure
    assert registry["households"] == imported["households_imported"] - 1 > 0
    assert registry["individuals"] < imported["individuals_imported"]
    assert summary["audit"]["ok"], summary["audit"]["problems"]
    assert summary["grants"]["households"]["households"] == registry["households"]
    assert sum(summary["grants"]["by_village"].values()) == registry["households"]
    assert summary["training"]["individuals"]["individuals"] == registry["individuals"]
    backbone = summary["backbone"]
    assert set(backbone) == set(SERVICES)
    consumers = {(service, upstream): consumer for service, status in backbone.items()
                 for upstream, consumer in status["consumers"].items()}
    assert {("grants", "registry"), ("training", "registry")} <= set(consumers)
    assert all(consumer["halt"] is None for consumer in consumers.values()), consumers
