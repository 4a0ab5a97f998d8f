"""The HTTP contract is strict and truthful (issue 15, items 5 and 6): a JSON route takes JSON only (415), the body is
read only once the credential and the role allow the route (a stranger's large body is not read)."""

from __future__ import annotations

import json
import socket

import pytest

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
