"""`berdaya people erase` and `erase-approve` as an admin runs them against a running registry (issue 16 item 3):
one admin asks, the same admin cannot approve, another does; afterwards `people export` answers that nothing is
held. Real PostgreSQL and RabbitMQ; the registry, grants and training services running."""

from __future__ import annotations

import json

import pytest

from shared.config import SERVICES
from tests.integration.test_access_log import run_cli, said
from tests.support.households import household
from tests.support.system import System

pytestmark = pytest.mark.integration


def test_an_admin_asks_another_approves_and_the_export_then_finds_nothing(system: System):
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    payload = household(16_001)
    with system.rpc() as rpc:
        rpc.registry.register_household(payload)
    nik = payload["members"][0]["nik"]

    alone = run_cli(system, "people", "erase", nik, "--reason", "permintaan subjek data", "--by", "admin.a")
    assert alone.exit_code == 2 and "other members" in said(alone)
    asked = run_cli(system, "people", "erase", nik, "--household", "--reason", "permintaan subjek data",
                    "--by", "admin.a", "--json")
    assert asked.exit_code == 0, asked.stderr
    request_id = json.loads(asked.stdout)["request_id"]
    own = run_cli(system, "people", "erase-approve", request_id, "--by", "admin.a")
    assert own.exit_code == 2 and "another admin must approve" in said(own)
    assert run_cli(system, "people", "export", nik, "--json").exit_code == 0  # still held

    approved = run_cli(system, "people", "erase-approve", request_id, "--by", "admin.b", "--json")
    assert approved.exit_code == 0, approved.stderr
    assert json.loads(approved.stdout)["approved_by"] == "admin.b"
    gone = run_cli(system, "people", "export", nik)
    assert gone.exit_code == 2 and "no person with this NIK" in said(gone)
