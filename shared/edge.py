"""Validation at the edge: RPC payloads become typed commands, or a ValidationFailed naming the field."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from shared.errors import NotFound, ValidationFailed
from shared.ids import NIK_PATTERN
from shared.regions import REGION_PATTERN, VILLAGE_PATTERN

# Shapes every service checks at its edge; [0-9] rather than \d, which also matches non-ASCII digits.
USER_REGION_PATTERN = r"^$|" + REGION_PATTERN  # a user's scope: '' is national
Nik = Annotated[str, Field(pattern=NIK_PATTERN)]
Kk = Annotated[str, Field(pattern=NIK_PATTERN)]  # a KK number has a NIK's shape: 16 digits
VillageCode = Annotated[str, Field(pattern=VILLAGE_PATTERN)]
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
Uuid = Annotated[str, Field(pattern=rf"^{UUID_PATTERN}$")]
# A household named by its KK (what an operator types) or its id (what links and other services carry).
HouseholdKey = Annotated[str, Field(pattern=rf"^(?:[0-9]{{16}}|{UUID_PATTERN})$")]
RegionCode = Annotated[str, Field(pattern=REGION_PATTERN)]
UserRegion = Annotated[str, Field(pattern=USER_REGION_PATTERN)]
UserName = Annotated[str, Field(min_length=1, max_length=100)]
Rupiah = Annotated[StrictInt, Field(ge=0, le=10**15)]  # money is whole rupiah: never a float, never a string
PositiveRupiah = Annotated[StrictInt, Field(gt=0, le=10**15)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


def known_id(value: str, label: str) -> uuid.UUID:
    """The id a read or a command names: a malformed one is answered as a missing one, without echoing it (it may be
    anything, a NIK typed in the wrong field too) and never reaching the database (whose error would echo it)."""
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise NotFound(f"no such {label}", field=f"{label}_id") from None


class Command(BaseModel):
    """Base of every command model: immutable, no unknown fields, surrounding whitespace stripped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


AnyCommand = TypeVar("AnyCommand", bound=BaseModel)
ACTOR_VERIFIER = "actor_verifier"  # the validation context's key for the keys a command's actor is verified with


def parse_command(model: type[AnyCommand], payload: Any, actors: object | None = None) -> AnyCommand:
    """``payload`` as a ``model`` command; ``actors`` (shared.actor_assertion.ActorVerifier) verifies its signed
    actor — without it, a command with an actor is refused."""
    if not isinstance(payload, dict):
        raise ValidationFailed("body", "body.object", f"expected a JSON object, got {type(payload).__name__}")
    field = _nul_field(payload)
    if field is not None:  # PostgreSQL text cannot hold NUL: refuse it here, not as a database error later
        raise ValidationFailed(field, f"{field}.nul_character", f"{field}: contains a NUL character")
    try:
        return model.model_validate(payload, context={ACTOR_VERIFIER: actors})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        raise ValidationFailed(field, f"{field}.{error['type']}", f"{field}: {error['msg']}") from None


def _nul_field(value: Any, where: str = "") -> str | None:
    if isinstance(value, str):
        return (where or "body") if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _nul_field(item, f"{where}.{key}" if where else str(key))
        if found is not None:
            return found
    return None
