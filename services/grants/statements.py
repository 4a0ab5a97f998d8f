"""The bank's statement of the office's disbursement account, read into lines reconciliation can match: MT940
(SWIFT, parsed by the maintained ``mt-940`` library) or the transfer-result CSV of a cash-management system (its
columns in bank_layouts.yaml).

On the office's account a transfer that went through is a debit (the KUBE's account is credited); a transfer the
receiving bank returned comes back as a credit or a reversal, with the bank's reason in its text. Each line keeps
an identity made of what the bank printed, so the same line seen again (twice in one file, or in an overlapping
statement) is recognised.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import mt940
import yaml

from services.grants.bankfiles import LAYOUTS_FILE, REFERENCE
from shared.errors import ValidationFailed

FORMATS = ("mt940", "csv")
MAX_LINES = 5000


@dataclass(frozen=True)
class StatementLine:
    number: int  # its place in the file, from 1 (for the person who reads the result)
    identity: str  # what the bank printed about it: the same line twice has the same identity
    reference: str | None  # our payment reference, if the line carries one
    amount_rp: int
    went_through: bool  # False: the transfer failed or was returned
    bank_reference: str
    text: str  # the bank's description (for a returned transfer, its reason)


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def parse_statement(content: bytes, form: str, csv_path: Path = LAYOUTS_FILE) -> list[StatementLine]:
    if form not in FORMATS:
        raise ValidationFailed("format", "statement.format", f"a statement is MT940 or CSV, not {form!r}")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")  # MT940 is SWIFT's character set; older exports are Latin-1
    try:
        lines = parse_mt940(text) if form == "mt940" else parse_csv(text, csv_path)
    except csv.Error as exc:  # a cell longer than the csv module takes, a stray quote: not the bank's CSV
        raise ValidationFailed("statement", "statement.unreadable", f"not a CSV statement: {exc}") from None
    if not lines:
        raise ValidationFailed("statement", "statement.empty", "the statement has no transactions")
    if len(lines) > MAX_LINES:
        raise ValidationFailed("statement", "statement.too_long", f"at most {MAX_LINES} lines per statement")
    return lines


def whole_rupiah(value: object, number: int) -> int:
    try:
        amount = abs(Decimal(str(value).replace(" ", "")))
    except InvalidOperation:
        raise ValidationFailed("statement", "statement.amount", f"line {number}: {value!r} is not an amount") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ValidationFailed("statement", "statement.amount", f"line {number}: Rp {amount} is not whole rupiah")
    return int(amount)


def our_reference(*texts: str | None) -> str | None:
    for text in texts:
        found = REFERENCE.search((text or "").upper())
        if found:
            return found.group(0)
    return None


def parse_mt940(text: str) -> list[StatementLine]:
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except Exception as exc:  # the library raises whatever its tags raise: the file is not MT940
        raise ValidationFailed("statement", "statement.unreadable", f"not an MT940 statement: {exc}") from None
    account = transactions.data.get("account_identification", "")
    lines = []
    for number, transaction in enumerate(transactions, start=1):
        data = transaction.data
        status = data.get("status", "")
        details = " ".join(str(data.get(key) or "") for key in ("extra_details", "transaction_details")).strip()
        bank_reference = (data.get("bank_reference") or "").strip()
        reference = our_reference(data.get("customer_reference"), details)
        amount = whole_rupiah(data["amount"].amount, number)
        lines.append(StatementLine(
            number=number,
            identity="|".join(map(str, (account, data.get("date"), status, amount, data.get("customer_reference"),
                                        bank_reference, details))),
            reference=reference, amount_rp=amount, went_through=status == "D", bank_reference=bank_reference,
            text=" ".join(details.split())))
    return lines


def parse_csv(text: str, path: Path) -> list[StatementLine]:
    with open(path, encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["statement_csv"]
    columns, succeeded = spec["columns"], {word.upper() for word in spec["succeeded"]}
    reader = csv.DictReader(io.StringIO(text), delimiter=spec["delimiter"])
    missing = [title for title in columns.values() if title not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed("statement", "statement.csv_columns", f"the statement lacks the columns {missing}")
    lines = []
    for number, row in enumerate(reader, start=1):
        cell = {field: (row.get(title) or "").strip() for field, title in columns.items()}
        lines.append(StatementLine(
            number=number, identity="|".join(cell[field] for field in sorted(cell)),
            reference=our_reference(cell["reference"]), amount_rp=whole_rupiah(cell["amount_rp"], number),
            went_through=cell["status"].upper() in succeeded, bank_reference=cell["bank_reference"],
            text=cell["reason"] or cell["status"]))
    return lines
