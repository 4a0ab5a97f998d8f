"""What a running berdaya system holds, as text an operator (or an intruder) could read: a database's `pg_dump`,
the messages waiting in every queue of a vhost (dead letters too) and every event its streams keep.

Issue 16 item 7 scans these for personal data (tests.support.personal_data). Reading changes nothing: a queue's
messages are taken without acknowledgement and go back when the connection closes; a stream is read from ``first``
(reading a stream never removes anything).
"""

from __future__ import annotations

import subprocess

from kombu import Connection

STREAM_IDLE_S = 2.0  # a stream read from `first` has nothing more once no delivery comes for this long


def pg_dump(database: str) -> str:
    """The whole database as `pg_dump` writes it: schema and every row (bytea columns as ``\\x`` hex)."""
    return subprocess.run(["pg_dump", "--no-owner", "-h", "127.0.0.1", "-U", "postgres", database],
                          check=True, capture_output=True, text=True, timeout=120).stdout


def queues(vhost: str) -> dict[str, str]:
    """Every queue of the vhost → its type (``classic``, ``quorum`` or ``stream``)."""
    listed = subprocess.run(["rabbitmqctl", "--quiet", "list_queues", "-p", vhost, "--no-table-headers",
                             "name", "type"], check=True, capture_output=True, text=True, timeout=60).stdout
    return dict(line.rsplit("\t", 1) for line in listed.splitlines() if line.strip())


def waiting_messages(amqp_uri: str, vhost: str) -> dict[str, list[str]]:
    """Queue → the bodies and header values of its messages, as text: what waits in a queue, what a stream keeps."""
    return {name: (_stream(amqp_uri, name) if kind == "stream" else _queue(amqp_uri, name))
            for name, kind in queues(vhost).items()}


def _queue(amqp_uri: str, name: str) -> list[str]:
    found = []
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(name, no_ack=False)) is not None:
            found.append(_readable(message))
    # closed without an ack: RabbitMQ puts every message back
    return found


def _stream(amqp_uri: str, name: str) -> list[str]:
    found = []
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        channel.basic_qos(0, 100, False)  # RabbitMQ refuses a stream consumer without a prefetch

        def on_message(message) -> None:
            found.append(_readable(message))
            channel.basic_ack(message.delivery_tag)  # a stream takes acks as credit; nothing is removed

        channel.basic_consume(name, callback=on_message, arguments={"x-stream-offset": "first"})
        try:
            while True:
                connection.drain_events(timeout=STREAM_IDLE_S)
        except TimeoutError:
            return found


def _readable(message) -> str:
    """The body (bytes decoded as UTF-8; the client already decodes a text body) and the header values."""
    body = message.body if isinstance(message.body, str) else bytes(message.body).decode(errors="replace")
    headers = (message.properties.get("application_headers") or {}).items()
    return body + "\n" + " ".join(f"{key}={value}" for key, value in headers)
