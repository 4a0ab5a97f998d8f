"""Every exchange and queue of the backbone, declared in one place.

RabbitMQ refuses (406 PRECONDITION_FAILED) to re-declare a queue with other arguments, and nameko then reconnects
forever: so nobody declares these anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from amqp.exceptions import NotFound
from kombu import Exchange, Queue

DEAD_LETTER_EXCHANGE = "berdaya.dead-letter"


def events_exchange(service: str) -> Exchange:
    return Exchange(f"{service}.events", type="topic", durable=True, auto_delete=False)


@dataclass(frozen=True)
class StreamRetention:
    """How much of a public stream RabbitMQ keeps: by age (``7D``, ``12h``: its x-max-age units Y M D h m s) and
    by size. ``None``: no limit; the default keeps everything, so anyone can replay from the first event."""

    max_age: str | None = None
    max_bytes: int | None = None

    @classmethod
    def from_settings(cls, backbone: dict) -> StreamRetention:
        """From a service config's BACKBONE section (``stream_max_age``, ``stream_max_bytes``; empty: no limit)."""
        return cls(backbone.get("stream_max_age") or None, int(backbone.get("stream_max_bytes") or 0) or None)

    def arguments(self) -> dict:
        limits = {"x-max-age": self.max_age, "x-max-length-bytes": self.max_bytes}
        return {name: value for name, value in limits.items() if value}


def event_stream_name(service: str) -> str:
    return f"{service}.events.stream"


def event_stream(service: str, retention: StreamRetention = StreamRetention()) -> Queue:
    """The replayable copy of ``<service>.events`` (docs/consumers.md): a RabbitMQ stream bound to every routing
    key, so whatever the relay publishes lands in it too, in the relay's order, confirmed with the same confirm.
    Any AMQP 0-9-1 client reads it from ``first``, an offset or a timestamp (``x-stream-offset``)."""
    return Queue(
        event_stream_name(service),
        exchange=events_exchange(service),
        routing_key="#",
        durable=True,
        auto_delete=False,
        queue_arguments={"x-queue-type": "stream", **retention.arguments()},
    )


def declare_event_topology(channel, service: str, retention: StreamRetention = StreamRetention()) -> None:
    """A source's exchange and its stream, bound: declared before its relay publishes anything, so the stream
    holds every event the exchange ever routed. An existing stream is left as it is (its retention included: a
    re-declaration with other arguments would be refused; change a live stream's retention with a policy)."""
    events_exchange(service)(channel).declare()
    stream = event_stream(service, retention)(channel)
    if queue_exists(channel.connection, stream.name):
        stream.bind_to(exchange=events_exchange(service).name, routing_key="#")
    else:
        stream.declare()  # with its binding


def queue_exists(connection, name: str) -> bool:
    """Asked on a channel of its own (of an amqp connection): a passive declaration of a missing queue closes the
    channel it was on."""
    channel = connection.channel()
    try:
        channel.queue_declare(name, passive=True)
    except NotFound:
        return False
    channel.close()
    return True


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
