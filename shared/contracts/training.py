"""Public events of the training service (the Family School)."""

from __future__ import annotations

import uuid

from pydantic import Field

from shared.contracts import EventData, contract


@contract("training.gate.changed", 1)
class GateChangedV1(EventData):
    """The Family School gate of a KUBE opened or closed: whether enough of its representatives completed the
    course (≥ 80 % by default) for the group's second tranche."""

    group_id: uuid.UUID
    open: bool
    completed: int = Field(ge=0)
    representatives: int = Field(ge=0)
    threshold_percent: int = Field(ge=0, le=100)
