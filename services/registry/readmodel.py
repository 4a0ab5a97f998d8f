"""Registry read model: the tables (households, individuals, groups, group_members, regions), the rows commands
write into them, the tables an auditor rebuilds, and the projection of upstream (grants) events.

The read model is written in the same transaction as the events that change it, so a query never sees a
half-applied command, and the primary keys are the last line of defence of two rules: a NIK belongs to one
household, a household to one active KUBE.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from services.registry.commands import HouseholdIn
from services.registry.domain import ErasureRequest, Group, Household, Member
from services.registry.sealing import ERASED
from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, grants
from shared.store import AuditedTable, ReadModelWrites, added_column
from shared.text import fold

READ_MODEL_DDL = (
    "CREATE TABLE IF NOT EXISTS regions (code text PRIMARY KEY, name text NOT NULL, level int NOT NULL)",
    """CREATE TABLE IF NOT EXISTS households (
        kk text PRIMARY KEY, household_id uuid NOT NULL, dtks_id text NOT NULL, village_code text NOT NULL,
        address text NOT NULL, decile int NOT NULL, bdt_status text NOT NULL, member_count int NOT NULL,
        fingerprint text NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS households_village ON households (village_code, kk)",
    # NIK is unique across the registry: this primary key is the last line of defence against a race.
    """CREATE TABLE IF NOT EXISTS individuals (
        nik text PRIMARY KEY, kk text NOT NULL, name text NOT NULL, name_key text NOT NULL, sex text NOT NULL,
        birth_date date NOT NULL, relation text NOT NULL, marital_status text NOT NULL,
        occupation text NOT NULL, village_code text NOT NULL, person_id uuid NOT NULL)""",
    # Each person carries the household's village (a move updates it: dtsen.change_writes), so that a search by name
    # within a region reads one table (about twice as fast at a district's size: bench/search.py).
    added_column("individuals", "village_code", "text",
                 "UPDATE individuals i SET village_code = h.village_code FROM households h WHERE h.kk = i.kk"),
    # A person's id (assigned by the registry); a row projected before ids gets the id derived from its NIK, as
    # the domain reads such a member (domain.legacy_person_id: uuid5 of the URL namespace).
    'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
    added_column("individuals", "person_id", "uuid",
                 "UPDATE individuals SET person_id = uuid_generate_v5(uuid_ns_url(), 'berdaya:person:' || nik)"),
    "CREATE UNIQUE INDEX IF NOT EXISTS individuals_person ON individuals (person_id)",
    "CREATE INDEX IF NOT EXISTS individuals_kk ON individuals (kk)",
    "CREATE INDEX IF NOT EXISTS individuals_name_key ON individuals (name_key text_pattern_ops)",
    # Any part of a name (find_people): trigrams make LIKE '%fragment%' an index scan. pg_trgm is a trusted
    # extension (PostgreSQL 13+): the database's owner, who runs this set-up, may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS individuals_name_trgm ON individuals USING gin (name_key gin_trgm_ops)",
    """CREATE TABLE IF NOT EXISTS groups (
        group_id uuid PRIMARY KEY, name text NOT NULL, village_code text NOT NULL, business_type text NOT NULL,
        kind text NOT NULL, status text NOT NULL, member_count int NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS groups_village ON groups (village_code, status)",
    # Active memberships only: one row per household is the rule "at most one active KUBE per household".
    """CREATE TABLE IF NOT EXISTS group_members (
        kk text PRIMARY KEY, group_id uuid NOT NULL, representative_nik text NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS group_members_group ON group_members (group_id)",
    # The legal hold on erasure (services/registry/erasure.py): a KUBE's grant from its approval until every
    # tranche's LPJ is accepted or the grant is cancelled, learnt from grants' events (tranches: from its opening).
    """CREATE TABLE IF NOT EXISTS grant_holds (
        proposal_id uuid PRIMARY KEY, group_id uuid NOT NULL, tranches int, accepted int[] NOT NULL DEFAULT '{}',
        cancelled boolean NOT NULL DEFAULT false)""",
    "CREATE INDEX IF NOT EXISTS grant_holds_group ON grant_holds (group_id)",
    # Erasure requests (erasure.py), for the admins' list of those awaiting a second admin: ids, never a name.
    """CREATE TABLE IF NOT EXISTS erasure_requests (
        request_id uuid PRIMARY KEY, household_id uuid NOT NULL, village_code text NOT NULL, reason text NOT NULL,
        requested_by text NOT NULL, requested_at timestamptz NOT NULL, approved_by text)""",
    "CREATE INDEX IF NOT EXISTS erasure_requests_pending ON erasure_requests (village_code) "
    "WHERE approved_by IS NULL",
)

PERSON_COLUMNS = ("nik", "kk", "name", "name_key", "sex", "birth_date", "relation", "marital_status", "occupation",
                  "village_code", "person_id")
INSERT_PERSON = """
    INSERT INTO individuals (nik, kk, name, name_key, sex, birth_date, relation, marital_status, occupation,
                             village_code, person_id)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""
UPSERT_PERSON = INSERT_PERSON + """
    ON CONFLICT (nik) DO UPDATE SET name = EXCLUDED.name, name_key = EXCLUDED.name_key, sex = EXCLUDED.sex,
        birth_date = EXCLUDED.birth_date, relation = EXCLUDED.relation, marital_status = EXCLUDED.marital_status,
        occupation = EXCLUDED.occupation"""
COUNT_MEMBERS = "UPDATE households SET member_count = %s WHERE kk = %s"


def person_row(member: Member, household: Household | Household.Registered) -> tuple:
    """A member's row, in a household (or its Registered event: either says the KK and the village)."""
    return (member.nik, household.kk, member.name, fold(member.name), member.sex, member.birth_date, member.relation,
            member.marital_status, member.occupation, household.village_code, member.id)


def registration_writes(registrations: list[Household.Registered], fingerprints: list[str]) -> ReadModelWrites:
    """The rows of newly registered households, from their Registered events, each with the fingerprint of the
    data it was registered from."""
    writes = ReadModelWrites()
    for registered in registrations:
        for member in registered.members:
            writes.insert("individuals", dict(zip(PERSON_COLUMNS, person_row(member, registered), strict=True)))
    for registered, its_fingerprint in zip(registrations, fingerprints, strict=True):
        writes.insert("households", {
            "kk": registered.kk, "household_id": registered.originator_id, "dtks_id": registered.dtks_id,
            "village_code": registered.village_code, "address": registered.address, "decile": registered.decile,
            "bdt_status": "active", "member_count": len(registered.members), "fingerprint": its_fingerprint})
    return writes


def fingerprint(command: HouseholdIn) -> str:
    """What an import compares to decide 'unchanged': the registration's data, not who sent it (a file's BDT status
    counts only when not active, so that a registration's fingerprint reads the same from either)."""
    data = command.model_dump(mode="json", exclude={"actor", "status", "status_reason"})
    status = getattr(command, "status", "active")
    if status != "active":
        data["status"] = [status, command.status_reason]
    return registration_fingerprint(data)


def registration_fingerprint(data: dict) -> str:
    """:func:`fingerprint` of a registration's data as JSON values (members in any order)."""
    data = {**data, "members": sorted(data["members"], key=lambda member: member["nik"])}
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# An erased household has no rows (nor a KUBE membership row: its KK reads erased in the group's events).
AUDITED_TABLES = (
    AuditedTable("households", ("kk", "household_id", "village_code", "decile", "bdt_status", "member_count"),
                 lambda aggregates: ((h.kk, h.id, h.village_code, h.decile, h.bdt_status, len(h.members))
                                     for h in aggregates if isinstance(h, Household) and not h.erased)),
    AuditedTable("individuals", ("nik", "kk", "name", "relation", "person_id"),
                 lambda aggregates: ((m.nik, h.kk, m.name, m.relation, m.id)
                                     for h in aggregates if isinstance(h, Household) for m in h.members)),
    AuditedTable("groups", ("group_id", "name", "status", "member_count"),
                 lambda aggregates: ((g.id, g.name, g.status, len(g.members))
                                     for g in aggregates if isinstance(g, Group))),
    AuditedTable("group_members", ("kk", "group_id", "representative_nik"),
                 lambda aggregates: ((m.kk, g.id, m.representative_nik)
                                     for g in aggregates if isinstance(g, Group) and g.is_active for m in g.members
                                     if m.kk != ERASED)),
    AuditedTable("erasure_requests", ("request_id", "household_id", "village_code", "reason", "requested_by",
                                      "approved_by"),
                 lambda aggregates: ((r.id, r.household_id, r.village_code, r.reason, r.requested_by, r.approved_by)
                                     for r in aggregates if isinstance(r, ErasureRequest))),
)


class RegistryReadModel:
    """The projections of upstream events, mixed into RegistryApplication (the consumer finds the ``@handles``)."""

    # --- grants events ------------------------------------------------------------------------------------

    @handles("grants.proposal.approved")
    def on_proposal_approved(self, data: grants.ProposalApprovedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        group: Group = unit.get(data.group_id)
        group.mark_funded(proposal_id=data.proposal_id, amount_rp=data.amount_rp)
        unit.writes.add("UPDATE groups SET status = 'funded' WHERE group_id = %s", (data.group_id,))
        unit.writes.add("INSERT INTO grant_holds (proposal_id, group_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (data.proposal_id, data.group_id))

    @handles("grants.grant.opened")
    def on_grant_opened(self, data: grants.GrantOpenedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("INSERT INTO grant_holds (proposal_id, group_id, tranches) VALUES (%s, %s, %s) "
                        "ON CONFLICT (proposal_id) DO UPDATE SET tranches = EXCLUDED.tranches",
                        (data.proposal_id, data.group_id, len(data.tranches)))

    @handles("grants.disbursement.confirmed")
    def on_disbursement_confirmed(self, data: grants.DisbursementConfirmedV1, envelope: Envelope,
                                  unit: UnitOfWork) -> None:
        self._first_tranche_paid(data.group_id, data.proposal_id, data.payment_id, data.tranche, unit)

    @handles("grants.disbursement.delivered")
    def on_disbursement_delivered(self, data: grants.DisbursementDeliveredV1, envelope: Envelope,
                                  unit: UnitOfWork) -> None:
        self._first_tranche_paid(data.group_id, data.proposal_id, data.payment_id, data.tranche, unit)

    def _first_tranche_paid(self, group_id: uuid.UUID, proposal_id: uuid.UUID, payment_id: str, tranche: int,
                            unit: UnitOfWork) -> None:
        """Tranche 1 paid: a funded group becomes active (one dissolved meanwhile stays dissolved)."""
        if tranche != 1:
            return
        group: Group = unit.get(group_id)
        if group.status == "funded":
            group.activate(proposal_id=proposal_id, payment_id=str(payment_id))
            unit.writes.add("UPDATE groups SET status = 'active' WHERE group_id = %s", (group_id,))

    @handles("grants.lpj.accepted")
    def on_lpj_accepted(self, data: grants.LpjAcceptedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE grant_holds SET accepted = array_append(accepted, %s) "
                        "WHERE proposal_id = %s AND NOT %s = ANY(accepted)", (data.tranche, data.proposal_id,
                                                                               data.tranche))

    @handles("grants.grant.cancelled")
    def on_grant_cancelled(self, data: grants.GrantCancelledV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE grant_holds SET cancelled = true WHERE proposal_id = %s", (data.proposal_id,))
