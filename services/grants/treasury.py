"""The treasurer's bank files, mixed into GrantsApplication: a bulk-transfer file for instructed payments, and the
reconciliation of the bank's statement (the rules: banking.py; the files: bankfiles.py and statements.py)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict, replace

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from services.grants import commands as cmd
from services.grants.bankfiles import (
    TransferLine,
    batch_file_name,
    choose_layout,
    load_layouts,
    payment_reference,
    remark,
    render_batch,
)
from services.grants.banking import APPLIED, BankStatement, LineVerdict, PaymentOnRecord, TransferBatch, match_lines
from services.grants.domain import Grant
from services.grants.readmodel import UPSERT_GRANT, grant_row
from services.grants.statements import content_hash, parse_statement
from shared.actor import Actor
from shared.errors import BerdayaError, RuleViolated, ValidationFailed
from shared.ids import WIB, jakarta_today
from shared.store import ReadModelWrites, in_region

# A reference given to the bank, kept to find its payment again from a statement (first given: kept as it is).
KEEP_REFERENCE = """
    INSERT INTO payment_references (reference, payment_id, proposal_id, village_code) VALUES (%s, %s, %s, %s)
    ON CONFLICT (reference) DO NOTHING"""


# Read when grants starts: a layout naming an unknown field fails then, not at the bank.
DEFAULT_LAYOUT, LAYOUTS = load_layouts()


class GrantsTreasury:
    """Batch files and statements; uses the application's repository, facts, records and ``_grant``."""

    # --- the bulk-transfer file ----------------------------------------------------------------------------

    def take_batch(self, command: cmd.TakeBatch) -> dict:
        """The file for the selected instructed payments, which are sent to the bank by taking it. The same
        selection again (a download that broke) returns the same file and sends nothing twice."""
        payment_ids = [ref.payment_id for ref in command.payments]
        if len(set(payment_ids)) != len(payment_ids):
            raise ValidationFailed("payments", "batch.duplicate", "a payment is listed twice in the batch")
        batch_id = TransferBatch.create_id(payment_ids)

        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], dict]:
            grants: dict[str, Grant] = {}
            for ref in command.payments:
                grants.setdefault(ref.proposal_id, self._grant(ref.proposal_id))
            try:
                batch: TransferBatch = self.repository.get(batch_id)
                TransferBatch.check_may_take_again(command.actor, [g.village_code for g in grants.values()])
                return [], self._batch_file(batch, grants, command.payments, repeated=True)
            except AggregateNotFoundError:
                pass
            layout = choose_layout(LAYOUTS, command.layout or DEFAULT_LAYOUT)
            for ref in command.payments:
                grants[ref.proposal_id].mark_sent(ref.payment_id, command.actor)
            total = sum(grants[ref.proposal_id].payment(ref.payment_id)["amount_rp"] for ref in command.payments)
            batch = TransferBatch.take(payment_ids, total, layout.name, jakarta_today(), command.actor)
            for grant in grants.values():
                writes.add(UPSERT_GRANT, grant_row(grant))
            for ref in command.payments:
                writes.add(KEEP_REFERENCE, (payment_reference(ref.payment_id), ref.payment_id, ref.proposal_id,
                                            grants[ref.proposal_id].village_code))
            return [*grants.values(), batch], self._batch_file(batch, grants, command.payments, repeated=False)

        return self.decide_retrying(attempt)

    def _batch_file(self, batch: TransferBatch, grants: dict[str, Grant], refs: list[cmd.PaymentRef],
                    repeated: bool) -> dict:
        layout = choose_layout(LAYOUTS, batch.layout)
        lines = [self._transfer_line(grants[ref.proposal_id], ref.payment_id) for ref in refs]
        return {"batch_id": str(batch.id), "file_name": batch_file_name(layout, batch.day, lines),
                "content": render_batch(layout, batch.day, lines), "count": len(lines), "total_rp": batch.total_rp,
                "repeated": repeated}

    def _transfer_line(self, grant: Grant, payment_id: str) -> TransferLine:
        kube = self.facts.kube(str(grant.group_id))
        account = kube.bank_account if kube else None
        if not account:
            raise RuleViolated("batch.bank_account", f"grants knows no bank account of the group of payment "
                                                     f"{payment_id}: transfer it by hand", payment_id=payment_id)
        payment = grant.payment(payment_id)
        return TransferLine(account_number=account["number"], account_holder=account["holder"], bank=account["bank"],
                            amount_rp=payment["amount_rp"], reference=payment_reference(payment_id),
                            remark=remark(payment["tranche"], kube.name))

    # --- the bank's statement ------------------------------------------------------------------------------

    def reconcile_statement(self, command: cmd.ReconcileStatement) -> dict:
        """Apply what the statement says of our payments; list what awaits a person. Keyed by the content's hash:
        the same statement again, from the same region, returns what it did the first time and changes nothing."""
        try:
            content = base64.b64decode(command.content_base64, validate=True)
        except binascii.Error:
            raise ValidationFailed("content_base64", "statement.encoding", "the statement is not base64") from None
        BankStatement.check_may_reconcile(command.actor)  # before anything is read, and for a repeated upload too
        sha256 = content_hash(content)
        statement_id = BankStatement.create_id(sha256, command.actor.region)
        lines = parse_statement(content, command.format)

        def attempt(writes: ReadModelWrites) -> tuple[list[Aggregate], dict]:
            try:
                return [], statement_result(self.repository.get(statement_id), repeated=True)
            except AggregateNotFoundError:
                pass
            grants, payments = self._payments_named(lines, command.actor)
            verdicts = [self._apply(verdict, grants, command.actor) for verdict in match_lines(lines, payments)]
            changed = {verdict.proposal_id for verdict in verdicts if verdict.verdict in APPLIED}
            for proposal_id in changed:
                writes.add(UPSERT_GRANT, grant_row(grants[proposal_id]))
            statement = BankStatement.reconcile(sha256, command.format, verdicts, command.actor)
            return [*(grants[p] for p in changed), statement], statement_result(statement, repeated=False)

        return self.decide_retrying(attempt)

    def _payments_named(self, lines: list, actor: Actor) -> tuple[dict[str, Grant], dict[str, PaymentOnRecord]]:
        """The payments the statement's references name, in the treasurer's region (another region's reference is
        unknown here, as it would be by hand), from their grants as they are now."""
        references = sorted({line.reference for line in lines if line.reference})
        where, params = in_region("village_code", actor.region)
        rows = self.query(f"SELECT reference, payment_id::text, proposal_id::text FROM payment_references "
                          f"WHERE reference = ANY(%s) AND {where}", (references, *params))
        grants = {row["proposal_id"]: self._grant(row["proposal_id"]) for row in rows}
        payments = {}
        for row in rows:
            payment = grants[row["proposal_id"]].payment(row["payment_id"])
            payments[row["reference"]] = PaymentOnRecord(
                payment_id=row["payment_id"], proposal_id=row["proposal_id"], reference=row["reference"],
                amount_rp=payment["amount_rp"], status=payment["status"], bank_reference=payment.get("bank_reference"))
        return grants, payments

    @staticmethod
    def _apply(verdict: LineVerdict, grants: dict[str, Grant], actor: Actor) -> LineVerdict:
        """The grant records it as the treasurer would by hand; what it refuses (the treasurer instructed this
        payment, say) waits for a person with the grant's reason."""
        if verdict.verdict not in APPLIED:
            return verdict
        grant = grants[verdict.proposal_id]
        try:
            if verdict.verdict == "confirm":
                grant.confirm(verdict.payment_id, verdict.bank_reference, actor)
            else:
                grant.fail(verdict.payment_id, verdict.detail, actor)
        except BerdayaError as refusal:
            return replace(verdict, verdict="refused", detail=str(refusal))
        return verdict


def statement_result(statement: BankStatement, repeated: bool) -> dict:
    lines = [{**asdict(v), "awaits_decision": v.awaits_decision} for v in statement.verdicts]
    return {"statement_id": str(statement.id), "sha256": statement.sha256, "format": statement.form,
            "reconciled_by": statement.by, "reconciled_at": statement.created_on.astimezone(WIB).isoformat(),
            "repeated": repeated, "lines": lines,
            "applied": sum(1 for v in statement.verdicts if v.verdict in APPLIED),
            "awaiting": sum(1 for line in lines if line["awaits_decision"])}
