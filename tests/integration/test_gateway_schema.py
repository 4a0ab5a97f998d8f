"""Schemathesis against the gateway's /openapi.json, on real services: generated requests (valid, and invalid on
purpose) to every operation, with a token of a role the operation allows. No answer is a 5xx; every answer has a
documented status, content type and a body that matches its schema; invalid input is refused with a 4xx.

Examples per operation are limited (``BERDAYA_SCHEMATHESIS_EXAMPLES``, default 12 valid + 12 invalid) so that the
run takes a couple of minutes on the 2-core machine.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from services.gateway.routes import ROUTES
from tests.integration.test_gateway import Client, GatewaySystem, gateway  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("BERDAYA_SCHEMATHESIS_EXAMPLES", "12"))
SLOW = {"import_bdt": 2, "import_regions": 4}  # each example runs an import: fewer of them
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance]
NEGATIVE_CHECKS = [*POSITIVE_CHECKS, negative_data_rejection]


def test_every_operation_answers_within_its_schema(gateway: GatewaySystem):  # noqa: F811
    tokens = {}
    for role in sorted({role for r in ROUTES if not r.public for role in r.roles}):
        gateway.add_user(f"schema.{role}", role, "")
        tokens[role] = gateway.token(f"schema.{role}")
    routes = {r.name: r for r in ROUTES}
    status, spec = Client(gateway.base).get("/openapi.json")
    assert status == 200
    schema = schemathesis.openapi.from_dict(spec)
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(ROUTES)
    for operation in operations:
        route = routes[operation.definition.raw["operationId"]]
        headers = {} if route.public else {"Authorization": f"Bearer {tokens[sorted(route.roles)[0]]}"}
        examples = SLOW.get(route.name, EXAMPLES)
        for mode, checks in (("positive", POSITIVE_CHECKS), ("negative", NEGATIVE_CHECKS)):
            strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))
            try:
                exercise(strategy, examples, gateway.base, headers, checks)
            except Exception as failure:  # collect them all: one report for every operation
                failures.append(f"{route.method} {route.path} ({mode}): {failure}"[:3000])
    assert not failures, "\n\n".join(failures)


def exercise(strategy, examples: int, base: str, headers: dict, checks: list) -> None:
    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(base_url=base, headers=headers, checks=checks, timeout=60)

    try:
        run()
    except Unsatisfiable:  # no invalid request exists for an operation without parameters or body
        pass
