"""Training commands as they arrive at the edge, checked for shape."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.actor_assertion import SignedActor
from shared.edge import Command, Uuid, VillageCode
from shared.vocabulary import ATTENDANCE


class Acting(Command):
    """A command someone gives: who, in which role, for which region (the gateway builds it from the token)."""

    actor: SignedActor  # verified at the edge: signed by the gateway or the operators' CLI


class OpenCohort(Acting):
    village_code: VillageCode
    facilitator: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)


class AssignFacilitator(Acting):
    cohort_id: Uuid
    facilitator: str = Field(min_length=1, max_length=100)


# People by the registry's person id: training's commands never carry a NIK.
class Enrol(Acting):
    cohort_id: Uuid
    person_id: Uuid


class ScheduleSession(Acting):
    cohort_id: Uuid
    module: str = Field(min_length=1, max_length=50)
    session_date: date
    place: str = Field(min_length=1, max_length=200)


class RecordAttendance(Acting):
    cohort_id: Uuid
    session_id: Uuid
    marks: dict[Uuid, Literal[ATTENDANCE]] = Field(min_length=1, max_length=200)  # type: ignore[valid-type]


class CorrectAttendance(Acting):
    cohort_id: Uuid
    session_id: Uuid
    person_id: Uuid
    status: Literal[ATTENDANCE]  # type: ignore[valid-type]
    reason: str = Field(min_length=1, max_length=500)


class AddModule(Acting):
    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,40}$")
    title: str = Field(min_length=1, max_length=200)


class RetireModule(Acting):
    code: str = Field(min_length=1, max_length=50)
