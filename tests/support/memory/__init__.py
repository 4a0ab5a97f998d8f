"""In-memory facts for application tests: each service's commands run on the library's POPO store
(``ServiceApplication.in_memory``) and read what they would read from the read model from one of these — upstream
facts projected in Python from the same public events the service consumes, own facts from the in-memory log.
tests/integration/test_facts.py holds each to the answers of the service's SQL read model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.errors import BerdayaError
from shared.store import ServiceApplication


def aggregates(app: ServiceApplication, kind: type) -> Iterator[Any]:
    """Every aggregate of ``kind`` in an in-memory application's log, as it is now, in the order they began."""
    notifications = app.recorder.select_notifications(start=None, limit=1_000_000)
    for originator_id in dict.fromkeys(n.originator_id for n in notifications):
        aggregate = app.repository.get(originator_id)
        if isinstance(aggregate, kind):
            yield aggregate


def log_length(app: ServiceApplication) -> int:
    return app.recorder.max_notification_id() or 0


def refused(app: ServiceApplication, error: type[BerdayaError], rule: str | None,
            call: Callable[[], object]) -> BerdayaError:
    """``call`` is refused with exactly ``error`` (and ``rule``), and the log is as it was: nothing recorded."""
    before = log_length(app)
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    assert rule is None or (getattr(info.value, "rule", None) or info.value.details.get("rule")) == rule
    assert log_length(app) == before
    return info.value
