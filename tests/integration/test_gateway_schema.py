"""Schemathesis against the gateway's /openapi.json, on real services: generated requests (valid, and invalid on
purpose) to every operation, with a token of a role the operation allows. No answer is a 5xx; every answer has a
documented status, content type, headers (those the document marks required are there, each matches its schema)
and a body that matches its schema; invalid input is refused with a 4xx. For each operation, one valid request is
also sent as the generator never sends it — with a method its path does not take (405 with ``Allow``) and, when it
takes a body, that body as another media type (415) — and its answer checked the same way.

The test sends the token itself, so schemathesis does not generate the ``Authorization`` header (it would drop it
in a "negative" case that this test's header then restores); unauthenticated requests are tests/security's.

Examples per operation are limited (``BERDAYA_SCHEMATHESIS_EXAMPLES``, default 12 valid + 12 invalid) so that the
run takes a couple of minutes on the 2-core machine.
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.gateway.core import Route
from services.gateway.routes import ROUTES
from tests.integration.test_gateway import Client, GatewaySystem, gateway  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("BERDAYA_SCHEMATHESIS_EXAMPLES", "12"))
SLOW = {"import_bdt": 2, "import_regions": 4}  # each example runs an import: fewer of them
POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_headers_conformance, response_schema_conformance]
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
    schema.config.generation.update(with_security_parameters=False)
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
                exercise(strategy, examples, gateway.base, headers, checks, route if mode == "positive" else None)
            except Exception as failure:  # collect them all: one report for every operation
                failures.append(f"{route.method} {route.path} ({mode}): {failure}"[:3000])
    assert not failures, "\n\n".join(failures)


def exercise(strategy, examples: int, base: str, headers: dict, checks: list, refusals_of: Route | None) -> None:
    """Run the generated cases; with ``refusals_of``, the first valid one also in the shapes the generator never
    sends (:func:`answered_as_documented`)."""
    pending = [refusals_of] if refusals_of else []

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(base_url=base, headers=headers, checks=checks, timeout=60)
        if pending:
            answered_as_documented(case, pending[0], base, headers, checks)
            pending.clear()  # once it holds (a failure fails again when hypothesis replays it)

    try:
        run()
    except Unsatisfiable:  # no invalid request exists for an operation without parameters or body
        pass


def answered_as_documented(case, route: Route, base: str, headers: dict, checks: list) -> None:
    """A valid request as the generator never sends it, answered with the status and headers the document gives:
    its path with a method no route takes (405 with Allow), and its body as another media type (415)."""
    url, headers = base + case.formatted_path, {**(case.headers or {}), **headers}
    refused = [(405, requests.request("DELETE", url, headers=headers, timeout=60))]  # no route deletes
    if route.request_media_type is not None:
        refused.append((415, requests.request(case.method, url, params=case.query, data=b"{}", timeout=60,
                                              headers={**headers, "Content-Type": "text/plain"})))
    for status, response in refused:
        assert response.status_code == status, (status, response.status_code, response.text[:300])
        case.validate_response(response, checks=checks)
