"""Turning domain values into JSON-ready values for RPC answers (dates as ISO text, ids as strings)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_record(domain_event: Any) -> dict[str, Any]:
    """A domain event as a line of history: what, when (UTC), by whom, with which details."""
    details = {key: value for key, value in vars(domain_event).items()
               if key not in ("originator_id", "originator_version", "timestamp")}
    by = details.get("by") or next((v for k, v in details.items() if k.endswith("_by")), None)
    return {
        "event": type(domain_event).__name__,
        "version": domain_event.originator_version,
        "at": domain_event.timestamp.isoformat(),
        "by": by,
        "details": jsonable(details),
    }
