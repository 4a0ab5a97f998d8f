"""Public events of the training service (the Family School)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from shared.contracts import EventData, contract
from shared.vocabulary import ATTENDANCE


@contract("training.curriculum.changed", 1)
class CurriculumChangedV1(EventData):
    """The curriculum's modules: started with the defaults, a module added, or one retired."""

    active_modules: list[str]
    change: Literal["started", "added", "retired"]
    module: str | None = None
    by: str


class CohortEvent(EventData):
    cohort_id: uuid.UUID
    village_code: str


@contract("training.cohort.opened", 1)
class CohortOpenedV1(CohortEvent):
    """A Family School class opened in a village."""

    name: str
    facilitator: str
    by: str


@contract("training.participant.enrolled", 1)
class ParticipantEnrolledV1(CohortEvent):
    """A person was enrolled in a cohort (a group's representative, automatically on approval)."""

    nik: str
    group_id: uuid.UUID | None = None
    by: str


@contract("training.participant.withdrawn", 1)
class ParticipantWithdrawnV1(CohortEvent):
    """A participant left the registry (death, moved) and was withdrawn — not failed."""

    nik: str
    reason: str
    by: str


@contract("training.session.scheduled", 1)
class SessionScheduledV1(CohortEvent):
    """A session of a module was scheduled."""

    session_id: str
    module: str
    session_date: date
    place: str
    by: str


@contract("training.attendance.recorded", 1)
class AttendanceRecordedV1(CohortEvent):
    """Attendance of a session: present, excused or absent per participant."""

    session_id: str
    marks: dict[str, Literal[ATTENDANCE]]  # type: ignore[valid-type]
    by: str


@contract("training.attendance.corrected", 1)
class AttendanceCorrectedV1(CohortEvent):
    """A participant's attendance was corrected, with who and why."""

    session_id: str
    nik: str
    status: Literal[ATTENDANCE]  # type: ignore[valid-type]
    reason: str
    by: str


@contract("training.participant.completed", 1)
class ParticipantCompletedV1(CohortEvent):
    """A participant completed the Family School: present at enough modules; a certificate number issued."""

    nik: str
    certificate: str
    modules: list[str]


@contract("training.gate.changed", 1)
class GateChangedV1(EventData):
    """The Family School gate of a KUBE opened or closed: whether enough of its representatives completed the
    course (≥ 80 % by default) for the group's second tranche."""

    group_id: uuid.UUID
    open: bool
    completed: int = Field(ge=0)
    representatives: int = Field(ge=0)
    threshold_percent: int = Field(ge=0, le=100)
