"""An RPC with a made-up actor is refused (issue 15, item 2). Before, a command's actor was plain data: anyone who
could make an RPC set a budget ceiling as "the ministry", and registry and training took even a facilitator's
household registration. Now the gateway (or the operators' CLI) signs the actor for each call
(shared/actor_assertion.py), every service verifies it at its edge, and registry and training check its role and
region in their own domain, as grants does."""

from __future__ import annotations

import io
import time

import pytest
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcProxy

from services.gateway.service import GatewayService
from services.registry.service import RegistryService
from services.registry.synth import write_synthetic_bdt
from shared.actor import Actor
from shared.actor_assertion import ActorSigner, new_actor_key_environment
from shared.ed25519 import KeyConfigError, PrivateKey, new_private_key
from shared.regions import builtin_lampung_selatan
from tests.integration.test_gateway import Client, GatewaySystem, free_port
from tests.integration.test_grants_training import refusal
from tests.integration.test_registry import eligible_households
from tests.support.households import actor, household, household_body, person_id, reader
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

VILLAGE = "18.01.06.2001"  # Kalianda, Lampung Selatan (18.01)
MINISTRY = Actor(user="kemensos.pusat", role="ministry", region="")
CEILING = {"fiscal_year": 2026, "source": "APBN", "ceiling_rp": 900_000_000_000}


@pytest.fixture
def running(system: System) -> System:
    for service in ("registry", "grants", "training"):
        system.start(service)
    system.import_regions()
    return system


def unsigned(system: System) -> dict:
    return MINISTRY.on_the_wire()


def unknown_key(system: System) -> dict:
    return ActorSigner("gateway", PrivateKey.parse(new_private_key("test1"), "a stolen name", "")).sign(MINISTRY)


def unknown_issuer(system: System) -> dict:
    return ActorSigner("attacker", PrivateKey.parse(new_private_key("a1"), "the attacker's key", "")).sign(MINISTRY)


def altered_to_ministry(system: System) -> dict:
    operator = Actor(user="op.kalianda", role="operator", region="18.01")
    return {**system.actor_signer("gateway").sign(operator), "role": "ministry", "region": ""}


def expired(system: System) -> dict:
    return system.actor_signer("gateway").sign(MINISTRY, now=time.time() - 3600)


@pytest.mark.parametrize("made_up", [unsigned, unknown_key, unknown_issuer, altered_to_ministry, expired])
def test_an_rpc_with_a_made_up_actor_is_refused_and_changes_nothing(running: System, made_up):
    # what anyone on the broker can send: no signing proxy, the actor as they write it
    with ClusterRpcProxy({"AMQP_URI": running.amqp_uri}, timeout=30) as raw:
        before = raw.grants.budgets(2026)
        error = refusal(lambda: raw.grants.set_budget_ceiling({**CEILING, "actor": made_up(running)}))
        assert (error.code, error.rule, error.details["field"]) == ("rule_violated", "actor.unverified", "actor")
        assert raw.grants.budgets(2026) == before == []
        error = refusal(lambda: raw.registry.register_household({**household(1, VILLAGE), "actor": made_up(running)}))
        assert error.rule == "actor.unverified"
        # a read of personal data is verified as a command is: refused, and nobody's read is logged
        error = refusal(lambda: raw.registry.person({"actor": made_up(running), "purpose": "rpc.tests"},
                                                    household(1)["members"][0]["nik"]))
        assert error.rule == "actor.unverified"
        assert running.scalar("registry", "SELECT count(*) FROM access_log") == 0
    with running.rpc() as rpc:
        assert rpc.registry.household(reader(), household(1)["kk"]) is None


