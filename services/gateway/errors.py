"""One error shape for every HTTP answer that is not a success:
``{"error": {"code", "message", "field"?, "rule"?, "details"?}}`` — ``details``: the values a domain refusal names
(ids, numbers, limits), so that a client (the console among them) can say it in its own words and language.

Domain refusals come back from the services as nameko ``RemoteError``s (rebuilt with ``shared.errors.from_remote``)
and are mapped here to HTTP: bad input 400, role/region refusals 403, missing 404, conflicts and programme rules
409. A service that cannot be reached is 503; a service that crashed is 502. Nothing a client sends produces a 500.
"""

from __future__ import annotations

from typing import Any

from nameko.exceptions import RemoteError
from pydantic import ValidationError

from shared.errors import BerdayaError, Conflict, NotFound, NotYours, ValidationFailed, from_remote

# The HTTP status of a domain refusal, by its type: the first row whose type it is wins (a NotYours is a Conflict).
STATUS_BY_TYPE: tuple[tuple[type[BerdayaError], int], ...] = (
    (ValidationFailed, 400),
    (NotFound, 404),
    (NotYours, 403),
    (Conflict, 409),
    (BerdayaError, 400),
)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str | None = None, rule: str | None = None,
                 headers: dict[str, str] | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.rule = field, rule
        self.headers = headers or {}
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        if self.rule is not None:
            error["rule"] = self.rule
        if self.details:
            error["details"] = self.details
        return {"error": error}


class ServiceUnavailable(Exception):
    """A service did not answer (not running, unknown, or too slow): the outcome of a write is unknown."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service, self.reason = service, reason


def password_change_required() -> ApiError:
    """A user whose password an administrator set gets no token and no answer until they have changed it."""
    return ApiError(403, "password_change_required", "the password was set by an administrator: change it first "
                                                     "(POST /api/v1/auth/password)", rule="password.change_required")


def invalid(field: str, rule: str, message: str) -> ApiError:
    return ApiError(400, "invalid", message, field=field, rule=rule)


def from_validation(exc: ValidationError, where: str) -> ApiError:
    """The first pydantic error as a 400 naming the field (``where`` is body, query or path)."""
    error = exc.errors(include_url=False)[0]
    if error["type"] == "json_invalid":
        return invalid("body", "body.json", f"the body is not valid JSON: {error['msg']}")
    if error["type"] in ("model_type", "model_attributes_type") and not error["loc"]:
        return invalid(where, f"{where}.object", f"the {where} must be a JSON object")
    field = ".".join(str(part) for part in error["loc"]) or where
    return invalid(field, f"{field}.{error['type']}", f"{field}: {error['msg']}")


def from_domain(error: BerdayaError) -> ApiError:
    field = getattr(error, "field", None) or error.details.get("field")
    rule = getattr(error, "rule", None) or error.details.get("rule")
    field = str(field) if field is not None else None
    rule = str(rule) if rule is not None else None
    details = {key: value for key, value in error.details.items() if key not in ("field", "rule")}
    status = next(status for kind, status in STATUS_BY_TYPE if isinstance(error, kind))
    return ApiError(status, error.code, error.message, field=field, rule=rule, details=details)


# What a service raises when its database went away mid-command (eventsourcing's and psycopg's names): the
# command's transaction did not commit, or its outcome is unknown — as for a service that did not answer.
DATABASE_UNAVAILABLE = frozenset({"OperationalError", "InterfaceError"})


def from_remote_error(exc: RemoteError) -> ApiError:
    error = from_remote(exc.exc_type, exc.value)
    if error is None and exc.exc_type in DATABASE_UNAVAILABLE:
        return ApiError(503, "unavailable", f"a service's database is unavailable ({exc.exc_type}); try again later "
                                            "(with the same Idempotency-Key)", headers={"Retry-After": "5"})
    if error is None:  # a crash inside the service (a bug), not a refusal
        return ApiError(502, "upstream_error", f"a service failed: {exc.exc_type}")
    return from_domain(error)


def unavailable(exc: ServiceUnavailable) -> ApiError:
    return ApiError(503, "unavailable", f"the {exc.service} service is unavailable ({exc.reason}); try again later",
                    headers={"Retry-After": "5"})
