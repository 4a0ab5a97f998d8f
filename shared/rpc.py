"""nameko's ``@rpc``, with at-most-once requests and surviving a broker outage.

nameko 2.14 acknowledges a request only after its reply is sent. When the broker goes away in between, the request
is delivered again once it is back and the command runs a second time — and the caller, who sent it once, may
then be answered by the second run ("KK … is already registered" for its own registration). And the reply's
failed publish raised in the worker, which made nameko kill the whole container: one broker restart stopped every
service.

Here a request is acknowledged as soon as a worker has it, so it runs at most once; a reply that cannot be sent is
logged and dropped. Either way its caller gets no answer and a time-out (the gateway: 503, "outcome unknown,
retry with the same Idempotency-Key"); every caller retries on that, and the services make a retried command a
no-op or a clear refusal (natural-key ids, payment id = uuid5(grant, key), one open proposal per group).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import amqp.exceptions
import kombu.exceptions
from nameko import rpc as nameko_rpc
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, SERIALIZER_CONFIG_KEY
from nameko.exceptions import RpcTimeout
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from shared.log import get_logger

log = get_logger("rpc")

BROKER_ERRORS = (kombu.exceptions.OperationalError, amqp.exceptions.ConnectionError, ConnectionError, OSError)

Answer = TypeVar("Answer")


def call_until_answered(call: Callable[[], Answer], attempts: int = 3,
                        on_lost: Callable[[int], None] | None = None) -> Answer:
    """An idempotent RPC call sent again when it went unanswered (its request lost with a killed replica).

    Only for calls whose repetition changes nothing; the caller's proxy time-out bounds each attempt.
    """
    retrying = Retrying(retry=retry_if_exception_type(RpcTimeout), stop=stop_after_attempt(attempts), reraise=True,
                        before_sleep=(lambda state: on_lost(state.attempt_number)) if on_lost else None)
    return retrying(call)


def acknowledge(queue_consumer, message) -> None:
    """Take a request off the queue as a worker starts it. If the broker went away at that moment the request
    stays on the queue and comes again after the outage (a retried command, which the services make a no-op or a
    clear refusal) — an error here would have stopped the whole service (nameko kills a container whose consumer
    raises), as a broker stop did in a fault run."""
    try:
        queue_consumer.ack_message(message)
    except BROKER_ERRORS as exc:
        log.warning("rpc.ack_failed", method=message.delivery_info.get("routing_key"),
                    error=f"{type(exc).__name__}: {exc}")


class RpcConsumer(nameko_rpc.RpcConsumer):
    def handle_message(self, body, message):
        super().handle_message(body, message)  # a worker runs it, or it was requeued (the service is stopping)
        if not message.acknowledged:
            acknowledge(self.queue_consumer, message)

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = nameko_rpc.Responder(config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
                                         config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
                                         ssl=config.get(AMQP_SSL_CONFIG_KEY))
        try:
            return responder.send_response(result, exc_info)
        except BROKER_ERRORS as exc:
            log.warning("rpc.reply_undeliverable", method=message.delivery_info.get("routing_key"),
                        error=f"{type(exc).__name__}: {exc}")
            return result, exc_info


class Rpc(nameko_rpc.Rpc):
    # Every RPC entrypoint of a service must share this consumer: two consumer classes would both consume the
    # service's one RPC queue, each refusing the other's methods.
    rpc_consumer = RpcConsumer()


rpc = Rpc.decorator
