"""The event backbone against real PostgreSQL and RabbitMQ: each test is an outcome a user would see."""

from __future__ import annotations

import time

import psycopg
import pytest
from kombu import Connection
from nameko.exceptions import RemoteError

from shared.config import SERVICES
from shared.contracts import make_envelope, parse_envelope
from shared.contracts.registry import HouseholdRegisteredV2
from shared.publishing import ConfirmingPublisher, envelope_message
from shared.relay import Leadership
from shared.topology import consumer_queue_name, dead_letter_queue_name, events_exchange
from tests.support.households import household, person_id
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


def grants_households(system: System) -> int:
    return system.scalar("grants", "SELECT count(*) FROM households")


def grants_counted(system: System) -> int:
    """Households as counted one event at a time: a duplicate application would inflate this."""
    return system.scalar("grants", "SELECT coalesce(sum(households), 0) FROM village_households")


def training_individuals(system: System) -> int:
    return system.scalar("training", "SELECT count(*) FROM individuals")


def register(system: System, numbers) -> None:
    if not system.scalar("registry", "SELECT count(*) FROM regions"):
        system.import_regions()
    with system.rpc() as rpc:
        batch = [household(n) for n in numbers]
        for start in range(0, len(batch), 100):
            rpc.registry.register_households(batch[start:start + 100])


