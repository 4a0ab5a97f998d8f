"""Grants service: thin nameko entrypoints over the grants application."""

from __future__ import annotations

from services.grants import commands as cmd
from services.grants.application import GrantsApplication
from shared.backbone import Backbone, BackboneEntrypoints, domain_rpc
from shared.reads import ReadBy


class GrantsService(BackboneEntrypoints):
    name = "grants"
    app: GrantsApplication = Backbone(GrantsApplication)

    # --- budgets ---
    @domain_rpc
    def set_budget_ceiling(self, payload: dict) -> str:
        return self.app.set_budget_ceiling(self.edge.parse(cmd.SetBudgetCeiling, payload))

    @domain_rpc
    def budgets(self, fiscal_year: int | None = None) -> list[dict]:
        return self.app.budgets(fiscal_year)

    # --- proposals ---
    @domain_rpc
    def draft_proposal(self, payload: dict) -> str:
        return self.app.draft_proposal(self.edge.parse(cmd.DraftProposal, payload))

    @domain_rpc
    def submit(self, payload: dict) -> None:
        self.app.submit(self.edge.parse(cmd.ProposalAction, payload))

    @domain_rpc
    def verify(self, payload: dict) -> None:
        self.app.verify(self.edge.parse(cmd.ProposalAction, payload))

    @domain_rpc
    def recommend(self, payload: dict) -> None:
        self.app.recommend(self.edge.parse(cmd.ProposalAction, payload))

    @domain_rpc
    def approve(self, payload: dict) -> None:
        self.app.approve(self.edge.parse(cmd.Approve, payload))

    @domain_rpc
    def return_for_revision(self, payload: dict) -> None:
        self.app.return_for_revision(self.edge.parse(cmd.ReasonedAction, payload))

    @domain_rpc
    def reject(self, payload: dict) -> None:
        self.app.reject(self.edge.parse(cmd.ReasonedAction, payload))

    @domain_rpc
    def resubmit(self, payload: dict) -> None:
        self.app.resubmit(self.edge.parse(cmd.Resubmit, payload))

    @domain_rpc
    def cancel(self, payload: dict) -> None:
        self.app.cancel(self.edge.parse(cmd.ReasonedAction, payload))

    # --- money ---
    @domain_rpc
    def instruct(self, payload: dict) -> dict:
        return self.app.instruct(self.edge.parse(cmd.Instruct, payload))

    @domain_rpc
    def mark_sent(self, payload: dict) -> None:
        self.app.mark_sent(self.edge.parse(cmd.PaymentAction, payload))

    @domain_rpc
    def confirm(self, payload: dict) -> None:
        self.app.confirm(self.edge.parse(cmd.Confirm, payload))

    @domain_rpc
    def fail(self, payload: dict) -> None:
        self.app.fail(self.edge.parse(cmd.Fail, payload))

    @domain_rpc
    def cancel_payment(self, payload: dict) -> None:
        self.app.cancel_payment(self.edge.parse(cmd.Fail, payload))

    @domain_rpc
    def deliver(self, payload: dict) -> dict:
        return self.app.deliver(self.edge.parse(cmd.Deliver, payload))

    @domain_rpc
    def accept_handover(self, payload: dict) -> None:
        self.app.accept_handover(self.edge.parse(cmd.PaymentAction, payload))

    @domain_rpc
    def submit_lpj(self, payload: dict) -> None:
        self.app.submit_lpj(self.edge.parse(cmd.SubmitLpj, payload))

    @domain_rpc
    def review_lpj(self, payload: dict) -> None:
        self.app.review_lpj(self.edge.parse(cmd.ReviewLpj, payload))

    @domain_rpc
    def record_visit(self, payload: dict) -> str:
        return self.app.record_visit(self.edge.parse(cmd.RecordVisit, payload))

    @domain_rpc
    def record_refund(self, payload: dict) -> None:
        self.app.record_refund(self.edge.parse(cmd.RecordRefund, payload))

    # --- the treasurer's bank files ---
    @domain_rpc
    def take_batch(self, payload: dict) -> dict:
        return self.app.take_batch(self.edge.parse(cmd.TakeBatch, payload))

    @domain_rpc
    def reconcile_statement(self, payload: dict) -> dict:
        return self.app.reconcile_statement(self.edge.parse(cmd.ReconcileStatement, payload))

    # --- evidence ---
    @domain_rpc
    def attach_document(self, payload: dict) -> dict:
        return self.app.attach_document(self.edge.parse(cmd.AttachDocument, payload))

    @domain_rpc
    def documents(self, reader: dict, proposal_id: str) -> list[dict]:
        return self.app.documents(self.edge.parse(ReadBy, reader), proposal_id)

    @domain_rpc
    def document(self, reader: dict, proposal_id: str, sha256: str) -> dict:
        return self.app.document(self.edge.parse(ReadBy, reader), proposal_id, sha256)

    @domain_rpc
    def seal_ledger(self, by: str) -> dict:
        return self.app.seal_ledger(by)

    # --- queries ---
    @domain_rpc
    def proposals(self, status: str | None = None, region: str | None = None, page: int = 1, size: int = 50,
                  oldest_first: bool = False) -> dict:
        return self.app.proposals(status, region, page, size, oldest_first)

    @domain_rpc
    def proposal_counts(self, region: str | None = None) -> dict[str, int]:
        return self.app.proposal_counts(region)

    @domain_rpc
    def payables(self, region: str | None = None) -> list[dict]:
        return self.app.payables(region)

    @domain_rpc
    def lpj_due(self, region: str | None = None) -> list[dict]:
        return self.app.lpj_due(region)

    @domain_rpc
    def visits_due(self, region: str | None = None) -> list[dict]:
        return self.app.visits_due(region)

    @domain_rpc
    def dashboard(self, region: str | None = None) -> dict:
        return self.app.dashboard(region)

    @domain_rpc
    def group_grants(self, payload: dict) -> list[dict]:
        return self.app.group_grants(self.edge.parse(cmd.GroupGrants, payload))

    @domain_rpc
    def household_benefits(self, household_id: str) -> dict:
        return self.app.household_benefits(household_id)

    @domain_rpc
    def enrolments(self, household_ids: list[str]) -> dict[str, str]:
        return self.app.enrolments(household_ids)

    @domain_rpc
    def proposal(self, proposal_id: str) -> dict:
        return self.app.proposal(proposal_id)

    @domain_rpc
    def grant(self, proposal_id: str) -> dict:
        return self.app.grant(proposal_id)

    # --- printouts ---
    @domain_rpc
    def document_code(self, proposal_id: str, aggregate: str, events: list[str], payment_id: str | None = None) -> dict:
        return self.app.document_code(proposal_id, aggregate, events, payment_id)

    @domain_rpc
    def check_document(self, code: str) -> dict:
        return self.app.check_document(code)

    @domain_rpc
    def totals(self) -> dict:
        return self.app.totals()

    @domain_rpc
    def household(self, household_id: str) -> dict | None:
        return self.app.household(household_id)

    @domain_rpc
    def households_summary(self) -> dict:
        return self.app.households_summary()

    @domain_rpc
    def households_by_village(self) -> dict[str, int]:
        return self.app.households_by_village()

    @domain_rpc
    def group(self, group_id: str) -> dict | None:
        return self.app.group(group_id)
