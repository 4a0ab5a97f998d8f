"""The treasurer's bank files, as the grants domain sees them. Pure: no I/O.

- A **transfer batch** is the bulk-transfer file a treasurer took for a set of instructed payments. Taking it is
  sending them to the bank (each payment is marked sent by that treasurer, in the same transaction); the batch is
  recorded so the same selection asked again gives back the same file instead of a second one.
- A **bank statement** is reconciled once, keyed by its content's SHA-256: uploading it again changes nothing.
  Each line is matched to a payment by our reference and its amount (``match_lines``). A transfer that went through
  confirms its payment with the bank's reference, a failed or returned one fails it with the bank's reason; any
  other line (unknown reference, a differing amount, a line seen twice, a payment not waiting for it) is listed for
  a person to decide, never applied. The treasurer who uploads is the one who records what the statement says,
  so the maker–checker rule holds as it does by hand: a payment this treasurer instructed is not confirmed by
  their upload (the grant refuses it, and the line waits for another treasurer).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from eventsourcing.domain import Aggregate, event

from shared.actor import Actor, check_region, check_role
from shared.keys import stable_id

APPLIED = ("confirm", "fail")  # verdicts the statement applies; "recorded_before" needs nothing
SETTLED = (*APPLIED, "recorded_before")  # every other verdict waits for a person


@dataclass(frozen=True)
class PaymentOnRecord:
    """What matching needs of a payment (from the read model, within the treasurer's region)."""

    payment_id: str
    proposal_id: str
    reference: str
    amount_rp: int
    status: str  # instructed, sent, confirmed, failed, cancelled
    bank_reference: str | None = None


@dataclass(frozen=True)
class LineVerdict:
    """What reconciliation says of one statement line; ``payment_id`` when it names a payment of ours."""

    line: int
    reference: str | None
    amount_rp: int
    bank_reference: str
    verdict: str
    detail: str
    payment_id: str | None = None
    proposal_id: str | None = None

    @property
    def awaits_decision(self) -> bool:
        return self.verdict not in SETTLED


def match_lines(lines: list, payments: dict[str, PaymentOnRecord]) -> list[LineVerdict]:
    """Each statement line against the payments by reference (``payments``: reference → payment), in file order:
    a line applied changes its payment's status for the lines after it, so a payment is never applied twice."""
    seen: set[str] = set()
    current = dict(payments)
    verdicts = []
    for line in lines:
        verdict, detail, payment = _judge(line, current, seen)
        seen.add(line.identity)
        if verdict in APPLIED and payment is not None:
            current[payment.reference] = replace(
                payment, status="confirmed" if verdict == "confirm" else "failed",
                bank_reference=line.bank_reference if verdict == "confirm" else None)
        verdicts.append(LineVerdict(
            line=line.number, reference=line.reference, amount_rp=line.amount_rp, bank_reference=line.bank_reference,
            verdict=verdict, detail=detail, payment_id=payment.payment_id if payment else None,
            proposal_id=payment.proposal_id if payment else None))
    return verdicts


def _judge(line, payments: dict[str, PaymentOnRecord], seen: set[str]) -> tuple[str, str, PaymentOnRecord | None]:
    if line.identity in seen:
        return "duplicate", "the same line appears earlier in this statement", None
    payment = payments.get(line.reference) if line.reference else None
    if payment is None:
        return "unknown_reference", "no payment of yours carries this reference", None
    if line.amount_rp != payment.amount_rp:
        return "amount_differs", f"the bank shows Rp {line.amount_rp:,}, the payment is Rp {payment.amount_rp:,}", \
            payment
    if line.went_through:
        if payment.status == "confirmed" and payment.bank_reference == line.bank_reference:
            return "recorded_before", "confirmed with this bank reference already", payment
        if payment.status == "sent":
            if not line.bank_reference:
                return "no_bank_reference", "the line has no bank reference to confirm with", payment
            return "confirm", "the transfer went through", payment
        return "not_awaiting", f"the payment is {payment.status}, not waiting for the bank", payment
    if payment.status == "failed":
        return "recorded_before", "recorded as failed already", payment
    if payment.status in ("instructed", "sent"):
        return "fail", line.text or "returned by the bank", payment
    return "not_awaiting", f"the bank returned a payment that is {payment.status}", payment


class TransferBatch(Aggregate):
    """A bulk-transfer file taken by a treasurer: the same selection again is this batch, not a second one."""

    @staticmethod
    def create_id(payment_ids: list[str]) -> uuid.UUID:
        return stable_id("transfer-batch", *sorted(payment_ids))

    @classmethod
    def take(cls, payment_ids: list[str], total_rp: int, layout: str, day: date, actor: Actor) -> TransferBatch:
        check_role(actor, ("treasurer",), "take a bulk-transfer file")
        return cls(payment_ids=sorted(payment_ids), total_rp=total_rp, layout=layout, day=day, by=actor.user)

    @event("Taken")
    def __init__(self, payment_ids: list[str], total_rp: int, layout: str, day: date, by: str) -> None:
        self.payment_ids = list(payment_ids)
        self.total_rp = total_rp
        self.layout = layout
        self.day = day  # the file's date: the same file again carries the same
        self.by = by

    @staticmethod
    def check_may_take_again(actor: Actor, village_codes: list[str]) -> None:
        """The file again names the groups' accounts: only a treasurer whose region covers every payment gets it."""
        check_role(actor, ("treasurer",), "take a bulk-transfer file")
        for village_code in village_codes:
            check_region(actor, village_code, "take a bulk-transfer file")


class BankStatement(Aggregate):
    """A bank statement, reconciled once per region: its id is its content's hash and the region of the treasurers
    who reconciled it (each region's treasurer finds only its own payments in it, and only they see what it did to
    them), its verdicts what happened to each line."""

    @staticmethod
    def create_id(sha256: str, region: str) -> uuid.UUID:
        return stable_id("bank-statement", sha256, region)

    @staticmethod
    def check_may_reconcile(actor: Actor) -> None:
        check_role(actor, ("treasurer",), "reconcile a bank statement")

    @classmethod
    def reconcile(cls, sha256: str, form: str, verdicts: list[LineVerdict], actor: Actor) -> BankStatement:
        cls.check_may_reconcile(actor)
        return cls(sha256=sha256, region=actor.region, form=form, verdicts=verdicts, by=actor.user)

    @event("Reconciled")
    def __init__(self, sha256: str, region: str, form: str, verdicts: list[LineVerdict], by: str) -> None:
        self.sha256 = sha256
        self.region = region
        self.form = form
        self.verdicts = list(verdicts)
        self.by = by
