"""Family School (Sekolah Keluarga) domain: curriculum, cohorts, sessions, attendance, completion, the gate.
Pure: no I/O.

A participant completes when present at ≥ 5 of the 6 modules (a setting); a group's gate opens when ≥ 80 % (a
setting) of its representatives have completed. A participant who leaves the registry is withdrawn, not failed.

Events carry what their public event needs (class_version 2): every cohort event its cohort's village, a module
added or retired the curriculum's active modules after the change, a gate's update its group. So
services/training/public.py maps an event without replaying its aggregate. Events stored before (class_version 1)
are read with those fields None: see ``shared.versioning``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from eventsourcing.domain import Aggregate, event

from shared.actor import Actor, check_region, check_role
from shared.errors import Conflict, NotFound, RuleViolated, ValidationFailed
from shared.keys import legacy_person_id, stable_id
from shared.versioning import VersionedEvent
from shared.vocabulary import ATTENDANCE

DEFAULT_MODULES = (
    ("pengasuhan", "Pengasuhan dan pendidikan anak"),
    ("keuangan", "Pengelolaan keuangan keluarga"),
    ("kesehatan", "Kesehatan dan gizi"),
    ("perlindungan", "Perlindungan anak"),
    ("kesejahteraan", "Kesejahteraan sosial"),
    ("usaha", "Usaha ekonomi produktif"),
)


# Who may: the domain's own check of the (verified) actor, as the gateway's routes say.
COHORT_KEEPERS = ("facilitator", "operator")  # open a cohort, enrol a person
FACILITATORS = ("facilitator",)  # schedule sessions, record and correct attendance
CURRICULUM_KEEPERS = ("ministry", "admin")  # the curriculum is national (no route changes it yet)


def check_cohort_actor(actor: Actor, allowed: tuple[str, ...], village_code: str, action: str) -> None:
    """A role ``allowed`` to ``action``, in a region covering the cohort's village."""
    check_role(actor, allowed, action)
    check_region(actor, village_code, action)


def check_curriculum_keeper(actor: Actor, action: str) -> None:
    check_role(actor, CURRICULUM_KEEPERS, action)
    check_region(actor, "", action)


@dataclass(frozen=True)
class TrainingRules:
    modules_to_complete: int = 5
    gate_percent: int = 80


class Curriculum(Aggregate):
    """The modules a cohort may teach. A retired module stays in history: past attendance keeps its meaning."""

    ID = stable_id("curriculum", "sekolah-keluarga")

    class Event(VersionedEvent):
        # Started needs none: all the modules it starts with are active.
        ADDED_IN_V2 = ("active_modules",)

    @staticmethod
    def create_id() -> uuid.UUID:
        return Curriculum.ID

    @event("Started")
    def __init__(self, modules: list[tuple[str, str]]) -> None:
        self.modules = {code: {"title": title, "retired": False} for code, title in modules}

    @property
    def active(self) -> list[str]:
        return [code for code, module in self.modules.items() if not module["retired"]]

    def add_module(self, code: str, title: str, by: str) -> None:
        if not code.strip() or not title.strip():
            raise ValidationFailed("code", "module.fields", "a module needs a code and a title")
        if code in self.modules:
            raise Conflict(f"module {code} exists already", rule="module.exists")
        self._module_added(code=code, title=title, by=by, active_modules=[*self.active, code])

    @event("ModuleAdded")
    def _module_added(self, code: str, title: str, by: str, active_modules: list[str] | None) -> None:
        self.modules = {**self.modules, code: {"title": title, "retired": False}}

    def retire_module(self, code: str, by: str) -> None:
        if code not in self.active:
            raise NotFound(f"no active module {code}", field="module", module=code)
        self._module_retired(code=code, by=by, active_modules=[active for active in self.active if active != code])

    @event("ModuleRetired")
    def _module_retired(self, code: str, by: str, active_modules: list[str] | None) -> None:
        self.modules = {**self.modules, code: {**self.modules[code], "retired": True}}


