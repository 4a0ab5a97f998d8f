"""The HTTP contract is strict and truthful (issue 15, items 5 and 6): a JSON route takes JSON only (415), the body is
read only once the credential and the role allow the route (a stranger's large body is not read), a known path
answers another method with 405 and ``Allow``, and the document says all of it."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
import requests

from services.gateway.openapi import document
from services.gateway.routes import ROUTES
from tests.integration.test_gateway import Client, GatewaySystem
from tests.support.households import household_body

pytestmark = pytest.mark.integration

API = "/api/v1"
FIVE_MB = 5_000_000


def test_a_json_route_refuses_another_media_type_and_registers_nothing(gateway: GatewaySystem):
    operator = gateway.user_client("operator", "18.01")
    body = household_body(1)
    for content_type in ("text/csv", "application/x-www-form-urlencoded", "application/json; charset=latin-1",
                         None):
        headers = {"Content-Type": content_type} if content_type else {}
        status, answer = operator.post(f"{API}/households", data=json.dumps(body).encode(), headers=headers)
        assert status == 415, (content_type, answer)
        assert answer["error"]["code"] == "unsupported_media_type"
        assert answer["error"]["rule"] == "content_type.unsupported"
        assert operator.get(f"{API}/households/{body['kk']}")[0] == 404, content_type  # nothing registered

    # JSON as JSON, with or without its charset, is taken
    status, answer = operator.post(f"{API}/households", data=json.dumps(body).encode(),
                                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert status == 201, answer
    assert operator.get(f"{API}/households/{body['kk']}")[0] == 200
    # a CSV route takes CSV only; a write without a body needs no media type
    assert operator.post(f"{API}/imports/bdt", {"rows": []})[0] == 415
    assert gateway.client().post(f"{API}/auth/token", data=b"username=x&password=y",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    status, answer = operator.post(f"{API}/proposals/{'0' * 8}-0000-4000-8000-{'0' * 12}/submit")
    assert status == 404, answer  # past the body: there is no such proposal


def test_a_large_body_is_refused_after_authentication_not_before(gateway: GatewaySystem):
    body = b"{" + b" " * FIVE_MB + b"}"
    json_type = {"Content-Type": "application/json"}
    status, answer = Client(gateway.base).post(f"{API}/households", data=body, headers=json_type)
    assert status == 401, answer  # not 413: who asks is known before the body matters
    auditor = gateway.user_client("auditor", "")
    assert auditor.post(f"{API}/households", data=body, headers=json_type)[0] == 403  # nor for a role that may not
    operator = gateway.user_client("operator", "18.01")
    status, answer = operator.post(f"{API}/households", data=body, headers=json_type)
    assert status == 413 and answer["error"]["code"] == "too_large", answer


@pytest.mark.parametrize("credential,expected", [(None, 401), ("auditor", 403)])
def test_the_body_is_not_read_before_the_user_may_call_the_route(gateway: GatewaySystem, credential, expected):
    """The request announces 5 MB (within the import's 50 MB) and sends none of it: the answer comes all the same,
    so the gateway did not wait for the body."""
    authorization = ""
    if credential:
        authorization = f"Authorization: Bearer {gateway.token(gateway.add_user('bdt.auditor', credential, ''))}\r\n"
    host, port = "127.0.0.1", gateway.port
    with socket.create_connection((host, port), timeout=20) as connection:
        connection.sendall((f"POST {API}/imports/bdt HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: text/csv\r\n"
                            f"Content-Length: {FIVE_MB}\r\n{authorization}\r\n").encode())
        status_line = connection.makefile("rb").readline().decode()
    assert status_line.split()[1] == str(expected), status_line


def test_a_known_path_answers_another_method_with_405_and_allow_and_a_payment_needs_its_key(
        gateway: GatewaySystem):
    spec = document()
    response = requests.delete(f"{gateway.base}{API}/households", timeout=30)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert set(spec["paths"][f"{API}/households"]) == {"get", "post"}
    assert spec["paths"][f"{API}/households"]["get"]["responses"]["405"]["headers"]["Allow"]["required"]

    # the Idempotency-Key a payment requires is asked for before anything is looked up, as the document says
    treasurer = gateway.user_client("treasurer", "18.01")
    path = f"{API}/grants/{uuid.uuid4()}/tranches/1/disburse"
    status, answer = treasurer.post(path)
    assert status == 400 and answer["error"]["rule"] == "idempotency_key.required", answer
    assert treasurer.post(path, headers={"Idempotency-Key": f"key-{uuid.uuid4()}"})[0] == 404  # no such grant
    key = [p for p in spec["paths"][f"{API}/grants/{{proposal_id}}/tranches/{{n}}/disburse"]["post"]["parameters"]
           if p["name"] == "Idempotency-Key"]
    assert key[0]["required"] and key[0]["in"] == "header"


def test_the_document_names_every_status_and_required_header_the_pipeline_answers():
    spec = document()
    for route in ROUTES:
        operation = spec["paths"][route.path][route.method.lower()]
        statuses = set(operation["responses"])
        assert {"400", "405"} <= statuses, route.name
        if not route.public:
            assert {"401", "403", "404", "409", "503"} <= statuses, route.name
        if route.write:
            assert {"413", "415"} <= statuses, route.name
        key = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert bool(key and key[0]["required"]) == route.idempotency_key, route.name
    token = spec["paths"][f"{API}/auth/token"]["post"]["responses"]
    assert token["429"]["headers"]["Retry-After"]["required"]
    payments = {r.name for r in ROUTES if r.idempotency_key}
    assert {"disburse_tranche", "deliver_tranche"} <= payments


def test_every_list_is_paged_in_one_envelope_or_is_one_bounded_array():
    """A list that pages (``page`` and ``size`` in its query) answers the one envelope (items, page, size, total);
    every other list is a bare array: never a mix within one route, and never an envelope without paging."""
    spec = document()
    for route in ROUTES:
        if route.method != "GET":
            continue
        schema = spec["paths"][route.path]["get"]["responses"]["200"].get("content", {}).get("application/json",
                                                                                             {}).get("schema", {})
        ref = schema.get("$ref", "")
        paged = bool(route.query and {"page", "size"} <= set(route.query.model_fields))
        envelope = ref.split("/")[-1].startswith("Page_")
        assert paged == envelope, route.name
        if envelope:
            assert set(spec["components"]["schemas"][ref.split("/")[-1]]["required"]) == {"items", "page", "size",
                                                                                           "total"}
