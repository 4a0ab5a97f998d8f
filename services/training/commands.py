"""Training commands as they arrive at the edge, checked for shape."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.edge import Command, Nik, UserName, Uuid, VillageCode
from shared.vocabulary import ATTENDANCE

Actor = UserName


class OpenCohort(Command):
    village_code: VillageCode
    facilitator: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=200)
    by: Actor


class Enrol(Command):
    cohort_id: Uuid
    nik: Nik
    by: Actor


class ScheduleSession(Command):
    cohort_id: Uuid
    module: str = Field(min_length=1, max_length=50)
    session_date: date
    place: str = Field(min_length=1, max_length=200)
    by: Actor


class RecordAttendance(Command):
    cohort_id: Uuid
    session_id: Uuid
    marks: dict[Nik, Literal[ATTENDANCE]] = Field(min_length=1, max_length=200)  # type: ignore[valid-type]
    by: Actor


class CorrectAttendance(Command):
    cohort_id: Uuid
    session_id: Uuid
    nik: Nik
    status: Literal[ATTENDANCE]  # type: ignore[valid-type]
    reason: str = Field(min_length=1, max_length=500)
    by: Actor


class AddModule(Command):
    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,40}$")
    title: str = Field(min_length=1, max_length=200)
    by: Actor


class RetireModule(Command):
    code: str = Field(min_length=1, max_length=50)
    by: Actor
