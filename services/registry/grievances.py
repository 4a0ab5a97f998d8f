"""Grievances (pengaduan), kept in the registry altogether: the resident's name and contact and every free text are
personal data, and the registry is the service that owns personal data and seals it (``sealing``: a grievance's
personal fields under its own data key). Other services learn ids, the category, the village and dates from the
public events; the ``grievances`` table holds no personal data either, so lists, worklists and dashboards read it
freely, and only the one grievance's page (:meth:`RegistryGrievances.grievance`) opens what was said, logged as any
read of personal data.
"""

from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.application import AggregateNotFoundError

from services.registry.commands import AssignGrievance, NoteGrievance, RecordGrievance, ResolveGrievance
from services.registry.grievance import Grievance, GrievanceRules
from shared.errors import NotFound
from shared.ids import jakarta_today
from shared.reads import ReadBy
from shared.store import ReadModelWrites, in_region

GRIEVANCES_DDL = (
    """CREATE TABLE IF NOT EXISTS grievances (
        grievance_id uuid PRIMARY KEY, village_code text NOT NULL, category text NOT NULL, status text NOT NULL,
        anonymous boolean NOT NULL, household_id uuid, group_id uuid, proposal_id uuid, recorded_by text NOT NULL,
        received_on date NOT NULL, due_on date NOT NULL, assigned_to text, outcome text, resolved_on date)""",
    "CREATE INDEX IF NOT EXISTS grievances_open ON grievances (village_code, due_on) WHERE outcome IS NULL",
)
UPSERT_GRIEVANCE = """
    INSERT INTO grievances (grievance_id, village_code, category, status, anonymous, household_id, group_id,
        proposal_id, recorded_by, received_on, due_on, assigned_to, outcome, resolved_on)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (grievance_id) DO UPDATE SET status = EXCLUDED.status, assigned_to = EXCLUDED.assigned_to,
        outcome = EXCLUDED.outcome, resolved_on = EXCLUDED.resolved_on"""
COLUMNS = ("grievance_id::text, village_code, category, status, anonymous, household_id::text, group_id::text, "
           "proposal_id::text, recorded_by, received_on, due_on, assigned_to, outcome, resolved_on")


def grievance_row(g: Grievance) -> tuple:
    return (g.id, g.village_code, g.category, g.status, g.anonymous, g.household_id, g.group_id, g.proposal_id,
            g.recorded_by, g.received_on, g.due_on, g.assigned_to, g.outcome, g.resolved_on)


def listed(row: dict, today: date) -> dict:
    return {**row, "received_on": row["received_on"].isoformat(), "due_on": row["due_on"].isoformat(),
            "resolved_on": row["resolved_on"].isoformat() if row["resolved_on"] else None,
            "overdue": row["outcome"] is None and today > row["due_on"]}


