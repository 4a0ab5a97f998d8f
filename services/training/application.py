"""Training application: the people it may enrol, known from registry events (its own read model)."""

from __future__ import annotations

from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, EventData
from shared.contracts.registry import HouseholdRegisteredV1
from shared.store import ServiceApplication

UPSERT_INDIVIDUAL = """
    INSERT INTO individuals (nik, name, sex, birth_date, relation, kk, village_code)
    VALUES (%s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
        relation = EXCLUDED.relation, kk = EXCLUDED.kk, village_code = EXCLUDED.village_code,
        projected_at = clock_timestamp()
"""


class TrainingApplication(ServiceApplication):
    service_name = "training"
    upstreams = ("registry", "grants")
    read_model_ddl = (
        """CREATE TABLE IF NOT EXISTS individuals (
            nik text PRIMARY KEY, name text NOT NULL, sex text NOT NULL, birth_date date NOT NULL,
            relation text NOT NULL, kk text NOT NULL, village_code text NOT NULL,
            projected_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
        "CREATE INDEX IF NOT EXISTS individuals_village ON individuals (village_code)",
    )

    @handles("registry.household.registered")
    def on_household_registered(self, data: HouseholdRegisteredV1, envelope: Envelope, unit: UnitOfWork) -> None:
        for member in data.members:
            unit.writes.add(UPSERT_INDIVIDUAL, (member.nik, member.name, member.sex, member.birth_date,
                                                member.relation, data.kk, data.village_code))

    def individual(self, nik: str) -> dict | None:
        rows = self.query("SELECT nik, name, sex, birth_date::text, relation, kk, village_code FROM individuals "
                          "WHERE nik = %s", (nik,))
        return rows[0] if rows else None

    def individuals_summary(self) -> dict:
        row = self.query("SELECT count(*) AS individuals, count(*) FILTER (WHERE sex = 'P') AS women, "
                         "count(DISTINCT kk) AS households FROM individuals")[0]
        return {key: int(value) for key, value in row.items()}

    def public_event(self, domain_event) -> EventData:
        raise LookupError(f"no public contract for {type(domain_event).__qualname__}")
