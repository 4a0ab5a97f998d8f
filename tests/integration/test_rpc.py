"""RPC requests are at-most-once (shared/rpc.py): one taken by a replica that dies is gone, not run again.

A caller of an idempotent method therefore sends it again when no answer comes (``call_until_answered``), and
another replica answers. A small service of the test's own stands in for "a method that is running when its
replica is killed", so that the kill lands at a known moment; the broker and nameko are real.
"""

from __future__ import annotations

from functools import partial

import eventlet
import pytest
from kombu import Connection, Exchange, Queue
from nameko.containers import ServiceContainer
from nameko.exceptions import RpcTimeout

from shared.rpc import acknowledge, call_until_answered, rpc
from tests.support.system import eventually, rabbitmqctl

RUNS: list[str] = []


class SlowOnce:
    name = "slow_once"

    @rpc
    def register(self, key: str) -> str:
        RUNS.append(key)
        if len(RUNS) == 1:
            eventlet.sleep(60)  # its replica is killed while it holds this request
        return f"registered {key}"


def test_a_request_lost_with_a_killed_replica_is_not_run_again_and_the_callers_resend_is_answered(system):
    RUNS.clear()
    first = ServiceContainer(SlowOnce, {"AMQP_URI": system.amqp_uri})
    first.start()
    resends: list[int] = []
    with system.rpc(timeout=3) as cluster:
        answer = eventlet.spawn(call_until_answered, partial(cluster.slow_once.register, "KK-1"),
                                on_lost=resends.append)
        eventually(lambda: RUNS == ["KK-1"], message="the first replica took the request")
        first.kill()
        second = ServiceContainer(SlowOnce, {"AMQP_URI": system.amqp_uri})
        second.start()
        try:
            assert answer.wait() == "registered KK-1"
            eventlet.sleep(1)  # a redelivery of the lost request would show up here
        finally:
            second.stop()
    assert resends == [1]
    assert RUNS == ["KK-1", "KK-1"]  # the killed run and the resend: the lost request was never delivered again


def test_a_call_nobody_answers_ends_in_the_time_out_after_its_attempts(system):
    replica = ServiceContainer(SlowOnce, {"AMQP_URI": system.amqp_uri})
    replica.start()
    replica.stop()  # its queue stays; nobody consumes it
    resends: list[int] = []
    with system.rpc(timeout=1) as cluster, pytest.raises(RpcTimeout):
        call_until_answered(partial(cluster.slow_once.register, "KK-2"), attempts=2, on_lost=resends.append)
    assert resends == [1]


class NamekoQueueConsumer:
    """nameko's QueueConsumer, as far as acknowledging goes (``ack_message`` acks the message)."""

    @staticmethod
    def ack_message(message) -> None:
        message.ack()


def test_a_request_whose_acknowledgement_meets_a_broker_outage_is_kept_and_the_service_lives_on(system):
    """The broker closes the connection as a worker takes a request: acknowledging it must not raise (a raise
    stops the whole service), and the request is still there when the broker is back."""
    with Connection(system.amqp_uri) as connection:
        queue = Queue("rpc-ack-outage", Exchange("rpc-ack-outage", type="direct"), routing_key="r", durable=True)
        producer = connection.Producer()
        producer.publish({"args": ["KK-9"]}, exchange=queue.exchange, routing_key="r", declare=[queue],
                         serializer="json")
        taken = eventually(lambda: queue(connection.channel()).get(no_ack=False))
        rabbitmqctl("close_all_connections", "-p", system.vhost, "broker stopped")
        eventually(lambda: _dead(connection), message="the broker closed the connection")
        acknowledge(NamekoQueueConsumer(), taken)  # logged, not raised
    assert eventually(lambda: system.queue_depth("rpc-ack-outage") == 1)


def _dead(connection) -> bool:
    try:
        connection.drain_events(timeout=0.2)
    except TimeoutError:
        return False
    except Exception:  # the broker's close, or the socket's
        return True
    return False
