"""Grants queries: what the RPC reads answer — households and groups as grants knows them, proposals, grants,
budgets, the treasurer's payables, LPJ due, the dashboard and totals — from the read model; a single proposal or
grant, with its history, from its events.
"""

from __future__ import annotations

from datetime import date

from psycopg.types.json import Jsonb

from services.grants.commands import GroupGrants
from services.grants.domain import PAID, Grant, Tranche, TrancheProgress, check_tranche_order
from services.grants.monitoring import MonitoringRules, next_visit_due
from services.grants.readmodel import utc_iso
from shared.actor import covers
from shared.edge import known_id
from shared.errors import RuleViolated
from shared.ids import jakarta_today
from shared.jsonable import event_record, jsonable
from shared.store import in_region
from shared.vocabulary import CLOSED_GROUP_STATUSES

# A proposal still on its way to a decision (the payer's approval, or a rejection).
UNDER_WAY = frozenset({"draft", "submitted", "verified", "recommended", "returned"})


class GrantsQueries:
    """The reads, mixed into GrantsApplication (whose store, rules, ``_proposal`` and ``_grant`` they use)."""

    def household(self, household_id: str) -> dict | None:
        rows = self.query(
            "SELECT household_id::text, village_code, decile, bdt_status, member_count FROM households "
            "WHERE household_id = %s", (known_id(household_id, "household"),))
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
                          "WHERE group_id = %s", (known_id(group_id, "group"),))
        return rows[0] if rows else None

    def proposals(self, status: str | None = None, region: str | None = None, page: int = 1, size: int = 50,
                  oldest_first: bool = False) -> dict:
        """Newest change first; or, for a reviewer's queue, the proposal waiting longest in its status first."""
        where, params = in_region("village_code", region)
        sql = ("SELECT proposal_id::text, group_id::text, group_name, village_code, status, requested_rp, "
               "approved_rp, form, flagged, fiscal_year, source, times_returned, updated_at, status_since "
               f"FROM proposals WHERE {where}")
        if status:
            sql, params = sql + " AND status = %s", (*params, status)
        order = "status_since, proposal_id" if oldest_first else "updated_at DESC, proposal_id"
        listed = self.page(f"{sql} ORDER BY {order}", params, page, size)
        listed["items"] = [{**row, "updated_at": utc_iso(row["updated_at"]),
                            "status_since": utc_iso(row["status_since"])} for row in listed["items"]]
        return listed

    def proposal_counts(self, region: str | None = None) -> dict[str, int]:
        where, params = in_region("village_code", region)
        return {row["status"]: row["n"] for row in self.query(
            f"SELECT status, count(*) AS n FROM proposals WHERE {where} GROUP BY status", params)}

    def group_grants(self, command: GroupGrants) -> list[dict]:
        """A KUBE's proposals, each with its grant's amounts if it has one; none outside the actor's region."""
        rows = self.query(
            "SELECT p.proposal_id::text, p.village_code, p.status, p.requested_rp, p.approved_rp, p.fiscal_year, "
            "p.source, g.grant_id::text, g.amount_rp, g.disbursed_rp, g.refunded_rp FROM proposals p "
            "LEFT JOIN grants g USING (proposal_id) WHERE p.group_id = %s ORDER BY p.updated_at, p.proposal_id",
            (command.group_id,))
        return [row for row in rows if command.actor.covers(row["village_code"])]

    def household_benefits(self, household_id: str) -> dict:
        """The KUBE groups the household is a member of, each with its proposals and their grants (approved amount,
        disbursed, tranches paid), and its enrolment status: what another programme checks before paying the
        household. Ids and amounts only."""
        groups = self.query("SELECT group_id::text, village_code, kind, status FROM groups WHERE members @> %s::jsonb "
                            "ORDER BY group_id", (Jsonb([{"household_id": str(known_id(household_id, "household"))}]),))
        groups = [{**group, "proposals": [self._benefit(row) for row in self.query(
            "SELECT p.proposal_id::text, p.status, p.requested_rp, p.approved_rp, p.fiscal_year, p.source, "
            "g.grant_id::text FROM proposals p LEFT JOIN grants g USING (proposal_id) WHERE p.group_id = %s "
            "ORDER BY p.updated_at, p.proposal_id", (group["group_id"],))]} for group in groups]
        return {"enrolment": enrolment(groups), "groups": groups}

    def enrolments(self, household_ids: list[str]) -> dict[str, str]:
        """Each household's enrolment status as household_benefits computes it, for a page of households at once
        (the DCI search's records): two queries, whatever the page's size."""
        ids = [str(known_id(household_id, "household")) for household_id in household_ids]
        memberships = self.query(
            "SELECT m.household_id, g.group_id::text, g.status FROM groups g, "
            "jsonb_to_recordset(g.members) AS m(household_id text) WHERE m.household_id = ANY(%s)", (ids,))
        proposals: dict[str, list[dict]] = {}
        for row in self.query("SELECT group_id::text, status FROM proposals WHERE group_id = ANY(%s::uuid[])",
                              (list({row["group_id"] for row in memberships}),)):
            proposals.setdefault(row["group_id"], []).append(row)
        groups: dict[str, list[dict]] = {household_id: [] for household_id in ids}
        for row in memberships:
            groups[row["household_id"]].append({**row, "proposals": proposals.get(row["group_id"], [])})
        return {household_id: enrolment(its_groups) for household_id, its_groups in groups.items()}

    def _benefit(self, row: dict) -> dict:
        """A proposal as a benefit: with its grant's money, when it has one (from the grant's events)."""
        grant_id = row.pop("grant_id")
        if grant_id is None:
            return {**row, "grant": None}
        grant = self._grant(row["proposal_id"])
        return {**row, "grant": {"grant_id": grant_id, "amount_rp": grant.amount_rp,
                                 "disbursed_rp": grant.disbursed_rp, "refunded_rp": grant.refunded_rp,
                                 "tranches": len(grant.tranches),
                                 "tranches_paid": sum(grant.is_paid(t.number) for t in grant.tranches)}}

    def proposal(self, proposal_id: str) -> dict:
        proposal = self._proposal(proposal_id)
        return {
            "proposal_id": str(proposal.id), "group_id": str(proposal.group_id), "group_name": proposal.group_name,
            "village_code": proposal.village_code, "status": proposal.status, "form": proposal.form,
            "requested_rp": proposal.requested_rp, "member_households": proposal.member_households,
            "cap_rp": proposal.cap_rp(self.rules), "budget_lines": jsonable(proposal.budget_lines),
            "business_plan": proposal.business_plan, "flags": proposal.flags, "approval": proposal.approval,
            "history": [event_record(e) for e in self.events.get(proposal.id)],
        }

    def grant(self, proposal_id: str) -> dict:
        grant = self._grant(proposal_id)
        return {
            "grant_id": str(grant.id), "proposal_id": str(grant.proposal_id), "group_id": str(grant.group_id),
            "village_code": grant.village_code, "amount_rp": grant.amount_rp, "form": grant.form,
            "disbursed_rp": grant.disbursed_rp, "refunded_rp": grant.refunded_rp,
            "family_school_gate_open": self.facts.gate_open(grant.group_id),
            "tranches": [{"number": t.number, "amount_rp": t.amount_rp, "status": grant.tranche_status(t.number),
                          **lpj_reconciliation(grant, t)} for t in grant.tranches],
            "refunds": [{"reference": reference, "amount_rp": amount} for reference, amount in grant.refunds.items()],
            "payments": jsonable(list(grant.payments.values())), "visits": grant.visits,
            "monitoring": self._monitoring(grant),
            "history": [event_record(e) for e in self.events.get(grant.id)],
        }

    def _monitoring(self, grant: Grant) -> dict:
        """The group's life after funding: its status (registry's), latest stage and when the next visit is due."""
        kube = self.facts.kube(str(grant.group_id))
        last = grant.last_visit or {}
        return {"group_status": kube.status if kube else None, "stage": last.get("stage"),
                "last_visit": last.get("visit_date"),
                **visit_due(grant.first_paid_on, last.get("visit_date"), kube.status if kube else None,
                            self.monitoring)}

    def visits_due(self, region: str | None = None) -> list[dict]:
        """The active groups whose monitoring visit is due today or overdue, the longest overdue first."""
        where, params = in_region("g.village_code", region)
        rows = self.query(
            "SELECT g.proposal_id::text, p.group_name, g.village_code, k.status AS group_status, "
            "(g.state #>> '{monitoring,first_paid_on}')::date AS first_paid_on, "
            "(g.state #>> '{monitoring,last_visit}')::date AS last_visit, g.state #>> '{monitoring,stage}' AS stage "
            "FROM grants g JOIN proposals p USING (proposal_id) JOIN groups k ON k.group_id = g.group_id "
            f"WHERE g.state #>> '{{monitoring,first_paid_on}}' IS NOT NULL AND {where}", params)
        due = [{**jsonable(row), **visit_due(row["first_paid_on"], row["last_visit"], row["group_status"],
                                             self.monitoring)} for row in rows]
        due = [row for row in due if row["days_overdue"] is not None and row["days_overdue"] >= 0]
        return sorted(due, key=lambda row: (-row["days_overdue"], row["proposal_id"]))

    def budgets(self, fiscal_year: int | None = None) -> list[dict]:
        sql, params = "SELECT budget_id::text, fiscal_year, source, region, ceiling_rp, committed_rp FROM budgets", ()
        if fiscal_year:
            sql, params = sql + " WHERE fiscal_year = %s", (fiscal_year,)
        rows = self.query(sql + " ORDER BY fiscal_year, source, region", params)
        return [{**row, "available_rp": row["ceiling_rp"] - row["committed_rp"]} for row in rows]

    def payables(self, region: str | None = None) -> list[dict]:
        """The treasurer's list: each grant with a tranche not paid yet, oldest approval first; for each tranche,
        whether it can be paid now and, if the rules block it, which rule (check_tranche_order decides)."""
        where, params = in_region("g.village_code", region)
        rows = self.query(
            "SELECT g.proposal_id::text, g.group_id::text, p.group_name, g.village_code, g.amount_rp, g.form, "
            "g.disbursed_rp, g.state, coalesce(f.open, false) AS gate_open FROM grants g "
            "JOIN proposals p USING (proposal_id) LEFT JOIN family_school_gates f ON f.group_id = g.group_id "
            f"WHERE p.status = 'approved' AND {where} AND EXISTS (SELECT FROM jsonb_each(g.state -> 'tranches') "
            "AS t(number, tranche) WHERE t.tranche ->> 'status' <> ALL(%s)) "
            "ORDER BY (g.state ->> 'approved_at')::timestamptz, g.proposal_id", (*params, list(PAID)))
        listed = []
        for row in rows:
            state, gate_open = row.pop("state"), row.pop("gate_open")
            tranches = sorted((int(number), tranche) for number, tranche in state["tranches"].items())
            progress = [TrancheProgress(number, t["status"] in PAID, t["lpj"]) for number, t in tranches]
            listed.append({**row, "approved_at": state["approved_at"], "tranches": [
                {"number": number, "amount_rp": t["amount_rp"], "status": t["status"], "payment_id": t["payment_id"],
                 "failed": t["failed"], "lpj": t["lpj"], "started_by": t.get("started_by"),  # rows of before: None
                 **payable(number, t["status"], progress[: number - 1], gate_open)}
                for number, t in tranches]})
        return listed

    def lpj_due(self, region: str | None = None) -> list[dict]:
        """Paid tranches whose LPJ is not accepted yet, longest paid first; overdue after lpj_due_days."""
        where, params = in_region("g.village_code", region)
        rows = self.query(
            "SELECT g.proposal_id::text, p.group_name, g.village_code, t.number::int AS tranche, "
            "(t.tranche ->> 'paid_on')::date AS paid_on, t.tranche ->> 'lpj' AS lpj FROM grants g "
            "JOIN proposals p USING (proposal_id), jsonb_each(g.state -> 'tranches') AS t(number, tranche) "
            f"WHERE t.tranche ->> 'status' = ANY(%s) AND t.tranche ->> 'lpj' IS DISTINCT FROM 'accepted' AND {where} "
            "ORDER BY paid_on, g.proposal_id, tranche", (list(PAID), *params))
        today = jakarta_today()
        return [{**row, "paid_on": row["paid_on"].isoformat(), "days_since_paid": (today - row["paid_on"]).days,
                 "overdue": (today - row["paid_on"]).days > self.rules.lpj_due_days} for row in rows]

    def dashboard(self, region: str | None = None) -> dict:
        """Per village of the region with a proposal: proposals by status, money approved (grants not cancelled)
        and disbursed, overdue LPJ; and the budgets that fund it: those of a region containing it (the national
        ceiling, its province's) or within it (its regencies' own)."""
        where, params = in_region("village_code", region)
        grants_where, _ = in_region("g.village_code", region)
        villages: dict[str, dict] = {}
        for row in self.query(f"SELECT village_code, status, count(*) AS n FROM proposals WHERE {where} "
                              "GROUP BY village_code, status", params):
            village = villages.setdefault(row["village_code"], {
                "village_code": row["village_code"], "proposals": {}, "approved_rp": 0, "disbursed_rp": 0,
                "lpj_overdue": 0})
            village["proposals"][row["status"]] = row["n"]
        for row in self.query(
                "SELECT g.village_code, coalesce(sum(g.amount_rp) FILTER (WHERE p.status = 'approved'), 0) AS "
                "approved_rp, sum(g.disbursed_rp) AS disbursed_rp FROM grants g JOIN proposals p USING (proposal_id) "
                f"WHERE {grants_where} GROUP BY g.village_code", params):
            villages[row["village_code"]].update(approved_rp=int(row["approved_rp"]),
                                                 disbursed_rp=int(row["disbursed_rp"]))
        for due in self.lpj_due(region):
            villages[due["village_code"]]["lpj_overdue"] += due["overdue"]
        for village in villages.values():
            village["visits_overdue"] = 0
        for due in self.visits_due(region):
            villages[due["village_code"]]["visits_overdue"] += due["overdue"]
        budgets = [b for b in self.budgets() if covers(b["region"], region or "") or covers(region or "", b["region"])]
        return {"villages": [villages[code] for code in sorted(villages)], "budgets": budgets}

    def totals(self) -> dict:
        """Read back from the read models, for the demo and operators: the programme at a glance."""
        proposals = {row["status"]: row["n"] for row in self.query(
            "SELECT status, count(*) AS n FROM proposals GROUP BY status")}
        returned = self.query("SELECT count(*) AS n FROM proposals WHERE times_returned > 0")[0]["n"]
        money = self.query("SELECT coalesce(sum(amount_rp), 0) AS approved, coalesce(sum(disbursed_rp), 0) AS "
                           "disbursed, coalesce(sum(refunded_rp), 0) AS refunded FROM grants")[0]
        retried = self.query(
            "SELECT count(*) AS n FROM grants g, jsonb_each(g.state -> 'tranches') AS t(number, tranche) "
            "WHERE (t.tranche ->> 'failed')::int > 0 AND t.tranche ->> 'status' IN ('confirmed', 'delivered')")
        return {
            "approved": proposals.get("approved", 0), "returned": int(returned),
            "rejected": proposals.get("rejected", 0),
            "proposals_by_status": proposals, "approved_rp": int(money["approved"]),
            "disbursed_rp": int(money["disbursed"]), "refunded_rp": int(money["refunded"]),
            "failed_then_retried": int(retried[0]["n"]),
        }


