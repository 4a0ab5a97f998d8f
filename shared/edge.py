"""Validation at the edge: RPC payloads become typed commands, or a ValidationFailed naming the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import ValidationFailed

Command = TypeVar("Command", bound=BaseModel)


def parse_command(model: type[Command], payload: Any) -> Command:
    if not isinstance(payload, dict):
        raise ValidationFailed("body", "body.object", f"expected a JSON object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "body"
        raise ValidationFailed(field, f"{field}.{error['type']}", f"{field}: {error['msg']}") from None
