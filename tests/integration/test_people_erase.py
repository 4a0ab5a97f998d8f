"""`berdaya people erase` and `erase-approve` as an admin runs them against a running registry (issue 16 item 3):
one admin asks, the same admin cannot approve, another does; afterwards `people export` answers that nothing is
held — of a whole household, or of one member while the others stay. Real PostgreSQL and RabbitMQ; the registry,
grants and training services running."""

from __future__ import annotations

import json

import pytest

from shared.config import SERVICES
from tests.integration.test_access_log import run_cli, said
from tests.integration.test_dead_letters import berdaya
from tests.support.households import household, person_id
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


def erase(system: System, nik: str, *options: str) -> str:
    """`berdaya people erase` by one admin, `erase-approve` by another: the approved request's id."""
    asked = run_cli(system, "people", "erase", nik, *options, "--reason", "permintaan subjek data", "--by", "admin.a",
                    "--json")
    assert asked.exit_code == 0, asked.stderr
    request_id = json.loads(asked.stdout)["request_id"]
    approved = run_cli(system, "people", "erase-approve", request_id, "--by", "admin.b", "--json")
    assert approved.exit_code == 0, approved.stderr
    assert json.loads(approved.stdout)["approved_by"] == "admin.b"
    return request_id


def test_an_admin_asks_another_approves_and_the_export_then_finds_nothing(system: System):
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    payload = household(16_001)
    with system.rpc() as rpc:
        rpc.registry.register_household(payload)
    nik = payload["members"][0]["nik"]

    head_alone = run_cli(system, "people", "erase", nik, "--reason", "permintaan subjek data", "--by", "admin.a")
    assert head_alone.exit_code == 2 and "head of a household that stays" in said(head_alone)
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


def test_one_member_is_erased_the_household_stays_and_the_audit_verifies(system: System):
    """`berdaya people erase NIK` without --household: the son alone, his mother and their household staying; every
    service forgets him, the money totals do not move and `berdaya audit verify` is ok."""
    for service in SERVICES:
        system.start(service)
    system.import_regions()
    payload = household(16_002)
    mother, son = payload["members"]
    with system.rpc() as rpc:
        rpc.registry.register_household(payload)
        son_id = person_id(rpc, son["nik"])
        eventually(lambda: rpc.training.individual(son_id) is not None)
        money = rpc.grants.totals()

    erase(system, son["nik"])
    gone = run_cli(system, "people", "export", son["nik"])
    assert gone.exit_code == 2 and "no person with this NIK" in said(gone)
    kept = run_cli(system, "people", "export", mother["nik"], "--json")
    assert kept.exit_code == 0, kept.stderr
    assert json.loads(kept.stdout)["registry"]["person"]["name"] == mother["name"]
    with system.rpc() as rpc:
        eventually(lambda: rpc.training.individual(son_id) is None)
        assert rpc.grants.totals() == money
    verified = berdaya(system, "audit", "verify", "--json",
                       **{f"{s.upper()}_AUDIT_DATABASE_URL": system.database_url(s) for s in SERVICES})
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["problems"] == []
