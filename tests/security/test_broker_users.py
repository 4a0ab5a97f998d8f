"""Only a service publishes its own events: each principal connects to RabbitMQ as a user of its own, and the
broker itself refuses what that user's rights do not allow (shared/broker_access.py). Until now one broker user
with full rights was shared by the gateway, every service and the CLI."""

from __future__ import annotations

import amqp
import pytest
from kombu import Connection

from shared.publishing import ConfirmingPublisher, persistent_message
from shared.topology import consumer_queue_name, events_exchange
from tests.integration.test_gateway import GatewaySystem, household_body
from tests.support.households import person_id
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def locked_down():
    """One system for the module (its broker users cost ~15 rabbitmqctl calls): the refusals change nothing."""
    system = System(broker_users=True)
    gateway = None
    try:
        for service in ("registry", "grants", "training"):
            system.start(service)
        system.import_regions()
        gateway = GatewaySystem(system).start()
        yield system, gateway
    finally:
        if gateway is not None:
            gateway.close()
        system.close()


def refused(principal_uri: str, act) -> str:
    """Run ``act(connection)`` as a principal; the broker's refusal (403 ACCESS_REFUSED) as text."""
    with Connection(principal_uri, connect_timeout=5) as connection, pytest.raises(amqp.AccessRefused) as refusal:
        act(connection)
    return str(refusal.value)


def publish(exchange: str, routing_key: str):
    def act(connection):
        message = persistent_message(b"{}", message_id="forged", kind=routing_key, headers={})
        ConfirmingPublisher(connection, exchange, confirm_timeout=5).publish([(routing_key, message)])
    return act


def consume(queue: str):
    def act(connection):
        connection.channel().basic_get(queue, no_ack=False)
    return act


def test_the_system_works_with_each_principal_on_its_own_broker_user(locked_down):
    system, gateway = locked_down
    operator = gateway.user_client("operator", "18.01")
    body = household_body(701)
    household_id = operator.ok("POST", "/api/v1/households", body)["household_id"]
    with system.rpc() as rpc:  # the events travelled registry → grants and training, pulled gaps included
        assert eventually(lambda: rpc.grants.household(household_id))["household_id"] == household_id
        person = person_id(rpc, body["members"][0]["nik"])  # grants and training know people by the registry's ids
        assert eventually(lambda: rpc.training.individual(person))["household_id"] == household_id


@pytest.mark.parametrize("principal, exchange", [
    ("registry", "grants.events"), ("registry", "training.events"), ("grants", "training.events"),
    ("training", "grants.events"), ("gateway", "registry.events"), ("operator", "grants.events"),
])
def test_nobody_publishes_on_another_service_s_exchange(locked_down, principal, exchange):
    system, _ = locked_down
    reason = refused(system.amqp_uri_of(principal), publish(exchange, "training.gate.changed"))
    assert "ACCESS_REFUSED" in reason and exchange in reason
    assert system.queue_depth(consumer_queue_name("grants", "training")) == 0  # nothing reached a consumer


def test_a_service_may_not_read_another_service_s_queues_nor_answer_its_calls(locked_down):
    system, _ = locked_down
    assert "grants.from.registry" in refused(system.amqp_uri_of("registry"),
                                             consume(consumer_queue_name("grants", "registry")))
    assert "rpc-grants" in refused(system.amqp_uri_of("training"), consume("rpc-grants"))
    assert "rpc-registry" in refused(system.amqp_uri_of("gateway"), consume("rpc-registry"))


def test_the_gateway_and_the_tools_only_make_calls(locked_down):
    system, _ = locked_down
    reply_like = "00000000-0000-4000-8000-000000000000"  # a reply queue's routing key: answering someone's call
    for principal in ("gateway", "operator"):
        reason = refused(system.amqp_uri_of(principal), publish("nameko-rpc", reply_like))
        assert "ACCESS_REFUSED" in reason and reply_like in reason
    # A service calls only its upstreams' events_after: not another service's commands.
    assert "grants.approve" in refused(system.amqp_uri_of("registry"), publish("nameko-rpc", "grants.approve"))
    # And the real publisher still may.
    with Connection(system.amqp_uri_of("training")) as connection:
        exchange = events_exchange("training")
        publisher = ConfirmingPublisher(connection, exchange.name, confirm_timeout=5)
        exchange(publisher.channel).declare()
