"""The authorization matrix against the real gateway and services: every route × every role × a user of the
resource's region and one of another regency, with real resources (households, a group, an approved grant with a
payment, a cohort with a session) — generated from the route table, with the example requests of the unit matrix.

Expected: a role the route does not allow → 403 ``forbidden``; a user whose region does not cover a looked-up
resource → 404 ``not_found``, as if it did not exist; one whose request names a region outside their own (a list's
filter, a household's village) → 403 ``out_of_region``; an allowed role in its region is never refused by the
gateway and never gets a 5xx (the domain may still answer 400/404/409 — e.g. a transition the state does not allow).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest

from services.gateway.core import EachInService, Lookup, National, Route, Unscoped
from services.gateway.routes import ROUTES
from shared.ids import jakarta_today
from shared.vocabulary import ROLES
from tests.integration.test_gateway import (  # noqa: F401  (gateway: the fixture)
    VILLAGE,
    GatewaySystem,
    Staff,
    approved_proposal,
    gateway,
    register_group,
    set_budget,
)
from tests.support.system import eventually
from tests.unit.test_gateway_authz import EXAMPLES, refused
from tests.unit.test_gateway_authz import UUID as PERSON

pytestmark = pytest.mark.integration

OWN, OTHER = "18.01", "18.02"


def resources(gw: GatewaySystem) -> dict[str, str]:
    staff = Staff(gw)
    set_budget(staff)
    group_id, households = register_group(staff, 900)
    proposal_id = approved_proposal(staff, group_id)
    payment = staff.treasurer.ok("POST", f"/api/v1/grants/{proposal_id}/tranches/1/disburse",
                                 headers={"Idempotency-Key": f"matrix-{uuid.uuid4()}"})
    nik = households[0]["members"][0]["nik"]
    person_id = staff.operator.ok("GET", f"/api/v1/people/{nik}")["person_id"]
    cohorts = eventually(lambda: staff.facilitator.ok("GET", "/api/v1/cohorts", params={"region": VILLAGE})["items"],
                         timeout=60)
    cohort_id = cohorts[0]["cohort_id"]
    eventually(lambda: staff.auditor.get(f"/api/v1/participants/{person_id}")[0] == 200, timeout=60)
    session_id = staff.facilitator.ok("POST", f"/api/v1/cohorts/{cohort_id}/sessions", {
        "module": "keuangan", "session_date": (jakarta_today() - timedelta(days=3)).isoformat(),
        "place": "Balai Desa"})["session_id"]
    grievance_id = staff.operator.ok("POST", "/api/v1/grievances", {
        "village_code": VILLAGE, "category": "payment_not_received", "description": "Tahap I belum diterima",
        "complainant_name": "Siti", "group_id": group_id})["grievance_id"]
    return {"kk": households[0]["kk"], "nik": nik, "person_id": person_id, "group_id": group_id,
            "proposal_id": proposal_id, "grievance_id": grievance_id,
            "payment_id": payment["payment_id"], "cohort_id": cohort_id, "session_id": session_id, "n": "1",
            "fiscal_year": "2026", "source": "APBN", "username": "op.kalianda",
            "request_id": str(uuid.uuid4()),  # no such erasure request: approving it is answered 404
            "change_id": str(uuid.uuid4()),  # no such held DTSEN change: deciding it is answered 404
            "digest": hashlib.sha256(EXAMPLES["attach_document"]["raw"]).hexdigest()}  # the file attach_document sends


def send(client, route: Route, ids: dict[str, str]) -> tuple[int, dict]:
    example = dict(EXAMPLES[route.name])
    if route.name == "draft_proposal":
        example["body"] = {**example["body"], "group_id": ids["group_id"]}
    if route.tag == "dci":  # the client names itself as it logged in (its own region's, below)
        body = example["body"]
        example["body"] = {**body, "header": {**body["header"], "sender_id": f"m.dci_client.{OWN}"}}
    path = route.path
    for name in route.path_params:
        path = path.replace("{" + name + "}", ids[name])
    headers = {**example.get("headers", {})}
    if "idempotency-key" in headers:
        headers["idempotency-key"] = f"matrix-{uuid.uuid4()}"
    data = example.get("raw") or (json.dumps(example["body"]) if "body" in example else None)
    if isinstance(data, str):  # a person the example names by a made-up id: the scenario's participant
        data = data.replace(PERSON, ids["person_id"])
    if "body" in example:
        headers["Content-Type"] = "application/json"
    if "raw" in example:
        headers["Content-Type"] = route.raw_body
        data = example["raw"].replace(b"1801060101200001", ids["kk"].encode())
    return client.request(route.method, path, data=data, params=example.get("query"), headers=headers)


def test_the_authorization_matrix_holds_on_the_real_gateway(gateway: GatewaySystem):  # noqa: F811
    ids = resources(gateway)
    clients = {(role, region): gateway.user_client(role, region, f"m.{role}.{region or 'pusat'}")
               for role in ROLES for region in ("", OWN, OTHER)}
    protected = [r for r in ROUTES if not r.public]
    wrong = []
    # Refusals first: they change nothing, so every route still finds its resource.
    for route in protected:
        own = "" if isinstance(route.scope, National) else OWN
        for role in ROLES:
            for region in (own, OTHER):
                status, answer = send(clients[(role, region)], route, ids)
                if role not in route.roles:
                    want = refused(route, 403, "forbidden")
                elif region == OTHER and isinstance(route.scope, Lookup):
                    want = refused(route, 404, "not_found")
                elif region == OTHER and not isinstance(route.scope, Unscoped | EachInService):
                    want = refused(route, 403, "out_of_region")
                else:
                    continue
                if (status, answer["error"]["code"]) != want:
                    wrong.append(f"{route.name} as {role}@{region!r}: {status} {answer}, expected {want}")
    # Then each allowed role in its own region, in the table's order (the writes change state as they go).
    for route in protected:
        own = "" if isinstance(route.scope, National) else OWN
        for role in sorted(route.roles):
            status, answer = send(clients[(role, own)], route, ids)
            code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
            if status >= 500 or status == 401 or code in ("forbidden", "out_of_region"):
                wrong.append(f"{route.name} as {role}@{own!r}: {status} {answer}")
    assert not wrong, "\n".join(wrong)
