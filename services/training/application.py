"""Training application: the people it may enrol and the KUBE representatives, known from registry events.

A person who leaves the registry (death, moving out, household removed) stays in the read model marked as left,
so that history keeps their attendance and the Family School can withdraw them rather than fail them.
"""

from __future__ import annotations

from psycopg.types.json import Jsonb

from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, EventData
from shared.contracts import registry as upstream
from shared.store import ServiceApplication

UPSERT_INDIVIDUAL = """
    INSERT INTO individuals (nik, name, sex, birth_date, relation, kk, village_code, status)
    VALUES (%s, %s, %s, %s, %s, %s, %s, 'active')
    ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
        relation = EXCLUDED.relation, kk = EXCLUDED.kk, village_code = EXCLUDED.village_code, status = 'active',
        left_reason = NULL, projected_at = clock_timestamp()"""
UPSERT_GROUP = """
    INSERT INTO groups (group_id, name, village_code, status, members) VALUES (%s, %s, %s, 'formed', %s)
    ON CONFLICT (group_id) DO UPDATE SET members = EXCLUDED.members"""


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
    )

    # --- registry events --------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: upstream.HouseholdRegisteredV1, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        for member in data.members:
            unit.writes.add(UPSERT_INDIVIDUAL, _individual(member, data.kk, data.village_code))

    @handles("registry.household.member_added")
    def on_member_added(self, data: upstream.HouseholdMemberAddedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_INDIVIDUAL, _individual(data.member, data.kk, data.village_code))

    @handles("registry.household.member_removed")
    def on_member_removed(self, data: upstream.HouseholdMemberRemovedV1, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE individuals SET status = 'left', left_reason = %s, projected_at = clock_timestamp() "
                        "WHERE nik = %s AND kk = %s", (data.reason, data.nik, data.kk))

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

    # --- queries ----------------------------------------------------------------------------------------

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

    def public_event(self, domain_event) -> EventData:
        raise LookupError(f"no public contract for {type(domain_event).__qualname__}")


def _individual(member: upstream.MemberV1, kk: str, village_code: str) -> tuple:
    return (member.nik, member.name, member.sex, member.birth_date, member.relation, kk, village_code)
