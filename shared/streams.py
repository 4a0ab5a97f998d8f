"""Rebuilding a source's public stream from its event log, after the broker lost it (docs/consumers.md).

The relay's lock is held throughout, so nothing else publishes meanwhile: the stream receives positions 1 up to
the relay's recorded position, in the log's order, signed with the source's key (Ed25519 is deterministic: the
very bytes first published); the relay, once started again, goes on from there. The events go straight to the
stream (the default exchange), not through ``<source>.events``: the services' own queues do not get history again.
"""

from __future__ import annotations

from kombu import Connection

from shared.errors import BerdayaError
from shared.publishing import ConfirmingPublisher, envelope_message
from shared.relay import RELAY_TRACKING_NAME, Leadership, relay_lock_name
from shared.signing import Signer
from shared.store import ServiceApplication
from shared.topology import StreamRetention, declare_event_topology, event_stream_name, queue_exists

DEFAULT_EXCHANGE = ""


class StreamRebuildRefused(BerdayaError):
    """Nothing was published: the relay is running, or the stream already holds events."""

    code = "stream.rebuild_refused"


def stream_is_empty(connection: Connection, name: str, wait: float = 3.0) -> bool:
    """Whether reading from ``first`` delivers nothing within ``wait`` seconds (a stream's declare-ok always
    counts 0 messages, so there is no better question to ask AMQP 0-9-1)."""
    channel = connection.channel()
    delivered: list = []
    try:
        channel.basic_qos(0, 1, False)  # a stream consumer must set a prefetch
        channel.basic_consume(name, callback=delivered.append, arguments={"x-stream-offset": "first"})
        try:
            connection.drain_events(timeout=wait)
        except TimeoutError:
            pass
        return not delivered
    finally:
        channel.close()


def rebuild_stream(app: ServiceApplication, signer: Signer, amqp_uri: str, conninfo: str, *,
                   replace: bool = False, retention: StreamRetention = StreamRetention(),
                   batch_size: int = 500) -> int:
    """Republish ``app``'s public events, from position 1, into its stream; return how many. A stream that holds
    events is refused unless ``replace`` (then it is deleted and declared anew)."""
    service = app.service_name
    leadership = Leadership(conninfo, lock_name=relay_lock_name(service), channel=app.recorder.channel_name)
    if not leadership.acquire():
        raise StreamRebuildRefused(f"the {service} relay is running: stop {service}'s processes first")
    try:
        with Connection(amqp_uri, connect_timeout=5) as connection:
            name = event_stream_name(service)
            publisher = ConfirmingPublisher(connection, DEFAULT_EXCHANGE)
            if queue_exists(publisher.channel.connection, name):
                if not (replace or stream_is_empty(connection, name)):
                    raise StreamRebuildRefused(f"{name} already holds events (--replace deletes it first)")
                publisher.channel.queue_delete(name)
            declare_event_topology(publisher.channel, service, retention)
            last, position, published = app.tracked_position(RELAY_TRACKING_NAME), 0, 0
            while position < last:
                envelopes = [e for e in app.public_events_after(position, batch_size) if e.position <= last]
                if not envelopes:
                    break
                messages = [envelope_message(envelope)[1] for envelope in signer.sign_all(envelopes)]
                publisher.publish([(name, message) for message in messages])
                position, published = envelopes[-1].position, published + len(envelopes)
            return published
    finally:
        leadership.release()
