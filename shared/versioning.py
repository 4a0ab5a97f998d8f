"""Domain events that gained fields: version 2 of an aggregate's events, and how version-1 events are read.

An aggregate declares ``class Event(VersionedEvent)`` with the names of the fields its events gained
(``ADDED_IN_V2``); the eventsourcing library makes every ``@event`` class of the aggregate (its "created" event too)
a subclass of that ``Event``, so every one of them is stored as version 2. Reading a version-1 event, the library
calls ``upcast_v1_v2`` on its class: each added field the class declares and the stored state lacks becomes None
(what was stored stays). The mutators take the fields and ignore them, so an aggregate replays to the same state
from either version, and a reader of the event (the service's public.py) knows an event stored before by a None:
``carried`` takes the added fields from the event, and only for an event stored before v2 asks the service's own
legacy path.

An aggregate whose events gained fields again sets ``class_version = 3`` on its ``Event`` and names them in
``ADDED_IN_V3``, each with the value an event stored before v3 is read with (what was true of it then: a budget
stored before budgets had regions is the national one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.domain import Aggregate


class VersionedEvent(Aggregate.Event):
    class_version = 2
    # Unannotated on purpose: class attributes, not fields of every event (a dataclass).
    ADDED_IN_V2 = ()
    ADDED_IN_V3 = {}  # field name → its value in an event stored before v3 (read only)

    # Classmethods, not the library's usual staticmethods: the library calls them on the event's class, which says
    # which of the added fields this event declares.
    @classmethod
    def upcast_v1_v2(cls, state: dict) -> None:
        cls._read_absent_as(state, dict.fromkeys(cls.ADDED_IN_V2))

    @classmethod
    def upcast_v2_v3(cls, state: dict) -> None:
        cls._read_absent_as(state, cls.ADDED_IN_V3)

    @classmethod
    def _read_absent_as(cls, state: dict, defaults: dict) -> None:
        declared = cls.__dataclass_fields__
        for name, value in defaults.items():
            if name in declared:
                state.setdefault(name, value)


def carried(event: object, names: Sequence[str], stored_before_v2: Callable[[Sequence[str]], list]) -> list[Any]:
    """The values of ``names``, fields added in v2, from ``event`` itself; for an event stored before v2 (one of
    them None) ``stored_before_v2(names)``: the service's legacy path, which reads them from its store.

    The services' public.py call it as ``versioning.carried``, through this module, which is the seam a benchmark
    uses to force the legacy path for every event (bench/envelopes.py replaces it for a walk of the log)."""
    values = [getattr(event, name) for name in names]
    if any(value is None for value in values):
        return stored_before_v2(names)
    return values
