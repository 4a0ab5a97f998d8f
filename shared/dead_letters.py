"""A service's dead-letter queue (``<service>.dead-letter``): read without taking anything off it, and tidied once an
operator resolved a halt.

A dead letter records what went wrong; it is not the event (the upstream's log holds that) nor the decision (the
retry or skip is an event in the service's log, ``shared.halts``). So once a halt is resolved, that upstream's dead
letters at or below the halted position, dead-lettered before the decision, have served their purpose and are
removed; any other dead letter stays until an operator looks at it — among them the one a retry without a fix
produces at once, at the same position, while the queue is being tidied.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from amqp.exceptions import NotFound as QueueNotFound
from kombu import Connection

from shared.topology import dead_letter_queue_name


@dataclass(frozen=True)
class DeadLetter:
    upstream: str | None
    position: int | None
    reason: str
    event_type: str | None  # "type vN", or None when the body is not an event envelope
    event_id: str | None
    dead_lettered_at: str | None  # ISO 8601, UTC, stamped by the consumer

    @classmethod
    def of(cls, message) -> DeadLetter:
        headers = message.headers or {}
        try:
            body = json.loads(message.body)
            event_type, event_id = f"{body['type']} v{body['version']}", str(body["id"])
        except (ValueError, TypeError, KeyError):
            event_type = event_id = None
        return cls(upstream=headers.get("x-berdaya-upstream"), position=headers.get("x-berdaya-position"),
                   reason=headers.get("x-berdaya-reason", ""), event_type=event_type, event_id=event_id,
                   dead_lettered_at=headers.get("x-berdaya-dead-lettered-at"))

    def resolved_by(self, upstream: str, position: int, decided_at: datetime) -> bool:
        """Whether an operator's decision about ``upstream`` at ``position`` at ``decided_at`` settles this letter.
        A letter without a stamp was dead-lettered before stamps existed, so before any decision now taken."""
        return (self.upstream == upstream and self.position is not None and self.position <= position
                and (self.dead_lettered_at is None or datetime.fromisoformat(self.dead_lettered_at) < decided_at))

    def as_dict(self) -> dict:
        return asdict(self)


def peek(connection: Connection, service: str, limit: int = 100) -> tuple[int, list[DeadLetter]]:
    """How many dead letters wait in the service's queue, and the first ``limit`` of them. All stay queued: they are
    taken unacknowledged and go back, in their order, when the channel closes."""
    with connection.channel() as channel:
        waiting = _waiting(channel, service)
        letters = []
        while len(letters) < min(waiting, limit) and (message := channel.basic_get(
                dead_letter_queue_name(service), no_ack=False)) is not None:
            letters.append(DeadLetter.of(message))
    return waiting, letters


def remove_resolved(connection: Connection, service: str, upstream: str, position: int, decided_at: datetime) -> int:
    """Remove the dead letters that a decision about ``upstream`` at ``position`` settled; the others go back.
    Returns how many."""
    removed = 0
    with connection.channel() as channel:
        for _ in range(_waiting(channel, service)):
            message = channel.basic_get(dead_letter_queue_name(service), no_ack=False)
            if message is None:
                break
            if DeadLetter.of(message).resolved_by(upstream, position, decided_at):
                channel.basic_ack(message.delivery_tag)
                removed += 1
    return removed


def _waiting(channel, service: str) -> int:
    try:
        return channel.queue_declare(dead_letter_queue_name(service), passive=True).message_count
    except QueueNotFound:  # the service never started a consumer here: nothing was ever dead-lettered
        return 0
