"""Grants application: budgets; and the households and KUBE groups it knows from registry events.

Eligibility is decided on grants' own read model, never by reading the registry's database.
"""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError
from psycopg.types.json import Jsonb

from services.grants.domain import Budget
from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, EventData
from shared.contracts import registry as upstream
from shared.contracts.grants import BudgetCeilingSetV1
from shared.store import ServiceApplication

INSERT_HOUSEHOLD = """
    INSERT INTO households (kk, household_id, village_code, decile, bdt_status, member_count, registered_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s)"""
# Counted, not recomputed: applying an event twice would show here (the tests rely on it).
COUNT_VILLAGE = """
    INSERT INTO village_households (village_code, households, members) VALUES (%s, %s, %s)
    ON CONFLICT (village_code) DO UPDATE SET households = village_households.households + EXCLUDED.households,
        members = village_households.members + EXCLUDED.members"""
CHANGE_MEMBER_COUNT = """
    UPDATE households SET member_count = member_count + %s, projected_at = clock_timestamp() WHERE kk = %s"""
UPSERT_GROUP = """
    INSERT INTO groups (group_id, name, village_code, kind, status, members) VALUES (%s, %s, %s, %s, 'formed', %s)
    ON CONFLICT (group_id) DO UPDATE SET members = EXCLUDED.members"""


class GrantsApplication(ServiceApplication):
    service_name = "grants"
    upstreams = ("registry",)
    read_model_ddl = (
        """CREATE TABLE IF NOT EXISTS households (
            kk text PRIMARY KEY, household_id uuid NOT NULL, village_code text NOT NULL, decile int NOT NULL,
            bdt_status text NOT NULL, member_count int NOT NULL,
            registered_at timestamptz NOT NULL, projected_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
        "CREATE INDEX IF NOT EXISTS households_village ON households (village_code)",
        """CREATE TABLE IF NOT EXISTS village_households (
            village_code text PRIMARY KEY, households int NOT NULL, members int NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS groups (
            group_id uuid PRIMARY KEY, name text NOT NULL, village_code text NOT NULL, kind text NOT NULL,
            status text NOT NULL, members jsonb NOT NULL)""",
    )

    # --- commands ---------------------------------------------------------------------------------------

    def set_budget_ceiling(self, fiscal_year: int, source: str, ceiling_rp: int, set_by: str) -> str:
        try:
            budget: Budget = self.repository.get(Budget.create_id(fiscal_year, source))
            budget.set_ceiling(ceiling_rp=ceiling_rp, set_by=set_by)
        except AggregateNotFoundError:
            budget = Budget(fiscal_year=fiscal_year, source=source, ceiling_rp=ceiling_rp, set_by=set_by)
        self.record(budget)
        return str(budget.id)

    # --- registry events --------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: upstream.HouseholdRegisteredV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.add(INSERT_HOUSEHOLD, (data.kk, data.household_id, data.village_code, data.decile,
                                           data.bdt_status, len(data.members), envelope.time))
        unit.writes.add(COUNT_VILLAGE, (data.village_code, 1, len(data.members)))

    @handles("registry.household.member_added")
    def on_member_added(self, data: upstream.HouseholdMemberAddedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(CHANGE_MEMBER_COUNT, (1, data.kk))
        unit.writes.add(COUNT_VILLAGE, (data.village_code, 0, 1))

    @handles("registry.household.member_removed")
    def on_member_removed(self, data: upstream.HouseholdMemberRemovedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add(CHANGE_MEMBER_COUNT, (-1, data.kk))
        unit.writes.add("UPDATE village_households SET members = members - 1 WHERE village_code = "
                        "(SELECT village_code FROM households WHERE kk = %s)", (data.kk,))

    @handles("registry.household.status_changed")
    def on_status_changed(self, data: upstream.HouseholdStatusChangedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE households SET bdt_status = %s, projected_at = clock_timestamp() WHERE kk = %s",
                        (data.bdt_status, data.kk))

    @handles("registry.household.decile_changed")
    def on_decile_changed(self, data: upstream.HouseholdDecileChangedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE households SET decile = %s, projected_at = clock_timestamp() WHERE kk = %s",
                        (data.decile, data.kk))

    @handles("registry.group.formed")
    def on_group_formed(self, data: upstream.GroupFormedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_GROUP, (data.group_id, data.name, data.village_code, data.kind,
                                       _members_json(data.members)))

    @handles("registry.group.member_changed")
    def on_group_member_changed(self, data: upstream.GroupMemberChangedV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET members = %s WHERE group_id = %s",
                        (_members_json(data.members), data.group_id))

    @handles("registry.group.dissolved")
    def on_group_dissolved(self, data: upstream.GroupDissolvedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'dissolved' WHERE group_id = %s", (data.group_id,))

    # --- queries ----------------------------------------------------------------------------------------

    def household(self, kk: str) -> dict | None:
        rows = self.query(
            "SELECT kk, household_id::text, village_code, decile, bdt_status, member_count FROM households "
            "WHERE kk = %s", (kk,))
        return rows[0] if rows else None

    def households_summary(self) -> dict:
        row = self.query("SELECT count(*) AS households, coalesce(sum(member_count), 0) AS members, "
                         "count(*) FILTER (WHERE decile <= 4) AS decile_1_to_4 FROM households")[0]
        return {key: int(value) for key, value in row.items()}

    def households_by_village(self) -> dict[str, int]:
        rows = self.query("SELECT village_code, households FROM village_households ORDER BY village_code")
        return {row["village_code"]: row["households"] for row in rows}

    def group(self, group_id: str) -> dict | None:
        rows = self.query("SELECT group_id::text, name, village_code, kind, status, members FROM groups "
                          "WHERE group_id = %s", (group_id,))
        return rows[0] if rows else None

    def budget(self, fiscal_year: int, source: str) -> dict | None:
        try:
            budget: Budget = self.repository.get(Budget.create_id(fiscal_year, source))
        except AggregateNotFoundError:
            return None
        return {"budget_id": str(budget.id), "fiscal_year": budget.fiscal_year, "source": budget.source,
                "ceiling_rp": budget.ceiling_rp}

    # --- public events ----------------------------------------------------------------------------------

    def public_event(self, domain_event) -> EventData:
        if isinstance(domain_event, Budget.Opened | Budget.CeilingSet):
            budget_id = domain_event.originator_id
            # Budgets change a few times a year: reading the year and source back is cheap enough here.
            opened = self.repository.get(budget_id, version=1)
            return BudgetCeilingSetV1(budget_id=budget_id, fiscal_year=opened.fiscal_year, source=opened.source,
                                      ceiling_rp=domain_event.ceiling_rp, set_by=domain_event.set_by)
        raise LookupError(f"no public contract for {type(domain_event).__qualname__}")


def _members_json(members: list[upstream.GroupMemberV1]) -> Jsonb:
    return Jsonb([member.model_dump() for member in members])