def visit_due(first_paid: date | None, last_visit: date | None, group_status: str | None,
              rules: MonitoringRules) -> dict:
    """When a group's next visit is due and by how many days it is overdue; nothing is due before tranche 1 is
    paid, nor after the group graduated or was dissolved."""
    if first_paid is None or group_status in CLOSED_GROUP_STATUSES:
        return {"next_visit_due": None, "days_overdue": None, "overdue": False}
    due = next_visit_due(first_paid, last_visit, rules)
    late = (jakarta_today() - due).days
    return {"next_visit_due": due.isoformat(), "days_overdue": late, "overdue": late > 0}


def payable(number: int, status: str, earlier: list[TrancheProgress], gate_open: bool) -> dict:
    """Whether a tranche can be paid now and, when a payment rule blocks it, the rule. One with a payment under
    way or done is neither payable nor blocked."""
    if status != "pending":
        return {"payable": False, "blocked_by": None}
    try:
        check_tranche_order(number, earlier, gate_open)
    except RuleViolated as refusal:
        return {"payable": False, "blocked_by": refusal.rule}
    return {"payable": True, "blocked_by": None}


def lpj_reconciliation(grant: Grant, tranche: Tranche) -> dict:
    """A tranche's latest LPJ against the tranche: its receipts' total, and what is left unspent (negative: the
    receipts exceed the tranche, and the LPJ cannot be accepted as it is)."""
    lpj = grant.lpj.get(tranche.number, {})
    spent = lpj.get("total_rp")
    return {"lpj": lpj.get("status"), "lpj_spent_rp": spent,
            "lpj_balance_rp": None if spent is None else tranche.amount_rp - spent,
            "lpj_refund_reference": lpj.get("refund_reference"), "lpj_explanation": lpj.get("explanation")}


def enrolment(groups: list[dict]) -> str:
    """The household's standing (ENROLMENT_STATUSES) from its groups and their proposals."""
    statuses = {p["status"] for group in groups for p in group["proposals"]}
    if "approved" in statuses:
        return "receiving"
    if statuses & UNDER_WAY:
        return "applying"
    return "member" if any(group["status"] != "dissolved" for group in groups) else "none"
