"""The public streams (docs/consumers.md): every event of a source's log, in order, readable by any AMQP client
from the first; rebuilt from the log after the broker lost one, they hold the same sequence again."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from kombu import Connection

from berdaya.cli.processes import ROOT
from services.registry.application import RegistryApplication
from shared.streams import StreamRebuildRefused, rebuild_stream
from shared.topology import StreamRetention, declare_event_topology, event_stream_name
from tests.integration.test_backbone import register
from tests.support.system import System, eventually

pytestmark = pytest.mark.integration

STREAM = event_stream_name("registry")


def read_stream(system: System, count: int) -> list[dict]:
    """The stream's envelopes from its first, as a plain AMQP client reads them: ``count`` of them, and then
    whatever more arrives within a second (a stream with extra messages must show them)."""
    received: list[dict] = []
    with Connection(system.amqp_uri) as connection:
        channel = connection.channel()
        channel.basic_qos(0, 100, False)  # RabbitMQ refuses a stream consumer without a prefetch
        channel.basic_consume(STREAM, arguments={"x-stream-offset": "first"},
                              callback=lambda message: (received.append(json.loads(message.body)),
                                                        channel.basic_ack(message.delivery_tag)))
        while len(received) < count:
            connection.drain_events(timeout=30)  # a TimeoutError: fewer than ``count`` in the stream
        try:
            while True:
                connection.drain_events(timeout=1)
        except TimeoutError:
            return received


def logged_events(system: System) -> list[dict]:
    with system.rpc() as rpc:
        status = eventually(lambda: (s := rpc.registry.backbone_status())["relay_position"] == s["last_position"]
                            and s, message="the relay published the whole log")
        events = rpc.registry.events_after(0, 5000)
    assert events[-1]["position"] == status["last_position"]
    return events


def registry_application(system: System) -> RegistryApplication:
    return RegistryApplication(system.runtime_url("registry"), setup_url=system.database_url("registry"))


def rebuild(system: System, **options) -> int:
    app = registry_application(system)
    try:
        return rebuild_stream(app, system.signer("registry"), system.amqp_uri, system.runtime_url("registry"),
                              **options)
    finally:
        app.close()


def test_the_stream_holds_the_log_and_a_rebuild_after_its_loss_gives_the_same_sequence(system: System):
    system.start("registry")
    register(system, range(20))
    events = logged_events(system)
    assert read_stream(system, len(events)) == events

    with pytest.raises(StreamRebuildRefused, match="relay is running"):
        rebuild(system)
    system.stop("registry")
    with pytest.raises(StreamRebuildRefused, match="already holds events"):
        rebuild(system)
    assert read_stream(system, len(events)) == events  # refused: untouched

    with Connection(system.amqp_uri) as connection:  # the broker lost it
        connection.default_channel.queue_delete(STREAM)
    assert rebuild(system) == len(events)
    assert read_stream(system, len(events)) == events

    system.start("registry")  # its relay goes on after what the rebuild published
    register(system, range(20, 25))
    events = logged_events(system)
    assert read_stream(system, len(events)) == events


def berdaya_streams_rebuild(system: System, *options: str) -> subprocess.CompletedProcess:
    """The operator's command, run as a deployment runs it: with the registry's configuration in the environment."""
    environment = {**os.environ, **system.key_environment(), "AMQP_URI": system.amqp_uri,
                   "REGISTRY_DATABASE_URL": system.runtime_url("registry"),
                   "REGISTRY_SETUP_DATABASE_URL": system.database_url("registry")}
    return subprocess.run([str(ROOT / ".venv" / "bin" / "berdaya"), "streams", "rebuild", "registry", *options],
                          env=environment, capture_output=True, text=True, timeout=120)


def test_the_command_refuses_a_running_service_and_replaces_a_stream_when_told(system: System):
    system.start("registry")
    register(system, range(5))
    events = logged_events(system)
    refused = berdaya_streams_rebuild(system, "--replace")
    assert refused.returncode == 2 and "relay is running" in refused.stderr, refused.stdout + refused.stderr
    system.stop("registry")
    rebuilt = berdaya_streams_rebuild(system, "--replace")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert f"{len(events)} events republished" in rebuilt.stderr  # the CLI talks to people on stderr
    assert read_stream(system, len(events)) == events


def stream_arguments(system: System, name: str) -> dict:
    listed = subprocess.run(["rabbitmqctl", "--quiet", "list_queues", "-p", system.vhost, "name", "arguments",
                             "--formatter", "json"], check=True, capture_output=True, text=True, timeout=60)
    arguments = next(queue["arguments"] for queue in json.loads(listed.stdout) if queue["name"] == name)
    return {key: value for key, _type, value in arguments}


def test_a_stream_keeps_everything_unless_its_retention_is_configured(system: System):
    system.start("registry")  # with the default settings
    register(system, range(1))
    logged_events(system)  # published: its relay has declared the stream
    assert stream_arguments(system, STREAM) == {"x-queue-type": "stream"}

    retention = StreamRetention.from_settings({"stream_max_age": "30D", "stream_max_bytes": "5000000000"})
    with Connection(system.amqp_uri) as connection:
        declare_event_topology(connection.default_channel, "grants", retention)
    assert stream_arguments(system, event_stream_name("grants")) == {
        "x-queue-type": "stream", "x-max-age": "30D", "x-max-length-bytes": 5_000_000_000}