class Cohort(Aggregate):
    """A Family School class (kelas) of one village: facilitator, participants, sessions, attendance."""

    class Event(VersionedEvent):
        ADDED_IN_V2 = ("village_code",)  # Opened always had it
        class_version = 3  # v3: people by the registry's person id, never NIK nor name

        @classmethod
        def upcast_v2_v3(cls, state: dict) -> None:
            # Before v3 a participant was named by NIK (an enrolment by name too): the NIK becomes the id the
            # registry knows such a person by (shared.keys.legacy_person_id); the name is dropped.
            if "nik" in state:
                state["person_id"] = str(legacy_person_id(state.pop("nik")))
                if "group_id" in state:  # Enrolled: its name was the person's (Opened's is the cohort's)
                    state.pop("name", None)
            if "marks" in state:
                state["marks"] = {str(legacy_person_id(nik)): mark for nik, mark in state["marks"].items()}

    @classmethod
    def open(cls, village_code: str, facilitator: str, name: str, by: str) -> Cohort:
        if not facilitator.strip():
            raise ValidationFailed("facilitator", "cohort.facilitator", "a cohort needs its facilitator")
        return cls(village_code=village_code, facilitator=facilitator, name=name or f"Kelas {village_code}", by=by)

    @event("Opened")
    def __init__(self, village_code: str, facilitator: str, name: str, by: str) -> None:
        self.village_code = village_code
        self.facilitator = facilitator
        self.name = name
        # People by the registry's person id (text): training never holds who they are.
        self.participants: dict[str, dict] = {}  # person id → {group_id, status, certificate}
        self.sessions: dict[str, dict] = {}  # session id → {module, date, place}
        self.attendance: dict[str, dict[str, str]] = {}  # session id → person id → status
        self.closed = False

    def _where(self) -> dict:
        """What every cohort event carries besides its own fields (``Event.ADDED_IN_V2``)."""
        return {"village_code": self.village_code}

    def assign_facilitator(self, facilitator: str, by: str) -> None:
        """Name the cohort's facilitator: one opened automatically (a grant approved) waits for this."""
        if not facilitator.strip():
            raise ValidationFailed("facilitator", "cohort.facilitator", "a cohort needs its facilitator")
        if facilitator == self.facilitator:
            raise Conflict(f"{facilitator} is already the facilitator of cohort {self.name}",
                           rule="cohort.facilitator_unchanged")
        self._facilitator_assigned(facilitator=facilitator, by=by, **self._where())

    @event("FacilitatorAssigned")
    def _facilitator_assigned(self, facilitator: str, by: str, village_code: str | None) -> None:
        self.facilitator = facilitator

    # --- participants --------------------------------------------------------------------------------------

    def participant(self, person_id: str) -> dict:
        if person_id not in self.participants:
            raise NotFound(f"person {person_id} is not a participant of cohort {self.name}", field="person_id",
                           person_id=person_id)
        return self.participants[person_id]

    def enrol(self, person_id: str, group_id: uuid.UUID | None, by: str) -> bool:
        """Enrol once: enrolling an enrolled participant changes nothing (returns False)."""
        if person_id in self.participants and self.participants[person_id]["status"] != "withdrawn":
            return False
        self._enrolled(person_id=person_id, group_id=group_id, by=by, **self._where())
        return True

    @event("Enrolled")
    def _enrolled(self, person_id: str, group_id: uuid.UUID | None, by: str, village_code: str | None) -> None:
        self.participants = {**self.participants, person_id: {"group_id": group_id, "status": "enrolled",
                                                              "certificate": None}}

    def withdraw(self, person_id: str, reason: str, by: str) -> bool:
        """Withdraw someone who left (death, moved): not a failure. False if there is nothing to do."""
        if person_id not in self.participants or self.participants[person_id]["status"] in ("withdrawn", "completed"):
            return False
        self._withdrawn(person_id=person_id, reason=reason, by=by, **self._where())
        return True

    @event("Withdrawn")
    def _withdrawn(self, person_id: str, reason: str, by: str, village_code: str | None) -> None:
        self.participants = {**self.participants, person_id: {**self.participants[person_id], "status": "withdrawn"}}

    # --- sessions and attendance ---------------------------------------------------------------------------

    def schedule(self, module: str, session_date: date, place: str, curriculum: Curriculum, by: str) -> str:
        if module not in curriculum.active:
            raise ValidationFailed("module", "session.module", f"{module!r} is not an active module: "
                                                               f"{', '.join(curriculum.active)}")
        if not place.strip():
            raise ValidationFailed("place", "session.place", "a session needs a place")
        for session in self.sessions.values():
            if session["module"] == module and session["date"] == session_date:
                raise Conflict(f"module {module} is already scheduled on {session_date} in this cohort",
                               rule="session.duplicate")
        session_id = str(stable_id("session", self.id, module, session_date.isoformat()))
        self._scheduled(session_id=session_id, module=module, session_date=session_date, place=place, by=by,
                        **self._where())
        return session_id

    @event("SessionScheduled")
    def _scheduled(self, session_id: str, module: str, session_date: date, place: str, by: str,
                   village_code: str | None) -> None:
        self.sessions = {**self.sessions, session_id: {"module": module, "date": session_date, "place": place}}

    def session(self, session_id: str) -> dict:
        if session_id not in self.sessions:
            raise NotFound(f"no session {session_id} in cohort {self.name}", field="session_id",
                           session_id=session_id)
        return self.sessions[session_id]

    def _check_attendance(self, session_id: str, marks: dict[str, str], today: date) -> None:
        session = self.session(session_id)
        if session["date"] > today:
            raise ValidationFailed("session_id", "attendance.future", f"the session is on {session['date']}: "
                                                                      "attendance cannot be recorded in advance")
        for person_id, status in marks.items():
            if status not in ATTENDANCE:
                raise ValidationFailed("status", "attendance.status", f"attendance is one of {ATTENDANCE}: "
                                                                      f"{status!r}")
            participant = self.participant(person_id)
            if participant["status"] == "withdrawn":
                raise RuleViolated("attendance.withdrawn", f"person {person_id} was withdrawn from this cohort",
                                   person_id=person_id)

    def record_attendance(self, session_id: str, marks: dict[str, str], by: str, today: date) -> None:
        """Attendance of a session, for several participants at once; a correction goes through ``correct``."""
        if not marks:
            raise ValidationFailed("marks", "attendance.empty", "record attendance for at least one participant")
        self._check_attendance(session_id, marks, today)
        recorded = self.attendance.get(session_id, {})
        already = sorted(set(marks) & set(recorded))
        if already:
            raise Conflict(f"attendance of person {already[0]} is already recorded for this session: correct it "
                           "with a reason instead", rule="attendance.recorded", person_id=already[0])
        self._attendance_recorded(session_id=session_id, marks=marks, by=by, **self._where())

    @event("AttendanceRecorded")
    def _attendance_recorded(self, session_id: str, marks: dict[str, str], by: str, village_code: str | None) -> None:
        self.attendance = {**self.attendance, session_id: {**self.attendance.get(session_id, {}), **marks}}

    def correct_attendance(self, session_id: str, person_id: str, status: str, reason: str, by: str,
                           today: date) -> None:
        self._check_attendance(session_id, {person_id: status}, today)
        if person_id not in self.attendance.get(session_id, {}):
            raise NotFound(f"no attendance of person {person_id} recorded for this session to correct",
                           field="person_id")
        if self.attendance[session_id][person_id] == status:
            raise Conflict(f"attendance of person {person_id} is already {status}", rule="attendance.unchanged")
        if not reason.strip():
            raise ValidationFailed("reason", "attendance.reason", "a correction needs a reason")
        if self.participants[person_id]["status"] == "completed":
            certificate = self.participants[person_id]["certificate"]
            raise RuleViolated("attendance.certified", f"person {person_id} holds certificate {certificate}: "
                                                       "attendance is final", person_id=person_id)
        self._attendance_corrected(session_id=session_id, person_id=person_id, status=status, reason=reason, by=by,
                                   **self._where())

    @event("AttendanceCorrected")
    def _attendance_corrected(self, session_id: str, person_id: str, status: str, reason: str, by: str,
                              village_code: str | None) -> None:
        self.attendance = {**self.attendance, session_id: {**self.attendance[session_id], person_id: status}}

    # --- completion ----------------------------------------------------------------------------------------

    def modules_present(self, person_id: str) -> set[str]:
        return {self.sessions[session_id]["module"] for session_id, marks in self.attendance.items()
                if marks.get(person_id) == "present"}

    def completable(self, rules: TrainingRules) -> list[str]:
        """Enrolled participants present at enough distinct modules, not yet certified."""
        return sorted(person_id for person_id, participant in self.participants.items()
                      if participant["status"] == "enrolled"
                      and len(self.modules_present(person_id)) >= rules.modules_to_complete)

    def complete(self, person_id: str, certificate: str, rules: TrainingRules) -> None:
        if person_id not in self.completable(rules):
            raise RuleViolated("completion.modules", f"person {person_id} is not present at "
                                                     f"{rules.modules_to_complete} modules yet", person_id=person_id)
        self._completed(person_id=person_id, certificate=certificate, modules=sorted(self.modules_present(person_id)),
                        **self._where())

    @event("Completed")
    def _completed(self, person_id: str, certificate: str, modules: list[str], village_code: str | None) -> None:
        self.participants = {**self.participants, person_id: {**self.participants[person_id], "status": "completed",
                                                        "certificate": certificate}}


