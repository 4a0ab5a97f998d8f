"""What a client sees while a part of the system is down, and the double-spend race.

- During an outage (a service killed, the broker stopped, the database stopped) the API answers 503 with a clear
  message within a bounded time — never a hang, never a 500 — and once the system is back, the same request with
  the same Idempotency-Key is safe: it does the thing once.
- N treasurers' clients, each a process of its own, instruct the same tranche at the same moment (different
  Idempotency-Keys, two grants replicas serving them): exactly one payment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests

from berdaya.cli.processes import ROOT
from tests.faults.checks import EVENT_DATA, open_office, settle
from tests.faults.cluster import FaultCluster
from tests.faults.workload import TRANCHE_1_RP
from tests.support.system import eventually

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]

# The gateway's RPC deadline in these tests is 8 s; a stopped service is found out sooner (no consumer on its queue).
BOUND_S = 12.0


def instructions(cluster: FaultCluster, proposal_id: str) -> list[dict]:
    rows = cluster.sql("grants", f"{EVENT_DATA} e WHERE topic = 'services.grants.domain:Grant.Instructed' AND "
                                 "originator_id IN (SELECT grant_id FROM grants WHERE proposal_id = %s)",
                       (proposal_id,))
    return [row[0] for row in rows]


def timed_post(office, path: str, key: str, body=None) -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        answer = office.treasurer.session.post(office.treasurer.base + path, json=body, timeout=60,
                                               headers={"Idempotency-Key": key})
    except requests.ConnectionError as exc:
        return 0, {"error": {"message": str(exc)}}, time.monotonic() - started
    return answer.status_code, answer.json(), time.monotonic() - started


@pytest.mark.parametrize("outage", ["grants killed", "broker stopped", "database stopped"])
def test_during_an_outage_clients_get_a_prompt_503_and_the_same_key_pays_once_afterwards(cluster, outage):
    office = open_office(cluster)
    proposal_id = office.approved_proposal(1)
    path, key = f"/api/v1/grants/{proposal_id}/tranches/1/disburse", "tranche-1-during-outage"
    office.treasurer.read(f"/api/v1/grants/{proposal_id}")  # the token's user is cached: the DB outage is deeper

    if outage == "grants killed":
        cluster.sigkill("grants")
    elif outage == "broker stopped":
        cluster.rabbit.stop_app()
    else:
        cluster.postgres.stop("fast")
    answers = [timed_post(office, path, key) for _ in range(3)]
    for status, body, seconds in answers:
        assert status == 503 and body["error"]["code"] == "unavailable", (outage, status, body)
        assert seconds <= BOUND_S, (outage, seconds, body)
        assert body["error"]["message"], body

    if outage == "grants killed":
        cluster.start("grants")
    elif outage == "broker stopped":
        cluster.rabbit.start_app()
    else:
        cluster.postgres.start()
    settle(cluster)
    status, paid, _ = eventually(lambda: (answer := timed_post(office, path, key))[0] == 200 and answer, 60,
                                 message="the same request succeeds once the system is back")
    status, again, _ = timed_post(office, path, key)
    assert status == 200 and again == paid, again
    payments = instructions(cluster, proposal_id)
    assert [p["payment_id"] for p in payments] == [paid["payment_id"]], payments
    assert paid["amount_rp"] == TRANCHE_1_RP


def test_concurrent_instructions_from_many_processes_make_exactly_one_payment(cluster: FaultCluster):
    cluster.start("grants")  # a second replica: the instructions are served by two processes
    cluster.wait_ready()
    eventually(lambda: cluster.rpc_consumers("grants") == 2, 60, message="two grants replicas consume RPC")
    office = open_office(cluster)
    proposal_id = office.approved_proposal(2)
    token = cluster.token("bendahara.faults")
    start_at = time.time() + 3
    clients = [subprocess.Popen([sys.executable, "-m", "tests.faults.disburse_at", cluster.base, token, proposal_id,
                                 f"race-instruction-{n}", str(start_at)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
               for n in range(8)]
    answers = [json.loads(client.communicate(timeout=120)[0]) for client in clients]

    paid = [a for a in answers if a["status"] == 200]
    refused = [a for a in answers if a["status"] == 409]
    assert len(paid) == 1, answers
    assert len(refused) == 7 and {a["body"]["error"]["rule"] for a in refused} <= {"tranche.once", "concurrency"}, \
        answers
    payments = instructions(cluster, proposal_id)
    assert [p["payment_id"] for p in payments] == [paid[0]["body"]["payment_id"]], payments
    grant = office.treasurer.read(f"/api/v1/grants/{proposal_id}")
    assert [p["payment_id"] for p in grant["payments"]] == [paid[0]["body"]["payment_id"]]
