"""Publishing to RabbitMQ with publisher confirms, batched: wait once per batch, never per message.

Waiting per message caps a publisher at ~1,200 msg/s on these machines; one wait per batch of 500 reaches ~11,500.
"""

from __future__ import annotations

import amqp
from kombu import Connection

from shared.contracts import Envelope


class ConfirmingPublisher:
    """Publishes persistent messages on a channel in confirm mode, waiting once per batch, not per message.

    :meth:`send` publishes without waiting and returns the last delivery tag; :meth:`wait_for` returns once the broker
    confirmed every message up to a tag. A caller may send the next batch before waiting for the previous one's
    confirms (the relay keeps two in flight); :meth:`publish` is the two in one.
    """

    def __init__(self, connection: Connection, exchange_name: str, confirm_timeout: float = 30.0) -> None:
        self._connection = connection
        self._exchange = exchange_name
        self._timeout = confirm_timeout
        self._channel = connection.channel()
        self._channel.confirm_select()
        self._channel.events["basic_ack"].add(self._on_ack)
        self._channel.events["basic_nack"].add(self._on_nack)
        self._next_tag = 1
        self._unconfirmed: set[int] = set()
        self._lowest = 1  # every tag below is confirmed (kept so that settling costs O(1) per message, not O(batch))
        self._refused: set[int] = set()

    @property
    def channel(self):
        return self._channel

    def _settle(self, tag: int, multiple: bool) -> list[int]:
        """Mark ``tag`` (and with ``multiple`` every tag up to it) confirmed or refused; returns the tags settled."""
        tags = range(self._lowest, tag + 1) if multiple else (tag,)
        settled = [each for each in tags if each in self._unconfirmed]
        self._unconfirmed.difference_update(settled)
        return settled

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._refused.update(self._settle(tag, multiple))

    def _confirmed_up_to(self, tag: int) -> bool:
        while self._lowest < self._next_tag and self._lowest not in self._unconfirmed:
            self._lowest += 1
        return self._lowest > tag

    def send(self, messages: list[tuple[str, amqp.Message]]) -> int:
        """Publish ``(routing_key, message)`` pairs without waiting; returns the last one's tag, to wait for."""
        for routing_key, message in messages:
            self._channel.basic_publish(message, exchange=self._exchange, routing_key=routing_key)
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
        return self._next_tag - 1

    def wait_for(self, tag: int) -> None:
        """Return once the broker confirmed every message sent up to ``tag``; raise if it refused any of them (a
        refusal of a later message is told by the wait for that one)."""
        while not self._confirmed_up_to(tag):
            try:
                self._connection.drain_events(timeout=self._timeout)
            except TimeoutError:
                raise TimeoutError(f"broker did not confirm {len(self._unconfirmed)} messages") from None
        refused = {each for each in self._refused if each <= tag}
        if refused:
            self._refused -= refused
            raise RuntimeError(f"broker refused {len(refused)} messages; they will be published again")

    def publish(self, messages: list[tuple[str, amqp.Message]]) -> None:
        """Publish ``(routing_key, message)`` pairs; return once the broker confirmed every one."""
        self.wait_for(self.send(messages))


def persistent_message(body: str | bytes, *, message_id: str, kind: str, headers: dict) -> amqp.Message:
    return amqp.Message(
        body,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=message_id,
        type=kind,
        application_headers=headers,
    )


def envelope_message(envelope: Envelope) -> tuple[str, amqp.Message]:
    message = persistent_message(
        envelope.model_dump_json(),
        message_id=str(envelope.id),
        kind=envelope.type,
        headers={"position": envelope.position, "source": envelope.source},
    )
    return envelope.type, message
