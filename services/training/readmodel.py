"""Training's read model: its tables, the rows its commands write, and the projections of the registry and grants
events that tell it the people and KUBE it knows (TrainingReadModel, which TrainingApplication inherits).

A person who leaves the registry (death, moving out, household removed) stays in the read model marked as left,
so history keeps their attendance, and is withdrawn from their cohort rather than failed.
"""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from services.training.domain import Cohort, Gate
from shared.consumer import NotYet, UnitOfWork, handles
from shared.contracts import Envelope, grants
from shared.contracts import registry as upstream
from shared.group_status import GroupStatusProjection
from shared.store import (
    PSEUDONYMISED_GROUP_MEMBERS,
    AuditedTable,
    MirroredTable,
    ReadModelWrites,
    added_column,
    pseudonymised,
)

FUNDED_GROUP_STATUSES = ("funded", "active")  # its representatives are in the Family School; its gate counts
UNASSIGNED = "belum ditentukan"  # a cohort opened automatically waits for its facilitator
REMOVED_FROM_BDT = "household removed from BDT"  # not the registry's reason: free text about a family stays there

# People by the registry's ids only (registry's events v2): training never holds a NIK, KK, name or birth date.
READ_MODEL_DDL = (
    """CREATE TABLE IF NOT EXISTS individuals (
        person_id uuid PRIMARY KEY, household_id uuid NOT NULL, sex text NOT NULL, relation text NOT NULL,
        village_code text NOT NULL, status text NOT NULL, left_reason text,
        projected_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
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
        cohort_id uuid NOT NULL, person_id uuid NOT NULL, group_id uuid, status text NOT NULL,
        certificate text UNIQUE, village_code text NOT NULL, PRIMARY KEY (cohort_id, person_id))""",
    """CREATE TABLE IF NOT EXISTS attendance (
        session_id uuid NOT NULL, cohort_id uuid NOT NULL, module text NOT NULL, session_date date NOT NULL,
        person_id uuid NOT NULL, status text NOT NULL, PRIMARY KEY (session_id, person_id))""",
    # Tables projected from registry's version-1 events (and training's own, by NIK), once: ids instead.
    'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
    pseudonymised("individuals", dropped=("nik", "kk", "name", "birth_date"), key=("person_id",),
                  derived={"person_id": ("person", "nik"), "household_id": ("household", "kk")}),
    pseudonymised("participants", dropped=("nik",), key=("cohort_id", "person_id"),
                  derived={"person_id": ("person", "nik")}),
    pseudonymised("attendance", dropped=("nik",), key=("session_id", "person_id"),
                  derived={"person_id": ("person", "nik")}),
    PSEUDONYMISED_GROUP_MEMBERS,
    "CREATE INDEX IF NOT EXISTS individuals_village ON individuals (village_code)",
    "CREATE INDEX IF NOT EXISTS individuals_household ON individuals (household_id)",
    "CREATE INDEX IF NOT EXISTS participants_person ON participants (person_id)",
    """CREATE TABLE IF NOT EXISTS gates (
        group_id uuid PRIMARY KEY, open boolean NOT NULL, completed int NOT NULL, representatives int NOT NULL)""",
    # Certificate numbers: unique and readable, SK-<district>-<year>-<serial>; a failed command burns one.
    "CREATE SEQUENCE IF NOT EXISTS certificate_serial",
)

INDIVIDUAL_CONFLICT = """
    ON CONFLICT (person_id) DO UPDATE SET sex = EXCLUDED.sex, relation = EXCLUDED.relation,
        household_id = EXCLUDED.household_id, village_code = EXCLUDED.village_code, status = 'active',
        left_reason = NULL, projected_at = clock_timestamp()"""
UPSERT_GROUP = """
    INSERT INTO groups (group_id, name, village_code, status, members) VALUES (%s, %s, %s, 'formed', %s)
    ON CONFLICT (group_id) DO UPDATE SET members = EXCLUDED.members"""
UPSERT_PARTICIPANT = """
    INSERT INTO participants (cohort_id, person_id, group_id, status, certificate, village_code)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (cohort_id, person_id) DO UPDATE SET status = EXCLUDED.status, certificate = EXCLUDED.certificate,
        group_id = coalesce(EXCLUDED.group_id, participants.group_id)"""
