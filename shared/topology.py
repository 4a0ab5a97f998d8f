"""Every exchange and queue of the backbone, declared in one place.

RabbitMQ refuses (406 PRECONDITION_FAILED) to re-declare a queue with other arguments, and nameko then reconnects
forever: so nobody declares these anywhere else.
"""

from __future__ import annotations

from kombu import Exchange, Queue

DEAD_LETTER_EXCHANGE = "berdaya.dead-letter"


def events_exchange(service: str) -> Exchange:
    return Exchange(f"{service}.events", type="topic", durable=True, auto_delete=False)


def dead_letter_exchange() -> Exchange:
    return Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True, auto_delete=False)


def consumer_queue_name(consumer: str, upstream: str) -> str:
    return f"{consumer}.from.{upstream}"


def consumer_queue(consumer: str, upstream: str) -> Queue:
    """One durable queue per (consumer, upstream), bound to all of the upstream's events.

    Single active consumer: replicas stand by and take over in order. Rejected messages go to the dead-letter
    exchange, routed by this queue's name.
    """
    name = consumer_queue_name(consumer, upstream)
    return Queue(
        name,
        exchange=events_exchange(upstream),
        routing_key="#",
        durable=True,
        auto_delete=False,
        queue_arguments={
            "x-single-active-consumer": True,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": name,
        },
    )


def dead_letter_queue_name(consumer: str) -> str:
    return f"{consumer}.dead-letter"


def declare_consumer_topology(channel, consumer: str, upstreams: list[str]) -> None:
    """Declare a consumer service's queues and its dead-letter queue (where poison waits for an operator)."""
    dlx = dead_letter_exchange()
    dlx(channel).declare()
    dlq = Queue(dead_letter_queue_name(consumer), durable=True, auto_delete=False)(channel)
    dlq.declare()
    for upstream in upstreams:
        dlq.bind_to(exchange=dlx.name, routing_key=consumer_queue_name(consumer, upstream))
        events_exchange(upstream)(channel).declare()
        consumer_queue(consumer, upstream)(channel).declare()
