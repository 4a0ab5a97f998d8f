"""The public contract between services: a CloudEvents-style envelope around versioned event data.

Services publish and consume only these shapes, never each other's domain classes. A changed shape is a new
``version`` of the same ``type``; old versions stay registered so history stays readable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

SPECVERSION = "1.0"
# A consumer checks an envelope's id with it: uuid5(ENVELOPE_ID_NAMESPACE, "<source>:<position>").
ENVELOPE_ID_NAMESPACE = uuid.UUID("6f1d8a52-3c2e-4bb1-9d1e-6c0b7a0e5b11")


class EventData(BaseModel):
    """Base of every public event's ``data``; subclasses are registered with :func:`contract`."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str] = ""
    event_version: ClassVar[int] = 0


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: uuid.UUID = Field(description=f'uuid5 of "<source>:<position>" in namespace {ENVELOPE_ID_NAMESPACE}')
    source: str
    type: str
    specversion: Literal["1.0"] = SPECVERSION
    time: AwareDatetime
    subject: str
    version: int = Field(ge=1)
    dataschema: str
    position: int = Field(ge=1, description="the event's notification id in its source's log")
    previous_position: int = Field(ge=0, description="position of the source's previous public event; 0: none")
    data: dict[str, Any]
    # Who vouches for it (shared/signing.py): the id of the source's key and its Ed25519 signature (base64) of
    # every other field. Absent only on an envelope not yet signed (inside the service that emits it).
    keyid: str | None = None
    signature: str | None = None


class PoisonMessage(Exception):
    """A message a consumer cannot apply; ``reason`` says why (goes with it to the dead-letter queue)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


CATALOG: dict[tuple[str, int], type[EventData]] = {}


def contract(event_type: str, version: int):
    """Register a data model as the contract for ``event_type`` at ``version``."""

    def register(model: type[EventData]) -> type[EventData]:
        key = (event_type, version)
        if key in CATALOG:
            raise RuntimeError(f"contract {event_type} v{version} registered twice")
        model.event_type, model.event_version = event_type, version
        CATALOG[key] = model
        return model

    return register


def dataschema(event_type: str, version: int) -> str:
    return f"urn:berdaya:event:{event_type}:v{version}"


def envelope_id(source: str, position: int) -> uuid.UUID:
    """Deterministic: the same stored event republished is recognisably the same message."""
    return uuid.uuid5(ENVELOPE_ID_NAMESPACE, f"{source}:{position}")


def make_envelope(
    *, source: str, position: int, previous_position: int, subject: str, time: datetime, data: EventData
) -> Envelope:
    return Envelope(
        id=envelope_id(source, position),
        source=source,
        type=data.event_type,
        time=time,
        subject=subject,
        version=data.event_version,
        dataschema=dataschema(data.event_type, data.event_version),
        position=position,
        previous_position=previous_position,
        data=data.model_dump(mode="json"),
    )


def parse_envelope(body: bytes | str | dict) -> Envelope:
    try:
        if isinstance(body, dict):
            return Envelope.model_validate(body)
        return Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessage(f"not a berdaya event envelope: {_first_error(exc)}") from None


def parse_data(envelope: Envelope) -> EventData:
    model = CATALOG.get((envelope.type, envelope.version))
    if model is None:
        known = sorted(v for (t, v) in CATALOG if t == envelope.type)
        raise PoisonMessage(
            f"{envelope.type} version {envelope.version} is not a known contract (known versions: {known})"
        )
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise PoisonMessage(f"{envelope.type} v{envelope.version} data invalid: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"


def load_all() -> None:
    """Import every contract module so the catalog is complete."""
    from shared.contracts import consumers, grants, registry, training  # noqa: F401


load_all()
