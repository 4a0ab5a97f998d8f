"""Training's read model: its tables, the rows its commands write, and the projections of the registry and grants
events that tell it the people and KUBE it knows (TrainingReadModel, which TrainingApplication inherits).

A person who leaves the registry (death, moving out, household removed) stays in the read model marked as left,
so history keeps their attendance, and is withdrawn from their cohort rather than failed.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from services.training.domain import Cohort, Gate
from shared.consumer import NotYet, UnitOfWork, handles
from shared.contracts import Envelope, grants
from shared.contracts import registry as upstream
from shared.store import AuditedTable, MirroredTable, ReadModelWrites, added_column

UNASSIGNED = "belum ditentukan"  # a cohort opened automatically waits for its facilitator

READ_MODEL_DDL = (
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


# Upstream facts training decides with (who may be enrolled): the audit rebuilds them from registry's log.
MIRRORED_TABLES = (MirroredTable("groups", "registry", "groups", ("group_id", "name", "status")),)

AUDITED_TABLES = (
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


class TrainingReadModel:
    """The projections of upstream events, mixed into TrainingApplication (whose ``query`` and ``_gates`` they use;
    the gate recount reads through the application's facts, as the commands do): each handler records its effects
    through the batch's unit of work."""

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
