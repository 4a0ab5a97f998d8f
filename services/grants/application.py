"""Grants application: budgets, and the households it knows from registry events (its own read model)."""

from __future__ import annotations

from eventsourcing.application import AggregateNotFoundError

from services.grants.domain import Budget
from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, EventData
from shared.contracts.grants import BudgetCeilingSetV1
from shared.contracts.registry import HouseholdRegisteredV1
from shared.store import ServiceApplication

UPSERT_HOUSEHOLD = """
    INSERT INTO households (kk, household_id, village_code, decile, bdt_status, member_count, registered_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (kk) DO UPDATE SET village_code = EXCLUDED.village_code, decile = EXCLUDED.decile,
        bdt_status = EXCLUDED.bdt_status, member_count = EXCLUDED.member_count, projected_at = clock_timestamp()
"""

# Counted, not recomputed: applying an event twice would show here (the tests rely on it).
COUNT_VILLAGE = """
    INSERT INTO village_households (village_code, households, members) VALUES (%s, 1, %s)
    ON CONFLICT (village_code) DO UPDATE SET households = village_households.households + 1,
        members = village_households.members + EXCLUDED.members
"""


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

    # --- upstream events --------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: HouseholdRegisteredV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_HOUSEHOLD, (data.kk, data.household_id, data.village_code, data.decile,
                                           data.bdt_status, len(data.members), envelope.time))
        unit.writes.add(COUNT_VILLAGE, (data.village_code, len(data.members)))

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
            year_source = self.repository.get(budget_id, version=1)
            return BudgetCeilingSetV1(budget_id=budget_id, fiscal_year=year_source.fiscal_year,
                                      source=year_source.source, ceiling_rp=domain_event.ceiling_rp,
                                      set_by=domain_event.set_by)
        raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
