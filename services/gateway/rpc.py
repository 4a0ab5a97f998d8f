"""Calling the other services from a gateway worker, never waiting forever.

nameko 2.14's ``RpcProxy`` has no timeout: a call to a stopped service waits until the service comes back. This
dependency uses the same machinery (one reply queue per gateway process, nameko's ``MethodProxy``), and adds:

- a deadline per call (``RPC_TIMEOUT_S``, default 10 s; longer for imports), after which the caller gets 503;
- the request message expires (AMQP TTL) at that deadline, so a service that comes back later does not run a
  request whose caller has already been told "unavailable";
- a fast answer for a service that is down: if no reply came within ``RPC_PROBE_S`` (default 1.5 s) the gateway
  asks RabbitMQ how many consumers the service's RPC queue has; none → 503 at once. A service never started at all
  is refused by the broker (mandatory publish) → ``UnknownService`` → 503 immediately. One call per service asks at
  a time, and its answer serves every call that waits past ``RPC_PROBE_S`` within ``PROBE_KEEP_S``: under load many
  calls pass that wait together, and each opening a broker connection of its own made a saturated gateway slower
  still (15 % of its CPU at 200 requests/s, issue 17).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import eventlet
from eventlet.semaphore import Semaphore
from kombu import Connection
from nameko.exceptions import UnknownService
from nameko.extensions import DependencyProvider
from nameko.rpc import MethodProxy, ReplyListener, RpcReply

from services.gateway.errors import ServiceUnavailable
from shared.rpc import BROKER_ERRORS

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_PROBE_S = 1.5
PROBE_KEEP_S = 1.0


class Rpc(DependencyProvider):
    reply_listener = ReplyListener()

    def setup(self) -> None:
        config = self.container.config
        self.timeout = float(config.get("RPC_TIMEOUT_S", DEFAULT_TIMEOUT_S))
        self.probe_after = float(config.get("RPC_PROBE_S", DEFAULT_PROBE_S))
        self.amqp_uri = config["AMQP_URI"]
        self._probing: dict[str, Semaphore] = defaultdict(Semaphore)
        self._probed: dict[str, tuple[float, int]] = {}  # service → (when asked, consumers)

    def get_dependency(self, worker_ctx) -> Caller:
        return Caller(self, worker_ctx)

    def consumers(self, service: str) -> int:
        """How many processes consume the service's RPC queue (0 if the queue does not exist), as the broker said
        within the last ``PROBE_KEEP_S``: one call asks, those waiting meanwhile take its answer."""
        with self._probing[service]:
            asked_at, count = self._probed.get(service, (float("-inf"), 0))
            if time.monotonic() - asked_at >= PROBE_KEEP_S:
                count = self._ask_broker(service)
                self._probed[service] = (time.monotonic(), count)
            return count

    def _ask_broker(self, service: str) -> int:
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                channel = connection.channel()
                try:
                    return channel.queue_declare(f"rpc-{service}", passive=True).consumer_count
                finally:
                    channel.close()
        except Exception:  # queue missing (channel error 404) or broker unreachable
            return 0


class Caller:
    """``caller(service, method, *args, timeout=None, **kwargs)``: the service's answer, a ``RemoteError`` for a
    refusal, or ``ServiceUnavailable``."""

    def __init__(self, provider: Rpc, worker_ctx) -> None:
        self.provider, self.worker_ctx = provider, worker_ctx

    def __call__(self, service: str, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        provider = self.provider
        timeout = float(timeout or provider.timeout)
        deadline = time.monotonic() + timeout
        proxy = MethodProxy(self.worker_ctx, service, method, provider.reply_listener, expiration=timeout)
        try:
            reply: RpcReply = proxy.call_async(*args, **kwargs)
        except UnknownService:
            raise ServiceUnavailable(service, "not running") from None
        except BROKER_ERRORS as exc:
            raise ServiceUnavailable(service, f"message broker unreachable: {type(exc).__name__}") from None
        body = self._wait(reply, min(provider.probe_after, timeout))
        if body is None and provider.consumers(service) == 0:
            self._forget(reply)
            raise ServiceUnavailable(service, "not running")
        if body is None:
            body = self._wait(reply, max(0.0, deadline - time.monotonic()))
        if body is None:
            self._forget(reply)
            raise ServiceUnavailable(service, f"no answer within {timeout:g} s")
        reply.resp_body = body
        return reply.result()

    @staticmethod
    def _wait(reply: RpcReply, seconds: float) -> dict | None:
        if reply.resp_body is not None:
            return reply.resp_body
        with eventlet.Timeout(seconds, False):
            reply.resp_body = reply.reply_event.wait()
        return reply.resp_body

    def _forget(self, reply: RpcReply) -> None:
        events = self.provider.reply_listener._reply_events
        for correlation_id, event in list(events.items()):
            if event is reply.reply_event:
                events.pop(correlation_id, None)