class RegistryGrievances:
    """The grievance commands and reads, mixed into RegistryApplication (whose ``grievance_rules`` they use)."""

    grievance_rules: GrievanceRules

    def record_grievance(self, command: RecordGrievance) -> str:
        household_id = (self._load_household(command.household_kk).id if command.household_kk else None)
        grievance = Grievance.record(
            actor=command.actor, village_code=command.village_code, category=command.category,
            description=command.description, complainant_name=command.complainant_name,
            complainant_contact=command.complainant_contact, household_id=household_id,
            group_id=uuid.UUID(command.group_id) if command.group_id else None,
            proposal_id=uuid.UUID(command.proposal_id) if command.proposal_id else None,
            received_on=command.received_on, today=jakarta_today(), rules=self.grievance_rules)
        self._record_grievance(grievance)
        return str(grievance.id)

    def assign_grievance(self, command: AssignGrievance) -> None:
        grievance = self._load_grievance(command.grievance_id)
        grievance.assign(command.actor, command.assignee)
        self._record_grievance(grievance)

    def note_grievance(self, command: NoteGrievance) -> None:
        grievance = self._load_grievance(command.grievance_id)
        grievance.note(command.actor, command.text, jakarta_today())
        self._record_grievance(grievance)

    def resolve_grievance(self, command: ResolveGrievance) -> None:
        grievance = self._load_grievance(command.grievance_id)
        grievance.resolve(command.actor, command.outcome, command.resolution, jakarta_today())
        self._record_grievance(grievance)

    # --- reads ----------------------------------------------------------------------------------------------

    def grievance(self, reader: ReadBy, grievance_id: str) -> dict:
        """One grievance with what was said (personal: logged); outside the reader's region, as a missing one."""
        grievance = self._load_grievance(grievance_id)
        if not reader.actor.covers(grievance.village_code):
            raise NotFound(f"no grievance {grievance_id}", field="grievance_id", grievance_id=grievance_id)
        self.access_log.record(reader, "grievance", households=[h for h in (grievance.household_id,) if h])
        return {**self.grievance_row(grievance.id), "description": grievance.description,
                "complainant_name": grievance.complainant_name,
                "complainant_contact": grievance.complainant_contact, "resolution": grievance.resolution,
                "resolved_by": grievance.resolved_by,
                "notes": [{"by": n.by, "on": n.on.isoformat(), "text": n.text} for n in grievance.notes]}

    def grievance_row(self, grievance_id: str) -> dict | None:
        """A grievance's row (no personal data): where it is and how far it went; None when there is none."""
        rows = self.query(f"SELECT {COLUMNS} FROM grievances WHERE grievance_id::text = %s", (str(grievance_id),))
        return listed(rows[0], jakarta_today()) if rows else None

    def grievances(self, region: str | None = None, status: str | None = None, overdue: bool = False,
                   assigned_to: str | None = None) -> list[dict]:
        """A region's grievances, no personal data: the oldest due first; only the open and overdue ones, or only
        one verifier's, when asked."""
        where, params = in_region("village_code", region)
        today = jakarta_today()
        conditions = [where]
        if status:
            conditions.append("status = %s")
            params = (*params, status)
        if overdue:
            conditions.append("outcome IS NULL AND due_on < %s")
            params = (*params, today)
        if assigned_to:
            conditions.append("assigned_to = %s")
            params = (*params, assigned_to)
        rows = self.query(f"SELECT {COLUMNS} FROM grievances WHERE {' AND '.join(conditions)} "
                          "ORDER BY due_on, received_on, grievance_id", params)
        return [listed(row, today) for row in rows]

    def grievance_counts(self, region: str | None = None) -> list[dict]:
        """Per village of the region: grievances recorded, open, overdue, resolved and the days they took."""
        where, params = in_region("village_code", region)
        return self.query(
            "SELECT village_code, count(*)::int AS recorded, count(*) FILTER (WHERE outcome IS NULL)::int AS open, "
            "count(*) FILTER (WHERE outcome IS NULL AND due_on < %s)::int AS overdue, "
            "count(*) FILTER (WHERE outcome IS NOT NULL)::int AS resolved, "
            "coalesce(sum(resolved_on - received_on) FILTER (WHERE outcome IS NOT NULL), 0)::int AS days_to_resolve "
            f"FROM grievances WHERE {where} GROUP BY village_code ORDER BY village_code", (jakarta_today(), *params))

    # --- helpers --------------------------------------------------------------------------------------------

    def _record_grievance(self, grievance: Grievance) -> None:
        writes = ReadModelWrites()
        writes.add(UPSERT_GRIEVANCE, grievance_row(grievance))
        self.record(grievance, writes=writes)

    def _load_grievance(self, grievance_id: str) -> Grievance:
        try:
            grievance = self.repository.get(uuid.UUID(str(grievance_id)))
        except (ValueError, AggregateNotFoundError):
            grievance = None
        if not isinstance(grievance, Grievance):
            raise NotFound(f"no grievance {grievance_id}", field="grievance_id", grievance_id=str(grievance_id))
        return grievance
