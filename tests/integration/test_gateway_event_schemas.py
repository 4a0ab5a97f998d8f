"""GET /api/v1/schemas/{type}/{version}: the JSON Schema of each public event's data, served to anyone (a code
generator, a consumer validating what it receives), and it accepts what the services actually publish."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from tests.integration.test_backbone import register
from tests.integration.test_gateway import Client, GatewaySystem, gateway  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration


def test_each_published_event_validates_against_the_schema_served_for_it(gateway: GatewaySystem):  # noqa: F811
    register(gateway.system, range(3))
    with gateway.system.rpc() as rpc:
        events = rpc.registry.events_after(0, 100)
    anonymous = Client(gateway.base)
    served = {}
    for event in events:
        key = (event["type"], event["version"])
        if key not in served:
            status, body = anonymous.get(f"/api/v1/schemas/{event['type']}/{event['version']}")
            assert status == 200
            served[key] = json.loads(body)
            assert served[key]["$id"] == event["dataschema"]
        Draft202012Validator(served[key]).validate(event["data"])
    assert ("registry.household.registered", 2) in served  # what the registry publishes now: no personal field
    # An older version stays served, as a file as it is: a property named like a KK's is not masked for an anonymous
    # reader.
    status, body = anonymous.get("/api/v1/schemas/registry.household.registered/1")
    assert status == 200 and json.loads(body)["properties"]["kk"]["type"] == "string"


def test_a_version_that_does_not_exist_is_not_found_and_an_unknown_type_refused(gateway: GatewaySystem):  # noqa: F811
    anonymous = Client(gateway.base)
    status, body = anonymous.get("/api/v1/schemas/registry.household.registered/7")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert "[1, 2]" in body["error"]["message"]
    status, body = anonymous.get("/api/v1/schemas/registry.household.vanished/1")
    assert (status, body["error"]["field"]) == (400, "event_type")