@pytest.mark.parametrize("made_up", [unsigned, altered_to_ministry, expired])
def test_an_import_batch_with_a_made_up_actor_is_refused_whole(running: System, made_up):
    # the batch's one actor stands for every household in it: verified once, and nothing imported without it
    listed = [{k: v for k, v in household(number, VILLAGE).items() if k != "actor"} for number in (1, 2)]
    with ClusterRpcProxy({"AMQP_URI": running.amqp_uri}, timeout=30) as raw:
        error = refusal(lambda: raw.registry.import_households({"actor": made_up(running), "households": listed}))
        assert (error.rule, error.details["field"]) == ("actor.unverified", "actor")
    with running.rpc() as rpc:
        assert [rpc.registry.household(reader(), h["kk"]) for h in listed] == [None, None]
    assert running.scalar("registry", "SELECT count(*) FROM households") == 0


def test_a_signed_actor_is_accepted_by_every_service(running: System):
    with ClusterRpcProxy({"AMQP_URI": running.amqp_uri}, timeout=30) as raw:
        for issuer in ("gateway", "operator"):
            raw.grants.set_budget_ceiling({**CEILING, "ceiling_rp": 5_000_000,
                                           "actor": running.actor_signer(issuer).sign(MINISTRY)})
        assert [b["ceiling_rp"] for b in raw.grants.budgets(2026)] == [5_000_000]


def test_registry_refuses_a_signed_actor_whose_role_or_region_does_not_allow_the_command(running: System):
    with running.rpc() as rpc:
        facilitator = actor("fasilitator.rina", "facilitator")
        error = refusal(lambda: rpc.registry.register_household({**household(2, VILLAGE), "actor": facilitator}))
        assert error.rule == "role.forbidden"
        assert rpc.registry.household(reader(), household(2)["kk"]) is None
        lamteng = actor("operator.lamteng", "operator", "18.02")  # Lampung Tengah: not Kalianda's
        error = refusal(lambda: rpc.registry.register_household({**household(3, VILLAGE), "actor": lamteng}))
        assert error.rule == "region.scope"
        assert rpc.registry.household(reader(), household(3)["kk"]) is None

        kk = household(4)["kk"]
        rpc.registry.register_household(household(4, VILLAGE))  # by an operator of Lampung Selatan
        before = rpc.registry.household(reader(), kk)
        for who, rule in ((lamteng, "region.scope"), (actor("bendahara.lamsel", "treasurer"), "role.forbidden")):
            error = refusal(lambda who=who: rpc.registry.change_decile({"kk": kk, "decile": 9, "actor": who}))
            assert error.rule == rule
        renamed = [{"code": "18.01", "name": "KABUPATEN LAMPUNG ELSEWHERE", "level": 2}]
        assert refusal(lambda: rpc.registry.import_regions({"rows": renamed, "source": "forged", "actor": actor(
            "operator.lamsel")})).rule == "role.forbidden"
        assert [row["name"] for row in rpc.registry.region_rows() if row["code"] == "18.01"] != [renamed[0]["name"]]
        assert rpc.registry.household(reader(), kk) == before


def test_training_refuses_a_signed_actor_whose_role_or_region_does_not_allow_the_command(running: System):
    with running.rpc() as rpc:
        [member] = eligible_households(rpc, 1, VILLAGE, start=900)
        person = person_id(rpc, member["representative_nik"])  # training knows the registry's id only
        eventually(lambda: rpc.training.individual(person))
        treasurer = actor("bendahara.lamsel", "treasurer")
        error = refusal(lambda: rpc.training.open_cohort({"village_code": VILLAGE, "facilitator": "rina",
                                                          "actor": treasurer}))
        assert error.rule == "role.forbidden"
        assert rpc.training.cohorts(village_code=VILLAGE)["items"] == []

        cohort_id = rpc.training.open_cohort({"village_code": VILLAGE, "facilitator": "fasilitator.rina",
                                              "actor": actor("kasi.pemberdayaan")})
        lamteng = actor("fasilitator.lamteng", "facilitator", "18.02")
        assert refusal(lambda: rpc.training.enrol({"cohort_id": cohort_id, "person_id": person,
                                                   "actor": lamteng})).rule == "region.scope"
        rpc.training.enrol({"cohort_id": cohort_id, "person_id": person, "actor": actor("kasi")})
        session = {"cohort_id": cohort_id, "module": "keuangan", "session_date": "2026-01-05", "place": "Balai Desa"}
        before = rpc.training.cohort(cohort_id)
        for who, rule in ((actor("kasi"), "role.forbidden"), (lamteng, "region.scope")):
            assert refusal(lambda who=who: rpc.training.schedule_session({**session, "actor": who})).rule == rule
        assert rpc.training.cohort(cohort_id) == before

        session_id = rpc.training.schedule_session({**session, "actor": actor("fasilitator.rina", "facilitator")})
        before = rpc.training.cohort(cohort_id)
        attend = {"cohort_id": cohort_id, "session_id": session_id, "marks": {person: "present"}}
        for who, rule in ((actor("kasi"), "role.forbidden"), (lamteng, "region.scope")):
            assert refusal(lambda who=who: rpc.training.record_attendance({**attend, "actor": who})).rule == rule
        assert rpc.training.cohort(cohort_id) == before


