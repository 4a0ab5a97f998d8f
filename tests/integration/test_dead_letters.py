"""Poison messages as an operator meets them, against real PostgreSQL and RabbitMQ: a grants build with a bug
halts on one registry event; `berdaya dlq list` shows it; after the fixed build is deployed `berdaya dlq retry`
applies it, or `berdaya dlq skip` records that it never will be."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import psycopg
import pytest
from kombu import Connection
from nameko.containers import ServiceContainer
from typer.testing import CliRunner

from berdaya.audit import verify
from berdaya.cli.main import app as cli
from services.grants.application import GrantsApplication
from services.grants.service import GrantsService
from shared.backbone import Backbone
from shared.config import SERVICES
from shared.consumer import handles
from shared.dead_letters import peek, remove_resolved
from shared.topology import dead_letter_queue_name
from tests.integration.test_backbone import grants_counted, grants_households, register
from tests.support.households import actor, household, reader
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


class GrantsBeforeTheFix(GrantsApplication):
    """A grants build with the bug its next release fixes: a grandchild living with the family (relation Cucu, as
    DTKS files have them) makes its household handler raise."""

    @handles("registry.household.registered")
    def on_household_registered(self, data, envelope, unit) -> None:
        if any(member.relation == "Cucu" for member in data.members):
            raise ValueError(f"cannot count the grandchild of household {data.household_id}")
        super().on_household_registered(data, envelope, unit)


class GrantsServiceBeforeTheFix(GrantsService):
    app = Backbone(GrantsBeforeTheFix)


class GrantsWithABadWrite(GrantsApplication):
    """A grants build with a bug only the database sees: it weighs each household by 1 / (7 - its decile), and a
    household of decile 7 makes its statement fail (division by zero) when the transaction of its batch commits."""

    @handles("registry.household.registered")
    def on_household_registered(self, data, envelope, unit) -> None:
        super().on_household_registered(data, envelope, unit)
        unit.writes.add("SELECT 1 / (7 - %s)", (data.decile,))


class GrantsServiceWithABadWrite(GrantsService):
    app = Backbone(GrantsWithABadWrite)


def deploy(system: System, service_cls: type) -> None:
    """Run a given build of a service, as `nameko run` would."""
    container = ServiceContainer(service_cls, system.config(service_cls.name))
    container.start()
    system.containers.setdefault(service_cls.name, []).append(container)


def nuraini(number: int) -> dict:
    """Nur'aini's household: she lives with her grandson."""
    payload = household(number)
    payload["members"][0]["name"] = "Nur'aini"
    payload["members"][1]["relation"] = "Cucu"
    return payload


def grants_household(rpc, payload: dict) -> dict | None:
    """What grants knows of the household: by the id the registry gave it (grants never learns a KK)."""
    return rpc.grants.household(rpc.registry.household(reader(), payload["kk"])["household_id"])


def berdaya(system: System, *args: str, **env: str):
    """The CLI as an operator runs it, pointed at this system (wide, so that table cells do not wrap)."""
    operator_key = system.actor_keys["OPERATOR_ACTOR_SIGNING_KEY"]  # the operators' CLI's own key
    result = CliRunner().invoke(cli, list(args), env={"AMQP_URI": system.amqp_uri, "COLUMNS": "250",
                                                      "ACTOR_SIGNING_KEY": operator_key, **env})
    assert "Traceback" not in result.output, result.output
    return result


def grants_registry_status(system: System) -> dict:
    with system.rpc() as rpc:
        return rpc.grants.backbone_status()["consumers"]["registry"]


@pytest.fixture
def halted(system: System) -> tuple[System, dict, int]:
    """Grants (the build with the bug) halted on a registry event; one household before it, one after it.

    Returns the system, the halt (position, reason) and the position grants applied up to."""
    system.start("registry")
    deploy(system, GrantsServiceBeforeTheFix)
    system.start("training")
    register(system, [1])
    eventually(lambda: grants_households(system) == 1)
    with system.rpc() as rpc:
        rpc.registry.register_household(nuraini(2))
        halt = eventually(lambda: grants_registry_status(system)["halt"])
        rpc.registry.register_household(household(3))
        registry_last = rpc.registry.backbone_status()["last_position"]
        # Training consumes the same registry events: they flow there, poison or not.
        eventually(lambda: rpc.training.backbone_status()["consumers"]["registry"]["position"] == registry_last)
    assert halt["reason"] == "handler failed: ValueError"  # its type: the exception's text names a person
    return system, halt, grants_registry_status(system)["position"]


def test_a_poison_event_halts_only_its_upstream_and_a_retry_after_the_fix_applies_it_once(halted):
    system, halt, applied = halted
    poison = halt["position"]
    with system.rpc() as rpc:
        # Grants' other upstream keeps flowing: training's events are applied.
        rpc.training.open_cohort({"village_code": "18.01.06.2001", "facilitator": "Rina",
                                  "actor": actor("fasilitator.rina", "facilitator")})
        training_last = rpc.training.backbone_status()["last_position"]
        eventually(lambda: rpc.grants.backbone_status()["consumers"]["training"]["position"] == training_last)
        # Nothing from registry after the poison was applied.
        assert grants_household(rpc, household(3)) is None
    assert grants_households(system) == 1 and applied < poison

    listed = berdaya(system, "dlq", "list", "--json")
    assert listed.exit_code == 0, listed.output
    grants = json.loads(listed.stdout)["grants"]
    assert [(h["upstream"], h["position"], h["event_type"], h["applied_up_to"]) for h in grants["halts"]] == [
        ("registry", poison, "registry.household.registered v2", applied)]
    assert [(d["upstream"], d["position"], d["event_type"]) for d in grants["dead_letters"]] == [
        ("registry", poison, "registry.household.registered v2")]
    assert grants["dead_letters"][0]["reason"] == halt["reason"] and grants["dead_letters_waiting"] == 1
    table = berdaya(system, "dlq", "list")
    assert table.exit_code == 0
    halted_row = next(line for line in table.stdout.splitlines() if "grants" in line and "ValueError" in line)
    assert "registry" in halted_row and str(poison) in halted_row and "registry.household.registered" in halted_row
    assert "grants.dead-letter" in table.stdout
    # Listing took nothing off the queue.
    assert system.queue_depth(dead_letter_queue_name("grants")) == 1

    # The fixed build is deployed: it stays halted until an operator says go.
    system.stop("grants")
    system.start("grants")
    assert grants_registry_status(system)["halt"]["position"] == poison

    retried = berdaya(system, "dlq", "retry", "grants", "registry", "--by", "ops.lamsel",
                      "--reason", "grants 1.4.1 counts grandchildren")
    assert retried.exit_code == 0, retried.output
    assert f"grants resumes consuming registry at position {poison}" in retried.stderr
    eventually(lambda: grants_households(system) == 3)
    assert grants_counted(system) == 3  # counted once each: the retried event was applied exactly once
    with system.rpc() as rpc:
        assert grants_household(rpc, nuraini(2))["member_count"] == 2
        status = rpc.grants.backbone_status()["consumers"]["registry"]
        assert status["halt"] is None and status["position"] == rpc.registry.backbone_status()["last_position"]
        published = [e for e in rpc.grants.events_after(0, 500) if e["type"] == "grants.consumer.retried"]
    assert [e["data"] for e in published] == [{
        "upstream": "registry", "position": poison, "halt_reason": halt["reason"],
        "reason": "grants 1.4.1 counts grandchildren", "by": "ops.lamsel"}]
    assert system.queue_depth(dead_letter_queue_name("grants")) == 0

    register(system, [4])  # and the flow goes on
    eventually(lambda: grants_households(system) == 4)
    again = berdaya(system, "dlq", "retry", "grants", "registry")
    assert again.exit_code == 2 and "grants is not halted on registry" in again.stderr
    verified = verify.verify(urls={s: system.database_url(s) for s in SERVICES})
    assert verified["ok"] and verified["skipped"] == [], verified["problems"]


def test_a_skip_is_refused_unless_it_names_the_halted_position_and_a_reason(halted):
    system, halt, applied = halted
    poison = halt["position"]

    def unchanged() -> None:
        status = grants_registry_status(system)
        assert status["halt"]["position"] == poison and status["position"] == applied
        assert system.scalar("grants", "SELECT count(*) FROM grants_events WHERE topic LIKE '%ConsumerSkip%'") == 0
        assert system.queue_depth(dead_letter_queue_name("grants")) == 1

    wrong = berdaya(system, "dlq", "skip", "grants", "registry", "--position", str(poison + 1),
                    "--reason", "duplicate household", "--by", "kabid.lamsel")
    assert wrong.exit_code == 2
    assert (f"grants is halted on registry at position {poison}, not {poison + 1}: nothing skipped"
            in " ".join(wrong.stderr.split()))
    unchanged()
    blank = berdaya(system, "dlq", "skip", "grants", "registry", "--position", str(poison), "--reason", "  ")
    assert blank.exit_code == 2 and "refused: reason: String should have at least 1 character" in blank.stderr
    unchanged()
    unknown = berdaya(system, "dlq", "skip", "grants", "bank", "--position", str(poison), "--reason", "x")
    assert unknown.exit_code == 2 and "grants consumes no upstream 'bank'" in unknown.stderr
    unchanged()


def test_a_skipped_event_is_never_applied_the_flow_goes_on_and_auditors_see_the_skip(halted):
    system, halt, _ = halted
    poison = halt["position"]
    skipped = berdaya(system, "dlq", "skip", "grants", "registry", "--position", str(poison), "--by", "kabid.lamsel",
                      "--reason", "test household entered by mistake; registry removes it")
    assert skipped.exit_code == 0, skipped.output
    assert f"grants skipped registry @{poison} (registry.household.registered v2" in skipped.stderr
    eventually(lambda: grants_households(system) == 2)
    assert grants_counted(system) == 2
    with system.rpc() as rpc:
        assert grants_household(rpc, household(3)) is not None
        assert grants_household(rpc, nuraini(2)) is None
        assert rpc.grants.backbone_status()["consumers"]["registry"]["halt"] is None
        skipped_id = next(e["id"] for e in rpc.registry.events_after(0, 500) if e["position"] == poison)
        published = [e["data"] for e in rpc.grants.events_after(0, 500) if e["type"] == "grants.consumer.skipped"]
    assert published == [{"upstream": "registry", "position": poison, "skipped_type": "registry.household.registered",
                          "skipped_version": 2, "skipped_id": skipped_id, "halt_reason": halt["reason"],
                          "reason": "test household entered by mistake; registry removes it", "by": "kabid.lamsel"}]
    assert system.queue_depth(dead_letter_queue_name("grants")) == 0
    listed = json.loads(berdaya(system, "dlq", "list", "--json").stdout)
    assert all(not entry["halts"] and not entry["dead_letters"] for entry in listed.values())

    register(system, [4])
    eventually(lambda: grants_households(system) == 3)
    audit_urls = {f"{s.upper()}_AUDIT_DATABASE_URL": system.database_url(s) for s in SERVICES}
    verified = berdaya(system, "audit", "verify", "--json", **audit_urls)
    assert verified.exit_code == 0, verified.output
    result = json.loads(verified.stdout)
    assert result["ok"] and result["problems"] == []
    assert [(s["service"], s["upstream"], s["position"], s["event_type"], s["event_id"], s["by"], s["reason"])
            for s in result["skipped"]] == [("grants", "registry", poison, "registry.household.registered",
                                             skipped_id, "kabid.lamsel",
                                             "test household entered by mistake; registry removes it")]
    shown = berdaya(system, "audit", "verify", **audit_urls)
    assert "Upstream events skipped by an operator" in shown.stdout and "kabid.lamsel" in shown.stdout


def test_a_retry_without_the_fix_halts_again_and_its_new_dead_letter_stays_listed(halted):
    system, halt, _ = halted
    poison = halt["position"]
    retried = berdaya(system, "dlq", "retry", "grants", "registry", "--by", "ops.lamsel", "--reason", "try again")
    assert retried.exit_code == 0, retried.output
    again = eventually(lambda: (grants_registry_status(system)["halt"] or {}).get("halted_at") != halt["halted_at"]
                       and grants_registry_status(system)["halt"])
    assert again["position"] == poison and again["reason"] == halt["reason"]

    grants = json.loads(berdaya(system, "dlq", "list", "--json").stdout)["grants"]
    assert [(h["position"], h["since"]) for h in grants["halts"]] == [(poison, again["halted_at"])]
    # One dead letter: the first was removed with the decision, the one the retry produced stays, stamped after it.
    assert [(d["upstream"], d["position"]) for d in grants["dead_letters"]] == [("registry", poison)]
    stamped = datetime.fromisoformat(grants["dead_letters"][0]["dead_lettered_at"])
    assert stamped > datetime.fromisoformat(halt["halted_at"])


def test_tidying_after_a_decision_keeps_a_dead_letter_made_after_it(halted):
    """The moment a retry without a fix fails again can fall while the queue is being tidied: the new dead letter,
    at the same position, must stay — it is the only account of the new halt."""
    system, halt, _ = halted
    poison = halt["position"]
    queue = dead_letter_queue_name("grants")
    with Connection(system.amqp_uri) as connection:
        _, [letter] = peek(connection, "grants")
        made = datetime.fromisoformat(letter.dead_lettered_at)
        assert remove_resolved(connection, "grants", "registry", poison, made - timedelta(milliseconds=1)) == 0
        assert remove_resolved(connection, "grants", "training", poison, made + timedelta(seconds=1)) == 0
        assert remove_resolved(connection, "grants", "registry", poison - 1, made + timedelta(seconds=1)) == 0
        assert system.queue_depth(queue) == 1
        assert remove_resolved(connection, "grants", "registry", poison, made + timedelta(milliseconds=1)) == 1
    assert system.queue_depth(queue) == 0


def test_a_dead_letter_and_its_halt_name_the_event_not_the_person(halted):
    """The halt and the queued dead letter keep the event's identity (upstream, position, type, id, the hash of the
    message) and the reason — no NIK, KK or name of the household the event is about: the data stays in the
    upstream's log, where a retry reads it."""
    system, halt, _ = halted
    personal = {"Nur'aini", nuraini(2)["kk"], *(member["nik"] for member in nuraini(2)["members"]),
                *(member["name"] for member in nuraini(2)["members"])}
    with psycopg.connect(system.database_url("grants")) as conn:
        halts = json.dumps(conn.execute("SELECT * FROM consumer_halts").fetchall(), default=str)
    with Connection(system.amqp_uri) as connection, connection.channel() as channel:
        message = channel.basic_get(dead_letter_queue_name("grants"), no_ack=False)  # goes back when closed
        letter, headers = str(message.body), json.dumps(message.headers, default=str)
    kept = json.loads(letter)
    assert (kept["source"], kept["position"], kept["type"], kept["version"]) == (
        "registry", halt["position"], "registry.household.registered", 2)
    assert len(kept["sha256"]) == 64 and kept["id"]
    assert not [value for value in personal if value in halts + letter + headers], (halts, letter, headers)


def test_a_poison_event_in_the_middle_of_a_batch_halts_there_and_those_before_it_are_applied_once(system):
    system.start("registry")
    system.import_regions()
    payloads = [household(number, decile=7 if number == 3 else 2) for number in range(1, 6)]
    with system.rpc() as rpc:
        rpc.registry.register_households(payloads)
        ids = [rpc.registry.household(reader(), payload["kk"])["household_id"] for payload in payloads]
        positions = {event["data"]["household_id"]: event["position"] for event in rpc.registry.events_after(0, 10)
                     if event["type"] == "registry.household.registered"}
    # Started after the six events: its catch-up applies them as one batch, whose commit fails on the third household.
    deploy(system, GrantsServiceWithABadWrite)
    halt = eventually(lambda: grants_registry_status(system)["halt"])
    assert halt == {**halt, "position": positions[ids[2]], "reason": "writes failed: DataError"}
    assert grants_registry_status(system)["position"] == positions[ids[1]]
    with system.rpc() as rpc:
        applied = [household_id for household_id in ids if rpc.grants.household(household_id) is not None]
    assert applied == ids[:2]  # nothing after the poison
    assert grants_counted(system) == 2  # those before it, once each
