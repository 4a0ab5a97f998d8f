"""Grants read model: the tables grants keeps — its proposals, budgets and grants, and what it knows of households,
groups and the Family School from upstream events (its own tables, never another service's database) — the rows
commands write to them, and the projections of registry and training events.

A command's rows commit in the transaction that records its events; an upstream event's projection in the one that
records the consumer's tracking position, so a read model is never half-applied nor applied twice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from psycopg.types.json import Jsonb

from services.grants.domain import Budget, Grant, Proposal
from shared.consumer import UnitOfWork, handles
from shared.contracts import Envelope, training
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

CHANGE_MEMBER_COUNT = """
    UPDATE households SET member_count = member_count + %s, projected_at = clock_timestamp()
    WHERE household_id = %s"""
UPSERT_GROUP = """
    INSERT INTO groups (group_id, name, village_code, kind, status, members, bank_account)
    VALUES (%s, %s, %s, %s, 'formed', %s, %s)
    ON CONFLICT (group_id) DO UPDATE SET members = EXCLUDED.members, bank_account = EXCLUDED.bank_account"""
# A payment's reference on the bank's side (bankfiles.payment_reference), to find it again from a statement's line.
INSERT_PAYMENT_REFERENCE = """
    INSERT INTO payment_references (reference, payment_id, proposal_id, village_code) VALUES (%s, %s, %s, %s)"""
CLOSED_PROPOSAL_STATUSES = ("rejected", "cancelled")
OPEN_PROPOSAL = f"status NOT IN {CLOSED_PROPOSAL_STATUSES}"
# status_since: when the proposal entered its status (a flag changes the proposal, not how long it has waited).
UPSERT_PROPOSAL = """
    INSERT INTO proposals (proposal_id, group_id, group_name, village_code, status, requested_rp, approved_rp,
                           form, flagged, fiscal_year, source, times_returned, updated_at, status_since)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now())
    ON CONFLICT (proposal_id) DO UPDATE SET status = EXCLUDED.status, requested_rp = EXCLUDED.requested_rp,
        approved_rp = EXCLUDED.approved_rp, form = EXCLUDED.form, flagged = EXCLUDED.flagged,
        fiscal_year = EXCLUDED.fiscal_year, source = EXCLUDED.source, times_returned = EXCLUDED.times_returned,
        updated_at = now(), status_since = CASE WHEN proposals.status = EXCLUDED.status
                                                THEN proposals.status_since ELSE now() END"""
UPSERT_BUDGET = """
    INSERT INTO budgets (budget_id, fiscal_year, source, region, ceiling_rp, committed_rp)
    VALUES (%s, %s, %s, %s, %s, %s)
    ON CONFLICT (budget_id) DO UPDATE SET ceiling_rp = EXCLUDED.ceiling_rp, committed_rp = EXCLUDED.committed_rp"""
UPSERT_GRANT = """
    INSERT INTO grants (grant_id, proposal_id, group_id, village_code, amount_rp, form, disbursed_rp, refunded_rp,
                        state)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (grant_id) DO UPDATE SET disbursed_rp = EXCLUDED.disbursed_rp,
        refunded_rp = EXCLUDED.refunded_rp, state = EXCLUDED.state"""

READ_MODEL_DDL = (
    # Households by the registry's id: grants never learns a KK (registry's events v2).
    """CREATE TABLE IF NOT EXISTS households (
        household_id uuid PRIMARY KEY, village_code text NOT NULL, decile int NOT NULL,
        bdt_status text NOT NULL, member_count int NOT NULL,
        registered_at timestamptz NOT NULL, projected_at timestamptz NOT NULL DEFAULT clock_timestamp())""",
    # A table projected from registry's version-1 events, once: its KKs go, its groups' members become ids.
    'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
    pseudonymised("households", dropped=("kk",), key=("household_id",)),
    "CREATE INDEX IF NOT EXISTS households_village ON households (village_code)",
    """CREATE TABLE IF NOT EXISTS village_households (
        village_code text PRIMARY KEY, households int NOT NULL, members int NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS groups (
        group_id uuid PRIMARY KEY, name text NOT NULL, village_code text NOT NULL, kind text NOT NULL,
        status text NOT NULL, members jsonb NOT NULL, bank_account jsonb)""",
    PSEUDONYMISED_GROUP_MEMBERS,
    # The group's account, from registry.group.formed v2 (a group formed before stays without one).
    "ALTER TABLE groups ADD COLUMN IF NOT EXISTS bank_account jsonb",
    """CREATE TABLE IF NOT EXISTS payment_references (
        reference text PRIMARY KEY, payment_id uuid NOT NULL UNIQUE, proposal_id uuid NOT NULL,
        village_code text NOT NULL)""",
    # The Family School gate per group, from training's events (closed until training says otherwise).
    """CREATE TABLE IF NOT EXISTS family_school_gates (
        group_id uuid PRIMARY KEY, open boolean NOT NULL, completed int NOT NULL, representatives int NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS proposals (
        proposal_id uuid PRIMARY KEY, group_id uuid NOT NULL, group_name text NOT NULL,
        village_code text NOT NULL, status text NOT NULL, requested_rp bigint NOT NULL, approved_rp bigint,
        form text NOT NULL, flagged boolean NOT NULL, fiscal_year int, source text, times_returned int NOT NULL,
        updated_at timestamptz NOT NULL, status_since timestamptz NOT NULL)""",
    # An older table's proposals: since their last change (only a flag changes one without its status).
    added_column("proposals", "status_since", "timestamptz", "UPDATE proposals SET status_since = updated_at"),
    "CREATE INDEX IF NOT EXISTS proposals_region ON proposals (village_code, status)",
    "CREATE INDEX IF NOT EXISTS proposals_group ON proposals (group_id)",
    # One proposal in progress per group, also when two drafts race (the second transaction fails here).
    f"CREATE UNIQUE INDEX IF NOT EXISTS proposals_one_open ON proposals (group_id) WHERE {OPEN_PROPOSAL}",
    """CREATE TABLE IF NOT EXISTS budgets (
        budget_id uuid PRIMARY KEY, fiscal_year int NOT NULL, source text NOT NULL, region text NOT NULL,
        ceiling_rp bigint NOT NULL, committed_rp bigint NOT NULL)""",
    # An older table's budgets were all national (set by the ministry before budgets had regions).
    added_column("budgets", "region", "text", "UPDATE budgets SET region = ''"),
    """CREATE TABLE IF NOT EXISTS grants (
        grant_id uuid PRIMARY KEY, proposal_id uuid NOT NULL UNIQUE, group_id uuid NOT NULL,
        village_code text NOT NULL, amount_rp bigint NOT NULL, form text NOT NULL, disbursed_rp bigint NOT NULL,
        refunded_rp bigint NOT NULL, state jsonb NOT NULL)""",
)

# Upstream facts grants decides with (a gate opens tranche 2): the audit rebuilds them from the upstreams' logs.
MIRRORED_TABLES = (
    MirroredTable("family_school_gates", "training", "gates", ("group_id", "open", "completed", "representatives")),
    MirroredTable("households", "registry", "households",
                  ("household_id", "village_code", "decile", "bdt_status", "member_count")),
    MirroredTable("groups", "registry", "groups", ("group_id", "name", "status")),
)

# What an auditor rebuilds from the events alone and compares with the live tables.
AUDITED_TABLES = (
    AuditedTable("proposals", ("proposal_id", "status", "requested_rp", "approved_rp", "flagged", "times_returned"),
                 lambda aggregates: ((p.id, p.status, p.requested_rp, (p.approval or {}).get("amount_rp"),
                                      bool(p.flags), p.times_returned)
                                     for p in aggregates if isinstance(p, Proposal))),
    AuditedTable("budgets", ("budget_id", "ceiling_rp", "committed_rp"),
                 lambda aggregates: ((b.id, b.ceiling_rp, b.committed_rp)
                                     for b in aggregates if isinstance(b, Budget))),
    AuditedTable("grants", ("grant_id", "amount_rp", "disbursed_rp", "refunded_rp"),
                 lambda aggregates: ((g.id, g.amount_rp, g.disbursed_rp, g.refunded_rp)
                                     for g in aggregates if isinstance(g, Grant))),
)


UNCOUNT_HOUSEHOLD = ("UPDATE village_households v SET households = v.households - 1, members = v.members - "
                     "h.member_count FROM households h WHERE h.household_id = %s AND v.village_code = h.village_code")


class GrantsReadModel(GroupStatusProjection):
    """The projections of upstream events, mixed into GrantsApplication (whose store, rules and ``_get`` they use):
    each ``@handles`` method records its effects through the batch's unit of work."""

    def upgrade_read_model(self) -> None:
        """Grant rows projected by an older release — before the treasurer's list (no approval time, live payment
        or paid date in their state) or before monitoring schedules (no first payment day, last visit or stage) —
        are projected again from their grants, once (idempotent: replicas may race)."""
        writes = ReadModelWrites()
        for row in self.query("SELECT grant_id FROM grants WHERE NOT state ? 'monitoring'"):
            writes.add(UPSERT_GRANT, grant_row(self._get(row["grant_id"], Grant, "grant")))
        if len(writes):
            with self.transaction() as cursor:
                writes.apply(cursor)

    # --- registry events ----------------------------------------------------------------------------------

    @handles("registry.household.registered")
    def on_household_registered(self, data: upstream.HouseholdRegisteredV2, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.insert("households", {
            "household_id": data.household_id, "village_code": data.village_code,
            "decile": data.decile, "bdt_status": data.bdt_status, "member_count": len(data.members),
            "registered_at": envelope.time})
        # Counted, not recomputed: applying an event twice would show here (the tests rely on it).
        unit.writes.increment("village_households", {"village_code": data.village_code},
                              {"households": 1, "members": len(data.members)})

    @handles("registry.household.member_added")
    def on_member_added(self, data: upstream.HouseholdMemberAddedV2, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(CHANGE_MEMBER_COUNT, (1, data.household_id))
        unit.writes.increment("village_households", {"village_code": data.village_code},
                              {"households": 0, "members": 1})

    @handles("registry.household.member_removed")
    def on_member_removed(self, data: upstream.HouseholdMemberRemovedV2, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        self._count_one_member_less(data.household_id, unit)

    @handles("registry.person.erased")
    def on_person_erased(self, data: upstream.PersonErasedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        # No longer a member of the household that stays; grants keeps no person's id to forget.
        self._count_one_member_less(data.household_id, unit)

    def _count_one_member_less(self, household_id: uuid.UUID, unit: UnitOfWork) -> None:
        unit.writes.add(CHANGE_MEMBER_COUNT, (-1, household_id))
        unit.writes.add("UPDATE village_households SET members = members - 1 WHERE village_code = "
                        "(SELECT village_code FROM households WHERE household_id = %s)", (household_id,))

    @handles("registry.household.erased")
    def on_household_erased(self, data: upstream.HouseholdErasedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        # Gone from the registry's households, so from this mirror of them; the money trail keeps its ids.
        unit.writes.add(UNCOUNT_HOUSEHOLD, (data.household_id,))
        unit.writes.add("DELETE FROM households WHERE household_id = %s", (data.household_id,))

    @handles("registry.household.moved")
    def on_household_moved(self, data: upstream.HouseholdMovedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        # Counted where it lives now: off its old village's count, onto the new one's, members and all.
        unit.writes.add(UNCOUNT_HOUSEHOLD, (data.household_id,))
        unit.writes.add("UPDATE households SET village_code = %s, projected_at = clock_timestamp() "
                        "WHERE household_id = %s", (data.village_code, data.household_id))
        unit.writes.add("INSERT INTO village_households (village_code, households, members) SELECT village_code, 1, "
                        "member_count FROM households WHERE household_id = %s ON CONFLICT (village_code) DO UPDATE "
                        "SET households = village_households.households + 1, "
                        "members = village_households.members + EXCLUDED.members", (data.household_id,))

    @handles("registry.household.status_changed", reads=True)
    def on_status_changed(self, data: upstream.HouseholdStatusChangedV2, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE households SET bdt_status = %s, projected_at = clock_timestamp() "
                        "WHERE household_id = %s", (data.bdt_status, data.household_id))
        if data.bdt_status != "active":
            self._flag_proposals_of_household(data.household_id, f"a member household is now {data.bdt_status} in "
                                                                 "BDT", unit)

    @handles("registry.household.decile_changed", reads=True)
    def on_decile_changed(self, data: upstream.HouseholdDecileChangedV2, envelope: Envelope,
                          unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE households SET decile = %s, projected_at = clock_timestamp() WHERE household_id = %s",
                        (data.decile, data.household_id))
        if data.decile > self.rules.max_decile:
            self._flag_proposals_of_household(data.household_id, f"a member household moved to decile {data.decile}",
                                              unit)

    @handles("registry.group.formed")
    def on_group_formed(self, data: upstream.GroupFormedV2, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(UPSERT_GROUP, (data.group_id, data.name, data.village_code, data.kind,
                                       Jsonb([m.model_dump(mode="json") for m in data.members]),
                                       Jsonb(data.bank_account.model_dump())))

    @handles("registry.group.member_changed", reads=True)
    def on_group_member_changed(self, data: upstream.GroupMemberChangedV2, envelope: Envelope,
                                unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET members = %s WHERE group_id = %s",
                        (Jsonb([m.model_dump(mode="json") for m in data.members]), data.group_id))
        self._flag_proposals(data.group_id, f"the group's membership changed: {data.reason}", unit)

    @handles("registry.group.dissolved", reads=True)
    def on_group_dissolved(self, data: upstream.GroupDissolvedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add("UPDATE groups SET status = 'dissolved' WHERE group_id = %s", (data.group_id,))
        self._flag_proposals(data.group_id, f"the group was dissolved: {data.reason}", unit)

    def _flag_proposals_of_household(self, household_id: uuid.UUID, reason: str, unit: UnitOfWork) -> None:
        for row in self.query("SELECT group_id FROM groups WHERE members @> %s::jsonb AND status = 'formed'",
                              (Jsonb([{"household_id": str(household_id)}]),)):
            self._flag_proposals(row["group_id"], reason, unit)

    def _flag_proposals(self, group_id: uuid.UUID, reason: str, unit: UnitOfWork) -> None:
        for row in self.query("SELECT proposal_id FROM proposals WHERE group_id = %s AND status IN "
                              "('draft', 'submitted', 'verified', 'recommended', 'returned')", (group_id,)):
            proposal: Proposal = unit.get(row["proposal_id"])
            proposal.flag(reason)
            unit.writes.add(UPSERT_PROPOSAL, proposal_row(proposal))

    # --- training events ----------------------------------------------------------------------------------

    @handles("training.gate.changed")
    def on_gate_changed(self, data: training.GateChangedV1, envelope: Envelope, unit: UnitOfWork) -> None:
        unit.writes.add(
            "INSERT INTO family_school_gates (group_id, open, completed, representatives) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (group_id) DO UPDATE SET open = EXCLUDED.open, completed = EXCLUDED.completed, "
            "representatives = EXCLUDED.representatives, updated_at = now()",
            (data.group_id, data.open, data.completed, data.representatives))


# --- read-model rows ------------------------------------------------------------------------------------------

def proposal_row(proposal: Proposal) -> tuple:
    approval = proposal.approval or {}
    return (proposal.id, proposal.group_id, proposal.group_name, proposal.village_code, proposal.status,
            proposal.requested_rp, approval.get("amount_rp"), approval.get("form", proposal.form), bool(proposal.flags),
            approval.get("fiscal_year"), approval.get("source"), proposal.times_returned)


def budget_row(budget: Budget) -> tuple:
    return (budget.id, budget.fiscal_year, budget.source, budget.region, budget.ceiling_rp, budget.committed_rp)


def grant_row(grant: Grant) -> tuple:
    """The grant's row; ``state`` holds what the worklists need of each tranche without loading the grant."""
    tranches = {}
    for t in grant.tranches:
        live = grant.live_payment(t.number) or {}
        tranches[str(t.number)] = {
            "amount_rp": t.amount_rp, "status": grant.tranche_status(t.number),
            "failed": sum(1 for p in grant.payments_of(t.number) if p["status"] == "failed"),
            "lpj": grant.lpj.get(t.number, {}).get("status"), "payment_id": live.get("payment_id"),
            "paid_on": live.get("paid_on"), "started_by": started_by(live)}
    last = grant.last_visit or {}
    first_paid = grant.first_paid_on
    monitoring = {"first_paid_on": first_paid.isoformat() if first_paid else None,
                  "last_visit": last["visit_date"].isoformat() if last else None, "stage": last.get("stage")}
    state = {"approved_at": utc_iso(grant.created_on), "tranches": tranches, "monitoring": monitoring}
    return (grant.id, grant.proposal_id, grant.group_id, grant.village_code, grant.amount_rp, grant.form,
            grant.disbursed_rp, grant.refunded_rp, Jsonb(state))


def started_by(payment: dict) -> str | None:
    """Who instructed the payment or recorded its handover: the one user who may not confirm or accept it."""
    return payment.get("instructed_by") or payment.get("recorded_by")


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