UPSERT_GATE = """
    INSERT INTO gates (group_id, open, completed, representatives) VALUES (%s, %s, %s, %s)
    ON CONFLICT (group_id) DO UPDATE SET open = EXCLUDED.open, completed = EXCLUDED.completed,
        representatives = EXCLUDED.representatives"""


def cohort_row_sql() -> str:
    return "INSERT INTO cohorts (cohort_id, village_code, name, facilitator) VALUES (%s, %s, %s, %s)"


def cohort_row(cohort: Cohort) -> tuple:
    return (cohort.id, cohort.village_code, cohort.name, cohort.facilitator)


def participant_row(cohort: Cohort, person_id: str) -> tuple:
    participant = cohort.participants[person_id]
    return (cohort.id, person_id, participant["group_id"], participant["status"], participant["certificate"],
            cohort.village_code)


def attendance_writes(cohort: Cohort, writes: ReadModelWrites) -> None:
    for session_id, marks in cohort.attendance.items():
        session = cohort.sessions[session_id]
        for person_id, status in marks.items():
            writes.add("INSERT INTO attendance (session_id, cohort_id, module, session_date, person_id, status) "
                       "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (session_id, person_id) DO UPDATE "
                       "SET status = EXCLUDED.status",
                       (session_id, cohort.id, session["module"], session["date"], person_id, status))


def _individual(member: upstream.MemberV2, household_id: uuid.UUID, village_code: str) -> dict:
    return {"person_id": member.person_id, "household_id": household_id, "sex": member.sex,
            "relation": member.relation, "village_code": village_code, "status": "active"}


# Upstream facts training decides with (who may be enrolled): the audit rebuilds them from registry's log.
MIRRORED_TABLES = (MirroredTable("groups", "registry", "groups", ("group_id", "name", "status")),)

AUDITED_TABLES = (
    AuditedTable("cohorts", ("cohort_id", "village_code", "facilitator"),
                 lambda aggregates: ((c.id, c.village_code, c.facilitator)
                                     for c in aggregates if isinstance(c, Cohort))),
    AuditedTable("participants", ("cohort_id || ':' || person_id", "status", "certificate"),
                 lambda aggregates: ((f"{c.id}:{person_id}", p["status"], p["certificate"])
                                     for c in aggregates if isinstance(c, Cohort)
                                     for person_id, p in c.participants.items())),
    AuditedTable("gates", ("group_id", "open", "completed", "representatives"),
                 lambda aggregates: ((g.group_id, g.open, g.completed, g.representatives)
                                     for g in aggregates if isinstance(g, Gate))),
)


