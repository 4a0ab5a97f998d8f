"""Domain events that gained fields: version 2 of an aggregate's events, and how version-1 events are read.

An aggregate declares ``class Event(VersionedEvent)`` with the names of the fields its events gained
(``ADDED_IN_V2``); the eventsourcing library makes every ``@event`` class of the aggregate (its "created" event too)
a subclass of that ``Event``, so every one of them is stored as version 2. Reading a version-1 event, the library
calls ``upcast_v1_v2`` on its class: each added field the class declares and the stored state lacks becomes None
(what was stored stays). The mutators take the fields and ignore them, so an aggregate replays to the same state
from either version, and a reader of the event (the service's public.py) knows an event stored before by a None:
``carried`` takes the added fields from the event, and only for an event stored before v2 asks the service's own
legacy path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.domain import Aggregate


class VersionedEvent(Aggregate.Event):
    class_version = 2
    ADDED_IN_V2 = ()  # unannotated on purpose: a class attribute, not a field of every event (a dataclass)

    @classmethod
    def upcast_v1_v2(cls, state: dict) -> None:
        # A classmethod, not the library's usual staticmethod: the library calls it on the event's class, which
        # says which of the added fields this event declares.
        declared = cls.__dataclass_fields__
        for name in cls.ADDED_IN_V2:
            if name in declared:
                state.setdefault(name, None)


def carried(event: object, names: Sequence[str], stored_before_v2: Callable[[Sequence[str]], list]) -> list[Any]:
    """The values of ``names``, fields added in v2, from ``event`` itself; for an event stored before v2 (one of
    them None) ``stored_before_v2(names)``: the service's legacy path, which reads them from its store.

    The services' public.py call it as ``versioning.carried``, through this module, which is the seam a benchmark
    uses to force the legacy path for every event (bench/envelopes.py replaces it for a walk of the log)."""
    values = [getattr(event, name) for name in names]
    if any(value is None for value in values):
        return stored_before_v2(names)
    return values
