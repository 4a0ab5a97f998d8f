"""Masking by need on the real gateway (issue 16, item 6): the same household, KUBE and cohort answered in full to
the operator and the verifier, masked to the treasurer, the facilitator and the province; an idempotent write's
replay answers the same while the gateway's database keeps no NIK, KK or name of it in plain."""

from __future__ import annotations

import json
import re

import psycopg
import pytest

from shared.masking import mask
from tests.integration.test_gateway import (  # noqa: F401  (gateway: the fixture)
    VILLAGE,
    GatewaySystem,
    Staff,
    gateway,
    register_group,
)
from tests.support.households import household_body
from tests.support.system import eventually

pytestmark = pytest.mark.integration


def numbers_in(answer: object) -> set[str]:
    """Every 16-digit number of an answer, wherever it sits."""
    return set(re.findall(r"(?<!\d)\d{16}(?!\d)", json.dumps(answer)))


def test_nik_and_kk_in_full_for_the_operator_and_the_verifier_masked_for_everyone_else(
        gateway: GatewaySystem):  # noqa: F811
    staff = Staff(gateway)
    group_id, households = register_group(staff, 700)
    kk, head = households[0]["kk"], households[0]["members"][0]
    cohort = staff.facilitator.ok("POST", "/api/v1/cohorts", {"village_code": VILLAGE, "facilitator": "Rina"})
    person = staff.operator.ok("GET", f"/api/v1/people/{head['nik']}")["person_id"]
    eventually(lambda: staff.facilitator.post(f"/api/v1/cohorts/{cohort['cohort_id']}/participants",
                                              {"person_id": person})[0] == 200, timeout=30,
               message="training learns of the household")
    reads = {
        "household": f"/api/v1/households/{kk}", "history": f"/api/v1/households/{kk}/history",
        "person": f"/api/v1/people/{head['nik']}", "group": f"/api/v1/groups/{group_id}",
        "cohort": f"/api/v1/cohorts/{cohort['cohort_id']}",
    }
    everyone = {name: getattr(staff, name) for name in ("operator", "verifier", "treasurer", "facilitator",
                                                        "province")}
    answers = {(role, what): client.ok("GET", path) for role, client in everyone.items()
               for what, path in reads.items()}
    registered = {kk, head["nik"]} | {h["kk"] for h in households} | {m["nik"] for h in households
                                                                      for m in h["members"]}
    for what in reads:
        full = answers[("operator", what)]
        assert numbers_in(full) and numbers_in(full) <= registered, (what, full)
        assert answers[("verifier", what)] == full
        for role in ("treasurer", "facilitator", "province"):
            if (role, what) == ("treasurer", "cohort"):
                continue  # the registry tells a treasurer no names (below)
            masked = answers[(role, what)]
            assert not numbers_in(masked), (role, what, masked)
            assert json.dumps(masked, ensure_ascii=False).count("•") >= 6, (role, what)
    assert answers[("treasurer", "household")]["kk"] == mask(kk)
    assert answers[("province", "group")]["roles"]["ketua"] == mask(head["nik"])
    participants = answers[("facilitator", "cohort")]["participants"]
    assert [(p["name"], p["nik"]) for p in participants] == [(head["name"], mask(head["nik"]))]
    assert [(p["name"], p["nik"]) for p in answers[("treasurer", "cohort")]["participants"]] == [(None, None)]
    # Training's own answer about a participant holds their id, no number at all, for every role.
    for client in everyone.values():
        assert not numbers_in(client.ok("GET", f"/api/v1/participants/{person}"))
    # A search by full NIK still finds the person for a role that may search; the answer is masked.
    found = staff.province.ok("GET", "/api/v1/people", params={"q": head["nik"]})["items"]
    assert [(p["name"], p["nik"], p["kk"]) for p in found] == [(head["name"], mask(head["nik"]), mask(kk))]


def test_an_idempotent_replay_answers_the_same_and_the_gateway_keeps_no_personal_data_in_plain(
        gateway: GatewaySystem):  # noqa: F811
    operator = gateway.user_client("operator", "18.01", "op.sealed")
    body = household_body(760)
    joining = {"nik": "1801064708950003", "name": "Nur'aini Sealed", "sex": "P", "birth_date": "1995-08-07",
               "relation": "Menantu"}
    register = {"Idempotency-Key": "sealed-register-0001"}
    add = {"Idempotency-Key": "sealed-add-member-0001"}
    created = operator.ok("POST", "/api/v1/households", body, headers=register)
    added = operator.ok("POST", f"/api/v1/households/{body['kk']}/members",
                        {"member": joining, "reason": "marriage"}, headers=add)
    assert joining["name"] in json.dumps(added)  # the answer holds names, NIKs and the KK: what is kept of it?
    assert operator.ok("POST", "/api/v1/households", body, headers=register) == created
    assert operator.ok("POST", f"/api/v1/households/{body['kk']}/members",
                       {"member": joining, "reason": "marriage"}, headers=add) == added

    personal = {body["kk"], joining["nik"], joining["name"], *(m["nik"] for m in body["members"]),
                *(m["name"] for m in body["members"])}
    with psycopg.connect(gateway.database_url) as conn:
        rows = conn.execute("SELECT username, key, request_hash, status, response FROM idempotency_keys "
                            "WHERE username = 'op.sealed'").fetchall()
    assert len(rows) == 2 and all(row[3] in (200, 201) for row in rows)
    kept = json.dumps([list(map(str, row)) for row in rows], ensure_ascii=False)
    assert not [value for value in personal if value in kept], kept