class TrainingReadModel(GroupStatusProjection):
    """The projections of upstream events, mixed into TrainingApplication (whose ``query`` and ``_gates`` they use;
    the gate recount reads through the application's facts, as the commands do): each handler records its effects
    through the batch's unit of work."""

    # --- registry events ----------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: upstream.HouseholdRegisteredV2, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        for member in data.members:
            unit.writes.insert("individuals", _individual(member, data.household_id, data.village_code),
                               on_conflict=INDIVIDUAL_CONFLICT)

    @handles("registry.household.member_added")
    def on_member_added(self, data: upstream.HouseholdMemberAddedV2, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.insert("individuals", _individual(data.member, data.household_id, data.village_code),
                           on_conflict=INDIVIDUAL_CONFLICT)

    @handles("registry.household.member_removed", reads=True)
    def on_member_removed(self, data: upstream.HouseholdMemberRemovedV2, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE individuals SET status = 'left', left_reason = %s, projected_at = clock_timestamp() "
                        "WHERE person_id = %s", (data.reason, data.person_id))
        if data.reason in ("death", "moved_out"):
            self._withdraw([str(data.person_id)], f"left the household: {data.reason}", unit)

    @handles("registry.household.erased")
    def on_household_erased(self, data: upstream.HouseholdErasedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        # Gone from the registry, so from its people here; cohorts keep their participants' ids (the school's record).
        unit.writes.add("DELETE FROM individuals WHERE household_id = %s", (data.household_id,))

    @handles("registry.person.erased")
    def on_person_erased(self, data: upstream.PersonErasedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        # As a whole household's erasure, for one person: their cohorts keep their id.
        unit.writes.add("DELETE FROM individuals WHERE person_id = %s", (data.person_id,))

    @handles("registry.household.member_corrected")
    def on_member_corrected(self, data: upstream.HouseholdMemberCorrectedV2, envelope: Envelope,
                            unit: UnitOfWork) -> None:
        member = data.member
        unit.writes.add("UPDATE individuals SET sex = %s, relation = %s, projected_at = clock_timestamp() "
                        "WHERE person_id = %s", (member.sex, member.relation, member.person_id))

    @handles("registry.household.status_changed", reads=True)
    def on_status_changed(self, data: upstream.HouseholdStatusChangedV2, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        if data.bdt_status == "removed":
            unit.writes.add("UPDATE individuals SET status = 'left', left_reason = %s, "
                            "projected_at = clock_timestamp() WHERE household_id = %s AND status = 'active'",
                            (REMOVED_FROM_BDT, data.household_id))
            people = [str(row["person_id"]) for row in self.query(
                "SELECT person_id FROM individuals WHERE household_id = %s", (data.household_id,))]
            self._withdraw(people, REMOVED_FROM_BDT, unit)

    def _withdraw(self, people: list[str], reason: str, unit: UnitOfWork) -> None:
        for row in self.query("SELECT cohort_id, person_id::text FROM participants "
                              "WHERE person_id = ANY(%s::uuid[]) AND status = 'enrolled'", (people,)):
            cohort: Cohort = unit.get(row["cohort_id"])
            if cohort.withdraw(row["person_id"], reason, "registry"):
                unit.writes.add(UPSERT_PARTICIPANT, participant_row(cohort, row["person_id"]))

    @handles("registry.group.formed")
    def on_group_formed(self, data: upstream.GroupFormedV2, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_GROUP, (data.group_id, data.name, data.village_code,
                                       Jsonb([m.model_dump(mode="json") for m in data.members])))

    @handles("registry.group.member_changed", reads=True)
    def on_group_member_changed(self, data: upstream.GroupMemberChangedV2, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        """A funded group's new representative joins the Family School of its village, and the group's gate is
        recounted over its representatives now (a newcomer has no certificate yet)."""
        unit.writes.add("UPDATE groups SET members = %s WHERE group_id = %s",
                        (Jsonb([m.model_dump(mode="json") for m in data.members]), data.group_id))
        rows = self.query("SELECT village_code, status FROM groups WHERE group_id = %s", (data.group_id,))
        if not rows or rows[0]["status"] not in FUNDED_GROUP_STATUSES:
            return
        if data.added is not None:
            self._enrol_representatives(rows[0]["village_code"], data.group_id, [str(data.added.representative_id)],
                                        "otomatis (anggota baru KUBE)", unit)
        representatives = frozenset(str(m.representative_id) for m in data.members)
        for gate in self._gates({data.group_id}, None, unit.writes, {data.group_id: representatives}):
            unit.add(gate)

    @handles("registry.group.dissolved")
    def on_group_dissolved(self, data: upstream.GroupDissolvedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'dissolved' WHERE group_id = %s", (data.group_id,))

    # --- grants events ------------------------------------------------------------------------------------

    @handles("grants.proposal.approved", reads=True)
    def on_proposal_approved(self, data: grants.ProposalApprovedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        """Enrol the group's representatives in an open cohort of its village (opening one if none): once."""
        rows = self.query("SELECT name, village_code, members FROM groups WHERE group_id = %s", (data.group_id,))
        if not rows:
            raise NotYet(f"grants approved group {data.group_id}, which training has not heard of from registry yet")
        group = rows[0]
        self._enrol_representatives(group["village_code"], data.group_id,
                                    [m["representative_id"] for m in group["members"]], "otomatis (hibah disetujui)",
                                    unit)
        for gate in self._gates({data.group_id}, None, unit.writes):
            unit.add(gate)

    def _enrol_representatives(self, village_code: str, group_id: uuid.UUID, person_ids: list[str], by: str,
                               unit: UnitOfWork) -> None:
        """Enrol a funded group's representatives still in the registry in an open cohort of its village (opening
        one if none): once each."""
        cohort = self._open_cohort_of(village_code, unit)
        active = {row["person_id"] for row in self.query(
            "SELECT person_id::text FROM individuals WHERE person_id = ANY(%s::uuid[]) AND status = 'active'",
            (person_ids,))}
        for person_id in person_ids:
            if person_id in active and cohort.enrol(person_id, group_id, by):
                unit.writes.add(UPSERT_PARTICIPANT, participant_row(cohort, person_id))

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
