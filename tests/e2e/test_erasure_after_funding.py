"""Issue 16 item 7, after an erasure: one member of a funded KUBE's household erased, their household staying.

The scenario is tests/e2e/test_http.py's (one women's KUBE from registration to tranche two, every service a
`nameko run` process, through the gateway's HTTP API), then tranche two's LPJ accepted — the grant accounted for, no
legal duty holds its people any more. One admin asks for the erasure of a representative's son, another approves.
Afterwards a `pg_dump` of the registry's database holds neither his NIK nor his name in any form, `berdaya audit
verify` is ok, the money totals are those of before, `berdaya people export` of his NIK answers that nothing is held,
and his mother — the group's representative — still reads as before.
"""

from __future__ import annotations

import json

import pytest

from shared.config import SERVICES
from shared.ids import jakarta_today
from tests.e2e.test_http import group_to_tranche_two, http  # noqa: F401  (http: the fixture)
from tests.integration.test_access_log import run_cli, said
from tests.integration.test_dead_letters import berdaya
from tests.support.dumps import pg_dump
from tests.support.http_system import HttpSystem
from tests.support.personal_data import found_in_dump

pytestmark = pytest.mark.e2e


def test_a_funded_groups_member_erased_leaves_no_trace_and_the_money_and_audit_stand(http: HttpSystem):  # noqa: F811
    households = group_to_tranche_two(http)
    operator, operator_2 = (http.client(name, "operator", "18.01") for name in ("op.lpj", "op2.lpj"))
    (proposal,) = operator.ok("GET", "/api/v1/proposals")["items"]
    grant = f"/api/v1/grants/{proposal['proposal_id']}"
    operator.ok("POST", f"{grant}/tranches/2/lpj", {"lines": [
        {"description": "Bahan kain", "receipt_number": "INV-002", "receipt_date": jakarta_today().isoformat(),
         "amount_rp": 4_200_000}]})
    assert operator_2.ok("POST", f"{grant}/tranches/2/lpj/review", {"accept": True})["tranches"][1]["lpj"] == "accepted"

    mother, son = households[0]["members"]
    with http.system.rpc() as rpc:
        money = rpc.grants.totals()
    admin, admin_2 = http.client("admin.a", "admin", "18.01"), http.client("admin.b", "admin", "18.01")
    asked = admin.ok("POST", f"/api/v1/people/{son['nik']}/erasure", {"reason": "permintaan subjek data"})
    assert asked["person_only"] is True
    admin_2.ok("POST", f"/api/v1/erasures/{asked['request_id']}/approve")

    assert found_in_dump(pg_dump(http.system.database("registry")), {son["nik"], son["name"]}) == set()
    gone = run_cli(http.system, "people", "export", son["nik"])
    assert gone.exit_code == 2 and "no person with this NIK" in said(gone)
    kept = operator.ok("GET", f"/api/v1/people/{mother['nik']}")
    assert kept["name"] == mother["name"]
    with http.system.rpc() as rpc:
        assert rpc.grants.totals() == money
    verified = berdaya(http.system, "audit", "verify", "--json",
                       **{f"{s.upper()}_AUDIT_DATABASE_URL": http.system.database_url(s) for s in SERVICES})
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["problems"] == []
