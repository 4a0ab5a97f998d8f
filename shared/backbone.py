"""The backbone inside a nameko service: its application, its relay and its consumers, one process each.

``Backbone`` is a dependency provider: RPC entrypoints get the service's application; the relay and one consumer
per upstream run as managed green threads and stop cleanly with the container. ``BackboneEntrypoints`` gives
every service the RPCs other services and operators need from it (``events_after``, ``backbone_status``, and the
operator's ``retry_upstream`` / ``skip_upstream_event`` for a consumer halted on a poison event).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import eventlet
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

from shared.command_edge import CommandEdge
from shared.consumer import Consumer
from shared.dead_letters import remove_resolved
from shared.errors import BerdayaError
from shared.halts import RetryUpstream, SkipUpstreamEvent
from shared.log import get_logger
from shared.relay import RELAY_TRACKING_NAME, Relay
from shared.rpc import rpc
from shared.runtime import ensure_green_psycopg
from shared.signing import Signer, signer_from_config, verifier_from_config
from shared.store import PullEvents, ServiceApplication
from shared.topology import StreamRetention

MAX_PULL = 5000

# Domain refusals are answers, not crashes: nameko logs them without a traceback and the caller gets the error.
domain_rpc = rpc(expected_exceptions=BerdayaError)


class Backbone(DependencyProvider):
    def __init__(self, application_cls: type[ServiceApplication]) -> None:
        self.application_cls = application_cls

    def setup(self) -> None:
        ensure_green_psycopg()
        config = self.container.config
        settings: dict[str, Any] = config.get("BACKBONE") or {}
        self.stopping = threading.Event()
        service = self.application_cls.service_name
        # Keys first: a service that could not sign, or verify its upstreams, must not start at all.
        signer = signer_from_config(config, service)
        verifier = verifier_from_config(config, self.application_cls.upstreams, service)
        self.app = self.application_cls(config["DATABASE_URL"], setup_url=config.get("SETUP_DATABASE_URL"))
        self.relay = Relay(
            self.app,
            config["AMQP_URI"],
            signer=signer,
            conninfo=config["DATABASE_URL"],
            batch_size=int(settings.get("relay_batch", 500)),
            stream_retention=StreamRetention.from_settings(settings),
        )
        self.consumers = [
            Consumer(
                self.app,
                upstream,
                config["AMQP_URI"],
                pull=upstream_puller(config, upstream),
                verifier=verifier,
                batch_size=int(settings.get("consumer_batch", 500)),
                idle_catch_up=float(settings.get("idle_catch_up_s", 5.0)),
            )
            for upstream in self.application_cls.upstreams
        ]
        self.log = get_logger(f"{self.app.service_name}.backbone")

    def start(self) -> None:
        self._threads = [self.container.spawn_managed_thread(lambda: self.relay.run(self.stopping))]
        for consumer in self.consumers:
            self._threads.append(self.container.spawn_managed_thread(lambda c=consumer: c.run(self.stopping)))
        self.log.info("backbone.started", upstreams=list(self.application_cls.upstreams))

    def stop(self) -> None:
        self.stopping.set()
        # Loops notice within a second; one blocked in a pull from a stopped upstream is left for nameko to kill
        # (nothing is lost: positions are recorded only with what they applied).
        with eventlet.Timeout(5, False):
            for thread in self._threads:
                thread.wait()
        # Closed here, not left to __del__ (which raises "greenlet is being finalized" at shutdown).
        self.app.close()

    def kill(self) -> None:
        self.stopping.set()
        self.app.close()

    def get_dependency(self, worker_ctx) -> ServiceApplication:
        return self.app


class EventSigner(DependencyProvider):
    """The service's signing key, for entrypoints that emit its public events (``events_after``)."""

    def setup(self) -> None:
        self.signer = signer_from_config(self.container.config, self.container.service_name)

    def get_dependency(self, worker_ctx) -> Signer:
        return self.signer


def upstream_puller(config: dict[str, Any], upstream: str) -> PullEvents:
    """Reads an upstream's log through its ``events_after`` RPC."""
    timeout = float((config.get("BACKBONE") or {}).get("pull_timeout_s", 30))

    def pull(position: int, limit: int, relayed_only: bool = False) -> list[dict]:
        with ClusterRpcProxy(config, timeout=timeout) as cluster:
            return cluster[upstream].events_after(position, limit, relayed_only)

    return pull


class BackboneEntrypoints:
    """Mixin for service classes whose ``app`` attribute is a :class:`Backbone`."""

    app: ServiceApplication
    config = Config()
    signer = EventSigner()
    edge = CommandEdge()  # parses commands, verifying their actors: a service without the actors' keys does not start

    @rpc
    def events_after(self, position: int, limit: int = 500, relayed_only: bool = False) -> list[dict]:
        """This service's public events after ``position``, signed (consumers pull gaps and catch up from here);
        ``relayed_only``: none after what the relay has recorded as published (an idle consumer's check for a lost
        last message, which must not redo the relay's work while it is merely behind)."""
        stop = self.app.tracked_position(RELAY_TRACKING_NAME) if relayed_only is True else None
        envelopes = self.app.public_events_after(int(position), max(1, min(int(limit), MAX_PULL)), stop=stop)
        return [envelope.model_dump(mode="json") for envelope in self.signer.sign_all(envelopes)]

    @rpc
    def backbone_status(self) -> dict:
        app = self.app
        return {
            "service": app.service_name,
            "last_position": app.last_position(),
            "relay_position": app.tracked_position(RELAY_TRACKING_NAME),
            "consumers": {
                upstream: {
                    "position": app.tracked_position(upstream),
                    "halt": _jsonable(app.consumer_halt(upstream)),
                }
                for upstream in app.upstreams
            },
        }


    # --- an operator's decisions about a halted consumer (`berdaya dlq retry | skip`) --------------------------

    @domain_rpc
    def retry_upstream(self, payload: dict) -> dict:
        """Resume the consumer of an upstream halted on a poison event, once its cause is fixed."""
        command = self.edge.parse(RetryUpstream, payload)
        retried = self.app.retry_upstream(command)
        return self._resolved(retried, "consumer.retried", by=command.by)

    @domain_rpc
    def skip_upstream_event(self, payload: dict) -> dict:
        """Never apply the upstream event a consumer halted on; the consumer goes on after it."""
        command = self.edge.parse(SkipUpstreamEvent, payload)
        skipped = self.app.skip_upstream_event(command, upstream_puller(self.config, command.upstream))
        return self._resolved(skipped, "consumer.skipped", by=command.by)

    def _resolved(self, decision: dict, what: str, **context: str) -> dict:
        # Who decided, not their reason: free text may name the person the event is about (the halt record keeps it).
        log = get_logger(f"{self.app.service_name}.backbone")
        log.info(what, upstream=decision["upstream"], position=decision["position"], **context)
        try:
            with Connection(self.config["AMQP_URI"], connect_timeout=5) as connection:
                removed = remove_resolved(connection, self.app.service_name, decision["upstream"],
                                          decision["position"], datetime.fromisoformat(decision["decided_at"]))
        except Exception as exc:  # the decision is recorded; tidying the queue can wait for an operator
            log.warning("dead_letters.not_removed", error=f"{type(exc).__name__}: {exc}")
            removed = None
        return {**decision, "dead_letters_removed": removed}


def _jsonable(row: dict | None) -> dict | None:
    if row is None:
        return None
    return {"position": row["position"], "reason": row["reason"], "halted_at": row["halted_at"].isoformat()}
