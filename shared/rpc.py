"""nameko's ``@rpc``, surviving a broker outage.

nameko 2.14 publishes an RPC's reply from the worker; when the broker is unreachable at that moment the publish
raises, the worker dies with it, and nameko kills the whole container: one broker restart would stop every
service. Here a reply that cannot be sent is logged and dropped instead: its caller has lost its reply queue with
the connection anyway and gets a time-out (the gateway: 503, "outcome unknown, retry with the same
Idempotency-Key"). The request stays unacknowledged, so the broker delivers it again when it is back, unless it
expired meanwhile (the gateway sets its deadline as the message's TTL); commands are safe to run twice (a repeat
is refused as a duplicate, or is an idempotent no-op).
"""

from __future__ import annotations

import amqp.exceptions
import kombu.exceptions
from nameko import rpc as nameko_rpc

from shared.log import get_logger

log = get_logger("rpc")

BROKER_ERRORS = (kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError, ConnectionError, OSError)


class RpcConsumer(nameko_rpc.RpcConsumer):
    def handle_result(self, message, result, exc_info):
        try:
            return super().handle_result(message, result, exc_info)
        except BROKER_ERRORS as exc:
            log.warning("rpc.reply_undeliverable", method=message.delivery_info.get("routing_key"),
                        error=f"{type(exc).__name__}: {exc}")
            return result, exc_info


class Rpc(nameko_rpc.Rpc):
    # Every RPC entrypoint of a service must share this consumer: two consumer classes would both consume the
    # service's one RPC queue, each refusing the other's methods.
    rpc_consumer = RpcConsumer()


rpc = Rpc.decorator
