"""Nothing lost, nothing paid twice: a mixed workload through the HTTP API while every part of the system is made
to fail in turn — each process killed with SIGKILL and restarted, the broker stopped and started, the database's
sessions killed and the database restarted. Afterwards, everything the clients were told is checked against the
stores, and `berdaya audit verify` replays every log.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.faults.checks import findings, open_office, settle
from tests.faults.cluster import FAULTS, FaultCluster
from tests.faults.workload import Workload
from tests.support.system import eventually

pytestmark = [pytest.mark.faults, pytest.mark.timeout(1200)]

MIN_COMMANDS = 2500
# A 503 comes within the gateway's RPC deadline (8 s here) plus its own work; nothing should take longer.
UNAVAILABLE_BOUND_S = 15.0


def progress(cluster: FaultCluster, workload: Workload, commands: int = 30, timeout: float = 120) -> None:
    """The system is up again and the workload moves: ``commands`` more acknowledged since now."""
    ledger = workload.office.ledger
    start = ledger.commands
    cluster.wait_ready(timeout)
    eventually(lambda: ledger.commands >= start + commands, timeout,
               message=f"{commands} more commands acknowledged")


def test_every_acknowledged_command_survives_every_fault_exactly_once(cluster: FaultCluster):
    office = open_office(cluster)
    workload = Workload(office, workers=6).start()
    injected = []
    try:
        progress(cluster, workload, commands=200)
        for name, inject in FAULTS.items():
            started = time.monotonic()
            inject(cluster)
            progress(cluster, workload)
            injected.append({"fault": name, "recovered_s": round(time.monotonic() - started, 1)})
        eventually(lambda: office.ledger.commands >= MIN_COMMANDS, 600,
                   message=f"{MIN_COMMANDS} commands acknowledged")
    finally:
        workload.stop()
    settle(cluster)
    found = findings(cluster, office.ledger)
    print(json.dumps({"faults": injected, **found}, indent=1))

    assert found["lost"] == 0, found["lost_detail"]
    assert found["duplicated"] == 0, found["duplicated_detail"]
    assert found["verify_ok"], found["verify_problems"]
    assert found["units_failed"] == [] and found["server_errors"] == [], found
    assert found["hangs"] == [], found["hangs"]
    assert found["unavailable_max_s"] <= UNAVAILABLE_BOUND_S, found
    assert found["commands"] >= MIN_COMMANDS and found["payments"] == len(office.ledger.payments) > 50
