"""Domain errors shared by every service.

Each error carries a machine-readable ``code`` and the ids involved, so that the gateway can map it to an HTTP
status and a user can see which field or record broke which rule. Errors travel over nameko RPC as
``RemoteError(exc_type, message)``; ``as_dict``/``from_remote`` keep the structured part intact across the wire.
"""

from __future__ import annotations

import json


class BerdayaError(Exception):
    """Base of every refusal the domain can give. Never raised for bugs."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.details}

    def __str__(self) -> str:
        # nameko serialises str(exc) into RemoteError.value: keep it parseable JSON.
        return json.dumps(self.as_dict(), ensure_ascii=False, default=str)


class ValidationFailed(BerdayaError):
    """Bad input: names the field and the rule it broke."""

    code = "invalid"

    def __init__(self, field: str, rule: str, message: str, **details: object) -> None:
        super().__init__(message, field=field, rule=rule, **details)
        self.field = field
        self.rule = rule


class NotFound(BerdayaError):
    code = "not_found"


class Conflict(BerdayaError):
    """The request is well-formed but clashes with recorded state (duplicate, illegal transition)."""

    code = "conflict"


class RuleViolated(Conflict):
    """A programme rule refuses the command; ``rule`` names it."""

    code = "rule_violated"

    def __init__(self, rule: str, message: str, **details: object) -> None:
        super().__init__(message, rule=rule, **details)
        self.rule = rule


class NotYours(RuleViolated):
    """A rule that says "not you" rather than "not now": the role, the region, or maker–checker refuses this actor,
    and the same request by another user could succeed. The gateway answers it 403 (its code stays
    ``rule_violated``: a domain rule refused)."""


ERROR_TYPES: dict[str, type[BerdayaError]] = {
    cls.__name__: cls for cls in (BerdayaError, ValidationFailed, NotFound, Conflict, RuleViolated, NotYours)
}


def from_remote(exc_type: str, value: str) -> BerdayaError | None:
    """Rebuild a domain error that crossed nameko RPC (``RemoteError(exc_type, value)``); None if it is not one."""
    cls = ERROR_TYPES.get(exc_type)
    if cls is None:
        return None
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    message = data.pop("message", value)
    data.pop("code", None)
    error = BerdayaError.__new__(cls)
    BerdayaError.__init__(error, message, **data)
    for attribute in ("field", "rule"):
        if attribute in data:
            setattr(error, attribute, data[attribute])
    return error
