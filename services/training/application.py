"""Training application: the Family School's commands — the curriculum, cohorts, attendance, completion with
certificates, and each group's gate for its second tranche. Each command gets its aggregates, lets them decide and
records them with its read-model rows.

What the commands read besides their aggregates (a person, a KUBE's representatives, who holds a certificate, the
next certificate number) comes through ``self.facts``: the port in facts.py. The read model and the projections of
registry and grants events are in readmodel.py, the reads in queries.py, the domain → public event mapping in
public.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.training import commands as cmd
from services.training.documents import TrainingDocuments
from services.training.domain import (
    COHORT_KEEPERS,
    DEFAULT_MODULES,
    FACILITATORS,
    Cohort,
    Curriculum,
    Gate,
    TrainingRules,
    check_cohort_actor,
    check_curriculum_keeper,
)
from services.training.facts import SqlTrainingFacts
from services.training.public import PUBLIC_EVENTS
from services.training.queries import TrainingQueries
from services.training.readmodel import (
    AUDITED_TABLES,
    MIRRORED_TABLES,
    READ_MODEL_DDL,
    UPSERT_GATE,
    UPSERT_PARTICIPANT,
    TrainingReadModel,
    attendance_writes,
    cohort_row,
    cohort_row_sql,
    participant_row,
)
from shared.actor import Actor
from shared.anchors import DocumentAnchors
from shared.contracts import EventData
from shared.errors import Conflict, NotFound, RuleViolated
from shared.ids import jakarta_today
from shared.store import ReadModelWrites, ServiceApplication


class TrainingApplication(TrainingReadModel, TrainingQueries, TrainingDocuments, DocumentAnchors, ServiceApplication):
    service_name = "training"
    upstreams = ("registry", "grants")
    read_model_ddl = READ_MODEL_DDL
    audited_tables = AUDITED_TABLES
    mirrored_tables = MIRRORED_TABLES
    facts_class = SqlTrainingFacts

    def __init__(self, database_url: str | None, rules: TrainingRules | None = None,
                 setup_url: str | None = None) -> None:
        super().__init__(database_url, setup_url)
        self.rules = rules or TrainingRules()

    # --- helpers ------------------------------------------------------------------------------------------

    def curriculum(self) -> Curriculum:
        try:
            return self.repository.get(Curriculum.ID)
        except AggregateNotFoundError:
            curriculum = Curriculum(modules=list(DEFAULT_MODULES))
            try:
                self.record(curriculum)
            except IntegrityError:  # another replica started it first
                return self.repository.get(Curriculum.ID)
            return curriculum

    def _cohort(self, cohort_id: str) -> Cohort:
        try:
            cohort = self.repository.get(uuid.UUID(cohort_id))
        except (AggregateNotFoundError, ValueError):
            raise NotFound(f"no cohort {cohort_id}", field="cohort_id") from None
        if not isinstance(cohort, Cohort):
            raise NotFound(f"no cohort {cohort_id}", field="cohort_id")
        return cohort

    # --- curriculum ---------------------------------------------------------------------------------------

    def add_module(self, command: cmd.AddModule) -> None:
        check_curriculum_keeper(command.actor, "add a module")
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            curriculum = self.curriculum()
            curriculum.add_module(command.code, command.title, command.actor.user)
            return [curriculum]

        self.record_retrying(attempt)

    def retire_module(self, command: cmd.RetireModule) -> None:
        check_curriculum_keeper(command.actor, "retire a module")
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            curriculum = self.curriculum()
            curriculum.retire_module(command.code, command.actor.user)
            return [curriculum]

        self.record_retrying(attempt)

    # --- cohorts ------------------------------------------------------------------------------------------

    def open_cohort(self, command: cmd.OpenCohort) -> str:
        check_cohort_actor(command.actor, COHORT_KEEPERS, command.village_code, "open a cohort")
        cohort = Cohort.open(command.village_code, command.facilitator, command.name, command.actor.user)
        writes = ReadModelWrites()
        writes.add(cohort_row_sql(), cohort_row(cohort))
        self.record(cohort, writes=writes)
        return str(cohort.id)

    def assign_facilitator(self, command: cmd.AssignFacilitator) -> None:
        village_code = self._cohort(command.cohort_id).village_code  # a cohort's village never changes
        check_cohort_actor(command.actor, COHORT_KEEPERS, village_code, "assign a cohort's facilitator")

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            cohort = self._cohort(command.cohort_id)
            cohort.assign_facilitator(command.facilitator, command.actor.user)
            writes.add("UPDATE cohorts SET facilitator = %s WHERE cohort_id = %s", (cohort.facilitator, cohort.id))
            return [cohort]

        self.record_retrying(attempt)

    def enrol(self, command: cmd.Enrol) -> None:
        village_code = self._cohort(command.cohort_id).village_code  # a cohort's village never changes
        check_cohort_actor(command.actor, COHORT_KEEPERS, village_code, "enrol a person")
        self._check_active_person(command.person_id, command.actor)

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            cohort = self._cohort(command.cohort_id)
            if not cohort.enrol(command.person_id, None, command.actor.user):
                raise Conflict(f"person {command.person_id} is already enrolled in this cohort",
                               rule="enrolment.exists")
            writes.add(UPSERT_PARTICIPANT, participant_row(cohort, command.person_id))
            return [cohort]

        self.record_retrying(attempt)

    def _check_active_person(self, person_id: str, actor: Actor) -> None:
        """The person to enrol lives in the actor's region: a person of another region is answered as one that does
        not exist (nobody learns from a refusal that a person is registered elsewhere)."""
        person = self.facts.person(person_id)
        if person is None or not actor.covers(person.village_code):
            raise NotFound(f"training knows no person {person_id} (yet)", field="person_id", person_id=person_id)
        if person.status != "active":
            raise RuleViolated("enrolment.left_registry", f"person {person_id} has left the registry",
                               person_id=person_id)

    def schedule_session(self, command: cmd.ScheduleSession) -> str:
        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], str]:
            cohort = self._cohort(command.cohort_id)
            check_cohort_actor(command.actor, FACILITATORS, cohort.village_code, "schedule a session")
            session_id = cohort.schedule(command.module, command.session_date, command.place, self.curriculum(),
                                         command.actor.user)
            writes.add("UPDATE cohorts SET sessions = %s WHERE cohort_id = %s", (len(cohort.sessions), cohort.id))
            return [cohort], session_id

        return self.decide_retrying(attempt)

    def record_attendance(self, command: cmd.RecordAttendance) -> list[dict]:
        """Record a session's attendance; whoever now reaches the modules completes, and their gates follow."""
        return self._attend(command.cohort_id, command.actor, "record attendance",
                            lambda cohort: cohort.record_attendance(command.session_id, dict(command.marks),
                                                                    command.actor.user, jakarta_today()))

    def correct_attendance(self, command: cmd.CorrectAttendance) -> list[dict]:
        return self._attend(command.cohort_id, command.actor, "correct attendance",
                            lambda cohort: cohort.correct_attendance(command.session_id, command.person_id,
                                                                     command.status, command.reason,
                                                                     command.actor.user, jakarta_today()))

    def _attend(self, cohort_id: str, actor: Actor, action: str, change: Callable[[Cohort], None]) -> list[dict]:
        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], list[dict]]:
            cohort = self._cohort(cohort_id)
            check_cohort_actor(actor, FACILITATORS, cohort.village_code, action)
            change(cohort)
            completed = []
            for person_id in cohort.completable(self.rules):
                cohort.complete(person_id, self._certificate_number(cohort), self.rules)
                completed.append({"person_id": person_id,
                                  "certificate": cohort.participants[person_id]["certificate"]})
            attendance_writes(cohort, writes)
            for person_id in cohort.participants:
                writes.add(UPSERT_PARTICIPANT, participant_row(cohort, person_id))
            groups = {cohort.participants[c["person_id"]]["group_id"] for c in completed} - {None}
            return [cohort, *self._gates(groups, cohort, writes)], completed

        return self.decide_retrying(attempt)

    def _certificate_number(self, cohort: Cohort) -> str:
        serial = self.facts.certificate_serial()
        return f"SK-{cohort.village_code[:8]}-{jakarta_today().year}-{serial:06d}"

    def _gates(self, group_ids: set, changed: Cohort | None, writes: ReadModelWrites,
               learnt: dict[uuid.UUID, frozenset[str]] | None = None) -> list[Gate]:
        """Recount each group's gate: its representatives, and how many hold a certificate (this change included).
        ``learnt``: representatives just heard of from registry, whose rows this batch has not written yet."""
        gates = []
        for group_id in group_ids:
            representatives = (learnt or {}).get(group_id) or self.facts.representatives(group_id)
            certified = self.facts.certified(representatives)
            if changed is not None:
                certified |= {person_id for person_id, p in changed.participants.items()
                              if p["status"] == "completed" and person_id in representatives}
            gate = self._gate(group_id, len(certified), len(representatives))
            if gate is not None:
                writes.add(UPSERT_GATE, (group_id, gate.open, gate.completed, gate.representatives))
                gates.append(gate)
        return gates

    def _gate(self, group_id: uuid.UUID, completed: int, representatives: int) -> Gate | None:
        try:
            gate: Gate = self.repository.get(Gate.create_id(group_id))
        except AggregateNotFoundError:
            return Gate.first(group_id, completed, representatives, self.rules)
        return gate if gate.update(completed, representatives, self.rules) else None

    # --- public events ------------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        mapper = PUBLIC_EVENTS.get(type(domain_event))
        if mapper is None:
            raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
        return mapper(self, domain_event)
