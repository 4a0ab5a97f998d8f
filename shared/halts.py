"""A consumer halted on a poison event, and what an operator decided about it.

**Retry**: the cause was fixed (usually by deploying a consumer that understands the event); the consumer pulls the
halted event from the upstream's log again and applies it, in order. **Skip**: that one event is never applied;
the consumer goes on after it. Either decision is an event in the deciding service's own append-only log, published
like every other (``<service>.consumer.retried`` / ``<service>.consumer.skipped``), so an auditor sees who decided
what, when and why. Pure: the application (``shared.store``) checks the halt and records.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from eventsourcing.domain import Aggregate, event
from pydantic import Field

from shared.actor import Actor, check_region, check_role
from shared.actor_assertion import SignedActor
from shared.contracts import EventData
from shared.contracts.consumers import RETRIED, SKIPPED
from shared.edge import Command
from shared.keys import stable_id

DECIDERS = ("admin",)  # who decides about a halted consumer: operations, for the whole country


def check_decider(actor: Actor, action: str) -> None:
    check_role(actor, DECIDERS, action)
    check_region(actor, "", action)


class Decision(Command):
    """An operator's decision about a halt: the actor signed by the operators' CLI, verified at the edge."""

    upstream: str = Field(min_length=1, max_length=50)
    actor: SignedActor

    @property
    def by(self) -> str:
        return self.actor.user


class RetryUpstream(Decision):
    reason: str = Field(default="", max_length=500)


class SkipUpstreamEvent(Decision):
    position: int = Field(ge=1, description="the halted position, as the operator saw it")
    reason: str = Field(min_length=1, max_length=500)


class ConsumerRetry(Aggregate):
    """An operator resumed a consumer halted at ``position`` of ``upstream``."""

    @staticmethod
    def create_id(service: str, upstream: str, position: int, halted_at: datetime) -> uuid.UUID:
        # One retry per halt: the same halt cannot be resumed twice, a later halt at the same position can.
        return stable_id("consumer-retry", service, upstream, position, halted_at.isoformat())

    @event("Retried")
    def __init__(self, service: str, upstream: str, position: int, halted_at: datetime, halt_reason: str,
                 reason: str, by: str) -> None:
        self.upstream, self.position, self.halt_reason = upstream, position, halt_reason
        self.reason, self.by = reason, by


class ConsumerSkip(Aggregate):
    """An operator decided that the upstream event at ``position`` is never applied here."""

    @staticmethod
    def create_id(service: str, upstream: str, position: int) -> uuid.UUID:
        # An upstream event can be skipped once: a second decision about it collides on the id.
        return stable_id("consumer-skip", service, upstream, position)

    @event("Skipped")
    def __init__(self, service: str, upstream: str, position: int, skipped_type: str, skipped_version: int,
                 skipped_id: uuid.UUID, halt_reason: str, reason: str, by: str) -> None:
        self.upstream, self.position, self.halt_reason = upstream, position, halt_reason
        self.skipped_type, self.skipped_version, self.skipped_id = skipped_type, skipped_version, skipped_id
        self.reason, self.by = reason, by

    def as_dict(self) -> dict:
        return {"upstream": self.upstream, "position": self.position, "event_type": self.skipped_type,
                "event_version": self.skipped_version, "event_id": str(self.skipped_id),
                "halt_reason": self.halt_reason, "reason": self.reason, "by": self.by,
                "skipped_at": self.created_on.isoformat()}


_CONTRACTS = {ConsumerRetry.Retried: RETRIED, ConsumerSkip.Skipped: SKIPPED}


def public_event(service: str, domain_event: object) -> EventData | None:
    """The public event of a decision about a halt, the same in every service; None for any other event."""
    contracts = _CONTRACTS.get(type(domain_event))
    if contracts is None:
        return None
    model = contracts[service]
    return model(**{name: getattr(domain_event, name) for name in model.model_fields})
