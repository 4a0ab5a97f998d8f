"""Logs carry codes and ids, never a NIK, a KK or a name (issue 15, item 7's second half).

A registry flow through the gateway — households registered, read by KK and by NIK, people searched by name, a
duplicate NIK refused, a member's name corrected, the events applied downstream — and a consumer halted by a bug
whose error names a member, with every service's log written as the services' own LOGGING config writes it (the
same handler and filters, into a buffer instead of stderr)."""

import io
import logging
import logging.config
from urllib.parse import quote, quote_plus

import pytest

from shared.config import load_config, service_config_path
from tests.integration.test_dead_letters import GrantsServiceBeforeTheFix, deploy, grants_registry_status, nuraini
from tests.integration.test_gateway import GatewaySystem
from tests.support.households import household_body
from tests.support.system import eventually


@pytest.fixture
def service_logs():
    """Every line logged in this process while the test runs, through the services' LOGGING config."""
    config = load_config(service_config_path("registry"))["LOGGING"]  # every service's config has the same
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    root = logging.getLogger()
    level = root.level
    # pytest's handlers stay (it adds and removes its own per phase); one that filters (this process's fallback
    # from get_logger) steps aside, so that records reach the services' filters as they would in a service.
    pytests, fallbacks = [h for h in root.handlers if not h.filters], [h for h in root.handlers if h.filters]
    logging.config.dictConfig(config)  # builds the services' handler, as root's only one
    [services_handler] = root.handlers
    root.handlers = [services_handler, *pytests]
    try:
        yield stream
    finally:
        root.removeHandler(services_handler)
        for handler in fallbacks:
            root.addHandler(handler)
        root.setLevel(level)


def applied_downstream(gateway: GatewaySystem) -> bool:
    with gateway.system.rpc() as rpc:
        last = rpc.registry.backbone_status()["last_position"]
        return all(getattr(rpc, service).backbone_status()["consumers"]["registry"]["position"] == last
                   for service in ("grants", "training"))


def test_a_registry_flow_logs_codes_and_ids_and_no_nik_kk_or_name(service_logs, gateway: GatewaySystem):
    operator = gateway.user_client("operator", "18.01", "op.kalianda")
    households = [household_body(number) for number in (701, 702)]
    for body in households:
        operator.ok("POST", "/api/v1/households", body)
    first, head = households[0], households[0]["members"][0]

    operator.ok("GET", f"/api/v1/households/{first['kk']}")
    operator.ok("GET", f"/api/v1/people/{head['nik']}")
    operator.ok("GET", "/api/v1/people", params={"q": head["name"]})
    operator.ok("GET", "/api/v1/households", params={"name": head["name"], "village": first["village_code"]})

    refused = household_body(703)
    status, answer = operator.post("/api/v1/households", {**refused, "members": first["members"]})
    assert status == 409 and answer["error"]["field"] == "nik", answer
    assert operator.get(f"/api/v1/households/{refused['kk']}")[0] == 404  # the refusal recorded nothing

    corrected = "Siti Aminah Rahayu"
    operator.ok("POST", f"/api/v1/households/{first['kk']}/members/{head['nik']}/correct",
                {"changes": {"name": corrected}, "reason": "salah ketik pada formulir"})
    person = operator.ok("GET", f"/api/v1/people/{head['nik']}")
    assert person["name"] == corrected
    eventually(lambda: applied_downstream(gateway), message="grants and training apply the registry's events")

    logs = service_logs.getvalue()
    personal = {corrected, refused["kk"]} | {
        value for body in households for value in
        [body["kk"]] + [member[field] for member in body["members"] for field in ("nik", "name", "birth_date")]}
    written = {form for value in personal for form in (value, quote(value), quote_plus(value))}  # as in a URL too
    leaked = [value for value in sorted(written) if value in logs]
    assert leaked == [], f"in the logs: {leaked}"
    # What the lines do say: the refusal by its codes, each request by its route's pattern, the events' flow.
    assert "(expected) error handling worker <WorkerContext [registry.register_household]" in logs
    assert "Conflict code=conflict field=nik" in logs
    assert "route='/api/v1/households/<kk>/members/<nik>/correct'" in logs and "status=409" in logs
    assert "event='consumer.recovered'" in logs or "event='backbone.started'" in logs


def test_a_consumer_halted_by_a_bug_keeps_the_errors_type_not_its_text(service_logs, system):
    system.start("registry")
    system.import_regions()
    deploy(system, GrantsServiceBeforeTheFix)  # its household handler raises, naming the member
    system.start("training")
    with system.rpc() as rpc:
        rpc.registry.register_household(nuraini(2))
        halt = eventually(lambda: grants_registry_status(system)["halt"])
    assert halt["reason"] == "handler failed: ValueError"  # as in the log: the text names the member
    logs = service_logs.getvalue()
    assert "Nur'aini" not in logs and "Nur\\'aini" not in logs  # as written, and as the key=value line quotes it
    assert "event='consumer.halted'" in logs and "reason='handler failed: ValueError'" in logs
