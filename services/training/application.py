"""Training application: the Family School — cohorts, attendance, completion with certificates, and each group's
gate for its second tranche; and the people and KUBE it knows from registry and grants events.

A person who leaves the registry (death, moving out, household removed) stays in the read model marked as left,
so history keeps their attendance, and is withdrawn from their cohort rather than failed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from psycopg.types.json import Jsonb

from services.training import commands as cmd
from services.training.domain import DEFAULT_MODULES, Cohort, Curriculum, Gate, TrainingRules
from shared.consumer import NotYet, UnitOfWork, handles
from shared.contracts import Envelope, EventData, grants
from shared.contracts import registry as upstream
from shared.contracts import training as public
from shared.errors import Conflict, NotFound, RuleViolated
from shared.ids import jakarta_today
from shared.store import AuditedTable, ReadModelWrites, ServiceApplication, added_column, in_region

UNASSIGNED = "belum ditentukan"  # a cohort opened automatically waits for its facilitator

INDIVIDUAL_CONFLICT = """
    ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
        relation = EXCLUDED.relation, kk = EXCLUDED.kk, village_code = EXCLUDED.village_code, status = 'active',
        left_reason = NULL, projected_at = clock_timestamp()"""
UPSERT_GROUP = """
    INSERT INTO groups (group_id, name, village_code, status, members) VALUES (%s, %s, %s, 'formed', %s)
    ON CONFLICT (group_id) DO UPDATE SET members = EXCLUDED.members"""
UPSERT_PARTICIPANT = """
    INSERT INTO participants (cohort_id, nik, group_id, status, certificate, village_code)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (cohort_id, nik) DO UPDATE SET status = EXCLUDED.status, certificate = EXCLUDED.certificate,
        group_id = coalesce(EXCLUDED.group_id, participants.group_id)"""
UPSERT_GATE = """
    INSERT INTO gates (group_id, open, completed, representatives) VALUES (%s, %s, %s, %s)
    ON CONFLICT (group_id) DO UPDATE SET open = EXCLUDED.open, completed = EXCLUDED.completed,
        representatives = EXCLUDED.representatives"""


class TrainingApplication(ServiceApplication):
    service_name = "training"
    upstreams = ("registry", "grants")
    read_model_ddl = (
        """CREATE TABLE IF NOT EXISTS individuals (
            nik text PRIMARY KEY, name text NOT NULL, sex text NOT NULL, birth_date date NOT NULL,
            relation text NOT NULL, kk text NOT NULL, village_code text NOT NULL, status text NOT NULL,
            left_reason text, projected_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
        "CREATE INDEX IF NOT EXISTS individuals_village ON individuals (village_code)",
        "CREATE INDEX IF NOT EXISTS individuals_kk ON individuals (kk)",
        """CREATE TABLE IF NOT EXISTS groups (
            group_id uuid PRIMARY KEY, name text NOT NULL, village_code text NOT NULL, status text NOT NULL,
            members jsonb NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS cohorts (
            cohort_id uuid PRIMARY KEY, village_code text NOT NULL, name text NOT NULL, facilitator text NOT NULL,
            opened_at timestamptz NOT NULL DEFAULT now(), sessions int NOT NULL DEFAULT 0)""",
        # An older table's cohorts count their sessions from their next one on.
        added_column("cohorts", "sessions", "int DEFAULT 0"),
        "CREATE INDEX IF NOT EXISTS cohorts_village ON cohorts (village_code)",
        """CREATE TABLE IF NOT EXISTS participants (
            cohort_id uuid NOT NULL, nik text NOT NULL, group_id uuid, status text NOT NULL, certificate text UNIQUE,
            village_code text NOT NULL, PRIMARY KEY (cohort_id, nik))""",
        "CREATE INDEX IF NOT EXISTS participants_nik ON participants (nik)",
        """CREATE TABLE IF NOT EXISTS attendance (
            session_id uuid NOT NULL, cohort_id uuid NOT NULL, module text NOT NULL, session_date date NOT NULL,
            nik text NOT NULL, status text NOT NULL, PRIMARY KEY (session_id, nik))""",
        """CREATE TABLE IF NOT EXISTS gates (
            group_id uuid PRIMARY KEY, open boolean NOT NULL, completed int NOT NULL, representatives int NOT NULL)""",
        # Certificate numbers: unique and readable, SK-<district>-<year>-<serial>; a failed command burns one.
        "CREATE SEQUENCE IF NOT EXISTS certificate_serial",
    )

    def __init__(self, database_url: str, rules: TrainingRules | None = None, setup_url: str | None = None) -> None:
        super().__init__(database_url, setup_url)
        self.rules = rules or TrainingRules()
        self._cohort_villages: dict = {}

    # --- helpers ------------------------------------------------------------------------------------------

    def cohort_village(self, cohort_id) -> str:
        """A cohort's village, which never changes: read from its first event once. (Replaying the cohort for each
        of its public events made them quadratic: a village's cohort gathers thousands of events.)"""
        if cohort_id not in self._cohort_villages:
            self._cohort_villages[cohort_id] = self.repository.get(cohort_id, version=1).village_code
        return self._cohort_villages[cohort_id]

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
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            curriculum = self.curriculum()
            curriculum.add_module(command.code, command.title, command.by)
            return [curriculum]

        self.record_retrying(attempt)

    def retire_module(self, command: cmd.RetireModule) -> None:
        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            curriculum = self.curriculum()
            curriculum.retire_module(command.code, command.by)
            return [curriculum]

        self.record_retrying(attempt)

    # --- cohorts ------------------------------------------------------------------------------------------

    def open_cohort(self, command: cmd.OpenCohort) -> str:
        cohort = Cohort.open(command.village_code, command.facilitator, command.name, command.by)
        writes = ReadModelWrites()
        writes.add(cohort_row_sql(), cohort_row(cohort))
        self.record(cohort, writes=writes)
        return str(cohort.id)

    def enrol(self, command: cmd.Enrol) -> None:
        person = self._active_person(command.nik)

        def attempt(writes: ReadModelWrites) -> list[Aggregate]:
            cohort = self._cohort(command.cohort_id)
            if not cohort.enrol(command.nik, person["name"], None, command.by):
                raise Conflict(f"NIK {command.nik} is already enrolled in this cohort", rule="enrolment.exists")
            writes.add(UPSERT_PARTICIPANT, participant_row(cohort, command.nik))
            return [cohort]

        self.record_retrying(attempt)

    def _active_person(self, nik: str) -> dict:
        rows = self.query("SELECT name, status, village_code FROM individuals WHERE nik = %s", (nik,))
        if not rows:
            raise NotFound(f"training knows no person with NIK {nik} (yet)", field="nik", nik=nik)
        if rows[0]["status"] != "active":
            raise RuleViolated("enrolment.left_registry", f"NIK {nik} has left the registry", nik=nik)
        return rows[0]

    def schedule_session(self, command: cmd.ScheduleSession) -> str:
        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], str]:
            cohort = self._cohort(command.cohort_id)
            session_id = cohort.schedule(command.module, command.session_date, command.place, self.curriculum(),
                                         command.by)
            writes.add("UPDATE cohorts SET sessions = %s WHERE cohort_id = %s", (len(cohort.sessions), cohort.id))
            return [cohort], session_id

        return self.decide_retrying(attempt)

    def record_attendance(self, command: cmd.RecordAttendance) -> list[dict]:
        """Record a session's attendance; whoever now reaches the modules completes, and their gates follow."""
        return self._attend(command.cohort_id, lambda cohort: cohort.record_attendance(
            command.session_id, dict(command.marks), command.by, jakarta_today()))

    def correct_attendance(self, command: cmd.CorrectAttendance) -> list[dict]:
        return self._attend(command.cohort_id, lambda cohort: cohort.correct_attendance(
            command.session_id, command.nik, command.status, command.reason, command.by, jakarta_today()))

    def _attend(self, cohort_id: str, change: Callable[[Cohort], None]) -> list[dict]:
        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], list[dict]]:
            cohort = self._cohort(cohort_id)
            change(cohort)
            completed = []
            for nik in cohort.completable(self.rules):
                cohort.complete(nik, self._certificate_number(cohort), self.rules)
                completed.append({"nik": nik, "certificate": cohort.participants[nik]["certificate"]})
            attendance_writes(cohort, writes)
            for nik in cohort.participants:
                writes.add(UPSERT_PARTICIPANT, participant_row(cohort, nik))
            groups = {cohort.participants[c["nik"]]["group_id"] for c in completed} - {None}
            return [cohort, *self._gates(groups, cohort, writes)], completed

        return self.decide_retrying(attempt)

    def _certificate_number(self, cohort: Cohort) -> str:
        serial = self.query("SELECT nextval('certificate_serial') AS serial")[0]["serial"]
        return f"SK-{cohort.village_code[:8]}-{jakarta_today().year}-{serial:06d}"

    def _gates(self, group_ids: set, changed: Cohort | None, writes: ReadModelWrites) -> list[Gate]:
        """Recount each group's gate: its representatives, and how many hold a certificate (this change included)."""
        gates = []
        for group_id in group_ids:
            representatives = self._representatives(group_id)
            certified = {row["nik"] for row in self.query(
                "SELECT nik FROM participants WHERE status = 'completed' AND nik = ANY(%s)", (list(representatives),))}
            if changed is not None:
                certified |= {nik for nik, p in changed.participants.items()
                              if p["status"] == "completed" and nik in representatives}
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

    def _representatives(self, group_id) -> set[str]:
        rows = self.query("SELECT members FROM groups WHERE group_id = %s", (group_id,))
        return {member["representative_nik"] for member in rows[0]["members"]} if rows else set()

    # --- registry events ----------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: upstream.HouseholdRegisteredV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        for member in data.members:
            unit.writes.insert("individuals", _individual(member, data.kk, data.village_code),
                               on_conflict=INDIVIDUAL_CONFLICT)

    @handles("registry.household.member_added")
    def on_member_added(self, data: upstream.HouseholdMemberAddedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.insert("individuals", _individual(data.member, data.kk, data.village_code),
                           on_conflict=INDIVIDUAL_CONFLICT)

    @handles("registry.household.member_removed")
    def on_member_removed(self, data: upstream.HouseholdMemberRemovedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE individuals SET status = 'left', left_reason = %s, projected_at = clock_timestamp() "
                        "WHERE nik = %s AND kk = %s", (data.reason, data.nik, data.kk))
        if data.reason in ("death", "moved_out"):
            self._withdraw([data.nik], f"left the household: {data.reason}", unit)

    @handles("registry.household.member_corrected")
    def on_member_corrected(self, data: upstream.HouseholdMemberCorrectedV1, envelope: Envelope,
                            unit: UnitOfWork) -> None:
        member = data.member
        unit.writes.add("UPDATE individuals SET name = %s, sex = %s, birth_date = %s, relation = %s, "
                        "projected_at = clock_timestamp() WHERE nik = %s",
                        (member.name, member.sex, member.birth_date, member.relation, member.nik))

    @handles("registry.household.status_changed")
    def on_status_changed(self, data: upstream.HouseholdStatusChangedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        if data.bdt_status == "removed":
            unit.writes.add("UPDATE individuals SET status = 'left', left_reason = %s, "
                            "projected_at = clock_timestamp() WHERE kk = %s AND status = 'active'",
                            (f"household removed from BDT: {data.reason}", data.kk))
            niks = [row["nik"] for row in self.query("SELECT nik FROM individuals WHERE kk = %s", (data.kk,))]
            self._withdraw(niks, f"household removed from BDT: {data.reason}", unit)

    def _withdraw(self, niks: list[str], reason: str, unit: UnitOfWork) -> None:
        for row in self.query("SELECT cohort_id, nik FROM participants WHERE nik = ANY(%s) AND status = 'enrolled'",
                              (niks,)):
            cohort: Cohort = unit.get(row["cohort_id"])
            if cohort.withdraw(row["nik"], reason, "registry"):
                unit.writes.add(UPSERT_PARTICIPANT, participant_row(cohort, row["nik"]))

    @handles("registry.group.formed")
    def on_group_formed(self, data: upstream.GroupFormedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_GROUP, (data.group_id, data.name, data.village_code,
                                       Jsonb([m.model_dump() for m in data.members])))

    @handles("registry.group.member_changed")
    def on_group_member_changed(self, data: upstream.GroupMemberChangedV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET members = %s WHERE group_id = %s",
                        (Jsonb([m.model_dump() for m in data.members]), data.group_id))

    @handles("registry.group.funded")
    def on_group_funded(self, data: upstream.GroupFundedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'funded' WHERE group_id = %s", (data.group_id,))

    @handles("registry.group.dissolved")
    def on_group_dissolved(self, data: upstream.GroupDissolvedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'dissolved' WHERE group_id = %s", (data.group_id,))

    # --- grants events ------------------------------------------------------------------------------------

    @handles("grants.proposal.approved")
    def on_proposal_approved(self, data: grants.ProposalApprovedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        """Enrol the group's representatives in an open cohort of its village (opening one if none): once."""
        rows = self.query("SELECT name, village_code, members FROM groups WHERE group_id = %s", (data.group_id,))
        if not rows:
            raise NotYet(f"grants approved group {data.group_id}, which training has not heard of from registry yet")
        group = rows[0]
        cohort = self._open_cohort_of(group["village_code"], unit)
        people = {row["nik"]: row for row in self.query(
            "SELECT nik, name, status FROM individuals WHERE nik = ANY(%s)",
            ([m["representative_nik"] for m in group["members"]],))}
        for member in group["members"]:
            nik = member["representative_nik"]
            person = people.get(nik)
            if person is not None and person["status"] == "active" and cohort.enrol(
                    nik, person["name"], data.group_id, "otomatis (hibah disetujui)"):
                unit.writes.add(UPSERT_PARTICIPANT, participant_row(cohort, nik))
        for gate in self._gates({data.group_id}, None, unit.writes):
            unit.add(gate)

    def _open_cohort_of(self, village_code: str, unit: UnitOfWork) -> Cohort:
        opened_in_batch = unit.find(lambda a: isinstance(a, Cohort) and a.village_code == village_code)
        if opened_in_batch is not None:
            return opened_in_batch
        rows = self.query("SELECT cohort_id FROM cohorts WHERE village_code = %s ORDER BY opened_at DESC LIMIT 1",
                          (village_code,))
        if rows:
            return unit.get(rows[0]["cohort_id"])
        cohort = Cohort.open(village_code, UNASSIGNED, f"Sekolah Keluarga {village_code}", "otomatis")
        unit.add(cohort)
        unit.writes.add(cohort_row_sql(), cohort_row(cohort))
        return cohort

    # --- queries ------------------------------------------------------------------------------------------

    def individual(self, nik: str) -> dict | None:
        rows = self.query("SELECT nik, name, sex, birth_date::text, relation, kk, village_code, status, left_reason "
                          "FROM individuals WHERE nik = %s", (nik,))
        return rows[0] if rows else None

    def individuals_summary(self) -> dict:
        row = self.query("SELECT count(*) FILTER (WHERE status = 'active') AS individuals, "
                         "count(*) FILTER (WHERE status = 'active' AND sex = 'P') AS women, "
                         "count(DISTINCT kk) FILTER (WHERE status = 'active') AS households, "
                         "count(*) FILTER (WHERE status = 'left') AS left_registry FROM individuals")[0]
        return {key: int(value) for key, value in row.items()}

    def cohort(self, cohort_id: str) -> dict:
        cohort = self._cohort(cohort_id)
        sessions = sorted(cohort.sessions.items(), key=lambda item: (item[1]["date"], item[1]["module"]))
        return {
            "cohort_id": str(cohort.id), "village_code": cohort.village_code, "name": cohort.name,
            "facilitator": cohort.facilitator,
            "sessions": [{"session_id": sid, "module": s["module"], "date": s["date"].isoformat(), "place": s["place"]}
                         for sid, s in sessions],
            "participants": [
                {"nik": nik, "name": p["name"], "status": p["status"], "certificate": p["certificate"],
                 "group_id": str(p["group_id"]) if p["group_id"] else None,
                 "attendance": [cohort.attendance.get(sid, {}).get(nik) for sid, _ in sessions],
                 "modules_present": sorted(cohort.modules_present(nik))}
                for nik, p in sorted(cohort.participants.items())
            ],
        }

    def cohorts(self, village_code: str | None = None, page: int = 1, size: int = 50) -> dict:
        sql = ("SELECT c.cohort_id::text, c.village_code, c.name, c.facilitator, c.sessions, "
               "count(p.nik) FILTER (WHERE p.status <> 'withdrawn') AS participants, "
               "count(p.nik) FILTER (WHERE p.status = 'completed') AS completed "
               "FROM cohorts c LEFT JOIN participants p USING (cohort_id)")
        where, params = in_region("c.village_code", village_code)
        return self.page(f"{sql} WHERE {where} GROUP BY c.cohort_id ORDER BY c.village_code, c.opened_at", params,
                         page, size)

    def participant(self, nik: str) -> dict:
        rows = self.query("SELECT cohort_id::text, group_id::text, status, certificate FROM participants "
                          "WHERE nik = %s ORDER BY cohort_id", (nik,))
        if not rows:
            raise NotFound(f"NIK {nik} is in no cohort", field="nik", nik=nik)
        attendance = self.query("SELECT module, session_date::text, status FROM attendance WHERE nik = %s "
                                "ORDER BY session_date, module", (nik,))
        return {"nik": nik, "person": self.individual(nik), "enrolments": rows, "attendance": attendance}

    def dashboard(self, region: str | None = None) -> list[dict]:
        """Per village of the region: participants (not withdrawn) and those who completed."""
        where, params = in_region("village_code", region)
        return self.query(
            "SELECT village_code, count(*) FILTER (WHERE status <> 'withdrawn') AS participants, "
            f"count(*) FILTER (WHERE status = 'completed') AS completed FROM participants WHERE {where} "
            "GROUP BY village_code ORDER BY village_code", params)

    def completion_rates(self) -> dict:
        by_village = self.dashboard()
        by_module = self.query(
            "SELECT module, count(*) FILTER (WHERE status = 'present') AS present, count(*) AS marked "
            "FROM attendance GROUP BY module ORDER BY module")
        return {
            "by_village": [{**row, "rate": round(row["completed"] / row["participants"], 3) if row["participants"]
                            else None} for row in by_village],
            "by_module": [{**row, "rate": round(row["present"] / row["marked"], 3) if row["marked"] else None}
                          for row in by_module],
        }

    def gates(self, region: str | None = None) -> list[dict]:
        where, params = in_region("gr.village_code", region)
        return self.query("SELECT g.group_id::text, gr.name, gr.village_code, g.open, g.completed, "
                          "g.representatives FROM gates g LEFT JOIN groups gr USING (group_id) "
                          f"WHERE {where} ORDER BY gr.name", params)

    def totals(self) -> dict:
        row = self.query("SELECT count(DISTINCT nik) FILTER (WHERE status = 'completed') AS completed, "
                         "count(DISTINCT nik) FILTER (WHERE status = 'enrolled') AS not_completed, "
                         "count(DISTINCT nik) FILTER (WHERE status = 'withdrawn') AS withdrawn FROM participants")[0]
        gates = self.query("SELECT count(*) FILTER (WHERE open) AS open, count(*) FILTER (WHERE NOT open) AS closed "
                           "FROM gates")[0]
        return {"completed": int(row["completed"]), "not_completed": int(row["not_completed"]),
                "withdrawn": int(row["withdrawn"]), "gate_open_groups": int(gates["open"]),
                "gate_closed_groups": int(gates["closed"])}

    # --- public events ------------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        mapper = PUBLIC_EVENTS.get(type(domain_event))
        if mapper is None:
            raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
        return mapper(self, domain_event)


def cohort_row_sql() -> str:
    return "INSERT INTO cohorts (cohort_id, village_code, name, facilitator) VALUES (%s, %s, %s, %s)"


def cohort_row(cohort: Cohort) -> tuple:
    return (cohort.id, cohort.village_code, cohort.name, cohort.facilitator)


def participant_row(cohort: Cohort, nik: str) -> tuple:
    participant = cohort.participants[nik]
    return (cohort.id, nik, participant["group_id"], participant["status"], participant["certificate"],
            cohort.village_code)


def attendance_writes(cohort: Cohort, writes: ReadModelWrites) -> None:
    for session_id, marks in cohort.attendance.items():
        session = cohort.sessions[session_id]
        for nik, status in marks.items():
            writes.add("INSERT INTO attendance (session_id, cohort_id, module, session_date, nik, status) "
                       "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (session_id, nik) DO UPDATE "
                       "SET status = EXCLUDED.status",
                       (session_id, cohort.id, session["module"], session["date"], nik, status))


def _individual(member: upstream.MemberV1, kk: str, village_code: str) -> dict:
    return {"nik": member.nik, "name": member.name, "sex": member.sex, "birth_date": member.birth_date,
            "relation": member.relation, "kk": kk, "village_code": village_code, "status": "active"}


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



TrainingApplication.audited_tables = (
    AuditedTable("cohorts", ("cohort_id", "village_code", "facilitator"),
                 lambda aggregates: ((c.id, c.village_code, c.facilitator)
                                     for c in aggregates if isinstance(c, Cohort))),
    AuditedTable("participants", ("cohort_id || ':' || nik", "status", "certificate"),
                 lambda aggregates: ((f"{c.id}:{nik}", p["status"], p["certificate"])
                                     for c in aggregates if isinstance(c, Cohort)
                                     for nik, p in c.participants.items())),
    AuditedTable("gates", ("group_id", "open", "completed", "representatives"),
                 lambda aggregates: ((g.group_id, g.open, g.completed, g.representatives)
                                     for g in aggregates if isinstance(g, Gate))),
)
