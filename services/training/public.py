"""Training's public events: each domain event mapped to its public contract (shared.contracts.training), which the
relay publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from services.training.domain import Cohort, Curriculum, Gate
from shared.contracts import EventData
from shared.contracts import training as public

if TYPE_CHECKING:
    from services.training.application import TrainingApplication


def _at(app: TrainingApplication, e) -> Aggregate:
    return app.repository.get(e.originator_id, version=e.originator_version)


def _cohort_fields(app: TrainingApplication, e) -> dict:
    return {"cohort_id": e.originator_id, "village_code": app.cohort_village(e.originator_id)}


def _curriculum_changed(change: str) -> Callable[[TrainingApplication, object], EventData]:
    def mapper(app: TrainingApplication, e) -> EventData:
        return public.CurriculumChangedV1(active_modules=_at(app, e).active, change=change,
                                          module=getattr(e, "code", None), by=getattr(e, "by", "system"))

    return mapper


def _gate_changed(app: TrainingApplication, e) -> EventData:
    gate = _at(app, e)
    return public.GateChangedV1(group_id=gate.group_id, open=e.open, completed=e.completed,
                                representatives=e.representatives, threshold_percent=e.threshold_percent)


PUBLIC_EVENTS: dict[type, Callable[[TrainingApplication, object], EventData]] = {
    Curriculum.Started: _curriculum_changed("started"),
    Curriculum.ModuleAdded: _curriculum_changed("added"),
    Curriculum.ModuleRetired: _curriculum_changed("retired"),
    Cohort.Opened: lambda app, e: public.CohortOpenedV1(cohort_id=e.originator_id, village_code=e.village_code,
                                                        name=e.name, facilitator=e.facilitator, by=e.by),
    Cohort.Enrolled: lambda app, e: public.ParticipantEnrolledV1(**_cohort_fields(app, e), nik=e.nik,
                                                                 group_id=e.group_id, by=e.by),
    Cohort.Withdrawn: lambda app, e: public.ParticipantWithdrawnV1(**_cohort_fields(app, e), nik=e.nik,
                                                                   reason=e.reason, by=e.by),
    Cohort.SessionScheduled: lambda app, e: public.SessionScheduledV1(
        **_cohort_fields(app, e), session_id=e.session_id, module=e.module, session_date=e.session_date,
        place=e.place, by=e.by),
    Cohort.AttendanceRecorded: lambda app, e: public.AttendanceRecordedV1(
        **_cohort_fields(app, e), session_id=e.session_id, marks=e.marks, by=e.by),
    Cohort.AttendanceCorrected: lambda app, e: public.AttendanceCorrectedV1(
        **_cohort_fields(app, e), session_id=e.session_id, nik=e.nik, status=e.status, reason=e.reason, by=e.by),
    Cohort.Completed: lambda app, e: public.ParticipantCompletedV1(**_cohort_fields(app, e), nik=e.nik,
                                                                   certificate=e.certificate, modules=e.modules),
    Gate.Changed: _gate_changed,
    Gate.Updated: _gate_changed,
}