def test_a_service_without_the_actors_public_keys_does_not_start(system: System):
    config = system.config("registry")
    operator_only = ",".join(entry for entry in config["ACTOR_PUBLIC_KEYS"].split(",")
                             if entry.startswith("operator:"))
    for broken in ({**config, "ACTOR_PUBLIC_KEYS": ""}, {**config, "ACTOR_PUBLIC_KEYS": operator_only}):
        container = ServiceContainer(RegistryService, broken)
        with pytest.raises(KeyConfigError, match="ACTOR_PUBLIC_KEYS of registry"):
            container.start()
        container.kill()


def test_a_gateway_without_its_actor_signing_key_does_not_start(system: System):
    gateway = GatewaySystem(system, ACTOR_SIGNING_KEY="")
    container = ServiceContainer(GatewayService, gateway.config)
    try:
        with pytest.raises(KeyConfigError, match="ACTOR_SIGNING_KEY of the gateway is not set"):
            container.start()
    finally:
        container.kill()


def test_a_gateway_whose_key_the_services_do_not_know_acts_for_nobody(gateway: GatewaySystem):
    """The API works with the installation's gateway key; a gateway with another key (another installation's, or
    one an attacker started with the right JWT secret) is refused by every service, whoever its users are."""
    operator = gateway.add_user("op.kalianda", "operator", "18.01")
    status, answer = gateway.client(operator).post("/api/v1/households", household_body(5))
    assert status == 201, answer
    port = free_port()
    foreign = ServiceContainer(GatewayService, {**gateway.config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                                "ACTOR_SIGNING_KEY": new_actor_key_environment("x")[
                                                    "GATEWAY_ACTOR_SIGNING_KEY"]})
    foreign.start()
    try:
        status, answer = Client(f"http://127.0.0.1:{port}", gateway.token(operator)).post(
            "/api/v1/households", household_body(6))
        assert (status, answer["error"]["rule"]) == (403, "actor.unverified"), answer
    finally:
        foreign.kill()
    assert gateway.client(operator).get(f"/api/v1/households/{household_body(6)['kk']}")[0] == 404


def test_the_gateways_bdt_import_signs_its_user_as_the_gateway(gateway: GatewaySystem):
    """The import runs as a child `berdaya import-bdt` of the gateway: it signs the gateway's user with the gateway's
    key, so an operator's upload imports — and the registry checks that operator's region on every household."""
    text = io.StringIO()
    write_synthetic_bdt(text, 5, "18.01", builtin_lampung_selatan(), seed=3, error_share=0.0)
    operator = gateway.user_client("operator", "18.01")
    status, report = operator.request("POST", "/api/v1/imports/bdt", data=text.getvalue().encode(),
                                      headers={"Content-Type": "text/csv"}, timeout=180)
    assert (status, report["households_imported"], report["households_rejected"]) == (200, 5, 0), report
