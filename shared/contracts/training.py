"""Public events of the training service (the Family School).

Version 1 of the participant and attendance events named people by NIK (``PERSONAL``); version 2, what training
publishes now, by the registry's person id: training never learns who a person is.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts import PERSONAL, EventData, contract
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


@contract("training.cohort.facilitator_assigned", 1)
class FacilitatorAssignedV1(CohortEvent):
    """A cohort's facilitator was named (a cohort opened automatically when a grant was approved waits for one)."""

    facilitator: str
    by: str


@contract("training.participant.enrolled", 1)
class ParticipantEnrolledV1(CohortEvent):
    """A person was enrolled in a cohort (a group's representative, automatically on approval)."""

    nik: Annotated[str, PERSONAL]
    group_id: uuid.UUID | None = None
    by: str


@contract("training.participant.withdrawn", 1)
class ParticipantWithdrawnV1(CohortEvent):
    """A participant left the registry (death, moved) and was withdrawn — not failed."""

    nik: Annotated[str, PERSONAL]
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
    marks: Annotated[dict[str, Literal[ATTENDANCE]], PERSONAL]  # type: ignore[valid-type]  # NIK → mark
    by: str


@contract("training.attendance.corrected", 1)
class AttendanceCorrectedV1(CohortEvent):
    """A participant's attendance was corrected, with who and why."""

    session_id: str
    nik: Annotated[str, PERSONAL]
    status: Literal[ATTENDANCE]  # type: ignore[valid-type]
    reason: str
    by: str


@contract("training.participant.completed", 1)
class ParticipantCompletedV1(CohortEvent):
    """A participant completed the Family School: present at enough modules; a certificate number issued."""

    nik: Annotated[str, PERSONAL]
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


# --- version 2: people by the registry's person id --------------------------------------------------------------


@contract("training.participant.enrolled", 2)
class ParticipantEnrolledV2(CohortEvent):
    """A person was enrolled in a cohort (a group's representative, automatically on approval)."""

    person_id: uuid.UUID
    group_id: uuid.UUID | None = None
    by: str


@contract("training.participant.withdrawn", 2)
class ParticipantWithdrawnV2(CohortEvent):
    """A participant left the registry (death, moved) and was withdrawn — not failed."""

    person_id: uuid.UUID
    reason: str
    by: str


@contract("training.attendance.recorded", 2)
class AttendanceRecordedV2(CohortEvent):
    """Attendance of a session: present, excused or absent per participant (by person id)."""

    session_id: str
    marks: dict[uuid.UUID, Literal[ATTENDANCE]]  # type: ignore[valid-type]
    by: str


@contract("training.attendance.corrected", 2)
class AttendanceCorrectedV2(CohortEvent):
    """A participant's attendance was corrected, with who and why."""

    session_id: str
    person_id: uuid.UUID
    status: Literal[ATTENDANCE]  # type: ignore[valid-type]
    reason: str
    by: str


@contract("training.participant.completed", 2)
class ParticipantCompletedV2(CohortEvent):
    """A participant completed the Family School: present at enough modules; a certificate number issued."""

    person_id: uuid.UUID
    certificate: str
    modules: list[str]