class ActingRelay:
    """The test takes the registry relay's lock, so the service's own relay stands by and the test decides what
    is published, in which order — exactly what a relay that crashes, or a broker that loses a message, does."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.leadership = Leadership(system.database_url("registry"), "berdaya:relay:registry",
                                     channel="registry_events")

    def __enter__(self):
        assert eventually(self._take, timeout=10, message="taking the relay lock")
        return self

    def _take(self) -> bool:
        return self.leadership.acquire()

    def __exit__(self, *exc) -> None:
        self.leadership.release()

    def envelopes(self):
        with self.system.rpc() as rpc:
            return [parse_envelope(raw) for raw in rpc.registry.events_after(0, 5000)]

    def publish(self, envelopes) -> None:
        with Connection(self.system.amqp_uri) as connection:
            publisher = ConfirmingPublisher(connection, events_exchange("registry").name)
            publisher.publish([envelope_message(envelope) for envelope in envelopes])

    def record(self, position: int) -> None:
        """What the relay does once the broker confirmed everything up to ``position``."""
        with psycopg.connect(self.system.database_url("registry"), autocommit=True) as conn:
            conn.execute("INSERT INTO registry_tracking (application_name, notification_id) VALUES ('__relay__', %s) "
                         "ON CONFLICT (application_name) DO UPDATE SET notification_id = excluded.notification_id",
                         (position,))


def test_household_registered_in_registry_appears_in_grants_and_training(system):
    for service in SERVICES:
        system.start(service)
    payload = household(1)
    system.import_regions()
    with system.rpc() as rpc:
        household_id = rpc.registry.register_household(payload)
        head_id = person_id(rpc, payload["members"][0]["nik"])
        grants_view = eventually(lambda: rpc.grants.household(household_id))
        head = eventually(lambda: rpc.training.individual(head_id))
    # Both know the household and its head by the registry's ids only.
    assert grants_view == {"household_id": household_id, "village_code": payload["village_code"],
                           "decile": 2, "bdt_status": "active", "member_count": 2}
    assert head == {"person_id": head_id, "household_id": household_id, "sex": "P", "relation": "Kepala Keluarga",
                    "village_code": payload["village_code"], "status": "active", "left_reason": None}


def test_the_same_message_delivered_twice_is_applied_once(system):
    system.start("grants")  # declares its queue
    system.stop("grants")
    with ActingRelay(system) as relay:
        system.start("registry")
        register(system, [1, 2])
        regions, first, second = relay.envelopes()
        # With registry down, grants cannot learn of these events from the log: only the deliveries count.
        system.stop("registry")
        relay.publish([regions, first, first, second, first, regions, second])
        system.start("grants")
        eventually(lambda: system.queue_depth(consumer_queue_name("grants", "registry")) == 0)
        eventually(lambda: grants_households(system) == 2)
    assert grants_counted(system) == 2
    assert system.queue_depth(dead_letter_queue_name("grants")) == 0


@pytest.mark.parametrize("order", ["overtaken", "lost"])
def test_a_lost_or_overtaken_event_is_pulled_from_the_log_and_applied_in_order(system, order):
    system.start("grants")
    with ActingRelay(system) as relay:
        system.start("registry")
        register(system, [1, 2, 3])
        e0, e1, e2, e3 = relay.envelopes()  # e0: the region table's import
        relay.publish([e0, e1, e3, e2] if order == "overtaken" else [e0, e1, e3])
        eventually(lambda: grants_households(system) == 3)
    applied_order = system.sql("grants", "SELECT household_id FROM households ORDER BY projected_at")
    id_of = dict(system.sql("registry", "SELECT kk, household_id FROM households"))
    assert [household_id for (household_id,) in applied_order] == [id_of[household(n)["kk"]] for n in (1, 2, 3)]
    assert grants_counted(system) == 3


def test_an_idle_consumer_pulls_a_lost_last_event_but_not_what_the_relay_has_yet_to_publish(system):
    system.start("grants")
    with ActingRelay(system) as relay:
        system.start("registry")
        register(system, [1, 2, 3])
        e0, e1, e2, e3 = relay.envelopes()
        relay.publish([e0, e1])
        relay.record(e1.position)
        eventually(lambda: grants_households(system) >= 1)
        # Idle for several catch-up periods (1 s here) while the relay is behind: nothing it has yet to publish is
        # pulled — the registry does not build and sign the same events twice.
        time.sleep(4)
        assert grants_households(system) == 1
        # Then e2 and e3 are published and recorded, but the broker loses e3: no later event reveals that gap.
        relay.publish([e2])
        relay.record(e3.position)
        eventually(lambda: grants_households(system) == 3)
    assert grants_counted(system) == 3


def test_a_consumer_stopped_during_1000_registrations_converges_without_loss_or_duplicate(system):
    for service in ("registry", "grants"):
        system.start(service)
    register(system, [0])
    eventually(lambda: grants_households(system) == 1)
    system.stop("grants")
    register(system, range(1, 1000))
    assert grants_households(system) == 1
    system.start("grants")
    eventually(lambda: grants_households(system) == 1000, timeout=60)
    eventually(lambda: system.queue_depth(consumer_queue_name("grants", "registry")) == 0)
    assert grants_counted(system) == 1000
    registry_ids = {household_id for (household_id,) in system.sql("registry", "SELECT household_id FROM households")}
    assert {household_id for (household_id,) in system.sql("grants", "SELECT household_id FROM households")} == (
        registry_ids)


def test_a_consumer_whose_queue_did_not_exist_catches_up_from_the_start(system):
    system.start("registry")
    register(system, range(50))
    # The relay published all 50 to an exchange with no queue bound: RabbitMQ dropped them.
    eventually(lambda: system.scalar("registry", "SELECT notification_id FROM registry_tracking "
                                                 "WHERE application_name = '__relay__'") is not None)
    system.start("training")
    eventually(lambda: training_individuals(system) == 100)
    with system.rpc() as rpc:
        status = rpc.training.backbone_status()
        assert status["consumers"]["registry"]["position"] == rpc.registry.backbone_status()["last_position"]


def test_events_republished_by_a_relay_that_died_before_recording_are_not_applied_twice(system):
    system.start("grants")
    with ActingRelay(system) as relay:
        system.start("registry")
        register(system, range(20))
        relay.publish(relay.envelopes())  # ... and the relay dies here, its position never recorded
        eventually(lambda: grants_households(system) == 20)
    # The service's own relay takes over from the recorded position (none) and publishes all 20 again.
    eventually(lambda: system.scalar("registry", "SELECT count(*) FROM registry_tracking "
                                                 "WHERE application_name = '__relay__'") == 1)
    eventually(lambda: system.queue_depth(consumer_queue_name("grants", "registry")) == 0)
    register(system, [20])
    eventually(lambda: grants_households(system) == 21)
    assert grants_counted(system) == 21


def test_a_relay_with_two_batches_in_flight_records_only_what_the_broker_confirmed(system):
    # A queue that takes 15 messages and makes the broker refuse (nack) the rest: of the relay's batches of 10, the
    # first is confirmed whole, the second refused half-way while the third is already out.
    with Connection(system.amqp_uri) as connection:
        channel = connection.default_channel
        events_exchange("registry")(channel).declare()
        channel.queue_declare("full-tap", durable=True, arguments={"x-max-length": 15, "x-overflow": "reject-publish"})
        channel.queue_bind("full-tap", "registry.events", "#")
        channel.queue_declare("audit-tap", durable=True)
        channel.queue_bind("audit-tap", "registry.events", "#")
    system.start("grants")
    with ActingRelay(system):  # the service's relay stands by until the 25 events are in the log
        system.start("registry", relay_batch=10)
        register(system, range(24))  # after the region table's import: 25 events
    recorded = []

    def every_event_published() -> bool:
        recorded.append(relay_position(system))
        return system.queue_depth("audit-tap") >= 25

    eventually(every_event_published, message="all three batches published")
    assert max(recorded) <= 10 and relay_position(system) == 10  # never a position whose events were refused
    with Connection(system.amqp_uri) as connection:
        connection.default_channel.queue_delete("full-tap")
    eventually(lambda: relay_position(system) == 25, message="the relay publishing again from position 10")
    eventually(lambda: grants_households(system) == 24)
    eventually(lambda: system.queue_depth(consumer_queue_name("grants", "registry")) == 0)
    assert grants_counted(system) == 24  # the events published twice were applied once


def relay_position(system: System) -> int:
    return system.scalar("registry", "SELECT coalesce(max(notification_id), 0) FROM registry_tracking "
                                     "WHERE application_name = '__relay__'")


def test_two_relays_only_one_publishes_and_the_other_takes_over_when_it_dies(system):
    first = system.start("registry")
    eventually(lambda: _relay_leader(first) is not None)
    second = system.start("registry")
    # A queue of our own on the registry exchange: sees every message any relay publishes.
    with Connection(system.amqp_uri) as connection:
        channel = connection.default_channel
        channel.queue_declare("audit-tap", durable=True)
        channel.queue_bind("audit-tap", "registry.events", "#")
    register(system, range(30))  # after the region table's import: 31 events
    eventually(lambda: system.queue_depth("audit-tap") == 31)
    leader, standby = (first, second) if _relay_leader(first) else (second, first)
    assert _relay_leader(standby) is False
    system.kill(leader)
    register(system, range(30, 60))
    eventually(lambda: _relay_leader(standby), message="standby relay taking over")
    eventually(lambda: system.queue_depth("audit-tap") >= 61)
    positions = [parse_envelope(m.body).position for m in system.drain_queue("audit-tap")]
    assert len(positions) == 61 and len(set(positions)) == 61 and positions == sorted(positions)


def _relay_leader(container) -> bool | None:
    for provider in container.dependencies:
        if hasattr(provider, "relay"):
            return provider.relay.is_leader
    return None


def test_a_poison_message_is_dead_lettered_and_halts_only_its_own_upstream(system):
    for service in SERVICES:
        system.start(service)
    register(system, [1])
    eventually(lambda: training_individuals(system) == 2)
    with system.rpc() as rpc:
        tracked = rpc.training.backbone_status()["consumers"]["registry"]["position"]
        real = parse_envelope(rpc.registry.events_after(0, 10)[-1])
    poison = make_envelope(source="registry", position=tracked + 1000, previous_position=tracked,
                           subject=real.subject, time=real.time,
                           data=HouseholdRegisteredV2.model_validate(real.data)).model_copy(update={"version": 99})
    poison = system.signer("registry").sign(poison)  # poison from the registry itself (a bug), not a forgery
    with Connection(system.amqp_uri) as connection:
        publisher = ConfirmingPublisher(connection, "")  # default exchange: straight into training's queue
        routing_key, message = envelope_message(poison)
        publisher.publish([(consumer_queue_name("training", "registry"), message)])

    with system.rpc() as rpc:
        halt = eventually(lambda: rpc.training.backbone_status()["consumers"]["registry"]["halt"])
        assert halt["position"] == tracked + 1000
        assert "version 99 is not a known contract" in halt["reason"]
        # The registry keeps working and grants keeps consuming it; training's other upstream keeps flowing.
        register(system, [2])
        eventually(lambda: grants_households(system) == 2)
        rpc.grants.set_budget_ceiling({"actor": {"user": "kemensos.pusat", "role": "ministry", "region": ""},
                                       "fiscal_year": 2026, "source": "APBN", "ceiling_rp": 2_000_000_000})
        grants_last = eventually(lambda: rpc.grants.backbone_status()["last_position"])
        eventually(lambda: rpc.training.backbone_status()["consumers"]["grants"]["position"] == grants_last)
        # Nothing after the poison was applied behind the operator's back.
        status = rpc.training.backbone_status()["consumers"]["registry"]
        assert status["position"] == tracked
        assert rpc.training.individual(person_id(rpc, household(2)["members"][0]["nik"])) is None

    dead = system.drain_queue(dead_letter_queue_name("training"))
    assert len(dead) == 1
    headers = dead[0].properties["application_headers"]
    assert "version 99 is not a known contract" in headers["x-berdaya-reason"]
    assert headers["x-berdaya-position"] == tracked + 1000 and headers["x-berdaya-upstream"] == "registry"


def test_a_bad_command_is_refused_with_the_field_and_nothing_is_recorded(system):
    system.start("registry")
    system.import_regions()
    bad = household(1)
    bad["members"][0]["nik"] = "12345"
    with system.rpc() as rpc:
        with pytest.raises(RemoteError) as refused:
            rpc.registry.register_household(bad)
        assert refused.value.exc_type == "ValidationFailed"
        assert '"field": "members.0.nik"' in refused.value.value
        rpc.registry.register_household(household(2))
        duplicate = household(3)
        duplicate["members"][0] = household(2)["members"][0]  # the same person, claimed by another KK
        with pytest.raises(RemoteError) as clash:
            rpc.registry.register_household(duplicate)
        assert clash.value.exc_type == "Conflict" and household(2)["kk"] in clash.value.value
    assert system.scalar("registry", "SELECT count(*) FROM households") == 1