class Gate(Aggregate):
    """A group's Family School gate: open when enough of its representatives have completed."""

    class Event(VersionedEvent):
        ADDED_IN_V2 = ("group_id",)  # Changed always had it

    @staticmethod
    def create_id(group_id: uuid.UUID) -> uuid.UUID:
        return stable_id("gate", group_id)

    @classmethod
    def first(cls, group_id: uuid.UUID, completed: int, representatives: int, rules: TrainingRules) -> Gate:
        return cls(group_id=group_id, completed=completed, representatives=representatives,
                   open=gate_is_open(completed, representatives, rules), threshold_percent=rules.gate_percent)

    @event("Changed")
    def __init__(self, group_id: uuid.UUID, completed: int, representatives: int, open: bool,
                 threshold_percent: int) -> None:
        self.group_id = group_id
        self.completed, self.representatives, self.open = completed, representatives, open

    def update(self, completed: int, representatives: int, rules: TrainingRules) -> bool:
        is_open = gate_is_open(completed, representatives, rules)
        if (completed, representatives, is_open) == (self.completed, self.representatives, self.open):
            return False
        self._updated(completed=completed, representatives=representatives, open=is_open,
                      threshold_percent=rules.gate_percent, group_id=self.group_id)
        return True

    @event("Updated")
    def _updated(self, completed: int, representatives: int, open: bool, threshold_percent: int,
                 group_id: uuid.UUID | None) -> None:
        self.completed, self.representatives, self.open = completed, representatives, open


def gate_is_open(completed: int, representatives: int, rules: TrainingRules) -> bool:
    # Integer arithmetic: 8 of 10 at 80 % is open, 7 of 9 (77.8 %) is not.
    return representatives > 0 and completed * 100 >= rules.gate_percent * representatives
