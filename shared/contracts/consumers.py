"""Public events every service publishes about its own consumers: an operator resumed one that halted on a poison
event, or had it skip that event. The shape is the same in every service; the type names the service that decided
(``grants.consumer.skipped``), like every other event type names its source."""

from __future__ import annotations

import uuid

from pydantic import Field

from shared.config import SERVICES
from shared.contracts import EventData, contract


class ConsumerRetriedV1(EventData):
    """An operator resumed {service}'s consumer of an upstream after it halted on a poison event (a fix having
    been deployed): the consumer pulls that event from the upstream's log again and applies it, in order."""

    upstream: str
    # 0 when the consumer halted before applying anything (a halt without an event position).
    position: int = Field(ge=0, description="where the consumer halted, in the upstream's log")
    halt_reason: str
    reason: str
    by: str


class ConsumerSkippedV1(EventData):
    """An operator decided that {service} never applies one upstream event, on which its consumer had halted; the
    consumer goes on after it. The skipped event itself stays in the upstream's log."""

    upstream: str
    position: int = Field(ge=1, description="the skipped event's position in the upstream's log")
    skipped_type: str
    skipped_version: int = Field(ge=1)
    skipped_id: uuid.UUID
    halt_reason: str
    reason: str = Field(min_length=1)
    by: str


def _per_service(base: type[EventData], action: str) -> dict[str, type[EventData]]:
    """Register ``<service>.consumer.<action>`` v1 for every service: one contract each, one shape for all."""
    models = {}
    for service in SERVICES:
        model = type(f"{service.title()}{base.__name__}", (base,),
                     {"__doc__": (base.__doc__ or "").format(service=service), "__module__": __name__})
        models[service] = contract(f"{service}.consumer.{action}", 1)(model)
    return models


RETRIED = _per_service(ConsumerRetriedV1, "retried")
SKIPPED = _per_service(ConsumerSkippedV1, "skipped")
