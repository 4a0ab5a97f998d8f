"""Training's public events: each domain event mapped to its public contract (shared.contracts.training), which the
relay publishes.

A pure field map: since class_version 2 (``shared.versioning``) each domain event carries what its public event
needs (every cohort event its cohort's village, a module added or retired the curriculum's active modules after
the change, a gate's update its group; Opened, Started and Changed always had what they need), so mapping an event
reads nothing and the relay builds a page of envelopes without replaying a single aggregate.

Events stored before v2: the upcaster reads them with those fields None, and for them alone (``versioning.carried``)
``_stored_before_v2`` reads the aggregate (a cohort's village from its Opened event, the curriculum or gate as the
event left it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from services.training.domain import Cohort, Curriculum, Gate
from shared import versioning
from shared.contracts import EventData
from shared.contracts import training as public

if TYPE_CHECKING:
    from services.training.application import TrainingApplication


def _stored_before_v2(app: TrainingApplication, e, names: Sequence[str]) -> list[Any]:
    """The legacy path, for events stored before v2: ``names`` (each event asks one) as the aggregate held them when
    the event happened. A cohort's village never changes: its first event (Opened) says it, without replaying the
    cohort to the event."""
    aggregate = app.repository.get(e.originator_id, version=1 if "village_code" in names else e.originator_version)
    return [aggregate.active if name == "active_modules" else getattr(aggregate, name) for name in names]


def _cohort_fields(app: TrainingApplication | None, e) -> dict:
    (village_code,) = versioning.carried(e, ("village_code",), partial(_stored_before_v2, app, e))
    return {"cohort_id": e.originator_id, "village_code": village_code}


def _curriculum_started(app: TrainingApplication | None, e) -> EventData:
    # Every module the curriculum starts with is active (a code named twice: once, as the curriculum holds it).
    active = list(dict.fromkeys(code for code, _ in e.modules))
    return public.CurriculumChangedV1(active_modules=active, change="started", module=None, by="system")


def _curriculum_changed(change: str) -> Callable[[TrainingApplication | None, object], EventData]:
    def mapper(app: TrainingApplication | None, e) -> EventData:
        (active,) = versioning.carried(e, ("active_modules",), partial(_stored_before_v2, app, e))
        return public.CurriculumChangedV1(active_modules=active, change=change, module=e.code, by=e.by)

    return mapper


def _gate_changed(app: TrainingApplication | None, e) -> EventData:
    (group_id,) = versioning.carried(e, ("group_id",), partial(_stored_before_v2, app, e))
    return public.GateChangedV1(group_id=group_id, open=e.open, completed=e.completed,
                                representatives=e.representatives, threshold_percent=e.threshold_percent)


PUBLIC_EVENTS: dict[type, Callable[[TrainingApplication | None, object], EventData]] = {
    Curriculum.Started: _curriculum_started,
    Curriculum.ModuleAdded: _curriculum_changed("added"),
    Curriculum.ModuleRetired: _curriculum_changed("retired"),
    Cohort.Opened: lambda app, e: public.CohortOpenedV1(cohort_id=e.originator_id, village_code=e.village_code,
                                                        name=e.name, facilitator=e.facilitator, by=e.by),
    Cohort.FacilitatorAssigned: lambda app, e: public.FacilitatorAssignedV1(
        **_cohort_fields(app, e), facilitator=e.facilitator, by=e.by),
    Cohort.Enrolled: lambda app, e: public.ParticipantEnrolledV2(**_cohort_fields(app, e), person_id=e.person_id,
                                                                 group_id=e.group_id, by=e.by),
    Cohort.Withdrawn: lambda app, e: public.ParticipantWithdrawnV2(**_cohort_fields(app, e), person_id=e.person_id,
                                                                   reason=e.reason, by=e.by),
    Cohort.SessionScheduled: lambda app, e: public.SessionScheduledV1(
        **_cohort_fields(app, e), session_id=e.session_id, module=e.module, session_date=e.session_date,
        place=e.place, by=e.by),
    Cohort.AttendanceRecorded: lambda app, e: public.AttendanceRecordedV2(
        **_cohort_fields(app, e), session_id=e.session_id, marks=e.marks, by=e.by),
    Cohort.AttendanceCorrected: lambda app, e: public.AttendanceCorrectedV2(
        **_cohort_fields(app, e), session_id=e.session_id, person_id=e.person_id, status=e.status,
        reason=e.reason, by=e.by),
    Cohort.Completed: lambda app, e: public.ParticipantCompletedV2(**_cohort_fields(app, e), person_id=e.person_id,
                                                                   certificate=e.certificate, modules=e.modules),
    Gate.Changed: _gate_changed,
    Gate.Updated: _gate_changed,
}
